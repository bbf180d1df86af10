"""Following the log to react to it: the rule book's verdicts, live, handed to a service's pure
reactions, and the derived events they call for (DESIGN principle 9: same cause, same id).

A :class:`LogFollower` reads the whole log from its start (nothing is kept between runs: what
a reaction needs is rebuilt from the log, and replay reads no clock), judges every record of
the stream kinds it follows with the rule book (:class:`~shared.readside.judging.LiveJudge`,
the projector's judge), and hands each accepted event with its stream's state to the
service's ``on_accepted``. Its stream states are a :class:`~shared.ledger.live.LiveFold` the
service's writer shares, so a write folds nothing the follower already holds.

:class:`Reactions` keeps the accepted causes still awaiting their derived event: a cause is
added when it is accepted and dropped as soon as an event with the derived id is accepted —
written by this process or by any other, before a restart or after. Several processes may
react to one log at once: they derive the same id, the writer's check before signing refuses
a copy it can see is a replay, and a copy that races in anyway is a conflict every reader
ignores (listed by ``ledger verify``, never a second effect).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from typing import Any

from shared.crypto.signing import PublicKey
from shared.events.partitioner import partition_for
from shared.ledger.live import LiveFold, Tracked
from shared.ledger.signer import Signed
from shared.ledger.writer import Decide, EventWriter, Refused
from shared.log.port import EventLog, Positions, StoredRecord
from shared.readside.judging import LiveJudge
from shared.rules.fold import LedgerFold
from shared.rules.stream import StreamState

log = logging.getLogger(__name__)

OnAccepted = Callable[[StoredRecord, dict[str, Any], StreamState], None]


class LogFollower:
    """Reads the log from its start, judging records of ``kinds``; see the module docstring."""

    def __init__(
        self,
        log: EventLog,
        genesis: PublicKey,
        kinds: frozenset[str],
        on_accepted: OnAccepted,
        *,
        batch: int = 1000,
        max_streams: int = 100_000,
    ) -> None:
        self.log = log
        self.batch = batch
        self.on_accepted = on_accepted
        self.position: Positions = {p: 0 for p in range(log.partitions)}
        self.head: Positions = dict(self.position)
        self.log_time = 0  # the latest log time read (µs): the log's own clock, as last seen
        self.records = 0
        self.judge = LiveJudge(
            log,
            genesis,
            kinds,
            max_streams=max_streams,
            trust_seal=False,
            on_evict=lambda stream: None,
        )

    @property
    def live(self) -> LiveFold:
        return self.judge.live

    async def start(self) -> None:
        await self.judge.start(self.position)
        self.head = await self.log.head()

    @property
    def behind(self) -> int:
        """Records between the position and the head last seen."""
        return sum(max(0, n - self.position.get(p, 0)) for p, n in self.head.items())

    async def step(self) -> int:
        """Read and judge one batch after the position; how many records it read."""
        batch = await self.log.read(self.position, limit=self.batch)
        if not batch:
            return 0
        fold = self.judge.fold
        for rec in batch:
            judged = await self.judge.judge(rec)
            if rec.appended_at > self.log_time:
                self.log_time = rec.appended_at
            if judged is not None and judged[0].accepted:
                self.on_accepted(rec, judged[1], fold.streams[rec.stream])
            self.position[rec.partition] = rec.offset + 1
            self.head[rec.partition] = max(self.head.get(rec.partition, 0), rec.offset + 1)
        fold.rejections.clear()  # verify lists them; a follower needs only the states
        self.records += len(batch)
        return len(batch)

    async def tracked(self, writer: EventWriter, stream: str) -> Tracked:
        """A writer's view of ``stream`` at the follower's position: its state as the follower
        holds it (a stream the follower does not hold is folded by the writer)."""
        fold = self.judge.fold
        state = fold.streams.get(stream)
        if state is None or stream not in self.live.folded:
            return await writer.live.tracked(stream, writer.snapshots)
        p = partition_for(stream, self.log.partitions)
        scratch = LedgerFold(fold.registry, fold.partitions, fold.genesis, {stream: state})
        return Tracked(stream, p, self.position[p], scratch)

    async def write(self, writer: EventWriter, jobs: Sequence[tuple[str, Decide]]) -> list[Signed]:
        """Decide each (stream, decide) against the stream's state here, check and sign what
        the rule book accepts, and append every stream's records in one append (one commit, one
        produce batch); the signed records. Their verdicts come by reading on
        (:meth:`catch_up`): a copy another writer beat to the stream's head is a conflict
        every reader ignores, and its cause is still there to decide again."""
        signed: list[Signed] = []
        for stream, decide in jobs:
            t = await self.tracked(writer, stream)
            drafts = decide(t.state)
            if not drafts:
                continue
            out = writer.sign_checked(t, drafts)
            if not isinstance(out, Refused):
                signed += out
        if signed:
            await writer.append_signed(signed)
        return signed

    async def catch_up(self) -> int:
        """Read up to the head as it is now; how many records that was."""
        self.head = await self.log.head()
        read = 0
        while self.behind > 0:
            n = await self.step()
            if n == 0:
                break  # a watermark behind the head we were told: read on next time
            read += n
        return read


DerivedId = Callable[[dict[str, Any]], str | None]
"""The id of the event an accepted event (its envelope) calls for, or None if it calls for none."""
React = Callable[[dict[str, Any]], Decide]
"""The pure decision for a cause: given the stream's state now, the derived events (or none)."""


def written_here(mine: dict[str, str], rec: StoredRecord, env: dict[str, Any]) -> bool:
    """Whether an accepted record is the very one this process appended (another process
    derives the same id for the same cause, but signs other bytes)."""
    h = mine.pop(env.get("id", ""), None)  # accepted: ours or the other's, never again
    return h is not None and h == hashlib.sha256(rec.record).hexdigest()


class Reactions:
    """Accepted causes awaiting their derived events, keyed by the derived id."""

    def __init__(self, derived_id: DerivedId, react: React) -> None:
        self.derived_id = derived_id
        self.react = react
        self.waiting: dict[str, tuple[str, dict[str, Any]]] = {}  # derived id -> (stream, cause)
        self.written = 0  # derived events this process appended and read back accepted
        self._mine: dict[str, str] = {}  # id -> hash of the records appended here

    def observe(self, rec: StoredRecord, env: dict[str, Any]) -> None:
        """An accepted event: a cause to react to, or the reaction to one (anyone's)."""
        event_id = env.get("id", "")
        if self.waiting.pop(event_id, None) is not None and written_here(self._mine, rec, env):
            self.written += 1
        derived = self.derived_id(env)
        if derived is not None:
            self.waiting[derived] = (rec.stream, env)

    async def settle(self, writer: EventWriter, follower: LogFollower, limit: int = 512) -> int:
        """Write the derived event of every waiting cause, each decided against its stream's
        state at the follower's position, in one append (see :meth:`LogFollower.write`). A
        cause leaves the waiting list once its event is read back accepted — this one or
        another writer's copy with the same id (:meth:`observe`) — or once its decision writes
        nothing. At most ``limit`` causes per call (the rest wait for the next). How many
        records were appended."""
        waiting = list(itertools.islice(self.waiting.items(), limit))
        signed = await follower.write(writer, [(s, self.react(c)) for _, (s, c) in waiting])
        mine = {s.id for s in signed}
        self._mine.update((s.id, s.hash) for s in signed)
        for derived, _ in waiting:
            if derived not in mine:
                self.waiting.pop(derived, None)  # nothing left to write for it
        return len(signed)


async def follow_forever(
    stop: asyncio.Event, session: Callable[[], Awaitable[None]], what: str, *, poll: float = 1.0
) -> None:
    """Run ``session`` (which follows the log until ``stop``) again and again until ``stop``:
    a log that is away, or goes away, is waited for with back-off, never fatal."""
    backoff = poll
    while not stop.is_set():
        try:
            await session()
            backoff = poll
        except Exception as exc:  # the log or a key away: name the kind, never the details
            log.warning("%s: %s; retrying in %.1f s", what, type(exc).__name__, backoff)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff)
            backoff = min(backoff * 2, 30.0)


async def idle(stop: asyncio.Event, seconds: float) -> None:
    """Wait ``seconds``, or less if ``stop`` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


@contextlib.asynccontextmanager
async def running(
    run: Callable[[asyncio.Event], Coroutine[Any, Any, None]], name: str, *, grace: float = 10.0
) -> AsyncIterator[None]:
    """``run(stop)`` as a task for the body of the ``async with`` (an app's lifespan): then
    ``stop`` is set, the task has ``grace`` seconds to finish, and is cancelled after."""
    stop = asyncio.Event()
    task = asyncio.create_task(run(stop), name=name)
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, grace)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
