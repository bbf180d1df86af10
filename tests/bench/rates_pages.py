"""The rates pages' read (group ``rates_pages``; no corpus needed): what the first page of a
period at a new read-model position costs — every ``rate_items`` document read (1,000 a page,
by ``_id``) and turned into every unit's drill-down entries (``rate_evidence.py``) — in case
documents per second, beside the raw limit measured in the same run on the same SQLite file:
the same pages read and decoded by the store, nothing done with them. Target: at least 50% of
it. The notes carry the later pages at the same position (the table and one unit's drill-down
from memory) and one unit's twelve months (its chart page).

The documents are written by the rates read model's own projection (``RateItems``) from
synthetic case histories: assigned to one of 60 units (a third with a co-unit), replies,
claims, extensions, confirmations, deemed-done, reopens and scores, over four months.
"""

from __future__ import annotations

import random
import time
from typing import Any

from services.oversight.rate_evidence import PeriodEvidence
from services.oversight.rate_periods import last_months
from services.oversight.rates_pages import rate_item_pages, read_evidence
from services.oversight.rates_projection import RATE_ITEMS, RateItems
from shared.readside.projection import Accepted
from shared.reports.periods import period
from shared.store.port import Doc
from shared.store.sqlite import SqliteStore
from tests.bench.common import Row, Workspace, median

DAY = 86_400_000_000
UNITS = [f"unit:bench-unit-{n:02d}" for n in range(60)]
PERIOD = "2026-11"


def _iso(us: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(us / 1_000_000, UTC).isoformat()


def _history(i: int, rng: random.Random, start: int) -> list[tuple[int, str, dict[str, Any]]]:
    t = start + rng.randrange(90 * DAY)
    lead = rng.choice(UNITS)
    others = [u for u in UNITS if u != lead]
    co = [rng.choice(others)] if rng.random() < 0.33 else []
    due = t + rng.randrange(3, 20) * DAY
    out: list[tuple[int, str, dict[str, Any]]] = [
        (
            t,
            "dispatch.assigned",
            {
                "lead_unit": lead,
                "due_at": _iso(due),
                "co_units": [{"unit": u, "due_at": _iso(due)} for u in co],
            },
        )
    ]
    for unit in [lead, *co]:
        if rng.random() < 0.8:
            out.append((t + rng.randrange(25 * DAY), "handling.replied", {"unit": unit}))
        if rng.random() < 0.1:
            ruled = {"unit": unit, "granted": True, "due_at": _iso(due + 5 * DAY)}
            out.append((t + DAY, "handling.extension_ruled", ruled))
        if rng.random() < 0.6:
            out.append((t + rng.randrange(25 * DAY), "handling.resolution_claimed", {"unit": unit}))
        elif rng.random() < 0.3:
            out.append((due + DAY, "dispatch.deemed_done", {"unit": unit}))
    end = max(e[0] for e in out) + DAY
    if rng.random() < 0.6:
        out.append((end, "complainant.confirmed", {}))
        out.append((end + DAY, "complainant.satisfaction_rated", {"rating": rng.randint(1, 5)}))
    elif rng.random() < 0.3:
        units = [{"unit": lead, "due_at": _iso(end + 10 * DAY)}]
        out.append((end, "handling.reopened", {"units": units}))
    return sorted(out, key=lambda e: e[0])


def documents(n: int) -> list[Doc]:
    rng, projection, start = random.Random(22), RateItems(), period("2026-09").start
    docs: list[Doc] = []
    for i in range(n):
        stream, doc = f"case-{i:08d}-0000-4000-8000-000000000000", None
        for k, (t, kind, data) in enumerate(_history(i, rng, start)):
            e = Accepted(stream, 0, k, t, f"{i}-{k}", f"ledger.{kind}.v1", "x/y", "/x", data, {})
            doc = dict(projection.apply(doc, e)[-1].doc)
        assert doc is not None
        docs.append({"_id": stream, **doc})
    return docs


async def row(ws: Workspace, n: int, repeat: int) -> Row:
    store = await SqliteStore.open(ws.root / "rates-pages.sqlite3")
    try:
        docs = documents(n)
        for i in range(0, n, 5000):
            await store.bulk_upsert(RATE_ITEMS, docs[i : i + 5000])
        del docs
        p = period(PERIOD)
        ours, raw, warm = [], [], []
        units = 0

        async def read_raw() -> None:
            t = time.perf_counter()
            read = 0
            async for page in rate_item_pages(store):
                read += len(page)
            raw.append(read / (time.perf_counter() - t))

        async def read_ours() -> PeriodEvidence:
            t = time.perf_counter()
            (ev,) = await read_evidence(store, [PeriodEvidence(p.start, p.end)])
            ours.append(n / (time.perf_counter() - t))
            return ev

        await read_raw()  # warm: the file in the page cache, statements prepared
        raw.clear()
        for r in range(repeat):  # alternating which goes first
            if r % 2:
                ev = await read_ours()
                await read_raw()
            else:
                await read_raw()
                ev = await read_ours()
            t = time.perf_counter()
            figures = ev.figures()
            ev.evidence(UNITS[0], "reply")
            warm.append((time.perf_counter() - t) * 1000)
            units = len(figures)
        months = last_months(p.end - 1)
        t = time.perf_counter()
        await read_evidence(store, [PeriodEvidence(m.start, m.end, UNITS[0]) for m in months])
        chart_s = time.perf_counter() - t
    finally:
        await store.close()
    return Row(
        "rates_pages.first_read",
        f"rates pages, a period's first page at a new position, {n:,} case documents "
        "(raw: read + decode the same documents)",
        median(ours),
        median(raw),
        "docs/s",
        0.5,
        extra_check=units > 0,
        target_note="every unit's figures and drill-down entries",
        notes={
            "ours_rounds": ours,
            "raw_rounds": raw,
            "units": units,
            "from_memory_ms": median(warm),
            "unit_twelve_months_s": chart_s,
        },
    )
