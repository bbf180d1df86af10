"""Train the redaction tagger (``shared/redaction/tagger.py``) on the tuning halves.

``make redaction-model`` runs ``python -m tests.data.redaction.train_tagger``: the model goes
to ``shared/redaction/tagger.crfsuite`` and what it learnt from to ``tagger.json`` beside it
(the halves and a digest of their texts; a unit test holds the two to the labelled set, so a
model trained on other data, or on the held-out half, fails it).

``--check HALF`` trains without ``HALF`` (into a temporary file) and prints, on ``HALF``, the
leaks of the tagger alone, of the rules alone and of both: how the tagger does on texts it has
not seen. Training is deterministic (L-BFGS from zero, the texts in file order).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from pathlib import Path
from typing import get_args

import pycrfsuite

from shared.redaction import Kind, Redacted, redact
from shared.redaction.names import default_recogniser
from shared.redaction.tagger import MODEL, OUTSIDE, Tagger, features, label_of
from shared.redaction.width import fold_width
from tests.data.redaction.labelled_set import HERE, TUNING, Example, Half, load, score

ROOT = Path(__file__).resolve().parents[3]
MODEL_PATH = ROOT / "shared" / "redaction" / MODEL
PROVENANCE = MODEL_PATH.with_suffix(".json")
_LEARNT = (Kind.NAME, Kind.ADDRESS)
PARAMS = {
    "c1": 0.05,
    "c2": 0.01,
    "max_iterations": 200,
    "feature.possible_transitions": True,
}


def digest(halves: tuple[Half, ...]) -> str:
    h = hashlib.sha256()
    for half in halves:
        h.update((HERE / f"{half}.jsonl").read_bytes())
    return h.hexdigest()


def labels(ex: Example) -> list[str]:
    out = [OUTSIDE] * len(ex.text)
    for s in ex.spans:
        if s.kind in _LEARNT:
            tag = label_of(s.kind)
            out[s.start] = "B-" + tag
            for i in range(s.start + 1, s.end):
                out[i] = "I-" + tag
    return out


def train(halves: tuple[Half, ...], path: Path) -> int:
    recogniser = default_recogniser()
    trainer = pycrfsuite.Trainer(verbose=False)
    texts = 0
    for half in halves:
        for ex in load(half):
            folded = fold_width(ex.text)
            trainer.append(features(folded, recogniser.words(folded)), labels(ex))
            texts += 1
    trainer.set_params(PARAMS)
    trainer.train(str(path))
    return texts


def check(half: Half) -> None:
    others = tuple(h for h in TUNING if h != half)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / MODEL
        train(others, path)
        tagger = Tagger(path)
        examples = load(half)
        recogniser = default_recogniser()
        alone, rules, both = [], [], []
        for ex in examples:
            folded = fold_width(ex.text)
            found = tagger.find(folded, recogniser.words(folded))
            alone.append(Redacted(text="", spans=tuple(found)))
            rules.append(redact(ex.text, ex.known, use_tagger=False))
            both.append(redact(ex.text, ex.known, tagger=tagger))
    for name, out in (("tagger", alone), ("rules", rules), ("both", both)):
        sc = score(examples, out)
        kinds = {k: sum(1 for _, kk, _ in sc.leaks if kk is k) for k in _LEARNT}
        print(
            f"{half} {name}: {len(sc.leaks)} leaks ({kinds[Kind.NAME]} names, "
            f"{kinds[Kind.ADDRESS]} addresses), over-redaction {sc.over_redaction_pct:.2f} %"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", choices=get_args(Half), help="train without it, score it")
    args = parser.parse_args()
    if args.check:
        check(args.check)
        return
    t0 = time.perf_counter()
    texts = train(TUNING, MODEL_PATH)
    record = {"halves": list(TUNING), "texts": texts, "sha256": digest(TUNING), "params": PARAMS}
    PROVENANCE.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"trained on {texts} texts of {len(TUNING)} halves in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
