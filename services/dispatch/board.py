"""The dispatch board (转办台) and each case's dispatch page with its transfer path (转办轨迹):
dispatch officers only, server-rendered (zh-CN), no script needed.

The board: counts of each list, the load per unit, and one list at a time — screened cases
awaiting assignment, returns awaiting a ruling, the lead due within two days, any unit
overdue (a co-unit deemed done included), flagged as buck-passing, all in handling —
filtered by unit, category and urgency, twenty rows a page. The default view shows the cases
awaiting assignment and those in handling.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from services.dispatch.board_projection import BOARD, HANDLING, PARTS, READY
from services.dispatch.transfer_path import Path, from_docs
from shared.readside.projections.case_summary import CASES
from shared.store.port import ASC, DESC, DocumentStore, Filter, SortSpec
from shared.web import Role
from shared.web.context import get_context
from shared.web.identity import Operator
from shared.web.page_commands import new_form_key
from shared.web.problems import NOT_FOUND, ProblemError
from shared.web.read_your_writes import FreshRead
from shared.web.service_read_model import CaseIdPath, read_store
from shared.web.sessions import page

router = APIRouter(tags=["dispatch"])

PAGE_SIZE = 20
DUE_SOON_SECONDS = 2 * 24 * 3600  # 即将到期: due within two days
LOAD_ROWS = 20

View = Literal["ready", "returns", "due_soon", "overdue", "flagged", "handling"]
VIEW_TITLES: dict[str, str] = {
    "ready": "待转办",
    "returns": "退单待裁定",
    "due_soon": "即将到期",
    "overdue": "已超时",
    "flagged": "踢皮球",
    "handling": "办理中",
}
# The filter form sends every field, empty when unused: empty means no filter.
UnitFilter = Annotated[str, Query(pattern=r"^(unit:[a-z0-9._-]{1,75})?$")]
CategoryFilter = Annotated[str, Query(max_length=40)]
UrgencyFilter = Annotated[Literal["", "urgent", "high", "normal", "low"], Query()]


@dataclass(frozen=True)
class BoardFilters:
    unit: str | None
    category: str | None
    urgency: str | None

    def query(self, view: str) -> dict[str, Any]:
        """The filter a view's list runs, these narrowings included. Awaiting assignment, the
        unit is the one complained about (as ``unit:<id>``); later, the lead unit."""
        q: dict[str, Any] = dict(_views(time.time())[view][0])
        if self.unit:
            if view == "ready":
                q["unit"] = self.unit.removeprefix("unit:")
            else:
                q["lead_unit"] = self.unit
        if self.category:
            q["category"] = self.category
        if self.urgency and view != "ready":
            q["urgency"] = self.urgency
        return q

    def params(self) -> dict[str, str]:
        return {k: v for k, v in vars(self).items() if v}


def _views(now: float) -> dict[str, tuple[Filter, SortSpec]]:
    soon = int((now + DUE_SOON_SECONDS) * 1_000_000)
    return {
        "ready": ({"phase": READY}, [("screened_at", ASC)]),
        "returns": ({"returns_pending": {"$gt": 0}}, [("last_at", ASC)]),
        "due_soon": (
            {"phase": HANDLING, "lead_overdue": False, "lead_due": {"$lte": soon}},
            [("lead_due", ASC)],
        ),
        "overdue": ({"phase": HANDLING, "overdue": True}, [("lead_due", ASC)]),
        "flagged": ({"flagged": True}, [("last_at", DESC)]),
        "handling": ({"phase": HANDLING}, [("lead_due", ASC)]),
    }


async def board_list(
    store: DocumentStore, view: str, filters: BoardFilters, page_no: int
) -> dict[str, Any]:
    q = filters.query(view)
    total = await store.count(BOARD, q)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page_no = min(page_no, pages)
    rows = await store.find(
        BOARD, q, sort=_views(time.time())[view][1], skip=(page_no - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    statuses = await store.get_many(CASES, [r["_id"] for r in rows])
    return {
        "view": view,
        "title": VIEW_TITLES[view],
        "total": total,
        "page": page_no,
        "pages": pages,
        "rows": [{**r, "status": statuses.get(r["_id"], {}).get("status")} for r in rows],
    }


async def unit_load(store: DocumentStore) -> list[dict[str, Any]]:
    """在办负荷 per unit: the parts it holds now (leading), and how often it was overdue."""
    holding = await store.grouped_count(PARTS, "unit", {"open": True})
    leading = await store.grouped_count(PARTS, "unit", {"open": True, "lead": True})
    overdue = await store.grouped_count(PARTS, "unit", {"overdue": True})
    units = sorted(set(holding) | set(overdue), key=lambda u: (-holding.get(u, 0), str(u)))
    return [
        {
            "unit": u,
            "holding": holding.get(u, 0),
            "leading": leading.get(u, 0),
            "overdue": overdue.get(u, 0),
        }
        for u in units[:LOAD_ROWS]
    ]


@router.get("/board", include_in_schema=False)
async def dispatch_board(
    request: Request,
    fresh: FreshRead,
    view: Annotated[View | Literal[""], Query()] = "",
    unit: UnitFilter = "",
    category: CategoryFilter = "",
    urgency: UrgencyFilter = "",
    page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
    operator: Operator = Depends(page(Role.DISPATCH_OFFICER)),
) -> Response:
    """转办台 (see the module docstring)."""
    store = await read_store(request)
    filters = BoardFilters(unit or None, category.strip() or None, urgency or None)
    shown = [view] if view else ["ready", "handling"]
    lists = [await board_list(store, v, filters, page_no if view else 1) for v in shown]
    counts = {v: await store.count(BOARD, filters.query(v)) for v in VIEW_TITLES}
    unscreened = await store.count(BOARD, {"phase": "unscreened"})
    return get_context(request).pages.render(
        request,
        "dispatch_board.html",
        {
            "lists": lists,
            "view": view,
            "views": VIEW_TITLES,
            "counts": counts,
            "filters": filters,
            "load": await unit_load(store),
            "unscreened": unscreened,
            "stale": fresh.gave_up,
            "form_key": new_form_key,
        },
    )


def _drawn(path: Path, now: int) -> list[dict[str, Any]]:
    """Each holding with how long it lasted (minutes) and its bar on the path's time axis
    (percent of the span from the first assignment to the last end, or to now while a unit
    still holds it)."""
    if not path:
        return []
    start = min(h.since for h in path)
    end = now if any(h.open for h in path) else max(h.until or h.since for h in path)
    span = max(end - start, 1)
    return [
        {
            **h._asdict(),
            "minutes": h.held_for(now) // 60_000_000,
            "x": round(100 * (h.since - start) / span, 2),
            "width": max(round(100 * ((h.until or now) - h.since) / span, 2), 0.5),
        }
        for h in path
    ]


@router.get("/board/cases/{case_id}", include_in_schema=False)
async def dispatch_case(
    request: Request,
    case_id: CaseIdPath,
    fresh: FreshRead,
    operator: Operator = Depends(page(Role.DISPATCH_OFFICER)),
) -> Response:
    """The case as dispatch sees it: its units' clocks, pending returns, flags, and the
    transfer path — each unit that held it, from when to when, and for how long."""
    store = await read_store(request)
    doc = await store.get(BOARD, case_id)
    if doc is None:
        raise ProblemError(NOT_FOUND, "没有这件投诉")
    case = await store.get(CASES, case_id) or {}
    path = _drawn(from_docs(doc["path"]), int(time.time() * 1_000_000))
    return get_context(request).pages.render(
        request,
        "dispatch_case.html",
        {
            "case_id": case_id,
            "doc": doc,
            "case_status": case.get("status"),
            "path": path,
            "stale": fresh.gave_up,
            "form_key": new_form_key,
        },
    )
