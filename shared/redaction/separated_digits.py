"""Digits as people write them: grouped by spaces or dashes, or broken across lines.

One definition of "a separator between two digits" (a space, a dash, a dot, a line break),
used by every number detector and by the
match of a known number, so ``138 1234 5678``, ``138-1234-5678`` and ``138\\n12345678`` are
the same number everywhere.
"""

from __future__ import annotations

import re

# At most two separator characters between two digits (e.g. " - " is three: not one number).
SEPARATOR = r"[ \t\r\n\-–—.]{0,2}"
_SEPARATOR_CHARS = re.compile(r"[ \t\r\n\-–—.]")


def digits_pattern(digits: str) -> str:
    """A regex matching exactly these digits (or X), separators allowed between them."""
    return SEPARATOR.join(re.escape(d) if d not in "Xx" else "[Xx]" for d in digits)


def squeeze(s: str) -> str:
    """The characters of a matched number without its separators."""
    return _SEPARATOR_CHARS.sub("", s)
