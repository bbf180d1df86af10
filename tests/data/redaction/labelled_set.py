"""The labelled complaint texts and how redaction is scored on them.

``tune.jsonl`` (168 texts), ``heldout.jsonl`` (120 texts, the first held-out set),
``heldout2.jsonl`` (126 texts, the second), ``heldout3.jsonl`` (163 texts, the third),
``heldout4.jsonl`` (167 texts, the fourth), ``heldout5.jsonl`` (190 texts, the fifth),
``heldout6.jsonl`` (186 texts, the sixth), ``heldout7.jsonl`` (165 texts, the seventh),
``heldout8.jsonl`` (164 texts, the eighth) and ``heldout9.jsonl`` (166 texts, the ninth) are for
tests and tuning: each held-out set was measured once, then tuned on (heldout3 measured once, 14
leaks, then tuned on; heldout4 13; heldout5 14; heldout6 7; heldout7 9; heldout8 measured once
by the rules, 29 leaks of 633 spans, 19 names and 10 addresses, over-redaction 0.51 %, then the
tagger trained without it left 16 leaks, all names, 0.63 %; then tuned and trained on; heldout9
measured once, rules and tagger, 21 leaks of 507 spans, 18 names and 3 addresses, 0.70 %, then
trained on). ``heldout10.jsonl`` (171 texts: letters, 12345 hotline transcripts, forum and
platform posts, e-mails, clerks' visit and petition notes, written blind and committed before
measuring) is the set the benchmark scores; a fresh set must be written and committed before the
next tuning round scores on it. Each line: ``id``, ``text``, ``known_names`` (what the form
would tell), ``spans`` (``kind``, ``start``, ``end``, ``value`` = ``text[start:end]``) and
``hard`` (the hard cases it holds: rare_surname, compound_surname, name_like, fullwidth,
split_line, spaced (grouped by spaces or dashes), lowercase_x, plus86, extension,
new_energy_plate).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel

from shared.redaction import Kind, KnownPersonalData, Redacted

HERE = Path(__file__).resolve().parent
Half = Literal[
    "tune",
    "heldout",
    "heldout2",
    "heldout3",
    "heldout4",
    "heldout5",
    "heldout6",
    "heldout7",
    "heldout8",
    "heldout9",
    "heldout10",
]
# ``heldout10`` is scored by the benchmark alone; tests and tuning may look at every other half
# (the redaction tagger, ``shared/redaction/tagger.py``, is trained on those others only).
HELD_OUT: Half = "heldout10"
TUNING: tuple[Half, ...] = tuple(h for h in get_args(Half) if h != HELD_OUT)


class LabelledSpan(BaseModel):
    kind: Kind
    start: int
    end: int
    value: str


class Example(BaseModel):
    id: str
    text: str
    known_names: list[str]
    spans: list[LabelledSpan]
    hard: list[str]

    @property
    def known(self) -> KnownPersonalData:
        return KnownPersonalData(names=tuple(self.known_names))


def load(half: Half) -> list[Example]:
    lines = (HERE / f"{half}.jsonl").read_text(encoding="utf-8").splitlines()
    return [Example.model_validate_json(line) for line in lines if line.strip()]


def load_tuning() -> list[Example]:
    return [ex for half in TUNING for ex in load(half)]


@dataclass
class Score:
    texts: int = 0
    labelled: Counter[str] = field(default_factory=Counter)
    leaks: list[tuple[str, Kind, str]] = field(default_factory=list)  # (id, kind, value)
    leaked_chars: int = 0  # labelled characters left visible
    personal_chars: int = 0
    non_personal_chars: int = 0
    over_redacted_chars: int = 0

    @property
    def over_redaction_pct(self) -> float:
        return 100.0 * self.over_redacted_chars / max(1, self.non_personal_chars)


def score(examples: list[Example], redacted: list[Redacted]) -> Score:
    """A leak: a labelled span not wholly inside redacted spans. Over-redaction: redacted
    characters outside every labelled span, over all such (non-whitespace) characters."""
    sc = Score(texts=len(examples))
    for ex, out in zip(examples, redacted, strict=True):
        covered = {i for s in out.spans for i in range(s.start, s.end)}
        personal = {i for s in ex.spans for i in range(s.start, s.end)}
        for s in ex.spans:
            sc.labelled[s.kind] += 1
            visible = set(range(s.start, s.end)) - covered
            if visible:
                sc.leaks.append((ex.id, s.kind, s.value))
                sc.leaked_chars += len(visible)
            sc.personal_chars += s.end - s.start
        rest = [i for i in range(len(ex.text)) if i not in personal and not ex.text[i].isspace()]
        sc.non_personal_chars += len(rest)
        sc.over_redacted_chars += sum(1 for i in rest if i in covered)
    return sc
