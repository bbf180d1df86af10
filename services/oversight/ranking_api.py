"""效能考核排名: ``GET /api/ranking/{period}`` (JSON) and the page ``/ranking/{period}`` (zh-CN),
supervisors only. A month (``2026-11``) or a quarter (``2026-Q4``): the units ranked by the
``assessment_weights`` version in force at the period's end (``ranking.py``), which version that
is (its label, when the log took it, who published it), the units with too few cases listed
apart, and each figure linked to the events behind it (``/rates/{period}/units/{unit}/{figure}``).

The figures: once a period has ended and its figures are signed (``period_figures.py``), the
signed version in force (``signed_figures.py``: one document; a correction after an upheld
appeal is the next version); before that, the live totals from the rates projection's shares
(provisional), kept in memory and brought up to the projector's position by reading only the
shares written since (``live_totals.py``).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from fractions import Fraction
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel
from starlette.responses import RedirectResponse, Response

from services.oversight.live_totals import LiveTotals
from services.oversight.ranking import Ranking, RankingRow, rank, version_at
from services.oversight.rates_projection import totals_of
from services.oversight.signed_figures import signed
from shared.events.catalog import AssessmentWeights, ConfigKind, UnitDirectory
from shared.ledger.configuration import PublishedVersion, registry_records, versions
from shared.reports.periods import Period, month_of, period
from shared.rules.registry import Registry
from shared.web import Role
from shared.web.auth import require_roles
from shared.web.config_in_force import typed_at
from shared.web.context import get_context
from shared.web.identity import Operator
from shared.web.pages import NavItem
from shared.web.problems import NOT_FOUND, ProblemError
from shared.web.service_read_model import read_store
from shared.web.sessions import page

router = APIRouter(tags=["assessment"])

PeriodPath = Annotated[
    str,
    Path(
        pattern=r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4])$",
        description="a month (YYYY-MM) or a quarter (YYYY-Qn), Asia/Shanghai",
    ),
]

FIGURE_LABELS = {
    "reply": "按时回复率",
    "resolution": "解决率",
    "satisfaction": "满意率",
    "overdue": "超期率",
    "deemed_done": "超时默认率",
    "reopened": "重办率",
    "buck_passing": "推诿率",
}


# -- the answer ----------------------------------------------------------------------------


class FigureView(BaseModel):
    figure: str
    numerator: int
    denominator: int
    percent: str | None  # the rate, two decimals; None without a denominator
    weight: int
    href: str  # the events behind it


class RowView(BaseModel):
    unit: str
    name: str | None  # in the unit directory in force now
    rank: int | None
    score: str | None  # 0-100, two decimals (ranked by the exact value)
    cases: int
    not_ranked: str | None  # fewer_cases | no_weighted_figure
    figures: list[FigureView]


class WeightsVersion(BaseModel):
    version: str
    published_at: datetime  # the log's time
    published_by: str | None
    weights: dict[str, int]
    min_cases: int
    tie_break: list[str]


class FiguresSource(BaseModel):
    """Where the figures come from: the period's signed figures (the version in force, once
    the period has ended and they are published), or the live read model (provisional)."""

    kind: str  # signed | live
    version: int | None  # the signed figures' version
    published_at: datetime | None
    event: str | None  # the signed figures' event


class RankingView(BaseModel):
    period: str
    start: datetime
    end: datetime
    configuration: WeightsVersion
    figures: FiguresSource
    ranked: list[RowView]
    not_ranked: list[RowView]


def _when(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, UTC)


def _two(value: Fraction) -> str:
    """Two decimals, half up, from the exact value."""
    hundredths = (value * 100 + Fraction(1, 2)) // 1
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def _row(p: Period, row: RankingRow, w: AssessmentWeights, names: dict[str, str]) -> RowView:
    figures = [
        FigureView(
            figure=c.figure,
            numerator=c.numerator,
            denominator=c.denominator,
            percent=_two(Fraction(c.numerator * 100, c.denominator)) if c.denominator else None,
            weight=w.weights.get(c.figure, 0),  # type: ignore[call-overload]
            href=f"/rates/{p.id}/units/{row.unit}/{c.figure}",
        )
        for c in row.cells
    ]
    return RowView(
        unit=row.unit,
        name=names.get(row.unit),
        rank=row.rank,
        score=_two(row.score) if row.score is not None else None,
        cases=row.cases,
        not_ranked=row.not_ranked,
        figures=figures,
    )


def view(
    p: Period,
    ranking: Ranking,
    used: PublishedVersion,
    w: AssessmentWeights,
    names: dict[str, str],
    source: FiguresSource,
) -> RankingView:
    assert used.appended_at is not None
    return RankingView(
        period=p.id,
        start=_when(p.start),
        end=_when(p.end),
        configuration=WeightsVersion(
            version=used.label,
            published_at=_when(used.appended_at),
            published_by=used.actor,
            weights=dict(w.weights),
            min_cases=w.min_cases,
            tie_break=list(w.tie_break),
        ),
        figures=source,
        ranked=[_row(p, r, w, names) for r in ranking.ranked],
        not_ranked=[_row(p, r, w, names) for r in ranking.not_ranked],
    )


# -- the shell -----------------------------------------------------------------------------


def _live_totals(request: Request) -> LiveTotals:
    state = request.app.state
    kept = getattr(state, "oversight_ranking_totals", None)
    if kept is None:
        kept = state.oversight_ranking_totals = LiveTotals()
    return kept


def _projector(request: Request) -> Any:
    served = get_context(request).served
    return served.projector if served is not None else None


async def _configuration(request: Request) -> tuple[Registry, list[PublishedVersion]]:
    writer = get_context(request).writer
    if writer is None:
        raise RuntimeError("the ranking needs the service's deployment")
    event_writer = await writer.writer()
    registry = (await event_writer.registry()).registry
    records = await registry_records(event_writer.log)
    return registry, versions(registry, ConfigKind.assessment_weights, records)


async def ranking_of(request: Request, period_id: str) -> RankingView:
    try:
        p = period(period_id)
    except ValueError:  # well-formed, but outside the calendar (0000-01)
        raise ProblemError(NOT_FOUND, f"{period_id} 不在日历范围内，没有统计数据") from None
    registry, history = await _configuration(request)
    used = version_at(history, p.end)
    if used is None:
        raise ProblemError(
            NOT_FOUND,
            f"{period_id} 结束前尚未发布效能考核权重，该期不排名",
            extensions={"kind": ConfigKind.assessment_weights.value, "period": period_id},
        )
    weights = AssessmentWeights.model_validate(used.content)
    store = await read_store(request)
    published = await signed(store, period_id)
    if published is not None:
        totals = totals_of([published])
        source = FiguresSource(
            kind="signed",
            version=published["version"],
            published_at=_when(published["published_at"]),
            event=published["event"],
        )
    else:
        projector = _projector(request)
        position = dict(projector.position) if projector is not None else None
        owner = (id(projector), id(store))
        totals = await _live_totals(request).totals(store, owner, position, period_id)
        source = FiguresSource(kind="live", version=None, published_at=None, event=None)
    units = typed_at(registry, ConfigKind.unit_directory, UnitDirectory)
    names = {u.id: u.name for u in units.content.units} if units is not None else {}
    return view(p, rank(totals, weights), used, weights, names, source)


@router.get("/api/ranking/{period_id}", summary="效能考核: the units ranked for a month or quarter")
async def ranking_api(
    request: Request,
    period_id: PeriodPath,
    _: Operator = Depends(require_roles(Role.SUPERVISOR)),
) -> RankingView:
    return await ranking_of(request, period_id)


def _neighbours(period_id: str) -> dict[str, list[str]]:
    """The periods beside this one: the one before and after, and its quarter or months."""
    year = int(period_id[:4])
    if "Q" in period_id:
        q = int(period_id[6])
        before = f"{year - 1}-Q4" if q == 1 else f"{year}-Q{q - 1}"
        after = f"{year + 1}-Q1" if q == 4 else f"{year}-Q{q + 1}"
        inside = [f"{year}-{m:02d}" for m in range(3 * q - 2, 3 * q + 1)]
        return {"before": [before], "after": [after], "related": inside}
    m = int(period_id[5:])
    before = f"{year - 1}-12" if m == 1 else f"{year}-{m - 1:02d}"
    after = f"{year + 1}-01" if m == 12 else f"{year}-{m + 1:02d}"
    return {"before": [before], "after": [after], "related": [f"{year}-Q{(m - 1) // 3 + 1}"]}


@router.get("/ranking", include_in_schema=False)
async def latest_ranking(
    request: Request, operator: Operator = Depends(page(Role.SUPERVISOR))
) -> Response:
    """The last month that has ended (Asia/Shanghai), if weights were in force at its end;
    otherwise (a deployment younger than a month) the current month, provisional."""
    this_month = period(month_of(int(time.time() * 1_000_000)))
    last_month = month_of(this_month.start - 1)
    _, history = await _configuration(request)
    shown = last_month if version_at(history, this_month.start) is not None else this_month.id
    return RedirectResponse(f"/ranking/{shown}", status_code=303)


@router.get("/ranking/{period_id}", include_in_schema=False)
async def ranking_page(
    request: Request,
    period_id: PeriodPath,
    operator: Operator = Depends(page(Role.SUPERVISOR)),
) -> Response:
    ranking = await ranking_of(request, period_id)
    return get_context(request).pages.render(
        request,
        "oversight_ranking.html",
        {
            "r": ranking,
            "labels": FIGURE_LABELS,
            "neighbours": _neighbours(period_id),
            "ended": period(period_id).end <= int(time.time() * 1_000_000),
        },
    )


NAV = (NavItem("效能考核", "/ranking", frozenset({Role.SUPERVISOR})),)
