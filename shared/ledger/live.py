"""The live fold: stream states kept warm, the registry caught up once, shared by the writer and
the projector of one service.

The projector judges every record of the streams it reads and, as it goes, records how far each
stream's state is folded (``folded``: stream -> next offset in its partition). A writer never
changes those states: it takes a private copy (:meth:`LiveFold.tracked`) and brings the copy up
to the log head by reading only what the projector has not folded yet — a few records when the
projector keeps up — so a command on a long stream costs what one on a new stream costs. A
stream the live fold does not hold is folded once from the log (and, when no projector owns
the fold, kept warm for the next command).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import OrderedDict
from dataclasses import dataclass

from shared.crypto.signing import PublicKey
from shared.events.partitioner import partition_for
from shared.ledger.reader import fold_stream, highest_regseq, registry_fold
from shared.ledger.snapshots import StreamSnapshots
from shared.log.port import EventLog, StoredRecord
from shared.rules.fold import LedgerFold
from shared.rules.stream import REGISTRY_STREAM, StreamState
from shared.rules.verdict import Verdict

GAP_READ = 2_000
"""Up to this many records behind, a copy catches up by reading its partition; further behind,
by reading the stream (through the log's stream index)."""


def copy_state(state: StreamState) -> StreamState:
    """A private copy a writer may advance without touching the live state (the one place
    that knows how: the rule book's own ``copy`` where it has one)."""
    own = getattr(state, "copy", None)
    if callable(own):
        copied: StreamState = own()
        return copied
    return dataclasses.replace(
        state, seen_ids=set(state.seen_ids), seen_hashes=set(state.seen_hashes)
    )


@dataclass
class Tracked:
    """A writer's private copy of one stream's state, folded up to ``next_offset`` of its
    partition, judged in a fold of its own that shares the live registry."""

    stream: str
    partition: int
    next_offset: int
    fold: LedgerFold

    @property
    def state(self) -> StreamState:
        return self.fold.stream(self.stream)


class LiveFold:
    """See the module docstring. ``owned_by_projector``: the projector advances the states;
    otherwise the writer keeps the copies it folded (LRU, ``max_streams``)."""

    def __init__(
        self,
        log: EventLog,
        genesis: PublicKey,
        fold: LedgerFold | None = None,
        *,
        owned_by_projector: bool = False,
        max_streams: int = 10_000,
    ) -> None:
        self.log = log
        self.genesis = genesis
        self._fold = fold
        self.owned_by_projector = owned_by_projector
        self.max_streams = max_streams
        self.folded: dict[str, int] = {}
        self._lru: OrderedDict[str, None] = OrderedDict()
        self._registry_lock = asyncio.Lock()
        self.cold_folds = 0  # streams folded from the log for a writer (a metric for tests)
        self.snapshot_hits = 0  # streams taken from a snapshot

    async def fold(self) -> LedgerFold:
        if self._fold is None:
            async with self._registry_lock:
                if self._fold is None:
                    self._fold = await registry_fold(self.log, self.genesis)
        return self._fold

    async def refresh_registry(self) -> None:
        """Read registry records appended since the last read (an event names a newer one)."""
        fold = await self.fold()
        async with self._registry_lock:
            await fold_stream(self.log, fold, REGISTRY_STREAM)

    # -- the projector's side ---------------------------------------------------------------

    def adopt(self, fold: LedgerFold) -> None:
        """Share ``fold`` (the projector's, once it has read the registry)."""
        self._fold = fold
        self.folded.clear()

    def mark(self, stream: str, next_offset: int) -> None:
        """The live state of ``stream`` now holds every record before ``next_offset``."""
        self.folded[stream] = next_offset

    def forget(self, stream: str) -> None:
        self.folded.pop(stream, None)

    # -- the writer's side ----------------------------------------------------------------

    async def tracked(self, stream: str, snapshots: StreamSnapshots | None = None) -> Tracked:
        """A private copy of ``stream``'s state at the log head now (from the live state, else
        from a snapshot checked against the log, else folded from the log)."""
        live = await self.fold()
        p = partition_for(stream, self.log.partitions)
        scratch = LedgerFold(live.registry, live.partitions, live.genesis)
        at = self.folded.get(stream)
        st = live.streams.get(stream)
        if at is not None and st is not None:
            scratch.streams[stream] = copy_state(st)
            t = Tracked(stream, p, at, scratch)
        else:
            snap = await snapshots.load(self.log, stream) if snapshots is not None else None
            if snap is not None:
                scratch.streams[stream] = snap.state
                t = Tracked(stream, p, snap.next_offset, scratch)
                self.snapshot_hits += 1
            else:
                head = await self.log.head()
                end = head.get(p, 0)
                await self._fold_records(scratch, await self._stream_records(stream, 0, end))
                self.cold_folds += 1
                t = Tracked(stream, p, end, scratch)
                if not self.owned_by_projector:
                    self._keep(stream, t)
                return t
        await self.catch_up(t)
        return t

    async def tracked_registry(self) -> Tracked:
        """The registry stream in a fold of its own (its state is the registry, which a writer
        must not advance in the live fold)."""
        p = partition_for(REGISTRY_STREAM, self.log.partitions)
        end = (await self.log.head()).get(p, 0)
        own = await registry_fold(self.log, self.genesis, until={p: end})
        return Tracked(REGISTRY_STREAM, p, end, own)

    def _keep(self, stream: str, t: Tracked) -> None:
        live = self._fold
        assert live is not None
        live.streams[stream] = copy_state(t.state)
        self.folded[stream] = t.next_offset
        self._lru[stream] = None
        self._lru.move_to_end(stream)
        while len(self._lru) > self.max_streams:
            old, _ = self._lru.popitem(last=False)
            live.streams.pop(old, None)
            self.folded.pop(old, None)

    def remember(self, t: Tracked) -> None:
        """After a write, keep the writer's copy as the live state (writer-owned folds only)."""
        if not self.owned_by_projector and self.folded.get(t.stream, -1) <= t.next_offset:
            self._keep(t.stream, t)

    async def catch_up(
        self,
        t: Tracked,
        until: int | None = None,
        observe: dict[tuple[int, int], Verdict] | None = None,
    ) -> None:
        """Advance the copy to ``until`` (default: the head now) in its partition."""
        if until is None:
            until = (await self.log.head()).get(t.partition, 0)
        if until <= t.next_offset:
            return
        if until - t.next_offset <= GAP_READ:
            records = await self._partition_records(t, until)
        else:
            records = await self._stream_records(t.stream, t.next_offset, until)
        await self._fold_records(t.fold, records, observe)
        t.next_offset = until

    async def _partition_records(self, t: Tracked, until: int) -> list[StoredRecord]:
        out: list[StoredRecord] = []
        pos = t.next_offset
        while pos < until:
            batch = await self.log.read({t.partition: pos}, limit=1000, until={t.partition: until})
            batch = [r for r in batch if r.partition == t.partition]
            if not batch:
                break
            out.extend(r for r in batch if r.stream == t.stream)
            pos = batch[-1].offset + 1
        return out

    async def _stream_records(self, stream: str, start: int, end: int) -> list[StoredRecord]:
        p = partition_for(stream, self.log.partitions)
        return [r async for r in self.log.read_stream(stream, until={p: end}) if r.offset >= start]

    async def _fold_records(
        self,
        fold: LedgerFold,
        got: list[StoredRecord],
        observe: dict[tuple[int, int], Verdict] | None = None,
    ) -> None:
        if highest_regseq(got) > fold.registry.version:
            # Signed under a registry version this reader has not read yet: it is in the log
            # (appended before that event), so catch up before judging.
            await self.refresh_registry()
            fold.registry = (await self.fold()).registry
        for rec in got:
            verdict = fold.apply(rec)
            if observe is not None:
                observe[(rec.partition, rec.offset)] = verdict
