"""The pending deadlines of the ledger: which timers are still to fire, on which stream, when.

Pure. A stream's pending deadlines are read off its state as the rule book folds it
(``shared/rules/case``, ``shared/rules/conference.py``), so they are exactly the timers the
rule book would accept once their time has come, and every event that changes a clock changes
them with it:

* ``dispatch.assigned`` starts a handling deadline per unit (the lead's and each co-unit's);
* ``handling.extension_ruled`` (granted) moves that unit's to the new due time;
* ``handling.resolution_claimed`` completes a unit's part: its deadline is gone; the lead's
  claim starts the complainant's answer deadline (回访) when it names one;
* ``handling.reopened`` gives every acting unit a fresh one; a granted return removes the unit;
* ``dispatch.deemed_done``, closure, a merge, a withdrawal end them;
* ``conference.convened`` starts the opinion deadline, ``conference.decided`` ends it;
* ``deadline.elapsed`` itself ends the one it names (a timer fires once per stream, unit and
  due time).

:class:`PendingSet` keeps them for every stream, ordered by due time, for the scheduler
(``scheduler.py``) to fire.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Hashable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

from shared.calendar import SHANGHAI
from shared.events.ids import derived_event_id
from shared.ledger.deployments import BODY
from shared.ledger.signer import Draft
from shared.ledger.writer import Decide
from shared.rules.case.state import ASSIGNED, CLAIMED, DISPUTED, CaseState
from shared.rules.conference import OPEN, ConferenceState
from shared.rules.stream import StreamState

ELAPSED = "ledger.deadline.elapsed.v1"
TIMER_ACTOR = f"{BODY}/timer"
"""Who the scheduler's events name: the body's own timer (a body's act, by the rule book)."""
RULE = "deadline.elapsed"
_CLOCKS_RUN = (ASSIGNED, CLAIMED, DISPUTED)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Deadline(NamedTuple):
    stream: str
    kind: str  # handling | answer | opinions (the event's ``deadline``)
    unit: str | None  # the unit whose handling deadline it is; None for the others
    due: int  # µs since the epoch

    @property
    def due_at(self) -> str:
        """The due time as the event names it (RFC 3339, Asia/Shanghai)."""
        return timestamp(self.due)

    @property
    def event_id(self) -> str:
        """Same deadline, same id: every scheduler derives it from (stream, unit, due time)."""
        return derived_event_id(f"{self.stream}|{self.unit or ''}|{self.due}", RULE)

    def draft(self) -> Draft:
        data: dict[str, Any] = {"deadline": self.kind, "due_at": self.due_at}
        if self.unit is not None:
            data["unit"] = self.unit
        return Draft(ELAPSED, data, TIMER_ACTOR, id=self.event_id)


def timestamp(us: int) -> str:
    return (_EPOCH + timedelta(microseconds=us)).astimezone(SHANGHAI).isoformat()


def pending_of(stream: str, domain: Any) -> frozenset[Deadline]:
    """The deadlines of one stream still to fire, from its state."""
    if isinstance(domain, CaseState):
        return _case(stream, domain)
    if (
        isinstance(domain, ConferenceState)
        and domain.status == OPEN
        and ("", domain.opinions_due) not in domain.timers
    ):
        return frozenset({Deadline(stream, "opinions", None, domain.opinions_due)})
    return frozenset()


def _case(stream: str, s: CaseState) -> frozenset[Deadline]:
    if s.status not in _CLOCKS_RUN:
        return frozenset()
    out = {
        Deadline(stream, "handling", c.unit, c.due)
        for c in s.clocks
        if not (c.completed or c.deemed_done) and (c.unit, c.due) not in s.timers
    }
    if s.status == CLAIMED and s.answer_due is not None and ("", s.answer_due) not in s.timers:
        out.add(Deadline(stream, "answer", None, s.answer_due))
    return frozenset(out)


def fire(deadlines: Sequence[Deadline]) -> Decide:
    """The scheduler's decision for deadlines of one stream, against its state at the head:
    the ``deadline.elapsed`` of each still pending there — none for one another scheduler
    fired, or that an extension, completion or closure ended first. (One decision per stream:
    its events are chained in one append, never racing each other for the stream's head.)"""

    def decide(state: StreamState) -> list[Draft]:
        still = pending_of(state.stream, state.domain)
        return [d.draft() for d in deadlines if d in still]

    return decide


class Pending(Protocol, Hashable):
    """What a pending set holds: something due on a stream at a time (a deadline, a ladder
    step)."""

    @property
    def stream(self) -> str: ...

    @property
    def due(self) -> int: ...


P = TypeVar("P", bound=Pending)


class PendingSet(Generic[P]):
    """Every stream's pending deadlines (or, with ``of``, other things due: the escalation
    ladder's steps), and a queue of them by the time to try each (its due time, or later after
    a failed try). Entries of the queue that are no longer pending are skipped as they come
    up."""

    def __init__(self, of: Callable[[str, Any], frozenset[P]] = pending_of) -> None:  # type: ignore[assignment]
        self.of = of
        self.by_stream: dict[str, frozenset[P]] = {}
        # (when to try, a per-process tie-break, the entry): str hashes are salted per
        # process, so schedulers on one log take deadlines due at one instant in different
        # orders and seldom race for the same stream.
        self._queue: list[tuple[int, int, P]] = []
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def __contains__(self, entry: object) -> bool:
        stream = getattr(entry, "stream", None)
        return isinstance(stream, str) and entry in self.by_stream.get(stream, frozenset())

    def __iter__(self) -> Iterator[P]:
        for deadlines in self.by_stream.values():
            yield from deadlines

    def observe(self, stream: str, domain: Any) -> None:
        """A stream's state changed: its pending deadlines now."""
        new = self.of(stream, domain)
        old = self.by_stream.get(stream, frozenset())
        if new == old:
            return
        if new:
            self.by_stream[stream] = new
        else:
            self.by_stream.pop(stream, None)
        self._count += len(new) - len(old)
        for d in new - old:
            heapq.heappush(self._queue, (d.due, hash(d.stream), d))

    def next_due(self) -> int | None:
        """When the earliest deadline still pending is to be tried (µs), if any."""
        while self._queue and self._queue[0][2] not in self:
            heapq.heappop(self._queue)
        return self._queue[0][0] if self._queue else None

    def ripe(self, now: int, limit: int) -> list[P]:
        """Take up to ``limit`` pending deadlines to try at ``now`` (µs), earliest first. They
        leave the queue: a deadline that fires leaves the set when its event is read back; one
        that does not is put back with :meth:`retry_at`."""
        out: list[P] = []
        while self._queue and len(out) < limit and self._queue[0][0] <= now:
            _, _, d = heapq.heappop(self._queue)
            if d in self and d not in out:
                out.append(d)
        return out

    def retry_at(self, deadline: P, at: int) -> None:
        if deadline in self:
            heapq.heappush(self._queue, (at, hash(deadline.stream), deadline))
