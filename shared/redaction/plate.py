"""Licence plates of mainland China (GA 36), including the green new-energy plates.

A province abbreviation, the issuing authority's letter, an optional separator (·, space, dash)
and five characters (ordinary: letters and digits, no I or O) or six (new energy: D/F first for
small vehicles, five digits then D/F for large ones; six are taken whatever their order, as
people mistype them); 学/警/挂 plates, and 港/澳/领 of cross-border and consular cars, end in
that character.
"""

from __future__ import annotations

import re

from shared.redaction.span import Kind, Span

# The abbreviations on the plates, and the literary ones people write instead (滇 for 云…).
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼" + "滇黔蜀秦陇"
_SEP = r"[·•・.\- ]?"
_CHAR = "[A-HJ-NP-Z0-9]"
# People space a plate out as they read it (京 A12345, 鲁A 8K 3J2): a space may follow the
# province, and one may split the characters, with two or more after it.
_PLATE = re.compile(
    rf"[{_PROVINCES}] ?[A-HJ-NP-Z]{_SEP}"
    rf"(?:{_CHAR}{{1,4}} {_CHAR}{{2,5}}|{_CHAR}{{5,6}}|{_CHAR}{{4}}[学警挂港澳领])"
    r"(?![A-Za-z0-9])",
    re.IGNORECASE,  # typed in lower case (桂a 5K318) as often as not
)


def find_plates(folded: str) -> list[Span]:
    spans = []
    for m in _PLATE.finditer(folded):
        body = re.sub(r"[·•・.\- ]", "", m.group())[2:]
        if len(body) not in (5, 6):
            continue
        # An ordinary plate carries at least one digit: 川ABCDE is a word, not a plate.
        if any(c.isdigit() for c in body):
            spans.append(Span(kind=Kind.PLATE, start=m.start(), end=m.end()))
    return spans
