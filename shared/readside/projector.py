"""The projector: the log, judged by the rule book, applied by a service's projections to its store.

Exactly-once effect without transactions (FerretDB v1 has none):

* Every document is written guarded by ``_pos``, the log offset of the event that produced
  it (``bulk_upsert_if``, per collection and chunk). A stream lives on one partition, so
  offsets grow along a stream and a redelivered event can never overwrite what a later one
  wrote.
* Per batch, documents other than the per-stream ones are written first and the per-stream
  ones last, so a per-stream document whose ``_pos`` reaches an offset proves that event fully
  applied. Meeting an event again (after a crash, a redelivery), the projector skips it for
  every projection whose per-stream document already reached it, and re-derives the same
  writes otherwise (projections are pure).
* The position (a per-partition vector, in collection ``projector``) is written after the
  batch's documents, guarded by its sum. A crash in between replays part of a batch: harmless.

The projector does the writing; its other concerns live beside it: judging each record with
the rule book, stream states kept in memory (``judging.py``); dead letters and parked streams
(``dead_letters.py``: a projection that raises — a bug, an unknown type, never a rule-book
rejection — parks its stream until :meth:`Projector.retry`, ``ledger dead-letters retry``,
reapplies it); and test-only crash injection (``shared/crash_points.py``:
``LEDGER_CRASH_AT=<point>:<n>`` kills the process with SIGKILL there; points:
:data:`CRASH_POINTS`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

from shared.crash_points import PROJECTOR_POINTS, Crasher, plan
from shared.crypto.signing import PublicKey
from shared.events.envelope import stream_kind
from shared.events.partitioner import partition_for
from shared.ledger.live import LiveFold
from shared.ledger.reader import fold_stream
from shared.log.port import EventLog, Positions, StoredRecord
from shared.readside.dead_letters import (
    DEAD_LETTERS,
    PARKED,
    DeadLetter,
    parked_doc,
    scrubbed_message,
)
from shared.readside.judging import LiveJudge
from shared.readside.projection import GUARD_FIELD, Accepted, Projection, Write
from shared.rules.fold import LedgerFold
from shared.rules.verdict import Verdict
from shared.store.json_form import normalise
from shared.store.port import Doc, DocumentStore
from shared.store.query import check_collection

POSITION = "projector"
RESERVED = frozenset({POSITION, DEAD_LETTERS, PARKED})
"""Collections the projector keeps beside the read model (names must start with a letter)."""

CRASH_POINTS = PROJECTOR_POINTS
ID = "_id"


# -- crash injection (test only: shared/crash_points.py) ------------------------------------


def _no_crash(point: str) -> None:
    return None


# -- documents ---------------------------------------------------------------------------------


def _stored_form(id: str, doc: Mapping[str, Any], pos: int) -> Doc:
    """The document exactly as a store gives it back, checked as a store checks it (JSON only,
    no nested arrays, no reserved fields): a projection then sees the same ``current`` from
    this process's memory as from the store, and a document no store takes is the event's dead
    letter, not a failed batch."""
    out = normalise(id, {k: v for k, v in doc.items() if k not in (ID, GUARD_FIELD)})
    out[GUARD_FIELD] = pos
    return out


class ProjectionContractError(Exception):
    """A projection wrote outside its collections, or another stream's per-stream document."""


def _within(p: Projection, w: Write, stream: str) -> bool:
    if w.coll not in p.collections or (w.coll == p.stream_collection and w.id != stream):
        raise ProjectionContractError(f"{p.name} wrote {w.coll} outside its rules")
    return True


@dataclass
class _Plan:
    """One batch's effects, in memory until written (later writes of a document replace
    earlier ones: the guard is the later event's offset)."""

    others: dict[tuple[str, str], Doc] = field(default_factory=dict)
    stream_docs: dict[tuple[str, str], Doc] = field(default_factory=dict)
    dead: list[DeadLetter] = field(default_factory=list)
    parked: dict[str, Doc] = field(default_factory=dict)
    applied: int = 0

    def add(self, stream_coll: str, stream: str, w: Write, doc: Doc) -> None:
        key = (w.coll, w.id)
        if w.coll == stream_coll and w.id == stream:
            self.stream_docs[key] = doc
        else:
            self.others[key] = doc


class _Planned(NamedTuple):
    batch: list[StoredRecord]
    plan: _Plan


@dataclass
class Stats:
    records: int = 0  # read from the log
    judged: int = 0  # of streams some projection reads
    applied: int = 0  # accepted events applied by at least one projection
    skipped: int = 0  # accepted events already applied before a restart
    docs_written: int = 0
    parked: int = 0
    dead_letters: int = 0
    lazy_folds: int = 0


class Projector:
    """Applies ``projections`` to ``store`` from ``log``. Use :meth:`start` once, then
    :meth:`step` or :meth:`catch_up` (``shared/readside/read_model.ProjectorRunner`` follows
    the log with :meth:`step`)."""

    def __init__(
        self,
        log: EventLog,
        store: DocumentStore,
        projections: Sequence[Projection],
        genesis: PublicKey,
        *,
        name: str = "projector",
        batch: int = 500,
        max_streams: int = 100_000,
        write_chunk: int = 500,
        trust_seal: bool = False,
        reconcile_seconds: float = 5.0,
    ) -> None:
        if not projections:
            raise ValueError("a projector needs at least one projection")
        names = [p.name for p in projections]
        if len(set(names)) != len(names):
            raise ValueError("projection names must be unique")
        for p in projections:
            for coll in p.collections:
                check_collection(coll)
            if set(p.collections) & RESERVED or p.stream_collection not in p.collections:
                raise ValueError(f"projection {p.name}: reserved or undeclared collection")
        self.log = log
        self.store = store
        self.projections = list(projections)
        self.genesis = genesis
        self.name = name
        self.batch = batch
        # A stream met in the current batch must never be evicted before its writes are made.
        self.max_streams = max(max_streams, 2 * batch)
        self.write_chunk = max(1, write_chunk)
        self.trust_seal = trust_seal
        self.reconcile_seconds = reconcile_seconds
        self.kinds = frozenset(k for p in projections for k in p.stream_kinds)
        self.position: Positions = {p: 0 for p in range(log.partitions)}  # written
        self._cursor: Positions = dict(self.position)  # read and planned
        self.head: Positions = dict(self.position)
        self.parked: set[str] = set()
        self.stats = Stats()
        self._docs: dict[tuple[str, str], Doc | None] = {}  # (projection, stream) -> its doc
        # The rule book, live (shared/readside/judging.py): stream states in memory, shared
        # with the service's writer once started.
        self.judge = LiveJudge(
            log,
            genesis,
            self.kinds,
            max_streams=self.max_streams,
            trust_seal=trust_seal,
            on_evict=self._forget_docs,
        )
        self._reconciled = 0.0
        planned = plan()
        self._crash: Callable[[str], None] = Crasher(planned) if planned else _no_crash

    # -- state ----------------------------------------------------------------------------

    @property
    def fold(self) -> LedgerFold:
        return self.judge.fold

    @property
    def live(self) -> LiveFold:
        """The judged stream states, which the service's writer shares."""
        return self.judge.live

    def _forget_docs(self, stream: str) -> None:
        for p in self.projections:
            self._docs.pop((p.name, stream), None)

    @property
    def lag(self) -> int:
        """Records behind the log head last seen, summed over partitions."""
        return sum(max(0, n - self.position.get(p, 0)) for p, n in self.head.items())

    @property
    def sealed(self) -> Positions:
        """Positions of the seal whose verdicts this projector trusts (empty: none)."""
        return self.judge.sealed

    async def start(self) -> Projector:
        """Declare indexes, read the position and parked streams, fold the registry."""
        for p in self.projections:
            await p.setup(self.store)
        saved = await self.store.get(POSITION, self.name)
        if saved is not None:
            if saved.get("partitions", self.log.partitions) != self.log.partitions:
                raise RuntimeError("the read model was built from a log with other partitions")
            self.position.update({int(p): int(n) for p, n in saved["positions"].items()})
            self._cursor = dict(self.position)
            self.parked.update(saved.get("parked", ()))
        self.parked.update(d["stream"] for d in await self.store.find(DEAD_LETTERS))
        await self.judge.start(self.position)
        self.head = await self.log.head()
        return self

    async def _doc(self, projection: Projection, stream: str) -> Doc | None:
        key = (projection.name, stream)
        if key not in self._docs:
            self._docs[key] = await self.store.get(projection.stream_collection, stream)
        return self._docs[key]

    async def _prefetch(self, streams: Iterable[str]) -> None:
        """Read the per-stream documents of a batch's streams in one query per projection."""
        wanted = list(dict.fromkeys(streams))
        for p in self.projections:
            missing = [
                s
                for s in wanted
                if stream_kind(s) in p.stream_kinds and (p.name, s) not in self._docs
            ]
            if not missing:
                continue
            found = await self.store.get_many(p.stream_collection, missing)
            for s in missing:
                self._docs[(p.name, s)] = found.get(s)

    # -- applying -------------------------------------------------------------------------

    def _apply(self, event: Accepted, plan: _Plan) -> DeadLetter | None:
        """Apply one accepted event in memory; a dead letter if a projection cannot."""
        pending: list[tuple[Projection, list[tuple[Write, Doc]]]] = []
        for p in self.projections:
            if event.stream_kind not in p.stream_kinds:
                continue
            current = self._docs.get((p.name, event.stream))
            if current is not None and current.get(GUARD_FIELD, -1) >= event.offset:
                continue  # applied before a restart
            try:
                writes = [
                    (w, _stored_form(w.id, w.doc, event.offset))
                    for w in p.apply(current, event)
                    if _within(p, w, event.stream)
                ]
            except Exception as exc:
                return DeadLetter(
                    event.stream,
                    event.partition,
                    event.offset,
                    event.id,
                    event.type,
                    p.name,
                    type(exc).__name__,
                    scrubbed_message(exc, event.data),
                    event.log_time,
                )
            pending.append((p, writes))
        if not pending:
            self.stats.skipped += 1
            return None
        for p, writes in pending:
            for w, doc in writes:
                plan.add(p.stream_collection, event.stream, w, doc)
                if w.coll == p.stream_collection:
                    self._docs[(p.name, event.stream)] = doc
        plan.applied += 1
        return None

    async def _write(self, docs: Iterable[tuple[tuple[str, str], Doc]], point: str) -> None:
        """Guarded bulk writes, one collection at a time, ``write_chunk`` documents per call;
        the crash point is reached after each call."""
        by_coll: dict[str, list[Doc]] = {}
        for (coll, id), doc in docs:
            by_coll.setdefault(coll, []).append({ID: id, **doc})
        for coll, batch in by_coll.items():
            for i in range(0, len(batch), self.write_chunk):
                chunk = batch[i : i + self.write_chunk]
                # Fewer than len(chunk): this or a later event wrote some already.
                self.stats.docs_written += await self.store.bulk_upsert_if(coll, chunk, GUARD_FIELD)
                self._crash(point)

    async def _commit(self, plan: _Plan) -> None:
        # Other documents first, per-stream documents last: see the module docstring.
        await self._write(plan.others.items(), "between_docs_of_one_event")
        await self._write(plan.stream_docs.items(), "mid_batch")
        for dl in plan.dead:
            await self.store.upsert_if(DEAD_LETTERS, dl.stream, dl.doc(), GUARD_FIELD, dl.offset)
        await self._write((((PARKED, i), d) for i, d in plan.parked.items()), "")
        self._crash("after_doc_before_position")

    async def _save_position(self) -> None:
        doc = {
            "positions": {str(p): n for p, n in sorted(self.position.items())},
            "partitions": self.log.partitions,
            "parked": sorted(self.parked),
            "saved_at": int(time.time() * 1_000_000),
        }
        await self.store.upsert_if(
            POSITION, self.name, doc, GUARD_FIELD, sum(self.position.values())
        )

    async def step(self, until: Mapping[int, int] | None = None) -> int:
        """Read, judge, apply and write one batch; returns how many records it read."""
        planned = await self._plan(until)
        if planned is None:
            return 0
        await self._finish(planned)
        return len(planned.batch)

    async def _plan(self, until: Mapping[int, int] | None) -> _Planned | None:
        """Read the next batch after the cursor, judge it and work out its writes (in memory,
        apart from the reads it needs)."""
        if self.parked and time.monotonic() - self._reconciled > self.reconcile_seconds:
            await self._reconcile_parked()
        batch = await self.log.read(self._cursor, limit=self.batch, until=until)
        if not batch:
            return None
        accepted: list[tuple[StoredRecord, dict[str, Any]]] = []
        for rec in batch:
            judged = await self.judge.judge(rec)
            if judged is not None and judged[0].accepted:
                accepted.append((rec, judged[1]))
        self.fold.rejections.clear()  # kept by verify; a long-running projector needs none
        self.stats.judged, self.stats.lazy_folds = self.judge.judged, self.judge.lazy_folds
        await self._prefetch(r.stream for r, _ in accepted if r.stream not in self.parked)
        plan = _Plan()
        parked_at: dict[str, int | None] = {}
        for rec, env in accepted:
            s = rec.stream
            if s in self.parked:
                if s not in parked_at:
                    parked_at[s] = await self._parked_at(s, rec.offset)
                at = parked_at[s]
                if at is not None:
                    if rec.offset > at:  # the dead event itself is the letter, not parked
                        plan.parked[env["id"]] = parked_doc(rec, env)
                    continue
            dead = self._apply(Accepted.of(rec, env), plan)
            if dead is not None:
                plan.dead.append(dead)
                self.parked.add(s)
                parked_at[s] = dead.offset
        for rec in batch:
            self._cursor[rec.partition] = rec.offset + 1
        return _Planned(batch, plan)

    async def _finish(self, planned: _Planned) -> None:
        """Write a planned batch's documents, then the position after it."""
        plan = planned.plan
        await self._commit(plan)
        for rec in planned.batch:
            self.position[rec.partition] = rec.offset + 1
        await self._save_position()
        self.stats.records += len(planned.batch)
        self.stats.applied += plan.applied
        self.stats.parked += len(plan.parked)
        self.stats.dead_letters += len(plan.dead)

    def seek(self, positions: Mapping[int, int]) -> None:
        """Read on from ``positions`` (a redelivery, as a consumer group may make one)."""
        self.position = {q: int(positions.get(q, 0)) for q in self.position}
        self._cursor = dict(self.position)

    async def refresh_head(self) -> Positions:
        self.head = await self.log.head()
        return self.head

    async def catch_up(
        self, until: Mapping[int, int] | None = None, progress: Callable[[int], None] | None = None
    ) -> None:
        """Project up to ``until`` (default: the head now).

        Pipelined: the next batch is read, judged and planned while the previous one is
        written (the store works in its own thread or server meanwhile). Writes and positions
        still land batch after batch, in order. After an error the projector's memory is ahead
        of what was written: start a new one (the services' runner does).
        """
        end = dict(until) if until is not None else await self.log.head()
        self.head = {p: max(n, self.head.get(p, 0)) for p, n in end.items()}
        writing: asyncio.Task[None] | None = None
        try:
            while any(self._cursor.get(p, 0) < n for p, n in end.items()):
                planned = await self._plan(end)
                if writing is not None:
                    await writing
                    writing = None
                if planned is None:
                    await asyncio.sleep(0.05)  # a watermark that lags the head we were told
                    continue
                writing = asyncio.create_task(self._finish(planned))
                if progress is not None:
                    progress(len(planned.batch))
            if writing is not None:
                await writing
        finally:
            if writing is not None and not writing.done():
                writing.cancel()
                with contextlib.suppress(BaseException):
                    await writing

    # -- parked streams and retries --------------------------------------------------------

    async def _parked_at(self, stream: str, offset: int) -> int | None:
        """The offset of ``stream``'s dead letter; None once a retry has removed it — then the
        stream is unparked, after applying what the retry may not have seen (its events before
        ``offset``)."""
        letter = await self.store.get(DEAD_LETTERS, stream)
        if letter is not None:
            return int(letter["offset"])
        self.parked.discard(stream)
        p = partition_for(stream, self.log.partitions)
        dead = await self.reapply(stream, until={p: offset})
        if dead is not None:
            await self._write_dead_letter(dead)
            self.parked.add(stream)
            return dead.offset
        return None

    async def _reconcile_parked(self) -> None:
        self._reconciled = time.monotonic()
        letters = {d["stream"] for d in await self.store.find(DEAD_LETTERS)}
        for s in sorted(self.parked - letters):
            p = partition_for(s, self.log.partitions)
            await self._parked_at(s, self._cursor.get(p, 0))
        self.parked |= letters

    async def _write_dead_letter(self, dl: DeadLetter) -> None:
        # A retry's outcome replaces the letter, whatever its position.
        await self.store.upsert(DEAD_LETTERS, dl.stream, {**dl.doc(), GUARD_FIELD: dl.offset})

    async def reapply(
        self, stream: str, until: Mapping[int, int] | None = None
    ) -> DeadLetter | None:
        """Apply every accepted event of ``stream`` (up to ``until``) that its documents have
        not reached, in order; stop at the first that fails and return its dead letter."""
        end = dict(until) if until is not None else await self.log.head()
        seen: dict[tuple[int, int], Verdict] = {}
        fresh = LedgerFold(self.fold.registry, self.log.partitions, self.genesis)
        # A fold of its own: the live fold already holds this stream's state at the record
        # being read, which a refold to ``until`` would only repeat.
        await fold_stream(self.log, fresh, stream, until=end, observe=seen)
        for p in self.projections:
            self._docs.pop((p.name, stream), None)
            await self._doc(p, stream)
        plan = _Plan()
        dead: DeadLetter | None = None
        async for rec in self.log.read_stream(stream, until=end):
            verdict = seen.get((rec.partition, rec.offset))
            if verdict is None or not verdict.accepted:
                continue
            dead = self._apply(Accepted.of(rec, orjson.loads(rec.record)), plan)
            if dead is not None:
                break
        await self._commit_plain(plan)
        return dead

    async def _commit_plain(self, plan: _Plan) -> None:
        await self._write(plan.others.items(), "")
        await self._write(plan.stream_docs.items(), "")

    async def retry(
        self,
        stream: str | None = None,
        report: Callable[[str, DeadLetter | None], None] | None = None,
    ) -> dict[str, DeadLetter | None]:
        """Reapply dead-lettered streams (one, or all): the dead event, then the parked ones,
        in order. A stream whose events all apply is unparked (its letter and parked records
        removed); otherwise its letter names the event that failed now."""
        letters = await self.store.find(DEAD_LETTERS, {"stream": stream} if stream else None)
        out: dict[str, DeadLetter | None] = {}
        for letter in letters:
            s = letter["stream"]
            dead = await self.reapply(s)
            if dead is None:
                for parked in await self.store.find(PARKED, {"stream": s}):
                    await self.store.delete(PARKED, parked[ID])
                await self.store.delete(DEAD_LETTERS, s)
                self.parked.discard(s)
            else:
                await self._write_dead_letter(dead)
            out[s] = dead
            if report is not None:
                report(s, dead)
        return out
