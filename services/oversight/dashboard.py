"""The supervision dashboard (督办总览) and a case's timeline (办理全过程): supervisors only,
server-rendered (zh-CN), no script needed.

The dashboard: the cases by state, the units with overdue cases, and one tab at a time — 超时
(a unit overdue, deemed done included), 即将到期 (due within the window, two days unless
chosen), 已督办 (escalated, by today's level), 待投诉人确认 (the lead claimed resolution),
投诉人不认可 (disputed), 已确认待办结 (confirmed, awaiting a supervisor's closure) — filtered
by lead unit, category, status, escalation level and due window, twenty rows a page, each tab
with its count. Paging is by key (``after_key`` / ``before_key``: a row's tab key; ``after`` is the
read-your-writes position), each tab's
list one indexed range on both stores (``dashboard_projection.py``). Without a tab: the
overdue, the claimed, the disputed (awaiting 重办) and the confirmed lists. The counts (tabs,
states, overdue units) are made once per position of the read model and reused until it moves
(``dashboard_counts.py``); the due window counts from the current minute, so pages within it
share their counts.

The timeline: every unit's clock (due time; overdue, deemed done, completed; extensions), the
escalation level, and each event in words (``timeline_words.py``); the units' pending extension
requests and, on a disputed case, the 重办 form (the forms post to ``supervisor_forms.py``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from services.oversight.dashboard_counts import counts_of, position_of
from services.oversight.dashboard_projection import (
    DASHBOARD,
    IN_TAB,
    STEPS,
    TABS,
    tab_key,
    time_bound,
)
from services.oversight.projection import OVERSIGHT_CASES
from services.oversight.timeline_words import in_words
from services.oversight.workbench_commands import MAX_EXTENSION_WORKING_DAYS
from shared.events.catalog import CASE_ID_PATTERN
from shared.store.port import ASC, DESC, Doc, DocumentStore, Filter
from shared.web import Role
from shared.web.context import get_context
from shared.web.identity import Operator
from shared.web.page_commands import new_form_key
from shared.web.problems import NOT_FOUND, ProblemError
from shared.web.read_your_writes import FreshRead
from shared.web.service_read_model import CaseIdPath, read_store
from shared.web.sessions import page

router = APIRouter(tags=["oversight"])

PAGE_SIZE = 20
DUE_SOON_DAYS = 2  # 即将到期 without a chosen window
OVERDUE_UNIT_ROWS = 20
OVERDUE_UNITS_SCANNED = 1000  # units looked at for the overdue table
TIMELINE_STEPS = 1000  # a case's events shown, oldest first
DAY_MICROS = 24 * 3600 * 1_000_000
NOW_STEP_MICROS = 60 * 1_000_000  # the due window counts from the current minute

Tab = Literal["overdue", "due_soon", "escalated", "claimed", "disputed", "resolved"]
TAB_TITLES: dict[str, str] = {
    "overdue": "超时件",
    "due_soon": "即将到期",
    "escalated": "已督办",
    "claimed": "待投诉人确认",
    "disputed": "投诉人不认可",
    "resolved": "已确认待办结",
}
DEFAULT_TABS = ("overdue", "claimed", "disputed", "resolved")  # disputed: awaiting 重办
STATUS_ORDER = ("received", "assigned", "claimed", "disputed", "resolved", "closed", "merged")
assert tuple(TAB_TITLES) == TABS

# The filter form sends every field, empty when unused: empty means no filter.
UnitFilter = Annotated[str, Query(pattern=r"^(unit:[a-z0-9._-]{1,75})?$")]
CategoryFilter = Annotated[str, Query(max_length=60)]
StatusFilter = Annotated[
    Literal["", "received", "assigned", "claimed", "disputed", "resolved"], Query()
]
LevelFilter = Annotated[Literal["", "1", "2", "3", "4", "5", "6", "7", "8", "9"], Query()]
WindowFilter = Annotated[Literal["", "1", "2", "3", "5", "7", "15", "30"], Query()]
KeyCursor = Annotated[str, Query(pattern=r"^(\d{20}\|" + CASE_ID_PATTERN[1:-1] + ")?$")]


@dataclass(frozen=True)
class DashboardFilters:
    unit: str | None = None
    category: str | None = None
    status: str | None = None
    level: int | None = None
    window_days: int | None = None  # due within this many days from now (None: any)

    def query(self, tab: str, now_micros: int, *, after: str = "", before: str = "") -> Filter:
        """A tab's filter: its key's range (keyset bounds, the due window), then equalities."""
        key: dict[str, Any] = {}
        days = self.window_days or (DUE_SOON_DAYS if tab == "due_soon" else None)
        if days is not None:
            key["$lte"] = time_bound(now_micros + days * DAY_MICROS)
        if after:
            key["$gt"] = after
        if before:
            key["$lt"] = before
        q: dict[str, Any] = {tab_key(tab): key or IN_TAB}
        if self.unit:
            q["lead_unit"] = self.unit
        if self.category:
            q["category"] = self.category
        if self.status:
            q["status"] = self.status
        if self.level is not None:
            q["escalation"] = self.level
        return q

    def params(self) -> dict[str, str]:
        named = {
            "unit": self.unit,
            "category": self.category,
            "status": self.status,
            "level": self.level,
            "window": self.window_days,
        }
        return {k: str(v) for k, v in named.items() if v is not None}


async def tab_page(
    store: DocumentStore,
    tab: str,
    filters: DashboardFilters,
    now_micros: int,
    *,
    after: str = "",
    before: str = "",
    size: int = PAGE_SIZE,
    total: int | None = None,
) -> dict[str, Any]:
    """One page of a tab by key: the rows after ``after`` (or before ``before``), by due time,
    and whether there is a page on either side."""
    key = tab_key(tab)
    q = filters.query(tab, now_micros, after=after, before=before)
    direction = DESC if before else ASC
    rows = await store.find(DASHBOARD, q, sort=[(key, direction)], limit=size + 1)
    more = len(rows) > size
    rows = rows[:size]
    if before:
        rows.reverse()
    return {
        "tab": tab,
        "title": TAB_TITLES[tab],
        "total": await store.count(DASHBOARD, filters.query(tab, now_micros))
        if total is None
        else total,
        "rows": rows,
        "next": rows[-1][key] if rows and (more or bool(before)) else None,
        "prev": rows[0][key] if rows and (bool(after) or (before and more)) else None,
    }


async def tab_counts(
    store: DocumentStore, filters: DashboardFilters, now_micros: int
) -> dict[str, int]:
    return {t: await store.count(DASHBOARD, filters.query(t, now_micros)) for t in TABS}


async def state_counts(store: DocumentStore) -> dict[str, int]:
    """Cases in each state: one index count each (a grouped count would read every document)."""
    return {s: await store.count(DASHBOARD, {"status": s}) for s in STATUS_ORDER}


async def overdue_units(store: DocumentStore) -> list[tuple[str, int]]:
    """The lead units with open overdue cases, most first: unit by unit along the
    ``lead_unit, k_overdue`` index (the next unit with one, then its count), never a grouped
    count (SQLite would read every document for it)."""
    overdue = tab_key("overdue")
    by_unit: list[tuple[str, int]] = []
    after: str = ""
    for _ in range(OVERDUE_UNITS_SCANNED):
        first = await store.find(
            DASHBOARD,
            {"lead_unit": {"$gt": after}, overdue: IN_TAB},
            sort=[("lead_unit", ASC), (overdue, ASC)],
            limit=1,
        )
        if not first:
            break
        after = first[0]["lead_unit"]
        by_unit.append((after, await store.count(DASHBOARD, {"lead_unit": after, overdue: IN_TAB})))
    by_unit.sort(key=lambda un: (-un[1], un[0]))
    return by_unit[:OVERDUE_UNIT_ROWS]


@router.get("/dashboard", include_in_schema=False)
async def dashboard(
    request: Request,
    fresh: FreshRead,
    tab: Annotated[Tab | Literal[""], Query()] = "",
    unit: UnitFilter = "",
    category: CategoryFilter = "",
    status: StatusFilter = "",
    level: LevelFilter = "",
    window: WindowFilter = "",
    after_key: KeyCursor = "",
    before_key: KeyCursor = "",
    operator: Operator = Depends(page(Role.SUPERVISOR)),
) -> Response:
    """督办总览 (see the module docstring)."""
    store = await read_store(request)
    position = position_of(request)  # after FreshRead's wait: counts at least this new
    kept = counts_of(request)
    now = int(time.time() * 1_000_000) // NOW_STEP_MICROS * NOW_STEP_MICROS
    filters = DashboardFilters(
        unit or None,
        category.strip() or None,
        status or None,
        int(level) if level else None,
        int(window) if window else None,
    )
    counts = await kept.get(
        position, ("tabs", filters, now), lambda: tab_counts(store, filters, now)
    )
    shown = [tab] if tab else DEFAULT_TABS
    lists = [
        await tab_page(store, t, filters, now, after=after_key, before=before_key, total=counts[t])
        for t in shown
    ]
    by_status = await kept.get(position, "states", lambda: state_counts(store))
    by_unit = await kept.get(position, "overdue_units", lambda: overdue_units(store))
    return get_context(request).pages.render(
        request,
        "oversight_dashboard.html",
        {
            "lists": lists,
            "tab": tab,
            "tabs": TAB_TITLES,
            "counts": counts,
            "filters": filters,
            "status_counts": list(by_status.items()),
            "total": sum(by_status.values()),
            "overdue_units": by_unit,
            "stale": fresh.gave_up,
            "form_key": new_form_key,
        },
    )


def _clock_state(clock: Doc) -> str:
    if clock["deemed_done"]:
        return "超时默认（计为超时）"
    if clock["completed"]:
        return "已报办结（超时后）" if clock["overdue"] else "已报办结"
    return "已超时" if clock["overdue"] else "办理中"


def timeline_view(doc: Doc, steps: list[Doc]) -> dict[str, Any]:
    """What the timeline page shows of a case's document and its steps (pure)."""
    return {
        "clocks": [{**k, "state": _clock_state(k)} for k in doc["clocks"]],
        "steps": [
            {
                "at": s["at"],
                "actor": s["actor"],
                "type": s["type"],
                "words": in_words(s["type"], s["facts"]),
            }
            for s in steps
        ],
    }


@router.get("/dashboard/cases/{case_id}", include_in_schema=False)
async def case_timeline(
    request: Request,
    case_id: CaseIdPath,
    fresh: FreshRead,
    operator: Operator = Depends(page(Role.SUPERVISOR)),
) -> Response:
    """办理全过程: the case's clocks and every event in words (see the module docstring)."""
    store = await read_store(request)
    doc = await store.get(DASHBOARD, case_id)
    if doc is None:
        raise ProblemError(NOT_FOUND, "没有这件投诉")
    steps = await store.find(STEPS, {"case": case_id}, sort=[("n", ASC)], limit=TIMELINE_STEPS)
    facts = await store.get(OVERSIGHT_CASES, case_id)
    return get_context(request).pages.render(
        request,
        "oversight_case_timeline.html",
        {
            "case_id": case_id,
            "doc": doc,
            **timeline_view(doc, steps),
            "stale": fresh.gave_up,
            # The supervisor's forms (supervisor_forms.py): what there is to rule on.
            "extension_requests": pending_extensions(doc, facts),
            "max_extension": MAX_EXTENSION_WORKING_DAYS,
            "form_key": new_form_key,
        },
    )


def pending_extensions(doc: Doc, facts: Doc | None) -> list[dict[str, Any]]:
    """The units' pending extension requests (unit, until, reason) while the case is in
    handling, for units still on it (pure)."""
    if doc["status"] != "assigned":
        return []
    on_case = {k["unit"] for k in doc["clocks"]}
    return [r for r in (facts or {}).get("extension_requests", ()) if r["unit"] in on_case]
