"""E-mail addresses (after width folding, so ``＠`` counts as ``@``), also with the @ and the
dots spelled out in brackets as people write them against harvesting (liu_hui(at)126.com,
name [at] qq [dot] com); a bare "at" between words is English, not an e-mail."""

from __future__ import annotations

import re

from shared.redaction.span import Kind, Span

# The @ and a dot, also spelled out in brackets: (at), [at], {dot}, <DOT>.
_AT = r"(?: ?@ ?| ?[(\[{<] ?(?i:at) ?[)\]}>] ?)"
_DOT = r"(?:\.| ?[(\[{<] ?(?i:dot) ?[)\]}>] ?)"
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9](?:[A-Za-z0-9._%+\-]{0,63})"
    rf"{_AT}"
    rf"[A-Za-z0-9](?:[A-Za-z0-9\-]{{0,62}})(?:{_DOT}[A-Za-z0-9\-]{{1,63}})*{_DOT}[A-Za-z]{{2,24}}"
    r"(?![A-Za-z0-9\-])"
)


def find_emails(folded: str) -> list[Span]:
    return [Span(kind=Kind.EMAIL, start=m.start(), end=m.end()) for m in _EMAIL.finditer(folded)]
