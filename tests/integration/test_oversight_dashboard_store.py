"""The supervision dashboard's queries on both read stores (SQLite and the real MongoDB-protocol
server): each tab's members and order, the filters, keyset paging both ways, the counts per
tab, the overdue units and the gauges' counts, over documents the dashboard's own projection
wrote for thirty cases; on SQLite, every tab's page and count is served by an index."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.oversight.dashboard import (
    DashboardFilters,
    overdue_units,
    state_counts,
    tab_counts,
    tab_page,
)
from services.oversight.dashboard_gauges import CaseCounts, count_cases
from services.oversight.dashboard_projection import DASHBOARD, TABS, DashboardCases, tab_key
from shared.readside.projection import Accepted
from shared.store.port import DocumentStore
from shared.store.sqlite import _expr, _where
from tests.contract.conftest_store import open_sqlite, store

__all__ = ["store"]  # the fixture, re-exported so pytest finds it here

A, B, C = "unit:demo-unit", "unit:housing-bureau", "unit:civil-affairs"
NOW = int(time.time() * 1_000_000)
HOUR = 3_600_000_000
NONE = DashboardFilters()


def rfc3339(us: int) -> str:
    return datetime.fromtimestamp(us / 1_000_000, UTC).isoformat()


def assigned(lead: str, due: int, co: list[dict[str, Any]] | None = None) -> tuple[str, Any]:
    data = {"lead_unit": lead, "due_at": rfc3339(due), "co_units": co or []}
    return "dispatch.assigned", {**data, "urgency": "normal", "calendar_version": "v"}


def claimed(unit: str) -> tuple[str, Any]:
    return "handling.resolution_claimed", {"unit": unit, "summary": "s", "answer_due_at": None}


def history(i: int) -> list[tuple[str, Any]]:
    """Case ``i``: 0–2 received only; 3–12 led by A, due in 1 h, 13 h, … (3–6 within two days);
    13–19 led by B and overdue (17, 18 escalated to level 1, 19 to level 2 and then claimed
    late); 20–23 claimed; 24, 25 disputed; 26, 27 confirmed; 28 closed; 29 led by A with its
    co-unit C deemed done."""
    received = {"complaint_no": f"N{i:03}", "unit": "demo-unit"}
    received["category"] = "窗口服务" if i % 2 else "办事效率"
    events: list[tuple[str, Any]] = [("complaint.received", received)]
    if i < 3:
        return events
    if i < 13:
        return [*events, assigned(A, NOW + ((i - 3) * 12 + 1) * HOUR)]
    if i < 20:
        due = NOW - (20 - i) * HOUR
        events += [
            assigned(B, due),
            ("deadline.elapsed", {"deadline": "handling", "unit": B, "due_at": rfc3339(due)}),
        ]
        if i >= 17:
            events.append(("supervision.escalated", {"level": 1, "reason": "超时"}))
        if i == 19:
            events += [("supervision.escalated", {"level": 2, "reason": "仍超时"}), claimed(B)]
        return events
    if i == 29:
        past = NOW - 30 * HOUR
        return [
            *events,
            assigned(A, NOW + 120 * HOUR, [{"unit": C, "due_at": rfc3339(past)}]),
            ("dispatch.deemed_done", {"unit": C, "due_at": rfc3339(past), "cause": "x"}),
        ]
    events += [assigned(A, NOW + 240 * HOUR), claimed(A)]
    if i in (24, 25):
        events.append(("complainant.disputed", {"complaint_no": f"N{i:03}", "reason": "r"}))
    if i in (26, 27, 28):
        events.append(("complainant.confirmed", {"complaint_no": f"N{i:03}"}))
    if i == 28:
        close = {"basis": "complainant_confirmed", "finding": "substantiated"}
        events.append(("handling.closed", {**close, "confidential": False}))
    return events


async def project(store: DocumentStore, cases: int = 30) -> None:
    p = DashboardCases()
    await p.setup(store)
    for i in range(cases):
        stream, doc = f"case-{i:08}-0000-4000-8000-000000000000", None
        for n, (kind, data) in enumerate(history(i)):
            e = Accepted(
                stream, 0, n, n + 1, f"{i}-{n}", f"ledger.{kind}.v1", "x/y", "/x", data, {}
            )
            for w in p.apply(doc, e):
                await store.upsert(w.coll, w.id, w.doc)
                if w.coll == DASHBOARD:
                    doc = dict(w.doc)


def nos(*ids: int) -> list[str]:
    return [f"N{i:03}" for i in ids]


@pytest.mark.parametrize(
    "store", ["sqlite", pytest.param("mongo", marks=pytest.mark.mongo)], indirect=True
)
async def test_the_dashboard_tabs_filter_page_and_count_alike_on_every_store(
    store: DocumentStore,
) -> None:
    await project(store)

    async def listed(tab: str, filters: DashboardFilters = NONE, **kw: Any) -> list[str]:
        page = await tab_page(store, tab, filters, NOW, **kw)
        return [r["complaint_no"] for r in page["rows"]]

    assert await tab_counts(store, NONE, NOW) == {
        "overdue": 8,
        "due_soon": 4,
        "escalated": 3,
        "claimed": 5,
        "disputed": 2,
        "resolved": 2,
    }
    assert await listed("overdue") == [*nos(13, 14, 15, 16, 17, 18, 19), "N029"]  # by due time
    assert await listed("due_soon") == nos(3, 4, 5, 6)  # within two days, not overdue
    assert await listed("escalated") == nos(17, 18, 19)
    assert await listed("claimed") == nos(19, 20, 21, 22, 23)
    assert await listed("disputed") == nos(24, 25)
    assert await listed("resolved") == nos(26, 27)

    assert await listed("overdue", DashboardFilters(unit=A)) == ["N029"]  # the lead unit
    assert await listed("overdue", DashboardFilters(category="窗口服务")) == [
        *nos(13, 15, 17, 19),
        "N029",
    ]
    assert await listed("overdue", DashboardFilters(status="claimed")) == ["N019"]
    assert await listed("escalated", DashboardFilters(level=1)) == nos(17, 18)
    assert await listed("escalated", DashboardFilters(level=2, unit=B)) == ["N019"]
    assert await listed("overdue", DashboardFilters(window_days=1)) == nos(*range(13, 20))
    assert await listed("due_soon", DashboardFilters(window_days=1)) == nos(3, 4)
    assert await tab_counts(store, DashboardFilters(unit=B, category="窗口服务"), NOW) == {
        "overdue": 4,
        "due_soon": 0,
        "escalated": 2,
        "claimed": 1,
        "disputed": 0,
        "resolved": 0,
    }

    # Keyset paging, five a page: forward by the last key, back by the first.
    wide = DashboardFilters(window_days=15)
    first = await tab_page(store, "due_soon", wide, NOW, size=5)
    assert first["total"] == 12 and first["prev"] is None
    assert [r["complaint_no"] for r in first["rows"]] == nos(3, 4, 5, 6, 7)
    second = await tab_page(store, "due_soon", wide, NOW, after=first["next"], size=5)
    assert [r["complaint_no"] for r in second["rows"]] == nos(8, 9, 10, 11, 12)
    third = await tab_page(store, "due_soon", wide, NOW, after=second["next"], size=5)
    assert [r["complaint_no"] for r in third["rows"]] == nos(24, 25)
    assert third["next"] is None and third["prev"] == third["rows"][0][tab_key("due_soon")]
    back = await tab_page(store, "due_soon", wide, NOW, before=third["prev"], size=5)
    assert [r["complaint_no"] for r in back["rows"]] == nos(8, 9, 10, 11, 12)
    assert back["next"] == second["next"] and back["prev"] == second["prev"]
    start = await tab_page(store, "due_soon", wide, NOW, before=back["prev"], size=5)
    assert [r["complaint_no"] for r in start["rows"]] == nos(3, 4, 5, 6, 7)
    assert start["prev"] is None

    assert await overdue_units(store) == [(B, 7), (A, 1)]
    assert await count_cases(store) == CaseCounts(open=27, overdue=8, escalated={1: 2, 2: 1})
    assert await state_counts(store) == {
        "received": 3,
        "assigned": 17,
        "claimed": 5,
        "disputed": 2,
        "resolved": 2,
        "closed": 1,
        "merged": 0,
    }


def plan(conn: sqlite3.Connection, sql: str, params: list[Any]) -> str:
    return " | ".join(row[-1] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))


FILTERS = [
    NONE,
    DashboardFilters(unit=B),
    DashboardFilters(category="窗口服务"),
    DashboardFilters(window_days=3),
    DashboardFilters(status="assigned"),
    DashboardFilters(level=1),
    DashboardFilters(unit=B, category="窗口服务"),
]


async def test_every_tab_page_and_count_is_served_by_an_index_on_sqlite(tmp_path: Path) -> None:
    store = await open_sqlite(tmp_path)
    try:
        await project(store, 20)
    finally:
        await store.close()
    table = f'"doc_{DASHBOARD}"'
    with sqlite3.connect(tmp_path / "store.sqlite3") as conn:
        for tab in TABS:
            for filters in FILTERS:
                for cursor in ("", "0"):
                    where = _where(DASHBOARD, filters.query(tab, NOW, after=cursor), None)
                    assert where is not None
                    clause, params = where
                    order = f"{_expr(tab_key(tab))} ASC, id ASC"
                    page = plan(conn, f"SELECT rid FROM {table}{clause} ORDER BY {order}", params)
                    count = plan(conn, f"SELECT count(*) FROM {table}{clause}", params)
                    for shown in (page, count):
                        assert "USING INDEX" in shown or "USING COVERING INDEX" in shown, shown
                        if filters.unit and filters.category:  # both in the index's range
                            assert "(<expr>=? AND <expr>=? AND <expr>" in shown, shown
                    assert "TEMP B-TREE" not in page, (tab, filters, page)
        for sql, params in [
            (
                f"SELECT {_expr('escalation')}, count(*) FROM {table} WHERE {_expr('open')} = ? "
                "GROUP BY 1",
                [True],
            ),
            (
                f"SELECT {_expr('lead_unit')}, count(*) FROM {table} "
                f"WHERE {_expr(tab_key('overdue'))} > ? GROUP BY 1",
                [""],
            ),
            (f"SELECT {_expr('status')}, count(*) FROM {table} GROUP BY 1", []),
        ]:
            shown = plan(conn, sql, params)
            assert "USING INDEX" in shown or "USING COVERING INDEX" in shown, shown
