"""``ledger report``'s pass over the log — every record judged (signatures trusted below the
seal, as a rebuild does), the accepted case events folded into the period's rates, the signed
figures read — per core, beside the raw read-and-decode rate of the same log in the same run
(chunked reads, ``orjson.loads`` of each record). Target: at least 25% of it.

The log is its own corpus (``--report-events``, default 1,000,000), built once into a sealed
ledger under ``var/bench/cache/`` and copied into the run's workspace (see
:func:`tests.bench.corpus.sealed_ledger`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from shared.ledger.period_replay import replay_period
from shared.log.port import read_all
from shared.log.sqlite import SqliteLog
from shared.reports.periods import Period, month_of, period
from tests.bench import corpus
from tests.bench.common import Row, Stopwatch, Workspace, median


async def rows(ws: Workspace, events: int, repeat: int, say: Callable[[str], Any]) -> list[Row]:
    sealed = await corpus.sealed_ledger(ws.root / "report-ledger", events, say)
    p = period(month_of(sealed.meta["appended_us"]))  # the month the corpus was appended in
    log = await sealed.open()
    try:
        return await _measure(log, sealed, p, repeat, say)
    finally:
        await log.close()


async def _measure(
    log: SqliteLog, sealed: corpus.Sealed, p: Period, repeat: int, say: Callable[[str], Any]
) -> list[Row]:
    n = sum((await log.head()).values())
    say(f"ledger report over {n:,} records (period {p.id})")
    ours, raw, units, trusted = [], [], 0, False
    ours_cpu, raw_cpu = [], []  # records per CPU-second: robust to other tenants of the machine
    ours_s, raw_s = [], []  # wall seconds of each pass
    for _ in range(repeat):
        with Stopwatch() as sw:
            count = 0
            async for rec in read_all(log, chunk=5000):
                orjson.loads(rec.record)
                count += 1
        raw.append(sw.timing.per_core(count))
        raw_cpu.append(count / max(sw.timing.cpu, 1e-9))
        raw_s.append(sw.timing.wall)
        with Stopwatch() as sw:
            replay = await replay_period(log, sealed.genesis, p)
            figures = replay.fold.figures()
        ours.append(sw.timing.per_core(replay.records))
        ours_cpu.append(replay.records / max(sw.timing.cpu, 1e-9))
        ours_s.append(sw.timing.wall)
        # every case event judged (the registry is read before the pass the report observes)
        units, trusted = len(figures), replay.trusted and replay.records > sealed.meta["events"]
    return [
        Row(
            "report",
            f"ledger report per core, {n:,} records (raw: read + decode the same log)",
            median(ours),
            median(raw),
            "events/s/core",
            0.25,
            extra_check=trusted and units > 0,
            target_note="below a trusted seal, every unit's figures; CPU-time ratio "
            f"{median(ours_cpu) / median(raw_cpu):.2f}; median {median(ours_s):.1f} s a pass",
            notes={
                "ours_rounds": ours,
                "raw_rounds": raw,
                "cpu_time_ratio": median(ours_cpu) / median(raw_cpu),
                "ours_wall_s": ours_s,
                "raw_wall_s": raw_s,
                "ours_per_cpu_s": ours_cpu,
                "raw_per_cpu_s": raw_cpu,
                "records": n,
                "units": units,
                "corpus": sealed.meta,
            },
        )
    ]
