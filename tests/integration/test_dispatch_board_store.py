"""The dispatch board's queries on both read stores (SQLite and the real MongoDB-protocol
server): each list's filter, order and paging, the filters, and the load per unit, over
documents the board's own projection wrote for a few dozen cases."""

from __future__ import annotations

import time
from typing import Any

import pytest

from services.dispatch.board import BoardFilters, board_list, unit_load
from services.dispatch.board_projection import BoardCases
from shared.readside.projection import Accepted
from shared.store.port import DocumentStore
from tests.contract.conftest_store import store

__all__ = ["store"]  # the fixture, re-exported so pytest finds it here

A, B, C = "unit:demo-unit", "unit:housing-bureau", "unit:civil-affairs"
NOW = int(time.time() * 1_000_000)
HOUR = 3_600_000_000


def rfc3339(us: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(us / 1_000_000, UTC).isoformat()


def history(i: int) -> list[tuple[str, dict[str, Any]]]:
    """Case ``i``: 0–9 await assignment; 10–19 are led by A (due in 1 h … 10 days, the even
    ones with C as a co-unit, deemed done); 20–24 are led by B after A's return; 25 has a
    return pending; 26 is flagged."""
    events: list[tuple[str, dict[str, Any]]] = [
        (
            "complaint.received",
            {
                "complaint_no": f"N{i:03}",
                "unit": "demo-unit",
                "category": "窗口服务" if i % 2 else "办事效率",
            },
        ),
        ("complaint.screened", {"outcome": "new"}),
    ]
    if i < 10:
        return events
    due = rfc3339(NOW + (i - 9) * 24 * HOUR if i != 10 else NOW + HOUR)
    co = [{"unit": C, "due_at": rfc3339(NOW - HOUR)}] if i % 2 == 0 and i < 20 else []
    urgency = "urgent" if i == 11 else "normal"
    events.append(
        (
            "dispatch.assigned",
            {
                "lead_unit": A,
                "due_at": due,
                "co_units": co,
                "urgency": urgency,
                "calendar_version": "v",
            },
        )
    )
    if co:
        events += [
            ("deadline.elapsed", {"deadline": "handling", "unit": C, "due_at": co[0]["due_at"]}),
            ("dispatch.deemed_done", {"unit": C, "due_at": co[0]["due_at"], "cause": "x"}),
        ]
    if 20 <= i < 25:
        events += [
            ("handling.return_requested", {"unit": A, "reason": "r"}),
            ("dispatch.return_ruled", {"unit": A, "granted": True, "ruling": "准予"}),
            (
                "dispatch.assigned",
                {"lead_unit": B, "due_at": due, "urgency": "normal", "calendar_version": "v"},
            ),
        ]
    if i == 25:
        events.append(("handling.return_requested", {"unit": A, "reason": "非本单位职责"}))
    if i == 26:
        events.append(("dispatch.buck_passing_flagged", {"pattern": "cycle", "units": [A, B, A]}))
    return events


async def project(store: DocumentStore, cases: int) -> None:
    p = BoardCases()
    await p.setup(store)
    for i in range(cases):
        stream, doc = f"case-{i:08}-0000-4000-8000-000000000000", None
        for n, (kind, data) in enumerate(history(i)):
            e = Accepted(
                stream, 0, n, n + 1, f"{i}-{n}", f"ledger.{kind}.v1", "x/y", "/x", data, {}
            )
            for w in p.apply(doc, e):
                await store.upsert(w.coll, w.id, w.doc)
                if w.coll == p.collection:
                    doc = dict(w.doc)


NONE = BoardFilters(None, None, None)


@pytest.mark.parametrize(
    "store", ["sqlite", pytest.param("mongo", marks=pytest.mark.mongo)], indirect=True
)
async def test_the_board_lists_filters_pages_and_loads_alike_on_every_store(
    store: DocumentStore,
) -> None:
    await project(store, 27)

    async def numbers(view: str, filters: BoardFilters = NONE, page: int = 1) -> list[str]:
        listed = await board_list(store, view, filters, page)
        return [r["complaint_no"] for r in listed["rows"]]

    ready = await board_list(store, "ready", NONE, 1)
    assert ready["total"] == 10 and ready["pages"] == 1
    assert await numbers("ready", BoardFilters("unit:demo-unit", "办事效率", None)) == [
        f"N{i:03}" for i in range(0, 10, 2)
    ]
    handling = await board_list(store, "handling", NONE, 1)
    assert handling["total"] == 17 and handling["pages"] == 1
    assert (await numbers("handling"))[0] == "N010"  # soonest due first
    assert await numbers("handling", BoardFilters(B, None, None)) == [
        f"N{i:03}" for i in range(20, 25)
    ]
    assert await numbers("handling", BoardFilters(None, None, "urgent")) == ["N011"]
    assert await numbers("due_soon") == ["N010", "N011"]  # within two days, not overdue
    assert await numbers("overdue") == [f"N{i:03}" for i in range(10, 20, 2)]  # deemed done
    assert await numbers("returns") == ["N025"]
    assert await numbers("flagged") == ["N026"]
    second = await board_list(store, "handling", NONE, 2)  # past the last page: the last
    assert second["page"] == 1

    load = {row["unit"]: row for row in await unit_load(store)}
    assert load[A] == {"unit": A, "holding": 12, "leading": 12, "overdue": 0}
    assert load[B] == {"unit": B, "holding": 5, "leading": 5, "overdue": 0}
    assert load[C] == {"unit": C, "holding": 0, "leading": 0, "overdue": 5}
