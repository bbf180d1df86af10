"""E-mail addresses (after width folding, so ``＠`` counts as ``@``)."""

from __future__ import annotations

import re

from shared.redaction.span import Kind, Span

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9](?:[A-Za-z0-9._%+\-]{0,63})"
    r" ?@ ?"
    r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62})(?:\.[A-Za-z0-9\-]{1,63})*\.[A-Za-z]{2,24}"
    r"(?![A-Za-z0-9\-])"
)


def find_emails(folded: str) -> list[Span]:
    return [Span(kind=Kind.EMAIL, start=m.start(), end=m.end()) for m in _EMAIL.finditer(folded)]
