"""18-digit resident identity numbers (GB 11643-1999), checksum-validated.

Six digits of region, eight of birth date, three of sequence and the ISO 7064 MOD 11-2 check
character (0-9 or X). Written with spaces or dashes between groups, with a lower-case x, in
full-width digits (folded before this runs) or broken across lines; an 18-digit run that fails
the region, date or checksum test (a work-order number, a case number) is left alone, unless
the words for an identity number stand right before it.
"""

from __future__ import annotations

import datetime as dt
import re

from shared.redaction.separated_digits import SEPARATOR, squeeze
from shared.redaction.span import Kind, Span

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
# First two digits: the province-level codes of GB/T 2260, and 71/81/82 of the residence
# permits of Taiwan, Hong Kong and Macao residents.
_PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 "  # noqa: SIM905
    "61 62 63 64 65 71 81 82".split()
)
_CANDIDATE = re.compile(
    rf"(?<![0-9A-Za-z])[1-8](?:{SEPARATOR}\d){{16}}{SEPARATOR}[\dXx](?![0-9A-Za-z])"
)


def check_character(first17: str) -> str:
    """The MOD 11-2 check character of the first 17 digits."""
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def is_valid_id_number(number: str) -> bool:
    """An 18-character number whose region, birth date and check character hold."""
    n = number.upper()
    if len(n) != 18 or not n[:17].isdigit() or n[:2] not in _PROVINCES:
        return False
    try:
        born = dt.date(int(n[6:10]), int(n[10:12]), int(n[12:14]))
    except ValueError:
        return False
    if born.year < 1900:
        return False
    return check_character(n[:17]) == n[17]


# Digits the writer says are their identity number, whole or not (身份证430104, 身份证号码
# 4301 0419…, a number with a typo): personal data even when no checksum holds.
_CUED = re.compile(
    r"(?:身份证|身份证件|证件|公民身份)(?:号码|号)?(?:是|为|[:：])?[ \t]{0,2}"
    rf"(?P<n>\d(?:{SEPARATOR}\d){{3,17}}(?:{SEPARATOR}[Xx])?)(?![0-9A-Za-z])"
)


def find_id_numbers(folded: str) -> list[Span]:
    """Every valid identity number in the (width-folded) text, and every number right after
    the words for one."""
    spans = [
        Span(kind=Kind.ID_NUMBER, start=m.start(), end=m.end())
        for m in _CANDIDATE.finditer(folded)
        if is_valid_id_number(squeeze(m.group()))
    ]
    return spans + [
        Span(kind=Kind.ID_NUMBER, start=m.start("n"), end=m.end("n"))
        for m in _CUED.finditer(folded)
        if not any(s.start < m.end("n") and m.start("n") < s.end for s in spans)
    ]
