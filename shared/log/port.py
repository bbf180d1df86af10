"""The EventLog port: what every log adapter (embedded SQLite, Apache Kafka) provides.

The log stores opaque signed records and stamps each with its own append time; it never
validates (the rule book does, identically in every reader: append, then validate). Positions
are per-partition vectors: ``{partition: next offset}``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import NamedTuple, Protocol, runtime_checkable

from shared.events.record import StoredRecord

Positions = dict[int, int]
__all__ = ["Appended", "EventLog", "Positions", "StoredRecord", "read_all"]


class Appended(NamedTuple):
    """Where an acknowledged record landed. Acknowledged means durable."""

    partition: int
    offset: int
    appended_at: int  # log time, microseconds since the epoch


@runtime_checkable
class EventLog(Protocol):
    @property
    def partitions(self) -> int: ...

    async def append(self, records: Sequence[tuple[str, bytes]]) -> list[Appended]:
        """Append (stream, record) pairs; return once every one is durable, in input order.

        Records of one stream keep their input order. Concurrent callers may share a commit.
        """
        ...

    async def read(
        self, start: Mapping[int, int], *, limit: int = 1000, until: Mapping[int, int] | None = None
    ) -> list[StoredRecord]:
        """Up to ``limit`` records from ``start`` (missing partitions: 0), partition by
        partition in offset order, stopping at ``until`` (exclusive) where given."""
        ...

    def read_stream(
        self, stream: str, *, until: Mapping[int, int] | None = None
    ) -> AsyncIterator[StoredRecord]:
        """Every record of one stream in log order (up to ``until``, exclusive)."""
        ...

    async def head(self) -> Positions:
        """The next offset of every partition: reading up to it reads everything acknowledged."""
        ...

    async def close(self) -> None: ...


async def read_all(
    log: EventLog,
    start: Mapping[int, int] | None = None,
    *,
    chunk: int = 2000,
    until: Mapping[int, int] | None = None,
) -> AsyncIterator[StoredRecord]:
    """Every record from ``start`` up to ``until`` (default: the head when called), in chunks."""
    pos: Positions = {p: 0 for p in range(log.partitions)}
    pos.update(start or {})
    end = dict(until) if until is not None else await log.head()
    while True:
        batch = await log.read(pos, limit=chunk, until=end)
        if not batch:
            return
        for rec in batch:
            pos[rec.partition] = rec.offset + 1
            yield rec
