"""``ledger report``'s pass over the log — every record judged (signatures trusted below the
seal, as a rebuild does), the accepted case events folded into the period's rates, the signed
figures read — per core, beside the raw read-and-decode rate of the same log in the same run
(chunked reads, ``orjson.loads`` of each record). Target: at least 25% of it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson

from shared.ledger.period_replay import replay_period
from shared.log.port import read_all
from shared.log.sqlite import SqliteLog
from shared.reports.periods import month_of, period
from tests.bench import ledger
from tests.bench.common import Row, Stopwatch, Workspace, median
from tests.bench.corpus import Corpus


async def rows(
    log: SqliteLog, c: Corpus, ws: Workspace, repeat: int, sealed: bool, say: Callable[[str], Any]
) -> list[Row]:
    if not sealed:
        say("filling and sealing the ledger log")
        await ledger.fill(log, c)
        _, report = await ledger.verify(log, c, 1)
        await ledger.seal(log, c, report, ws)
    p = period(month_of(int(time.time() * 1_000_000)))  # the corpus was appended just now
    n = sum((await log.head()).values())
    say(f"ledger report over {n:,} records (period {p.id})")
    ours, raw, units, trusted = [], [], 0, False
    for _ in range(repeat):
        with Stopwatch() as sw:
            count = 0
            async for rec in read_all(log, chunk=5000):
                orjson.loads(rec.record)
                count += 1
        raw.append(sw.timing.per_core(count))
        with Stopwatch() as sw:
            replay = await replay_period(log, c.genesis, p)
            figures = replay.fold.figures()
        ours.append(sw.timing.per_core(replay.records))
        units, trusted = len(figures), replay.trusted
    return [
        Row(
            "report",
            f"ledger report per core, {n:,} records (raw: read + decode the same log)",
            median(ours),
            median(raw),
            "events/s/core",
            0.25,
            extra_check=trusted and units > 0,
            target_note="below a trusted seal, every unit's figures",
            notes={"ours_rounds": ours, "raw_rounds": raw, "records": n, "units": units},
        )
    ]
