"""A second opinion on names and addresses: a character tagger (a linear-chain CRF, CRFsuite)
trained on the labelled complaint texts, whose findings are added to the rules'.

The rules are precise and explain themselves, but each fresh set of texts shows forms they
have not met (a name that reads as a word after a role, an address of an unseen shape). The
tagger has learnt from every labelled text what the characters around personal data look
like: each character is described by itself and its neighbours, the word and word class the
recogniser (LAC) gives it, and whether it may start a name (a surname). It never learns from
the rules' own findings: the rules were tuned on the same texts, so it would learn to copy
them and miss what they miss.

Its findings only add to the rules' (a union): it can over-redact, never uncover what the rules
redacted. The model file is built from the tuning data by ``make redaction-model``
(``tests/data/redaction/train_tagger.py``), which also writes down which texts it learnt from;
the benchmark's held-out set is never among them.
"""

from __future__ import annotations

import threading
from importlib.resources import files
from pathlib import Path

import pycrfsuite

from shared.redaction.names import COMMON_SURNAMES, SURNAMES
from shared.redaction.span import Kind, Span

MODEL = "tagger.crfsuite"
# The labels: the Begin and Inside of a name or an address, and Outside.
_KINDS = {"N": Kind.NAME, "A": Kind.ADDRESS}
OUTSIDE = "O"


def label_of(kind: Kind) -> str:
    return next(k for k, v in _KINDS.items() if v is kind)


def _shape(c: str) -> str:
    if c.isdigit():
        return "d"
    if "\u4e00" <= c <= "\u9fff":
        return "h"
    if c.isascii() and c.isalpha():
        return "l"
    if c.isspace():
        return "s"
    return "p"


def features(folded: str, words: list[tuple[int, int, str]]) -> list[list[str]]:
    """Each character's description (CRFsuite's attribute strings)."""
    n = len(folded)
    pad = "\x02\x02\x02" + folded + "\x03\x03\x03"
    shapes = [_shape(c) for c in folded]
    word_tag = [""] * n
    word_pos = [""] * n
    word_len = [""] * n
    prev_tag = [""] * n
    next_tag = [""] * n
    for k, (s, e, tag) in enumerate(words):
        before = words[k - 1][2] if k else "^"
        after = words[k + 1][2] if k + 1 < len(words) else "$"
        size = str(min(e - s, 5))
        for i in range(s, e):
            word_tag[i] = tag
            word_pos[i] = "S" if e - s == 1 else "B" if i == s else "E" if i == e - 1 else "I"
            word_len[i] = size
            prev_tag[i] = before
            next_tag[i] = after
    out = []
    for i in range(n):
        j = i + 3  # index into pad
        c = pad[j]
        around = shapes[i] + (shapes[i - 1] if i else "^") + (shapes[i + 1] if i + 1 < n else "$")
        out.append(
            [
                "c=" + c,
                "c-1=" + pad[j - 1],
                "c+1=" + pad[j + 1],
                "c-2=" + pad[j - 2],
                "c+2=" + pad[j + 2],
                "c-3=" + pad[j - 3],
                "c+3=" + pad[j + 3],
                "b-1=" + pad[j - 1 : j + 1],
                "b+1=" + pad[j : j + 2],
                "b-2=" + pad[j - 2 : j],
                "b+2=" + pad[j + 1 : j + 3],
                "b-3=" + pad[j - 3 : j - 1],
                "t-3=" + pad[j - 3 : j],
                "t+3=" + pad[j + 1 : j + 4],
                "s=" + around,
                "w=" + word_tag[i] + word_pos[i],
                "wl=" + word_len[i] + word_pos[i],
                "wt=" + prev_tag[i] + "|" + word_tag[i] + "|" + next_tag[i],
                "sur=" + ("2" if c in COMMON_SURNAMES else "1" if c in SURNAMES else "0"),
                "sur-1=" + ("1" if pad[j - 1] in SURNAMES else "0"),
            ]
        )
    return out


def spans_of(folded: str, labels: list[str]) -> list[Span]:
    """The tagger's labels as spans (a run starts at a B- label, or at an I- label after
    another kind: the tagger may skip the B-)."""
    out: list[Span] = []
    current: tuple[str, int] | None = None
    for i, label in enumerate([*labels, OUTSIDE]):
        kind = label[2:] if label != OUTSIDE else ""
        if current and (label == OUTSIDE or label.startswith("B-") or kind != current[0]):
            out.append(_span(folded, current[0], current[1], i))
            current = None
        if label != OUTSIDE and current is None:
            current = (kind, i)
    return [
        s
        for s in out
        if s.end - s.start >= 2 and (s.kind is not Kind.ADDRESS or _places(folded, s))
    ]


# A number's ordinal and counter (第12号) and the numerals: characters that never place anything
# on their own.
_NUMBERING = frozenset("第号之附零〇一二三四五六七八九十百千")


def _places(folded: str, span: Span) -> bool:
    """An address found by the tagger names at least two characters of a place (a road, an
    estate, a village), not only a number (第1000号 is a list's entry)."""
    text = folded[span.start : span.end]
    return sum(1 for c in text if "\u4e00" <= c <= "\u9fff" and c not in _NUMBERING) >= 2


def _span(folded: str, kind: str, start: int, end: int) -> Span:
    while end > start and folded[end - 1].isspace():
        end -= 1
    person = "".join(folded[start:end].split()) if _KINDS[kind] is Kind.NAME else None
    return Span(kind=_KINDS[kind], start=start, end=end, person=person)


class Tagger:
    def __init__(self, model: Path) -> None:
        self._tagger = pycrfsuite.Tagger()
        self._tagger.open(str(model))

    def find(self, folded: str, words: list[tuple[int, int, str]]) -> list[Span]:
        """Names and addresses in ``folded``, given the recogniser's words for it."""
        if not folded:
            return []
        return spans_of(folded, self._tagger.tag(features(folded, words)))


# One tagger per thread: a CRFsuite tagger holds the sequence it is tagging, and intake redacts
# in worker threads (a model of a quarter of a megabyte, opened in a millisecond or two).
_per_thread = threading.local()


def default_tagger() -> Tagger:
    tagger: Tagger | None = getattr(_per_thread, "tagger", None)
    if tagger is None:
        tagger = _per_thread.tagger = Tagger(Path(str(files("shared.redaction").joinpath(MODEL))))
    return tagger
