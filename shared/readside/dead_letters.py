"""Dead letters and parked streams: what a projector records when a projection cannot apply an
event (a bug, an unknown type — never a rule-book rejection, which is normal and simply not
applied).

The event becomes its stream's dead letter (position, event id, type, projection, error; no
payload values) and the stream is parked: its later accepted events are judged but only
recorded in ``parked`` while other streams carry on, until ``ledger dead-letters retry``
re-applies them in order (:meth:`shared.readside.projector.Projector.retry`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.log.port import StoredRecord
from shared.readside.projection import GUARD_FIELD
from shared.store.port import Doc, DocumentStore

DEAD_LETTERS = "dead_letters"
PARKED = "parked"


def _scalars(value: Any) -> Iterable[str]:
    if isinstance(value, Mapping):
        for v in value.values():
            yield from _scalars(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _scalars(v)
    elif isinstance(value, str | int | float) and not isinstance(value, bool):
        text = str(value)
        if len(text) >= 2:
            yield text


def scrubbed_message(exc: BaseException, data: Mapping[str, Any]) -> str:
    """The error's message with every payload value blanked out: dead letters name what went
    wrong and where, never what a complainant wrote."""
    message = str(exc)
    for text in sorted(set(_scalars(data)), key=len, reverse=True):
        message = message.replace(text, "<value>")
    return message[:300]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    stream: str
    partition: int
    offset: int
    event_id: str
    type: str
    projection: str
    error: str
    message: str
    log_time: int

    def doc(self) -> Doc:
        return {
            "stream": self.stream,
            "partition": self.partition,
            "offset": self.offset,
            "event_id": self.event_id,
            "type": self.type,
            "projection": self.projection,
            "error": self.error,
            "message": self.message,
            "log_time": self.log_time,
        }


def parked_doc(rec: StoredRecord, env: Mapping[str, Any]) -> Doc:
    return {
        "stream": rec.stream,
        "partition": rec.partition,
        "offset": rec.offset,
        "event_id": env["id"],
        "type": env["type"],
        "log_time": rec.appended_at,
        GUARD_FIELD: rec.offset,
    }


async def dead_letters(store: DocumentStore) -> list[Doc]:
    """Every dead letter, by stream, with how many events are parked behind it."""
    letters = await store.find(DEAD_LETTERS)
    counts = await store.grouped_count(PARKED, "stream")
    for d in letters:
        d["parked"] = counts.get(d["stream"], 0)
    return letters
