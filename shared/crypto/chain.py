"""Rolling digest of a whole partition: what a chain alone cannot show.

A stream's hash chain reveals an edited or removed event inside it, but not a cut-off tail or a
whole deleted stream. The partition digest folds every record of a partition in log order —
its log time and its bytes — so a digest kept outside the log (and anchored publicly) pins the
partition's exact content up to a count.
"""

from __future__ import annotations

import hashlib

ZERO = "0" * 64


def roll(digest: bytes, appended_at: int, record_digest: bytes) -> bytes:
    """Next raw digest after a record with this log time and raw SHA-256 digest."""
    return hashlib.sha256(
        digest + appended_at.to_bytes(8, "big", signed=True) + record_digest
    ).digest()


def step(digest: str, appended_at: int, record_hash: str) -> str:
    """Next digest after a record with this log time and (hex SHA-256) hash."""
    return roll(bytes.fromhex(digest), appended_at, bytes.fromhex(record_hash)).hex()


class PartitionDigest:
    """Digest of records 0..count-1 of one partition."""

    __slots__ = ("_raw", "count", "partition")

    def __init__(self, partition: int, count: int = 0, digest: str = ZERO) -> None:
        self.partition = partition
        self.count = count
        self._raw = bytes.fromhex(digest)

    @property
    def digest(self) -> str:
        return self._raw.hex()

    def add(self, offset: int, appended_at: int, record_hash: str) -> None:
        """Fold the record at ``offset`` in; a hole before it (removed records) is the
        caller's to report — the digest then differs from any digest made before the removal."""
        self.add_raw(offset, appended_at, bytes.fromhex(record_hash))

    def add_raw(self, offset: int, appended_at: int, record_digest: bytes) -> None:
        """``add`` with the record's raw SHA-256 digest."""
        self._raw = roll(self._raw, appended_at, record_digest)
        self.count = offset + 1
