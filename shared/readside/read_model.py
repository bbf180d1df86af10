"""A service's read model at run time, and its rebuild by replay.

* :class:`ReadModel` — the store the service answers from: the copy the pointer names,
  re-read when a rebuild switches it (the old copy stays open for a grace period, so a query in
  flight finishes).
* :class:`ProjectorRunner` — the service's projector, following the log into the current copy;
  restarted on the new copy after a switch, and after an error (with back-off).
* :func:`rebuild` — ``ledger rebuild SERVICE``: a fresh copy, replayed from the log until it has
  caught up with the head; the digests of old and new compared at one position; only then the
  switch — and never to a copy that differs from the old one unless asked to. The last seal
  is trusted only once its partition digests match the records it pins.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from shared.crypto.signing import PublicKey
from shared.log.port import EventLog, Positions
from shared.readside.copies import (
    StoreRef,
    StoreSettings,
    current_ref,
    discard_ref,
    next_ref,
    open_ref,
    switch_to,
)
from shared.readside.dead_letters import DEAD_LETTERS, PARKED
from shared.readside.projection import Projection
from shared.readside.projector import POSITION, Projector
from shared.store.port import DocumentStore

log = logging.getLogger(__name__)


class ReadModel:
    """The current copy of a service's read model (see the module docstring)."""

    def __init__(
        self,
        settings: StoreSettings,
        service: str,
        *,
        check_seconds: float = 1.0,
        grace_seconds: float = 10.0,
    ) -> None:
        self.settings = settings
        self.service = service
        self.check_seconds = check_seconds
        self.grace_seconds = grace_seconds
        self.ref: StoreRef | None = None
        self._store: DocumentStore | None = None
        self._checked = 0.0
        self._stamp: tuple[int, int] | None = None
        self._lock = asyncio.Lock()
        self._closing: set[asyncio.Task[None]] = set()

    def _pointer_stamp(self) -> tuple[int, int] | None:
        try:
            st = self.settings.pointer_file(self.service).stat()
        except FileNotFoundError:
            return None
        return st.st_mtime_ns, st.st_ino

    async def store(self) -> DocumentStore:
        """The copy to answer from now (cheap: the pointer is looked at once a second)."""
        now = time.monotonic()
        if self._store is not None and now - self._checked < self.check_seconds:
            return self._store
        async with self._lock:
            self._checked = now
            stamp = self._pointer_stamp()
            if self._store is not None and stamp == self._stamp:
                return self._store
            ref = current_ref(self.settings, self.service)
            if self._store is None or ref != self.ref:
                fresh = await open_ref(self.settings, self.service, ref)
                old, self._store, self.ref = self._store, fresh, ref
                if old is not None:
                    log.info("read model switched to %s", ref.describe(self.settings, self.service))
                    task = asyncio.create_task(self._close_later(old))
                    self._closing.add(task)
                    task.add_done_callback(self._closing.discard)
            self._stamp = stamp
            return self._store

    async def _close_later(self, store: DocumentStore) -> None:
        await asyncio.sleep(self.grace_seconds)
        await store.close()

    async def close(self) -> None:
        for task in list(self._closing):
            task.cancel()
        if self._store is not None:
            await self._store.close()
            self._store = None


class ProjectorRunner:
    """Keeps a projector following the log into the service's current read-model copy."""

    def __init__(
        self,
        settings: StoreSettings,
        log: EventLog,
        read_model: ReadModel,
        projections: Sequence[Projection],
        genesis: PublicKey,
        *,
        max_backoff_seconds: float = 30.0,
    ) -> None:
        self.settings = settings
        self.log = log
        self.read_model = read_model
        self.projections = list(projections)
        self.genesis = genesis
        self.max_backoff_seconds = max_backoff_seconds
        self.projector: Projector | None = None
        self.errors = 0
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look for new records now (a command was appended, a reader waits for it)."""
        self._wake.set()

    async def _projector_for(self, store: DocumentStore) -> Projector:
        if self.projector is None or self.projector.store is not store:
            s = self.settings
            trust = s.projector_trust_seal
            if trust:  # only a seal whose digests match the records it pins
                from shared.ledger.seal import checked_seal

                trust = (await checked_seal(self.log, self.genesis)).trusted
            self.projector = await Projector(
                self.log,
                store,
                self.projections,
                self.genesis,
                batch=s.projector_batch,
                max_streams=s.projector_max_streams,
                trust_seal=trust,
            ).start()
        return self.projector

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 0.5
        last_head = 0.0
        while not stop.is_set():
            try:
                p = await self._projector_for(await self.read_model.store())
                n = await p.step()
                if n < p.batch or time.monotonic() - last_head > 1.0:
                    await p.refresh_head()
                    last_head = time.monotonic()
                backoff = 0.5
                if n == 0:
                    await self._idle(stop)
            except Exception:
                # The store or the log is away: start afresh from the saved position later.
                self.errors += 1
                log.exception("projector failed; restarting in %.1f s", backoff)
                self.projector = None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                backoff = min(backoff * 2, self.max_backoff_seconds)

    async def _idle(self, stop: asyncio.Event) -> None:
        """Until the poll interval passes, the runner stops, or someone wakes it."""
        waits = [asyncio.ensure_future(e.wait()) for e in (stop, self._wake)]
        try:
            await asyncio.wait(
                waits, timeout=self.settings.projector_poll_seconds, return_when="FIRST_COMPLETED"
            )
        finally:
            for w in waits:
                w.cancel()
        self._wake.clear()


# -- rebuild ----------------------------------------------------------------------------------


@dataclass
class Rebuilt:
    old: StoreRef
    new: StoreRef
    position: Positions
    events: int
    seconds: float
    sealed_records: int = 0  # replayed below the auditor's last seal (signatures trusted)
    seal_divergence: str | None = None  # why the last seal was not trusted
    acknowledged_skipped: int = 0  # acknowledged bad records the seal lists, skipped
    switched: bool = False  # the service now answers from the new copy
    compared: bool = False  # an old copy existed and was compared
    old_position: Positions | None = None
    old_digests: dict[str, str] = field(default_factory=dict)
    new_digests: dict[str, str] = field(default_factory=dict)

    @property
    def same(self) -> bool:
        return bool(self.new_digests) and self.old_digests == self.new_digests


def read_model_collections(projections: Sequence[Projection]) -> list[str]:
    """What a rebuild compares: every projected collection, dead letters and parked events
    (not the position document: it records when it was saved)."""
    colls = {c for p in projections for c in p.collections}
    return sorted(colls | {DEAD_LETTERS, PARKED})


async def saved_position(store: DocumentStore, name: str = "projector") -> Positions | None:
    doc = await store.get(POSITION, name)
    return None if doc is None else {int(p): int(n) for p, n in doc["positions"].items()}


async def rebuild(
    settings: StoreSettings,
    service: str,
    log: EventLog,
    projections: Sequence[Projection],
    genesis: PublicKey,
    *,
    progress: Callable[[int, int], None] | None = None,
    max_rounds: int = 20,
    switch_if_different: bool = False,
) -> Rebuilt:
    """Replay the log into a fresh copy until it has caught up with the head; compare old and
    new at one position; then switch the pointer — if the copies differ, only with
    ``switch_if_different``. ``progress(done, total)`` follows the replay."""
    from shared.ledger.seal import acknowledged_skips, checked_seal

    trust = await checked_seal(log, genesis)
    old = current_ref(settings, service)
    new = next_ref(settings, service)
    await discard_ref(settings, service, new)  # a crashed rebuild's half-built leftover
    started = time.monotonic()
    store = await open_ref(settings, service, new)
    try:
        p = Projector(
            log,
            store,
            projections,
            genesis,
            batch=max(settings.projector_batch, 1000),
            max_streams=settings.projector_max_streams,
            # Signatures below the auditor's last seal were verified, if its content holds.
            trust_seal=trust.trusted,
        )
        await p.start()
        done = 0
        for _ in range(max_rounds):
            end = await log.head()
            total = sum(end.values())

            def step(n: int, total: int = total) -> None:
                nonlocal done
                done += n
                if progress is not None:
                    progress(done, total)

            await p.catch_up(end, progress=step)
            if await log.head() == end:
                break  # caught up with a head that did not move meanwhile
        else:
            raise RuntimeError("the log kept moving; the copy never caught up (try again)")
        result = Rebuilt(old, new, dict(p.position), done, time.monotonic() - started)
        result.sealed_records = sum(p.sealed.values())
        result.seal_divergence = trust.divergence
        if trust.trusted:
            result.acknowledged_skipped = acknowledged_skips(trust.rejected)
        await _compare(settings, service, log, projections, genesis, result, p, trust.trusted)
        if not result.compared or result.same or switch_if_different:
            switch_to(settings, service, new)
            result.switched = True
        return result
    finally:
        await store.close()


async def _compare(
    settings: StoreSettings,
    service: str,
    log: EventLog,
    projections: Sequence[Projection],
    genesis: PublicKey,
    result: Rebuilt,
    new: Projector,
    trust_seal: bool,
) -> None:
    """Digests of old and new at one position: the one behind is brought forward first (the
    guarded writes make that safe even while a service's projector writes the same copy)."""
    if not settings.store_url and not (settings.service_dir(service) / result.old.name).exists():
        return  # nothing to compare with: the first build
    colls = read_model_collections(projections)
    old_store = await open_ref(settings, service, result.old)
    try:
        old_pos = await saved_position(old_store)
        if old_pos is None:
            return
        target = {q: max(n, old_pos.get(q, 0)) for q, n in new.position.items()}
        old_p = Projector(log, old_store, projections, genesis, batch=1000, trust_seal=trust_seal)
        await old_p.start()
        await old_p.catch_up(target)
        await new.catch_up(target)
        result.old_position = dict(old_p.position)
        result.position = dict(new.position)
        result.compared = True
        result.old_digests = {c: await old_store.digest(c) for c in colls}
        result.new_digests = {c: await new.store.digest(c) for c in colls}
    finally:
        await old_store.close()
