"""The rolling partition digest: SHA-256 over the previous digest, the log time (8 bytes, big
endian, signed) and the record hash, record after record."""

from __future__ import annotations

import hashlib

from shared.crypto.chain import ZERO, PartitionDigest, step

H1 = hashlib.sha256(b"one").hexdigest()
H2 = hashlib.sha256(b"two").hexdigest()
T1 = 1_790_000_000_000_000


def reference(digest: str, appended_at: int, record_hash: str) -> str:
    return hashlib.sha256(
        bytes.fromhex(digest)
        + appended_at.to_bytes(8, "big", signed=True)
        + bytes.fromhex(record_hash)
    ).hexdigest()


def test_zero_is_64_hex_zeros() -> None:
    assert ZERO == "0" * 64


def test_a_step_hashes_digest_time_and_record() -> None:
    assert step(ZERO, T1, H1) == reference(ZERO, T1, H1)
    assert step(ZERO, T1, H1) == "0fea6041e4e8f7f0806fd24899fe2fdf273f8aac5d268faf70acbf2f174d338b"
    assert step(ZERO, T1, H1) != step(ZERO, T1 + 1, H1)
    assert step(ZERO, T1, H1) != step(ZERO, T1, H2)
    assert step(ZERO, -1, H1) == reference(ZERO, -1, H1)  # a signed time, never an overflow


def test_a_new_partition_digest_is_zero_at_count_zero() -> None:
    d = PartitionDigest(2)
    assert (d.partition, d.count, d.digest) == (2, 0, ZERO)


def test_adding_records_folds_them_in_order_and_counts_to_the_last_offset() -> None:
    d = PartitionDigest(0)
    d.add(0, T1, H1)
    assert d.count == 1 and d.digest == step(ZERO, T1, H1)
    d.add(1, T1 + 5, H2)
    assert d.count == 2 and d.digest == step(step(ZERO, T1, H1), T1 + 5, H2)
    swapped = PartitionDigest(0)
    swapped.add(0, T1 + 5, H2)
    swapped.add(1, T1, H1)
    assert swapped.digest != d.digest


def test_a_digest_resumes_from_a_known_count_and_value() -> None:
    d = PartitionDigest(1, 7, H1)
    assert (d.partition, d.count, d.digest) == (1, 7, H1)
    d.add(9, T1, H2)  # a hole (offsets 7, 8) is the caller's to report; the count follows
    assert d.count == 10 and d.digest == reference(H1, T1, H2)


def test_a_partition_digest_takes_a_log_time_before_the_epoch() -> None:
    d = PartitionDigest(0)
    d.add(0, -1, H1)
    assert d.digest == reference(ZERO, -1, H1) == step(ZERO, -1, H1)
