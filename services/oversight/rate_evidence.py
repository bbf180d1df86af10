"""The evidence behind a period's figures, read from the live read model (``rate_items``): for
every cohort item of the period, the event that set its due time in force and, per figure, the
event that put it in the numerator (or None); for every score in the period, its event. The
drill-down pages list these; counting them gives the period's table (pure).

The cohort and each figure are evaluated as of the period's end exactly as
:func:`services.oversight.rates_projection.figures_of` does (``tests/unit/test_rate_evidence.py``
holds the two to the same numbers); each numerator entry names the event that put the item
there, as the independent fold's ``drill_down`` does: for overdue, the event that set the due
time no claim met; for satisfaction, the score itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from shared.reports.rates import FIGURES, ITEM_FIGURES, Figures
from shared.store.port import Doc


class Entry(NamedTuple):
    """One line of a drill-down: the cohort item (round 0: a score) and the event behind it."""

    case: str
    unit: str
    round: int
    event: str
    log_time: int  # µs


class Evidence(NamedTuple):
    numerator: list[Entry]
    denominator: list[Entry]


@dataclass(slots=True)
class _Unit:
    cohort: list[Entry] = field(default_factory=list)
    hits: dict[str, list[Entry]] = field(default_factory=lambda: {f: [] for f in ITEM_FIGURES})
    scores: list[Entry] = field(default_factory=list)
    satisfied: list[Entry] = field(default_factory=list)


def _by(
    fact: Mapping[str, Any] | None, end: int, waived: Iterable[str] = ()
) -> Mapping[str, Any] | None:
    """The fact, if it came before ``end`` and no upheld appeal waived it."""
    if fact is None or fact["t"] >= end or fact["event"] in waived:
        return None
    return fact


@dataclass
class PeriodEvidence:
    """Every unit's evidence for the period [start, end) (see the module docstring)."""

    start: int
    end: int
    only: str | None = None  # one unit's evidence alone (a unit's charts)
    units: dict[str, _Unit] = field(default_factory=dict)

    def add(self, doc: Doc) -> None:
        """Add one case's document (``_id``: the case)."""
        if self.only is not None and not concerns(doc, self.only):
            return
        case = doc["_id"]
        for item in doc["items"]:
            if self.only is None or item["unit"] == self.only:
                _item(self, case, item)
        for score in doc["scores"]:
            _score(self, case, score)

    def figures(self) -> Figures:
        """The period's table: each figure's entries counted."""
        out: Figures = {}
        for unit, u in sorted(self.units.items()):
            row = {f: (len(u.hits[f]), len(u.cohort)) for f in ITEM_FIGURES}
            row["satisfaction"] = (len(u.satisfied), len(u.scores))
            out[unit] = dict(sorted(row.items()))
        return out

    def evidence(self, unit: str, figure: str) -> Evidence:
        """The entries behind one unit's figure (KeyError for an unknown figure; an unknown
        unit has none)."""
        if figure not in FIGURES:
            raise KeyError(figure)
        u = self.units.get(unit, _Unit())
        if figure == "satisfaction":
            return Evidence(list(u.satisfied), list(u.scores))
        return Evidence(list(u.hits[figure]), list(u.cohort))


def _item(ev: PeriodEvidence, case: str, item: Mapping[str, Any]) -> None:
    end = ev.end
    dues = [d for d in item["dues"] if d["t"] < end]
    if not dues or (item["released"] is not None and item["released"] < end):
        return
    waived = item.get("waived", [])
    if item["dues"][0]["event"] in waived:  # opened by a reopen an appeal waived
        return
    due = dues[-1]
    if not ev.start <= due["due"] < end:
        return
    unit, rnd = item["unit"], item["round"]
    u = ev.units.setdefault(unit, _Unit())
    set_due = Entry(case, unit, rnd, due["event"], due["t"])
    u.cohort.append(set_due)
    reply, claim = item["reply"], item["claim"]
    hit: dict[str, Mapping[str, Any] | None] = {
        "reply": reply if reply is not None and reply["t"] <= due["due"] else None,
        "resolution": _by(item["resolved"], end),
        "deemed_done": _by(item["deemed"], end, waived),
        "reopened": _by(item["reopened"], end, waived),
        "buck_passing": next((f for f in _flags(item) if _by(f, end, waived) is not None), None),
    }
    for figure, fact in hit.items():
        if fact is not None:
            u.hits[figure].append(Entry(case, unit, rnd, fact["event"], fact["t"]))
    excused = _by(item["deemed"], end) is not None and hit["deemed_done"] is None
    if not (claim is not None and claim["t"] <= due["due"]) and not excused:
        u.hits["overdue"].append(set_due)


def _flags(item: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Every flag naming the item's unit (a document from before ``flags``: its first)."""
    if "flags" in item:
        return list(item["flags"])
    return [item["flagged"]] if item["flagged"] is not None else []


def _score(ev: PeriodEvidence, case: str, score: Mapping[str, Any]) -> None:
    if not ev.start <= score["t"] < ev.end:
        return
    for unit in score["units"]:
        if ev.only is not None and unit != ev.only:
            continue
        u = ev.units.setdefault(unit, _Unit())
        entry = Entry(case, unit, 0, score["event"], score["t"])
        u.scores.append(entry)
        if score["rating"] >= 4:
            u.satisfied.append(entry)


def concerns(doc: Doc, unit: str) -> bool:
    """Whether the case's document holds anything of ``unit``'s: a score counts only for units
    with an item on the case, so a case where it has none adds nothing to its figures."""
    return any(item["unit"] == unit for item in doc["items"])


def period_evidence(
    docs: Iterable[Doc], start: int, end: int, only: str | None = None
) -> PeriodEvidence:
    """Every unit's evidence (or only unit ``only``'s) for [start, end) from the
    ``rate_items`` documents (pure)."""
    ev = PeriodEvidence(start, end, only)
    for doc in docs:
        ev.add(doc)
    return ev
