"""The complainant's tracking code (查询码): handed out once at receipt, kept only as a hash.

A code is 16 characters of Crockford's base32 (80 bits), shown in groups of four. It is derived
from the receipt command's keyed id, so a retry of the same receipt hands out the same code and
nobody without the intake deployment's key can compute one. The log and the read model hold
only its SHA-256 (``complaint.received.tracking_code_hash``): an 80-bit random code cannot be
found from its hash by trying candidates. What a complainant types is read forgivingly: case,
spaces and dashes do not matter, and the look-alikes I, L (1) and O (0) are taken for digits.
"""

from __future__ import annotations

import hashlib

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 16
_LOOK_ALIKES = str.maketrans({"I": "1", "L": "1", "O": "0"})


def from_seed(seed: str) -> str:
    """The code a receipt hands out, from the receipt's keyed id (secret to the deployment)."""
    n = int.from_bytes(hashlib.sha256(b"tracking-code\x00" + seed.encode()).digest()[:10], "big")
    chars = []
    for _ in range(LENGTH):
        n, r = divmod(n, 32)
        chars.append(ALPHABET[r])
    return "".join(chars)


def normalize(typed: str) -> str | None:
    """The code as typed, made canonical; None when it cannot be a code."""
    if len(typed) > 40:
        return None
    code = "".join(ch for ch in typed.upper() if ch not in " -\t").translate(_LOOK_ALIKES)
    if len(code) != LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    return code


def display(code: str) -> str:
    """XXXX-XXXX-XXXX-XXXX, as the receipt shows it."""
    return "-".join(code[i : i + 4] for i in range(0, LENGTH, 4))


def code_hash(code: str) -> str:
    """What the log keeps of a (canonical) code."""
    return hashlib.sha256(code.encode()).hexdigest()
