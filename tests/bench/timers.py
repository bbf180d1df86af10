"""The scheduler: deadlines fired per second with 100,000 pending, and its start-up over a log
holding them.

One SQLite log (3 partitions, ``synchronous=FULL``) of ``pending`` cases, each assigned with a
due time long past, so every one of them is pending and due at once.

* **Start-up**: the scheduler rebuilding its pending set from that log (its follower judging
  every record with the rule book, the set read off the states), beside a bare replay of the
  same log (the rule book's fold of every record, nothing else), in the same run.
* **Firing**: the scheduler's rounds (take the due deadlines, decide, check before signing,
  sign, append 32 at a time sharing commits, read back, then read the log on) until
  ``fired`` deadlines are in, beside the raw limit of writing the same number of
  ``deadline.elapsed`` events bare: signed chained on each case's head and appended a round
  at a time, with no decision, check or read-back. Rounds alternate, medians taken.
"""

from __future__ import annotations

import time
from typing import Any

from services.oversight.app import SERVICE
from services.oversight.deadline import Deadline
from services.oversight.scheduler import Scheduler, SchedulerSettings
from shared.ledger import keystore
from shared.ledger.bootstrap import init_ledger
from shared.ledger.reader import fold_log
from shared.ledger.signer import Signer
from shared.ledger.writer import EventWriter
from shared.log.sqlite import SqliteLog
from shared.rules.fold import without_cyclic_gc
from shared.settings import LedgerSettings
from shared.web.command_path import ServiceWriter
from tests.bench.common import Stopwatch, Workspace, median
from tests.timer_logs import past_due_cases

PARTITIONS = 3


async def _fire(s: Scheduler, writer: EventWriter, n: int) -> float:
    """Seconds for the scheduler's rounds to fire ``n`` deadlines."""
    assert s.follower is not None
    goal = s.fired + n
    t = time.perf_counter()
    while s.fired < goal:
        s.config.round_size = min(512, goal - s.fired)
        if await s.fire_due(writer) == 0:
            raise RuntimeError("nothing left to fire")
        await s.follower.catch_up()
    return time.perf_counter() - t


async def _bare(
    log: SqliteLog,
    signer: Signer,
    heads: dict[str, str | None],
    deadlines: list[Deadline],
    registry: tuple[int, str | None],
) -> float:
    """Seconds to sign and append the same events bare, a round (512) at a time."""
    regseq, reghash = registry
    t = time.perf_counter()
    for i in range(0, len(deadlines), 512):
        pairs = []
        for d in deadlines[i : i + 512]:
            signed = signer.sign(
                d.stream, d.draft(), prev=heads[d.stream], regseq=regseq, reghash=reghash
            )
            pairs.append((d.stream, signed.record))
        await log.append(pairs)
    return time.perf_counter() - t


async def run(ws: Workspace, pending: int, fired: int, repeat: int) -> dict[str, Any]:
    settings = LedgerSettings(var_dir=ws.root / "timers", log_partitions=PARTITIONS)
    log = await SqliteLog.open(settings.sqlite_log_file, PARTITIONS)
    spec = SERVICE.deployment
    try:
        await init_ledger(log, settings)
        cases = [f"case-{i:08x}-0000-4000-8000-000000000000" for i in range(pending)]
        await past_due_cases(log, settings, cases)
        genesis = keystore.genesis_public(settings)
        s = Scheduler(settings, spec.name, spec.deployment, SchedulerSettings())
        replay: list[float] = []
        startup: list[float] = []
        records = 0
        for _ in range(repeat):
            with without_cyclic_gc(), Stopwatch() as sw:
                fold = await fold_log(log, genesis)
            replay.append(sw.timing.wall)
            records = sum(fold.counts.values())
            del fold
            with Stopwatch() as sw:
                await s.rebuild(log)
            startup.append(sw.timing.wall)
        assert s.follower is not None and len(s.pending) == pending
        reg = s.follower.judge.fold.registry
        registry = (reg.version, reg.hash_at(reg.version))
        service = ServiceWriter(settings, spec.name, spec.deployment, live=lambda: s.live())
        writer = await service.writer()
        signer = Signer(spec.deployment, keystore.load(settings, spec.name))
        ours: list[float] = []
        bare: list[float] = []
        try:
            for _ in range(repeat):
                ours.append(fired / await _fire(s, writer, fired))
                streams = s.follower.judge.fold.streams
                left = sorted(s.pending, key=lambda d: d.stream)[:fired]
                heads = {d.stream: streams[d.stream].head for d in left}
                bare.append(fired / await _bare(log, signer, heads, left, registry))
                await s.follower.catch_up()  # the bare rows' events leave the pending set
        finally:
            await service.close()
        return {
            "ours": median(ours),
            "raw": median(bare),
            "pending": pending,
            "fired_per_round": fired,
            "startup_s": median(startup),
            "replay_s": median(replay),
            "records": records,
            "left_pending": len(s.pending),
        }
    finally:
        await log.close()
