"""The rates pages (办理考核统计): a period's table of every unit's figures, the drill-down from
each figure to the events behind its numerator and denominator, and a unit's rates over the
last twelve months as charts. Server-rendered (zh-CN), no script needed; JSON beside them.

Read from the live read model (``rate_items``, ``rates_projection.py``): the documents are read
once per position of oversight's projector and period (``rate_evidence.py`` turns them into
every unit's entries), then every page at that position — the table, each drill-down page, the
JSON — is served from memory; a drill-down lists each entry's event type from the timeline
(``oversight_steps``, by event id), one page of entries at a time. The period's signed figures
(``period-<id>``) are read from the log and compared with the table, figure by figure.

Who may see them: supervisors and auditors, every unit (as the dashboard and the penalty
register, supervisors' pages); a unit's handlers do not (403).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel
from starlette.responses import JSONResponse, RedirectResponse, Response

from services.oversight.dashboard_counts import CountsAtPosition, position_of
from services.oversight.dashboard_projection import STEPS
from services.oversight.rate_chart import Point, percent, rate_chart
from services.oversight.rate_evidence import Entry, PeriodEvidence, concerns
from services.oversight.rate_periods import (
    PERIOD_PATTERN,
    UnknownPeriod,
    last_months,
    requested_period,
)
from services.oversight.rates_projection import RATE_ITEMS
from shared.ledger.reader import fold_stream
from shared.reports.compare import Difference, differences
from shared.reports.periods import Period, month_of
from shared.reports.rates import FIGURES, Figures
from shared.reports.signed import FIGURES_PUBLISHED, figures_of_event, period_stream
from shared.rules.fold import LedgerFold
from shared.rules.verdict import Verdict
from shared.store.port import ASC, Doc, DocumentStore
from shared.web import Role
from shared.web.auth import require_roles
from shared.web.context import get_context
from shared.web.identity import Operator
from shared.web.pages import NavItem
from shared.web.problems import NOT_FOUND, VALIDATION, ProblemError, wants_html
from shared.web.read_your_writes import FreshRead
from shared.web.service_read_model import read_store
from shared.web.sessions import page

router = APIRouter(tags=["rates"])

READERS = (Role.SUPERVISOR, Role.AUDITOR)
PAGE_SIZE = 50  # drill-down entries a page
DOCS_A_READ = 1000

PeriodPath = Annotated[str, Path(pattern=PERIOD_PATTERN, description="2026-11 or 2026-Q4")]
UnitPath = Annotated[str, Path(pattern=r"^unit:[a-z0-9._-]{1,75}$")]
Figure = Literal[
    "reply", "resolution", "satisfaction", "overdue", "deemed_done", "reopened", "buck_passing"
]
PageNo = Annotated[int, Query(ge=1, le=1_000_000)]

FIGURE_LABELS: dict[str, str] = {
    "reply": "回复率",
    "resolution": "解决率",
    "satisfaction": "满意率",
    "overdue": "逾期率",
    "deemed_done": "超时默认",
    "reopened": "重办",
    "buck_passing": "踢皮球",
}
RATES = ("reply", "resolution", "satisfaction", "overdue")  # shown as percentages, charted
COUNTS = ("deemed_done", "reopened", "buck_passing")  # shown as counts of the cohort
assert set(FIGURE_LABELS) == set(FIGURES)
NUMERATOR_WORDS: dict[str, str] = {
    "reply": "在时限内首次回复",
    "resolution": "统计期末前已解决（投诉人确认或督办员依规办结）",
    "satisfaction": "评价为 4 或 5 分",
    "overdue": "时限届满前未报办结（含超时默认）",
    "deemed_done": "超时默认",
    "reopened": "此后被重办（投诉人不认可）",
    "buck_passing": "被标记踢皮球",
}
DENOMINATOR_WORDS = "办理时限落在本统计期内的承办事项（列出设定现行时限的事件）"
EVENT_WORDS: dict[str, str] = {
    "ledger.dispatch.assigned.v1": "交办",
    "ledger.dispatch.due_confirmed.v1": "确认时限",
    "ledger.handling.extension_ruled.v1": "延期获准",
    "ledger.handling.reopened.v1": "重办",
    "ledger.handling.replied.v1": "回复",
    "ledger.handling.resolution_claimed.v1": "报办结",
    "ledger.complainant.confirmed.v1": "投诉人确认解决",
    "ledger.handling.closed.v1": "督办员办结",
    "ledger.dispatch.deemed_done.v1": "超时默认",
    "ledger.dispatch.buck_passing_flagged.v1": "标记踢皮球",
    "ledger.complainant.satisfaction_rated.v1": "满意度评价",
}


# -- the answers' shapes -------------------------------------------------------------------------


class Ratio(BaseModel):
    numerator: int
    denominator: int


class UnitFigures(BaseModel):
    unit: str
    figures: dict[str, Ratio]


class SignedState(BaseModel):
    """The period's signed figures: the version in force (None: none yet) and whether it agrees
    with the table, with every difference by unit and figure."""

    version: int | None
    agrees: bool | None
    differences: list[dict[str, Any]]


class RatesTable(BaseModel):
    period: str
    start: int  # µs, included
    end: int  # µs, excluded
    ended: bool
    units: list[UnitFigures]
    signed: SignedState


class EvidenceLine(BaseModel):
    case: str
    unit: str
    round: int
    event: str
    event_type: str | None
    log_time: int  # µs


class EvidencePage(BaseModel):
    period: str
    unit: str
    figure: str
    numerator: int
    denominator: int
    page_size: int
    numerator_page: int
    denominator_page: int
    numerator_events: list[EvidenceLine]
    denominator_events: list[EvidenceLine]


# -- reading -------------------------------------------------------------------------------------


def _now() -> int:
    return int(time.time() * 1_000_000)


def _period(text: str) -> Period:
    try:
        return requested_period(text, _now())
    except ValueError:
        raise ProblemError(VALIDATION, "统计期应为月份（如 2026-11）或季度（如 2026-Q4）") from None
    except UnknownPeriod:
        raise ProblemError(NOT_FOUND, "该统计期尚未开始，没有统计数据") from None


async def rate_item_pages(store: DocumentStore) -> AsyncIterator[list[Doc]]:
    last: str | None = None
    while True:
        page_ = await store.find(
            RATE_ITEMS,
            {"_id": {"$gt": last}} if last else None,
            sort=[("_id", ASC)],
            limit=DOCS_A_READ,
        )
        if not page_:
            return
        yield page_
        last = page_[-1]["_id"]


async def read_evidence(store: DocumentStore, made: list[PeriodEvidence]) -> list[PeriodEvidence]:
    """One read of every ``rate_items`` document, each added to every period's evidence (for
    one unit's evidence alone, only the cases it has an item on)."""
    units = {ev.only for ev in made}
    only = units.pop() if len(units) == 1 else None
    async for docs in rate_item_pages(store):
        for doc in docs:
            if only is not None and not concerns(doc, only):
                continue
            for ev in made:
                ev.add(doc)
    return made


def _kept(request: Request) -> CountsAtPosition:
    state = request.app.state
    kept = getattr(state, "oversight_rates_evidence", None)
    if kept is None:
        kept = state.oversight_rates_evidence = CountsAtPosition()
    return kept


async def period_evidence_of(request: Request, p: Period) -> PeriodEvidence:
    """Every unit's evidence for the period, read once per projector position."""
    store = await read_store(request)

    async def read() -> PeriodEvidence:
        return (await read_evidence(store, [PeriodEvidence(p.start, p.end)]))[0]

    found: PeriodEvidence = await _kept(request).get(position_of(request), ("period", p.id), read)
    return found


async def signed_versions(request: Request, period_id: str) -> list[dict[str, Any]]:
    """The accepted versions of the period's signed figures, in order (none without a log)."""
    service = get_context(request).writer
    if service is None:
        return []
    writer = await service.writer()
    live = await writer.registry()
    fresh = LedgerFold(live.registry, writer.log.partitions, writer.genesis)
    stream = period_stream(period_id)
    seen: dict[tuple[int, int], Verdict] = {}
    await fold_stream(writer.log, fresh, stream, observe=seen)
    out: list[dict[str, Any]] = []
    async for rec in writer.log.read_stream(stream):
        verdict = seen.get((rec.partition, rec.offset))
        if verdict is None or not verdict.accepted:
            continue
        env = orjson.loads(rec.record)
        if env["type"] == FIGURES_PUBLISHED:
            out.append(env["data"])
    return out


def signed_state(figures: Figures, signed: dict[str, Any] | None) -> SignedState:
    """Whether the signed version in force agrees with ``figures``, difference by difference."""
    if signed is None:
        return SignedState(version=None, agrees=None, differences=[])
    diffs = differences(figures, figures_of_event(signed))
    return SignedState(
        version=signed["version"], agrees=not diffs, differences=[_difference(d) for d in diffs]
    )


def _difference(d: Difference) -> dict[str, Any]:
    def ratio(r: tuple[int, int] | None) -> dict[str, int] | None:
        return None if r is None else {"numerator": r[0], "denominator": r[1]}

    return {"unit": d.unit, "figure": d.figure, "live": ratio(d.ours), "signed": ratio(d.theirs)}


def rates_table(p: Period, figures: Figures, signed: dict[str, Any] | None, now: int) -> RatesTable:
    return RatesTable(
        period=p.id,
        start=p.start,
        end=p.end,
        ended=p.end <= now,
        units=[
            UnitFigures(
                unit=unit,
                figures={f: Ratio(numerator=n, denominator=d) for f, (n, d) in row.items()},
            )
            for unit, row in figures.items()
        ],
        signed=signed_state(figures, signed),
    )


async def _table(request: Request, p: Period) -> RatesTable:
    ev = await period_evidence_of(request, p)
    versions = await signed_versions(request, p.id)
    return rates_table(p, ev.figures(), versions[-1] if versions else None, _now())


def page_count(total: int) -> int:
    return max(1, -(-total // PAGE_SIZE))


def _slice(entries: list[Entry], page_no: int) -> list[Entry]:
    return entries[(page_no - 1) * PAGE_SIZE : page_no * PAGE_SIZE]


async def _lines(store: DocumentStore, entries: list[Entry]) -> list[EvidenceLine]:
    """The entries with their events' types (from the timeline, by event id)."""
    ids = sorted({e.event for e in entries})
    steps = await store.find(STEPS, {"_id": {"$in": ids}}, limit=len(ids)) if ids else []
    types = {s["_id"]: s["type"] for s in steps}
    return [
        EvidenceLine(
            case=e.case,
            unit=e.unit,
            round=e.round,
            event=e.event,
            event_type=types.get(e.event),
            log_time=e.log_time,
        )
        for e in entries
    ]


async def _evidence_page(
    request: Request, p: Period, unit: str, figure: str, num_page: int, den_page: int
) -> EvidencePage:
    ev = await period_evidence_of(request, p)
    if unit not in ev.units:
        raise ProblemError(NOT_FOUND, "该单位在本统计期没有考核数据")
    found = ev.evidence(unit, figure)
    store = await read_store(request)
    return EvidencePage(
        period=p.id,
        unit=unit,
        figure=figure,
        numerator=len(found.numerator),
        denominator=len(found.denominator),
        page_size=PAGE_SIZE,
        numerator_page=num_page,
        denominator_page=den_page,
        numerator_events=await _lines(store, _slice(found.numerator, num_page)),
        denominator_events=await _lines(store, _slice(found.denominator, den_page)),
    )


async def unit_months(request: Request, unit: str, months: list[Period]) -> list[PeriodEvidence]:
    """The unit's evidence in each month: one read of the documents for all of them."""
    store = await read_store(request)

    async def read() -> list[PeriodEvidence]:
        return await read_evidence(store, [PeriodEvidence(m.start, m.end, unit) for m in months])

    key = ("unit", unit, tuple(m.id for m in months))
    found: list[PeriodEvidence] = await _kept(request).get(position_of(request), key, read)
    return found


def unit_charts(unit: str, months: list[Period], evidence: list[PeriodEvidence]) -> list[str]:
    """One chart per rate over the months (pure)."""
    rows = [ev.figures().get(unit) for ev in evidence]
    span = f"{months[0].id} 至 {months[-1].id}" if months else ""
    return [
        rate_chart(
            f"{FIGURE_LABELS[f]}（{unit}，{span}）",
            [
                Point(f"{int(m.id[5:])}月", row[f] if row else None, m.id)
                for m, row in zip(months, rows, strict=True)
            ],
        )
        for f in RATES
    ]


def _pct(ratio: tuple[int, int] | Ratio) -> str:
    pair = (ratio.numerator, ratio.denominator) if isinstance(ratio, Ratio) else ratio
    value = percent(pair)
    return "—" if value is None else f"{value:.1f}%"


# -- the routes ----------------------------------------------------------------------------------

reader_page = page(*READERS)
reader_api = require_roles(*READERS)


@router.get("/rates", include_in_schema=False)
async def rates_home(
    period: Annotated[str, Query(pattern=f"^({PERIOD_PATTERN[1:-1]})?$")] = "",
    operator: Operator = Depends(reader_page),
) -> Response:
    """The chosen period's table (the form on the table page), else the current month's."""
    chosen = _period(period).id if period else month_of(_now())
    return RedirectResponse(f"/rates/{chosen}", status_code=303)


@router.get(
    "/api/rates/{period}",
    summary="每个承办单位在统计期内各项指标的分子与分母，及已签发的统计数是否一致",
    response_model=RatesTable,
)
async def rates_api(
    request: Request,
    period: PeriodPath,
    fresh: FreshRead,
    operator: Operator = Depends(reader_api),
) -> RatesTable:
    return await _table(request, _period(period))


@router.get("/rates/{period}", include_in_schema=False)
async def rates_page(
    request: Request,
    period: PeriodPath,
    fresh: FreshRead,
    operator: Operator = Depends(reader_page),
) -> Response:
    """办理考核统计: every unit × figure, each linked to its drill-down."""
    p = _period(period)
    table = await _table(request, p)
    return get_context(request).pages.render(
        request,
        "oversight_rates.html",
        {
            "table": table,
            "rates": RATES,
            "counts": COUNTS,
            "labels": FIGURE_LABELS,
            "pct": _pct,
            "stale": fresh.gave_up,
        },
    )


@router.get(
    "/api/rates/{period}/units/{unit}/{figure}",
    summary="某单位某项指标背后的事件：分子与分母各自的事件列表（分页）",
    response_model=EvidencePage,
)
async def evidence_api(
    request: Request,
    period: PeriodPath,
    unit: UnitPath,
    figure: Figure,
    fresh: FreshRead,
    numerator_page: PageNo = 1,
    denominator_page: PageNo = 1,
    operator: Operator = Depends(reader_api),
) -> EvidencePage:
    p = _period(period)
    return await _evidence_page(request, p, unit, figure, numerator_page, denominator_page)


@router.get("/rates/{period}/units/{unit}/{figure}", include_in_schema=False)
async def evidence_page(
    request: Request,
    period: PeriodPath,
    unit: UnitPath,
    figure: Figure,
    fresh: FreshRead,
    numerator_page: PageNo = 1,
    denominator_page: PageNo = 1,
    operator: Operator = Depends(reader_page),
) -> Response:
    """The events behind one unit's figure; JSON when asked for it (``Accept``)."""
    p = _period(period)
    found = await _evidence_page(request, p, unit, figure, numerator_page, denominator_page)
    if not wants_html(request) and "json" in request.headers.get("accept", ""):
        return JSONResponse(found.model_dump(mode="json"))
    return get_context(request).pages.render(
        request,
        "oversight_rate_evidence.html",
        {
            "found": found,
            "label": FIGURE_LABELS[figure],
            "numerator_words": NUMERATOR_WORDS[figure],
            "denominator_words": DENOMINATOR_WORDS
            if figure != "satisfaction"
            else "统计期内给出的全部满意度评价（每件投诉一次）",
            "event_words": EVENT_WORDS,
            # A case's timeline (办理全过程) is a supervisor's page: linked for them only.
            "can_open_cases": operator.has_any({Role.SUPERVISOR}),
            "pct": _pct((found.numerator, found.denominator)),
            "numerator_pages": page_count(found.numerator),
            "denominator_pages": page_count(found.denominator),
            "stale": fresh.gave_up,
        },
    )


@router.get("/rates/units/{unit}", include_in_schema=False)
async def unit_page(
    request: Request,
    unit: UnitPath,
    fresh: FreshRead,
    operator: Operator = Depends(reader_page),
) -> Response:
    """A unit's rates over the last twelve months, one chart per rate, and the table beside."""
    months = last_months(_now())
    evidence = await unit_months(request, unit, months)
    rows = [(m, ev.figures().get(unit)) for m, ev in zip(months, evidence, strict=True)]
    if all(row is None for _, row in rows):
        raise ProblemError(NOT_FOUND, "该单位近十二个月没有考核数据")
    return get_context(request).pages.render(
        request,
        "oversight_unit_rates.html",
        {
            "unit": unit,
            "charts": unit_charts(unit, months, evidence),
            "rows": rows,
            "rates": RATES,
            "counts": COUNTS,
            "labels": FIGURE_LABELS,
            "pct": _pct,
            "stale": fresh.gave_up,
        },
    )


NAV = (NavItem("考核统计", "/rates", frozenset(READERS)),)
