"""Differences between two sets of a period's figures, named by unit and figure."""

from __future__ import annotations

from typing import NamedTuple

from shared.reports.rates import Figures


class Difference(NamedTuple):
    unit: str
    figure: str
    ours: tuple[int, int] | None  # from the log (None: no such unit or figure there)
    theirs: tuple[int, int] | None


def differences(ours: Figures, theirs: Figures) -> list[Difference]:
    out: list[Difference] = []
    for unit in sorted(set(ours) | set(theirs)):
        a, b = ours.get(unit, {}), theirs.get(unit, {})
        for figure in sorted(set(a) | set(b)):
            if a.get(figure) != b.get(figure):
                out.append(Difference(unit, figure, a.get(figure), b.get(figure)))
    return out
