"""The supervision dashboard (group ``oversight_dashboard``; no corpus needed).

``page``: the dashboard's response time (p50, p99) with N cases in the SQLite read store — the
whole ``GET /dashboard`` of a signed-in supervisor through the oversight app (session, the
tabs' counts, the lists, the state counts, the overdue units, the template), over a mix of
tabs, filters and keyset pages — beside the raw limit measured in the same run: the bare
indexed SQLite query the page needs most (one tab's first page of keys, twenty rows) on the
same file. Target: p99 ≤ 200 ms. Also the gauges' count (three index counts) per refresh.

The page counts once per read-model position (``dashboard_counts.py``); the seeded store is at
rest, so the timed pages reuse the counts made while warming up. What a page's counts cost
after the read model moved (the first page at a new position) is in the notes, measured on
the same store (``recount_*``).

The documents are written by the dashboard's own projection from synthetic case histories
(received, assigned to one of 40 units, some overdue, escalated, claimed, disputed,
confirmed, closed), then stored in bulk.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.oversight.dashboard_gauges import count_cases
from services.oversight.dashboard_projection import DASHBOARD, DashboardCases, tab_key
from shared.readside.projection import Accepted
from shared.store.port import Doc, DocumentStore
from shared.store.sqlite import SqliteStore
from tests.bench.commands import _pct
from tests.bench.common import Row, Workspace

HOUR = 3_600_000_000
UNITS = [f"unit:bench-unit-{n:02d}" for n in range(40)]
CATEGORIES = ["不动产登记", "劳动欠薪", "窗口纪律", "食品安全", "住房保障", "户籍办理"]


def _rfc3339(us: int) -> str:
    return datetime.fromtimestamp(us / 1_000_000, UTC).isoformat()


def _history(i: int, rng: random.Random, now: int) -> list[tuple[str, dict[str, Any]]]:
    received = {
        "complaint_no": f"BD{i:010d}",
        "unit": "bench",
        "category": CATEGORIES[i % len(CATEGORIES)],
        "complainant": None if i % 4 == 0 else f"p-{i:016x}",
    }
    events: list[tuple[str, dict[str, Any]]] = [("complaint.received", received)]
    roll = rng.random()
    if roll < 0.08:
        return events
    lead = UNITS[rng.randrange(len(UNITS))]
    due = now + rng.randint(-20 * 24, 20 * 24) * HOUR
    events.append(
        (
            "dispatch.assigned",
            {
                "lead_unit": lead,
                "due_at": _rfc3339(due),
                "co_units": [],
                "urgency": "normal",
                "calendar_version": "v",
            },
        )
    )
    if due < now:
        events.append(
            ("deadline.elapsed", {"deadline": "handling", "unit": lead, "due_at": _rfc3339(due)})
        )
        if rng.random() < 0.5:
            events.append(("supervision.escalated", {"level": rng.randint(1, 3), "reason": "r"}))
    if roll < 0.55:
        return events
    events.append(("handling.resolution_claimed", {"unit": lead, "summary": "s"}))
    if roll < 0.7:
        return events
    if roll < 0.76:
        return [*events, ("complainant.disputed", {"complaint_no": "x", "reason": "r"})]
    events.append(("complainant.confirmed", {"complaint_no": "x"}))
    if roll < 0.82:
        return events
    close = {"basis": "complainant_confirmed", "finding": "substantiated", "confidential": False}
    return [*events, ("handling.closed", close)]


def documents(n: int, now: int) -> list[Doc]:
    p, rng, docs = DashboardCases(), random.Random(21), []
    for i in range(n):
        stream, doc = f"case-{i:08d}-0000-4000-8000-000000000000", None
        for k, (kind, data) in enumerate(_history(i, rng, now)):
            e = Accepted(stream, 0, k, now, f"{i}-{k}", f"ledger.{kind}.v1", "x/y", "/x", data, {})
            _, case = p.apply(doc, e)  # the timeline's step is not on the dashboard
            doc = dict(case.doc)
        assert doc is not None
        docs.append({"_id": stream, **doc, "_pos": 1})
    return docs


async def seed(store: DocumentStore, n: int, now: int) -> None:
    await DashboardCases().setup(store)
    await store.bulk_upsert(DASHBOARD, documents(n, now))


def _raw_page(path: Path, rounds: int) -> list[float]:
    """The bare query: one tab's first twenty keys by its index, on the same file."""
    key = f"json_extract(doc, '$.{tab_key('overdue')}')"
    sql = f'SELECT id, doc FROM "doc_{DASHBOARD}" WHERE {key} > ? ORDER BY {key}, id LIMIT 20'
    conn = sqlite3.connect(path)
    try:
        out = []
        for _ in range(rounds):
            t = time.perf_counter()
            rows = conn.execute(sql, ("",)).fetchall()
            out.append(time.perf_counter() - t)
            assert len(rows) == 20
        return out
    finally:
        conn.close()


async def _recount(store: DocumentStore, q: dict[str, str], now: int) -> float:
    """The counts a page makes once per read-model position (its first page after the
    projector moved): the six tabs under its filters, the states, the overdue units."""
    from services.oversight.dashboard import (
        DashboardFilters,
        overdue_units,
        state_counts,
        tab_counts,
    )

    filters = DashboardFilters(
        q.get("unit"),
        q.get("category"),
        q.get("status"),
        int(q["level"]) if "level" in q else None,
        int(q["window"]) if "window" in q else None,
    )
    t = time.perf_counter()
    await tab_counts(store, filters, now)
    await state_counts(store)
    await overdue_units(store)
    return time.perf_counter() - t


QUERIES = [
    {},
    {"tab": "overdue"},
    {"tab": "due_soon"},
    {"tab": "escalated", "level": "2"},
    {"tab": "claimed", "unit": UNITS[3]},
    {"tab": "disputed", "category": CATEGORIES[1]},
    {"tab": "overdue", "unit": UNITS[7], "category": CATEGORIES[2]},
    {"tab": "due_soon", "window": "7", "status": "assigned"},
]


async def page(ws: Workspace, n: int, rounds: int = 12) -> dict[str, Any]:
    import httpx

    from services.oversight.app import create
    from shared.ledger.bootstrap import init_ledger
    from shared.ledger.configuration import publish_defaults
    from shared.log.factory import open_log
    from shared.web import Role, WebSettings
    from shared.web.demo_operators import demo_staff_id
    from tests.web_fixtures import sign_in_page

    var = ws.root / "oversight-dashboard"
    settings = WebSettings(var_dir=var)
    log = await open_log(settings)
    try:
        await init_ledger(log, settings)
        await publish_defaults(log, settings)
    finally:
        await log.close()
    now = int(time.time() * 1_000_000)
    app = create(settings)
    started = time.perf_counter()
    async with app.router.lifespan_context(app):
        store = await app.state.ledger.read_model.store()
        assert isinstance(store, SqliteStore)
        store_path = Path(store._path)
        await seed(store, n, now)
        seeded_s = time.perf_counter() - started
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as c:
            await sign_in_page(c, app, demo_staff_id(Role.SUPERVISOR))
            html = {"Accept": "text/html"}
            for _ in range(2):  # warm: templates compiled, statements prepared, pages cached
                for q in QUERIES:
                    warm = await c.get("/dashboard", params=q, headers=html)
                    assert warm.status_code == 200
            ours: list[float] = []
            worst: dict[str, float] = {}
            cursor = ""
            for r in range(rounds):
                for q in QUERIES:
                    params = dict(q)
                    if q == {"tab": "overdue"} and cursor:
                        params["after_key"] = cursor
                    t = time.perf_counter()
                    resp = await c.get("/dashboard", params=params, headers=html)
                    ours.append(time.perf_counter() - t)
                    name = ",".join(f"{k}={v}" for k, v in sorted(q.items())) or "default"
                    worst[name] = max(worst.get(name, 0.0), ours[-1] * 1000)
                    assert resp.status_code == 200, str(resp.request.url)
                    if q == {"tab": "overdue"}:
                        found = resp.text.rsplit("after_key=", 1)
                        cursor = found[1].split('"', 1)[0].replace("%7C", "|") if r < 5 else ""
        t = time.perf_counter()
        counts = await count_cases(store)
        gauge_s = time.perf_counter() - t
        recount = [await _recount(store, q, now) for q in QUERIES]
    raw = await asyncio.to_thread(_raw_page, store_path, rounds * len(QUERIES))
    return {
        "ours": _pct(ours, 0.99) * 1000,
        "raw": _pct(raw, 0.99) * 1000,
        "ours_p50_ms": _pct(ours, 0.5) * 1000,
        "raw_p50_ms": _pct(raw, 0.5) * 1000,
        "requests": len(ours),
        "cases": n,
        "gauges_count_ms": gauge_s * 1000,
        "recount_worst_ms": max(recount) * 1000,
        "recount_median_ms": sorted(recount)[len(recount) // 2] * 1000,
        "open": counts.open,
        "overdue": counts.overdue,
        "seed_s": seeded_s,
        "worst_ms_by_query": worst,
    }


TARGET_P99_MS = 200.0


def row(m: dict[str, Any]) -> Row:
    return Row(
        "oversight_dashboard.page",
        f"GET /dashboard p99, {m['cases']:,} cases on SQLite (bare indexed page query)",
        m["ours"],
        m["raw"],
        "ms",
        lower_is_better=True,
        target_max=TARGET_P99_MS,
        target_note=f"p99 ≤ {TARGET_P99_MS:.0f} ms; p50 {m['ours_p50_ms']:,.1f} ms "
        f"(bare {m['raw_p50_ms']:,.2f} ms); gauges' count {m['gauges_count_ms']:,.1f} ms; "
        f"a page's counts after the read model moved {m['recount_median_ms']:,.0f} ms "
        f"(worst {m['recount_worst_ms']:,.0f} ms)",
        notes=m,
    )
