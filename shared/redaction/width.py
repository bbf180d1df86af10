"""Full-width forms folded to ASCII one character for one, so offsets stay those of the input.

Complaints typed on a phone mix ``１３８`` with ``138``, ``＠`` with ``@`` and the ideographic
space with a plain one. Detectors match the folded text; their spans index the original.
"""

from __future__ import annotations

_FULL_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULL_WIDTH[0x3000] = 0x20  # ideographic space
_FULL_WIDTH[0x00A0] = 0x20  # no-break space


def fold_width(text: str) -> str:
    """The same text with full-width ASCII forms as ASCII; ``len`` is unchanged."""
    return text.translate(_FULL_WIDTH)
