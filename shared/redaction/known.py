"""What the caller knows for certain: the complainant's own details from the form, and other
people's names held for the case. Each is redacted wherever it appears, in any spelling the
detectors also accept (digits grouped or broken across lines, full-width, any letter case)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

from shared.redaction.separated_digits import digits_pattern, squeeze
from shared.redaction.span import Kind, Span
from shared.redaction.width import fold_width


class KnownPersonalData(BaseModel):
    model_config = ConfigDict(frozen=True)

    names: tuple[str, ...] = ()
    id_numbers: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    plates: tuple[str, ...] = ()


def _digits_only(value: str) -> str:
    return re.sub(r"[^0-9Xx]", "", squeeze(fold_width(value)))


def _phone_digits(value: str) -> str:
    d = re.sub(r"\D", "", fold_width(value))
    if d.startswith("0086"):
        d = d[4:]
    elif d.startswith("86") and len(d) == 13:
        d = d[2:]
    return d


def _loose(value: str) -> str:
    """A literal that may have whitespace (or a line break) anywhere between its characters."""
    chars = [c for c in fold_width(value) if not c.isspace()]
    return r"\s{0,2}".join(re.escape(c) for c in chars)


def _find(folded: str, kind: Kind, pattern: str, flags: int = 0) -> list[Span]:
    rx = re.compile(rf"(?<![0-9A-Za-z]){pattern}(?![0-9A-Za-z])", flags)
    return [Span(kind=kind, start=m.start(), end=m.end()) for m in rx.finditer(folded)]


def find_known(folded: str, known: KnownPersonalData) -> list[Span]:
    """Every occurrence of a known value other than a name (names: ``names.find_names``)."""
    spans: list[Span] = []
    for value in known.id_numbers:
        if d := _digits_only(value):
            spans += _find(folded, Kind.ID_NUMBER, digits_pattern(d))
    for value in known.phones:
        if d := _phone_digits(value):
            kind = Kind.MOBILE if len(d) == 11 and d.startswith("1") else Kind.LANDLINE
            spans += _find(folded, kind, digits_pattern(d))
    for value in known.emails:
        if value.strip():
            spans += _find(folded, Kind.EMAIL, _loose(value), re.IGNORECASE)
    for value in known.addresses:
        if value.strip():
            spans += _find(folded, Kind.ADDRESS, _loose(value))
    for value in known.plates:
        chars = re.sub(r"[\s·•・.\-]", "", fold_width(value))
        if chars:
            sep = r"[\s·•・.\-]{0,2}"
            spans += _find(folded, Kind.PLATE, sep.join(re.escape(c) for c in chars), re.IGNORECASE)
    return spans
