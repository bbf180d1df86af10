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
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from shared.crypto.signing import PublicKey
from shared.ledger.live import LiveFold
from shared.ledger.writer import Decide, EventWriter, Submission
from shared.log.port import EventLog, Positions, StoredRecord
from shared.readside.judging import LiveJudge
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


class Reactions:
    """Accepted causes awaiting their derived events, keyed by the derived id."""

    def __init__(self, derived_id: DerivedId, react: React) -> None:
        self.derived_id = derived_id
        self.react = react
        self.waiting: dict[str, tuple[str, dict[str, Any]]] = {}  # derived id -> (stream, cause)
        self.written = 0  # derived events this process appended and saw accepted

    def observe(self, stream: str, env: dict[str, Any]) -> None:
        """An accepted event: a cause to react to, or the reaction to one (anyone's)."""
        self.waiting.pop(env.get("id", ""), None)
        derived = self.derived_id(env)
        if derived is not None:
            self.waiting[derived] = (stream, env)

    async def settle(self, writer: EventWriter, concurrency: int = 16) -> int:
        """Write the derived event of every waiting cause, each decided against its stream's
        state now; a cause is dropped once its submission is answered (written, refused by
        the rule book before signing, or nothing left to do). A transport error leaves it
        waiting for the next call. How many derived events were accepted."""
        jobs = [(stream, self.react(cause)) for stream, cause in self.waiting.values()]
        keys = list(self.waiting)
        results = await submit_all(writer, jobs, concurrency)
        accepted = 0
        for derived, result in zip(keys, results, strict=True):
            if isinstance(result, BaseException):
                log.warning("reaction not written yet (%s)", type(result).__name__)
                continue
            self.waiting.pop(derived, None)
            if result.accepted:
                accepted += len(result.written)
        self.written += accepted
        return accepted


async def submit_all(
    writer: EventWriter, jobs: Sequence[tuple[str, Decide]], concurrency: int
) -> list[Submission | Exception]:
    """Submit each (stream, decide), ``concurrency`` at a time (their appends share commits);
    each answer, or the exception its submission raised."""
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(stream: str, decide: Decide) -> Submission | Exception:
        async with gate:
            try:
                return await writer.submit(stream, decide)
            except (OSError, ConnectionError, TimeoutError, RuntimeError) as exc:
                return exc

    return list(await asyncio.gather(*(one(s, d) for s, d in jobs)))


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
