"""One function: personal data in a text replaced by typed placeholders.

Every detector runs on the width-folded text; their findings, those of the known values and
the names are resolved into non-overlapping spans (on overlap the surer kind of
``span.PRIORITY`` wins and takes in the other's characters, so nothing found is left
half-visible), then replaced: ``【姓名1】`` … per person in order of first appearance, and
``【身份证号】 【手机号】 【电话】 【邮箱】 【地址】 【车牌】``. Same input, same output.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from shared.redaction.address import find_addresses
from shared.redaction.email import find_emails
from shared.redaction.id_number import find_id_numbers
from shared.redaction.known import KnownPersonalData, find_known
from shared.redaction.names import NameRecogniser, default_recogniser, find_names
from shared.redaction.phone import find_landlines, find_mobiles
from shared.redaction.plate import find_plates
from shared.redaction.span import PRIORITY, Kind, Span
from shared.redaction.tagger import Tagger, default_tagger
from shared.redaction.width import fold_width

NO_KNOWN_DATA = KnownPersonalData()


class Redacted(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: str  # with placeholders
    spans: tuple[Span, ...]  # in the original text, in order, each with its placeholder
    # (kind, offsets and placeholder only: no span holds the data it replaced)


def find_patterns(folded: str) -> list[Span]:
    """What the pattern detectors find (everything but names), unresolved."""
    return (
        find_id_numbers(folded)
        + find_emails(folded)
        + find_mobiles(folded)
        + find_landlines(folded)
        + find_plates(folded)
        + find_addresses(folded)
    )


_NUMBERS = frozenset({Kind.ID_NUMBER, Kind.MOBILE, Kind.LANDLINE})


def resolve(found: list[Span]) -> list[Span]:
    """Non-overlapping spans in text order: surer kinds first, an overlap merged into it
    (but a number overlapping a surer number is dropped: the digits are that number's)."""
    rank = {k: i for i, k in enumerate(PRIORITY)}
    taken: list[Span] = []
    for s in sorted(found, key=lambda s: (rank[s.kind], s.start, s.start - s.end, s.person or "")):
        hits = [t for t in taken if t.start < s.end and s.start < t.end]
        if not hits:
            taken.append(s)
            continue
        if any(t.start <= s.start and s.end <= t.end for t in hits):
            continue
        if s.kind in _NUMBERS and any(t.kind in _NUMBERS for t in hits):
            continue  # it took digits of a surer number next to it (0771 5526 2023)
        first = min(hits, key=lambda t: rank[t.kind])
        merged = first.model_copy(
            update={
                "start": min([s.start, *(t.start for t in hits)]),
                "end": max([s.end, *(t.end for t in hits)]),
                "person": first.person if len(hits) == 1 else None,
            }
        )
        taken = [t for t in taken if t not in hits] + [merged]
    return _join_touching(sorted(taken, key=lambda s: s.start))


def _join_touching(spans: list[Span]) -> list[Span]:
    """Two findings of one kind (not names) that touch are one: 【地址】, not 【地址】【地址】."""
    out: list[Span] = []
    for s in spans:
        if out and out[-1].end == s.start and out[-1].kind == s.kind and s.kind is not Kind.NAME:
            out[-1] = out[-1].model_copy(update={"end": s.end})
        else:
            out.append(s)
    return out


def _with_placeholders(spans: list[Span]) -> list[Span]:
    numbers: dict[str, int] = {}
    out = []
    for s in spans:
        if s.kind is Kind.NAME:
            n = numbers.setdefault(s.person or f"@{s.start}", len(numbers) + 1)
            label = f"【{s.kind.label}{n}】"
        else:
            label = f"【{s.kind.label}】"
        # The person's name stays behind: a span handed on carries no personal data itself.
        out.append(s.model_copy(update={"placeholder": label, "person": None}))
    return out


def redact(
    text: str,
    known: KnownPersonalData = NO_KNOWN_DATA,
    recogniser: NameRecogniser | None = None,
    *,
    recognise_names: bool = True,
    tagger: Tagger | None = None,
    use_tagger: bool = True,
) -> Redacted:
    """``text`` with its personal data replaced by placeholders, and where each one was.

    ``recogniser`` defaults to the offline LAC recogniser and ``tagger`` to the trained tagger
    (``tagger.py``); ``use_tagger=False`` leaves the rules alone, ``recognise_names=False``
    keeps only the known names (no model is loaded then).
    """
    folded = fold_width(text)
    found = find_patterns(folded) + find_known(folded, known)
    if not recognise_names:
        return _replaced(text, found + find_names(folded, known.names, None))
    recogniser = recogniser or default_recogniser()
    words = recogniser.words(folded)
    learnt = (tagger or default_tagger()).find(folded, words) if use_tagger else []
    # (The tagger's names are then found wherever else they occur, as the rules' are.)
    also = {s.person for s in learnt if s.kind is Kind.NAME and s.person}
    found += learnt + find_names(folded, known.names, recogniser, words, also)
    return _replaced(text, found)


def _replaced(text: str, found: list[Span]) -> Redacted:
    spans = _with_placeholders(resolve(found))
    parts, pos = [], 0
    for s in spans:
        parts += [text[pos : s.start], s.placeholder]
        pos = s.end
    parts.append(text[pos:])
    return Redacted(text="".join(parts), spans=tuple(spans))
