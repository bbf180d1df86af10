"""Mobile numbers and landlines of mainland China.

Mobile: 11 digits, 1[3-9]x, optionally after +86 / 0086 / 86 / (+86), the first three
also with the trunk prefix written as "(0)" (+86 (0)138…), grouped by spaces, dashes
or dots (the first three in brackets too) or broken across lines. Landline: an area code 0xx /
0xxx (or in brackets) and a 7-8 digit subscriber number not starting with 0 or 1, with an
optional extension (转 306, -8012, ext 5), also after +86 / 0086 / (+86) with the area code's 0
dropped as the international form drops it (+86-891-6328045) or kept; a bare 7-8 digit number
only right after a word that says it is a telephone. A mobile read out in Chinese numerals
(一三九 零三七八 二六一五, 幺 for 一; 幺三九，七零零二，幺八四六 with the pauses as commas) is one
too: eleven of them in a row, 1[3-9] first, no other numeral around them
(二〇二六年, 三五个人 and 一三九路 are far shorter).
"""

from __future__ import annotations

import re

from shared.redaction.separated_digits import SEPARATOR
from shared.redaction.span import Kind, Span

S = SEPARATOR


def _digits(n: int) -> str:
    return S.join([r"\d"] * n)


_MOBILE = re.compile(
    rf"(?<![0-9A-Za-z+])(?:(?:\+|00)?86{S}(?:\(0\){S})?|\(\+?86\){S})?"
    rf"(?:\(1[3-9]\d\){S}\d(?:{S}\d){{7}}|1{S}[3-9](?:{S}\d){{9}})"
    # A number spaced out digit by digit takes the digits that follow (one typed too many).
    r"(?:[ \-]\d(?![0-9A-Za-z]))*(?![0-9A-Za-z])"
)
_AREA = (
    rf"(?:\(0{S}[1-9](?:{S}\d){{1,2}}\)|0{S}[1-9](?:{S}\d){{1,2}}"
    # The country code before it, with the area code's 0 dropped, bracketed or kept.
    rf"|(?<![0-9A-Za-z+])(?:(?:\+|00)86{S}|\(\+?86\){S})(?:\(0\){S}|0{S})?[1-9](?:{S}\d){{1,2}})"
)
_SUBSCRIBER = rf"[2-9](?:{S}\d){{6,7}}"
_EXTENSION = rf"(?:{S}(?:转|分机|ext\.?|x|-){S}\d{{1,5}})?"
# Between the area code and the number, a dash may have a space on either side (0775 — 2833 651).
_AREA_GAP = rf"(?:{S}|[ \t][-–—][ \t])"
_LANDLINE = re.compile(
    rf"(?<![0-9A-Za-z]){_AREA}{_AREA_GAP}{_SUBSCRIBER}{_EXTENSION}(?![0-9A-Za-z])", re.IGNORECASE
)
_SPOKEN_DIGIT = "[零〇一二三四五六七八九幺]"
_SPOKEN_NUMERAL = "零〇一二三四五六七八九幺十百千万亿两"
# Read out in groups of three, four and four, the groups may be apart by commas as a
# transcript writes the pauses (幺三九，七零零二，幺八四六); a comma is allowed there only.
_PAUSE = rf"(?:{S}|[,、]{S})"
_SPOKEN_MOBILE = re.compile(
    rf"(?<![{_SPOKEN_NUMERAL}])[一幺]{S}[三四五六七八九]{S}{_SPOKEN_DIGIT}"
    rf"{_PAUSE}{_SPOKEN_DIGIT}(?:{S}{_SPOKEN_DIGIT}){{3}}"
    rf"{_PAUSE}{_SPOKEN_DIGIT}(?:{S}{_SPOKEN_DIGIT}){{3}}"
    rf"(?![{_SPOKEN_NUMERAL}])"
)
_CUED_LOCAL = re.compile(
    rf"(?:电话|座机|固话|宅电|家电|办公室电话|联系方式)(?:号码)?[是为:：\s]{{0,3}}"
    rf"(?P<n>{_SUBSCRIBER}{_EXTENSION})(?![0-9A-Za-z])",
    re.IGNORECASE,
)


def find_mobiles(folded: str) -> list[Span]:
    return [
        Span(kind=Kind.MOBILE, start=m.start(), end=m.end())
        for rx in (_MOBILE, _SPOKEN_MOBILE)
        for m in rx.finditer(folded)
    ]


def find_landlines(folded: str) -> list[Span]:
    spans = [
        Span(kind=Kind.LANDLINE, start=m.start(), end=m.end()) for m in _LANDLINE.finditer(folded)
    ]
    spans += [
        Span(kind=Kind.LANDLINE, start=m.start("n"), end=m.end("n"))
        for m in _CUED_LOCAL.finditer(folded)
    ]
    return spans
