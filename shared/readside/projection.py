"""The Projection protocol: pure functions from the log's accepted events to read-model documents.

A projection never touches a store. For each accepted event of a stream it wants, it gets the
stream's current document (as stored, or None) and returns the documents to write. The
projector (:mod:`shared.readside.projector`) does the I/O: it judges every record with the rule
book, hands only accepted events to projections, and writes every document guarded by the log
offset it applies, so a redelivered event never applies twice.

Rules a projection keeps, so that replaying the log always gives the same read model:

* ``apply`` is pure and deterministic: the same (document, event) gives the same writes. It
  reads the event's log time, never the wall clock.
* Document ids derive from the stream id (the per-stream document, in ``stream_collection``,
  with ``_id`` = the stream) or from the event id (one document per event). No document is
  shared by two streams: aggregates are queries over per-stream documents, never counters.
* Writes to documents other than the per-stream one may depend on the per-stream document as
  it was *before* the event: the projector writes them first and the per-stream document last,
  so the per-stream document's ``_pos`` says which events are fully applied.
* Raising means the projection cannot apply the event (a bug, a type it does not know): the
  event goes to the dead letters and its stream is parked. Rule-book rejections never reach a
  projection.
* Fields ``_id`` and ``_pos`` belong to the projector; documents carry no personal data beyond
  what the event itself carries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from shared.events.envelope import stream_kind
from shared.events.upcast import upcast
from shared.log.port import StoredRecord
from shared.store.port import Doc, DocumentStore

GUARD_FIELD = "_pos"
"""Every projected document carries the log offset of the event that last wrote it."""


@dataclass(frozen=True, slots=True)
class Accepted:
    """An event the rule book accepted, at its place in the log (upcast to its newest version)."""

    stream: str
    partition: int
    offset: int
    log_time: int  # µs since the epoch: the log's append time, never the writer's claim
    id: str
    type: str
    actor: str
    source: str
    data: Mapping[str, Any]
    envelope: Mapping[str, Any]  # the event as stored (before upcasting)

    @property
    def stream_kind(self) -> str:
        return stream_kind(self.stream)

    @classmethod
    def of(cls, rec: StoredRecord, env: dict[str, Any]) -> Accepted:
        event_type, data = upcast(env["type"], env["data"])
        return cls(
            stream=rec.stream,
            partition=rec.partition,
            offset=rec.offset,
            log_time=rec.appended_at,
            id=env["id"],
            type=event_type,
            actor=env["actor"],
            source=env["source"],
            data=data,
            envelope=env,
        )


@dataclass(frozen=True, slots=True)
class Write:
    """Create or replace one document (the projector adds ``_pos``)."""

    coll: str
    id: str
    doc: Mapping[str, Any]


@runtime_checkable
class Projection(Protocol):
    """What a service registers to have the projector maintain part of its read model."""

    @property
    def name(self) -> str:
        """Stable, unique within a service (it names the projection in dead letters)."""
        ...

    @property
    def stream_kinds(self) -> frozenset[str]:
        """Stream kinds it reads (``case``, ``conference``, ...); other streams are not judged."""
        ...

    @property
    def stream_collection(self) -> str:
        """The collection of its per-stream documents (``_id`` = stream id)."""
        ...

    @property
    def collections(self) -> Sequence[str]:
        """Every collection it writes, the per-stream one included."""
        ...

    async def setup(self, store: DocumentStore) -> None:
        """Declare indexes (idempotent); called before the first write."""
        ...

    def apply(self, current: Doc | None, event: Accepted) -> list[Write]:
        """The writes this event causes, given the stream's document before it (pure)."""
        ...


class UnknownEvent(Exception):
    """A projection met an event type it has no rule for (goes to the dead letters)."""

    def __init__(self, event_type: str) -> None:
        super().__init__(f"no rule for {event_type}")
