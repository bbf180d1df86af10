"""The signed period figures (``period.figures_published`` in the stream ``period-<id>``): the
event's data made from a period's figures, and the figures read back from it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.events.catalog import PeriodFiguresPublished
from shared.reports.rates import Figures

FIGURES_PUBLISHED = "ledger.period.figures_published.v1"


def period_stream(period_id: str) -> str:
    return f"period-{period_id}"


def figures_published(
    period_id: str,
    figures: Figures,
    *,
    version: int = 1,
    replaces: int | None = None,
    reason: str = "",
) -> dict[str, Any]:
    """The data of version ``version`` (a correction names the version it replaces, and why)."""
    event = PeriodFiguresPublished(
        period=period_id,
        version=version,
        replaces=replaces,
        reason=reason,
        units=[
            {
                "unit": unit,
                "figures": {f: {"numerator": n, "denominator": d} for f, (n, d) in row.items()},
            }
            for unit, row in sorted(figures.items())
        ],
    )
    return event.model_dump(mode="json")


def figures_of_event(data: Mapping[str, Any]) -> Figures:
    return {
        u["unit"]: {f: (r["numerator"], r["denominator"]) for f, r in sorted(u["figures"].items())}
        for u in data["units"]
    }
