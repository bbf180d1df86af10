"""The one byte form of an event: RFC 8785 (JCS) canonical JSON.

The stored record is the JCS encoding of the whole event; the signature covers the same bytes
without the top-level ``sig`` member (still valid JCS, so verification never re-serialises), and
``prev`` and digests hash the full stored bytes.

orjson with sorted keys produces JCS exactly for the value domain events use: no floats,
integers within ±(2**53 - 1), and object keys without characters at or above U+E000 (where
UTF-16 and code-point ordering could differ). ``canonical`` enforces that domain, so the fast
path is never silently wrong; tests compare it with the reference ``rfc8785`` package.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

MAX_SAFE_INT = 2**53 - 1
_SORT = orjson.OPT_SORT_KEYS


class CanonicalFormError(ValueError):
    """A value outside the JSON domain events may carry."""


def _check_domain(value: Any) -> None:
    if isinstance(value, str) or value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
            return
        raise CanonicalFormError("integer outside ±(2**53-1)")
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise CanonicalFormError("object key is not a string")
            if k and max(k) >= "\ue000":
                raise CanonicalFormError("object key with a character at or above U+E000")
            _check_domain(v)
        return
    if isinstance(value, list | tuple):
        for v in value:
            _check_domain(v)
        return
    if isinstance(value, float):
        raise CanonicalFormError("floats are not allowed in events; use integers or strings")
    raise CanonicalFormError(f"unsupported type {type(value).__name__}")


def canonical(value: dict[str, Any]) -> bytes:
    """RFC 8785 bytes of a JSON object in the event domain."""
    _check_domain(value)
    return orjson.dumps(value, option=_SORT)


def canonical_checked(value: dict[str, Any]) -> bytes:
    """``canonical`` for a value whose domain was already checked (e.g. the same event plus
    its ``sig`` string)."""
    return orjson.dumps(value, option=_SORT)


def record_hash(stored: bytes) -> str:
    """Hash of a stored record, as `prev` names it (hex SHA-256 of the full stored bytes)."""
    return hashlib.sha256(stored).hexdigest()


def signed_part(stored: bytes, sig: str) -> bytes:
    """The stored bytes without the top-level ``sig`` member: exactly the bytes that were signed.

    JCS sorts members, so ``sig`` is never the first member (``actor`` precedes it) and every
    member after it (``source``, ``specversion``, ``subject``, ``time``, ``type``) is a string,
    whose quotes would be escaped: the last occurrence is the top-level member.
    """
    member = b',"sig":"' + sig.encode("ascii") + b'"'
    at = stored.rfind(member)
    if at < 0:
        raise CanonicalFormError("record has no top-level sig member")
    return stored[:at] + stored[at + len(member) :]


def loads(stored: bytes) -> dict[str, Any]:
    value = orjson.loads(stored)
    if not isinstance(value, dict):
        raise CanonicalFormError("record is not a JSON object")
    return value
