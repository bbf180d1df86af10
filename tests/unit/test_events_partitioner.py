"""Stream -> partition is Kafka's: murmur2 as the Java client computes it, toPositive % n."""

from __future__ import annotations

import pytest
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.partitioner import murmur2 as aiokafka_murmur2
from hypothesis import given
from hypothesis import strategies as st

from shared.events.partitioner import murmur2, partition_for

# Kafka's own test vectors (clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java).
KAFKA_VECTORS = {
    b"21": -973932308,
    b"foobar": -790332482,
    b"a-little-bit-long-string": -985981536,
    b"a-little-bit-longer-string": -1486304829,
    b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
    b"abc": 479470107,
}


@pytest.mark.parametrize(("data", "expected"), KAFKA_VECTORS.items())
def test_murmur2_matches_the_java_client(data: bytes, expected: int) -> None:
    assert murmur2(data) == expected


@given(st.binary(max_size=64))
def test_murmur2_agrees_with_aiokafka_for_every_length(data: bytes) -> None:
    h = murmur2(data)
    assert -(2**31) <= h < 2**31  # a signed 32-bit int, like Java's
    assert h & 0xFFFFFFFF == aiokafka_murmur2(data)


@given(st.text(max_size=60), st.integers(min_value=1, max_value=64))
def test_partition_for_is_kafkas_default_partitioner(stream: str, partitions: int) -> None:
    everything = list(range(partitions))
    expected = DefaultPartitioner()(stream.encode("utf-8"), everything, everything)
    assert partition_for(stream, partitions) == expected


def test_known_streams_land_on_known_partitions() -> None:
    assert [partition_for(s, 3) for s in ("registry", "audit", "period-2026-11")] == [
        (murmur2(s.encode()) & 0x7FFFFFFF) % 3 for s in ("registry", "audit", "period-2026-11")
    ]
    assert partition_for("registry", 1) == 0
