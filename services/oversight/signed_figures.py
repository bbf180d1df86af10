"""Oversight's read model of the signed period figures (``period.figures_published`` in each
period's stream, ``period_figures.py``): one document per period stream holding the version in
force — the first, or the latest correction (an upheld appeal's new version) — in the shape of
the rates projection's shares (per unit: numerators and denominators in ``FIGURES`` order), so
``totals_of`` reads it. The ranking of an ended period uses it: one small document, whatever the
number of cases, and the figures publication shows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.readside.case_table import CaseTable, Rule
from shared.readside.projection import Accepted
from shared.reports.rates import FIGURES
from shared.reports.signed import FIGURES_PUBLISHED, period_stream
from shared.store.port import Doc, DocumentStore

SIGNED_FIGURES = "signed_figures"
NONE = {"numerator": 0, "denominator": 0}  # a figure a version does not carry


def _published(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc.update(
        period=d["period"],
        version=d["version"],
        event=e.id,
        published_at=e.log_time,
        units=[
            {
                "unit": u["unit"],
                "n": [u["figures"].get(f, NONE)["numerator"] for f in FIGURES],
                "d": [u["figures"].get(f, NONE)["denominator"] for f in FIGURES],
            }
            for u in d["units"]
        ],
    )


RULES: dict[str, Rule] = {FIGURES_PUBLISHED: _published}


class SignedFigures(CaseTable):
    """The Projection for ``signed_figures`` (see the module docstring)."""

    name = "signed_figures"
    collection = SIGNED_FIGURES
    rules = RULES
    stream_kinds = frozenset({"period"})

    def fresh(self) -> Doc:
        return {"period": None, "version": 0, "units": []}


async def signed(store: DocumentStore, period_id: str) -> Doc | None:
    """The period's signed figures in force, or None before the first version."""
    doc = await store.get(SIGNED_FIGURES, period_stream(period_id))
    return doc if doc is not None and doc["version"] > 0 else None
