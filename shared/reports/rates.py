"""The rates per unit and period (回复率 / 解决率 / 满意率 / 超期率 and the counts beside them),
as one pure fold over the case streams' accepted events in log order.

This is the independent fold of ``ledger report``: it reads only the events (type, data, log
time, id) and imports no projection code, so the live read model (written separately, in
oversight) and this fold can catch each other. The definitions, as implemented (the README
repeats them word for word):

* A **cohort item** is one unit's assignment on one case: every unit of a ``dispatch.assigned``
  (the lead and each co-unit) gets one, and a ``handling.reopened`` gives every unit it names a
  new one (重办: a new item with its own due time; the old item keeps what became of it).
* An item's **due time** is the one in force: the assignment's (or the reopen's), moved by a
  granted ``handling.extension_ruled`` and by ``dispatch.due_confirmed``.
* A period's figures are taken **as of the period's end**: only events whose log time is before
  the end count. The **cohort** of a unit and period is its items whose due time falls in the
  period. An item whose unit was released by a granted return (``dispatch.return_ruled``; the
  lead's release releases every unit of the case) before the period's end leaves the cohort.
* **reply** = cohort items whose unit's first ``handling.replied`` in the item came at or before
  its due time ÷ cohort.
* **resolution** = cohort items resolved by the period's end ÷ cohort. An item is resolved when
  the complainant confirms (``complainant.confirmed``) or a supervisor closes the case where
  nobody could be asked (``handling.closed`` with basis anonymous, inspection_opened or
  no_answer_in_time) while the item is its unit's current one; a deemed-done item is never
  resolved.
* **overdue** = cohort items with no ``handling.resolution_claimed`` by their unit at or before
  the due time (deemed-done items included, since they made no claim) ÷ cohort.
* **deemed_done** = cohort items deemed done (``dispatch.deemed_done``, 超时默认) by the
  period's end ÷ cohort.
* **reopened** = cohort items whose case was reopened (``handling.reopened``: the complainant
  disputed, 重办) after them, by the period's end ÷ cohort.
* **buck_passing** = cohort items of units named by a ``dispatch.buck_passing_flagged`` on the
  same case (踢皮球; the flag marks every item the named unit had on the case so far) by the
  period's end ÷ cohort.
* **appeals** (申诉复核): an upheld ``appeal.ruled`` waives the event it names for the unit it
  names, on every item of that unit on the case, whatever its log time (a ruling after a
  period's end corrects that period; nothing else after the end counts): an item opened by a
  waived reopen leaves the cohort; an item whose deemed done is waived counts neither as deemed
  done nor as overdue; an item whose reopen is waived no longer counts as reopened; a waived
  flag no longer counts for buck_passing (another flag naming the unit still does). A rejected
  ruling, and an upheld appeal of a penalty, change no figure.
* **satisfaction** = scores of 4 or 5 ÷ all scores (``complainant.satisfaction_rated``, one per
  complaint) whose log time falls in the period, counted for every unit with a current item on
  the case when the score was given.

Every figure is a numerator and a denominator (integers), never a float: the signed period
figures carry them as such. :func:`drill_down` lists the events behind each.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from shared.reports.periods import Period
from shared.rules.act import micros as _micros

FIGURES = (
    "reply",
    "resolution",
    "satisfaction",
    "overdue",
    "deemed_done",
    "reopened",
    "buck_passing",
)
ITEM_FIGURES = tuple(f for f in FIGURES if f != "satisfaction")
APPEAL_RULED = "ledger.appeal.ruled.v1"
"""The one event that counts whatever its log time: an upheld appeal corrects past periods."""
SUPERVISOR_BASES = frozenset({"anonymous", "inspection_opened", "no_answer_in_time"})

Figures = dict[str, dict[str, tuple[int, int]]]
"""unit -> figure -> (numerator, denominator)."""


class Fact(NamedTuple):
    """An accepted event, as much of it as the fold reads."""

    stream: str
    log_time: int  # µs: the log's append time
    id: str
    type: str
    data: Mapping[str, Any]


@dataclass(slots=True)
class _Item:
    case: str
    unit: str
    round: int
    due: int
    due_event: str
    opened: str = ""  # the assignment or reopen that opened the item
    reply: tuple[int, str] | None = None
    claim: tuple[int, str] | None = None
    resolved: str | None = None
    deemed: str | None = None
    reopened: str | None = None
    flags: tuple[str, ...] = ()  # every flag naming the unit, in log order
    released: bool = False
    waived: tuple[str, ...] = ()  # events an upheld appeal of the unit waived


@dataclass(slots=True)
class _Score:
    id: str
    log_time: int
    rating: int
    units: tuple[str, ...]


@dataclass(slots=True)
class _Case:
    round: int = 0
    lead: str | None = None
    current: dict[str, _Item] = field(default_factory=dict)
    items: list[_Item] = field(default_factory=list)


class EvidenceItem(NamedTuple):
    """One entry of a drill-down: the cohort item (or score) and the event behind it."""

    case: str
    unit: str
    round: int  # 0 for a score
    event: str


class Evidence(NamedTuple):
    numerator: list[EvidenceItem]
    denominator: list[EvidenceItem]


class RatesFold:
    """Feed it a period's accepted case events in log order; read :meth:`figures`."""

    def __init__(self, period: Period) -> None:
        self.period = period
        self.cases: dict[str, _Case] = {}
        self.scores: list[tuple[str, _Score]] = []  # (case, score)

    def feed(self, fact: Fact) -> None:
        if fact.log_time >= self.period.end and fact.type != APPEAL_RULED:
            return
        handler = _HANDLERS.get(fact.type)
        if handler is None:
            return
        case = self.cases.get(fact.stream)
        if case is None:
            case = self.cases[fact.stream] = _Case()
        handler(self, fact.stream, case, fact)

    def feed_all(self, facts: Iterable[Fact]) -> RatesFold:
        for f in facts:
            self.feed(f)
        return self

    # -- the cohort ------------------------------------------------------------------------

    def cohort(self) -> dict[str, list[_Item]]:
        p = self.period
        out: dict[str, list[_Item]] = {}
        for case in self.cases.values():
            for item in case.items:
                if item.released or item.opened in item.waived:
                    continue
                if p.start <= item.due < p.end:
                    out.setdefault(item.unit, []).append(item)
        return out

    def _numerator(self, figure: str, item: _Item) -> str | None:
        """The event that puts the item in the figure's numerator, or None."""
        if figure == "reply":
            return item.reply[1] if item.reply and item.reply[0] <= item.due else None
        if figure == "resolution":
            return item.resolved
        if figure == "overdue":
            if item.deemed is not None and item.deemed in item.waived:
                return None
            return None if item.claim and item.claim[0] <= item.due else item.due_event
        if figure == "deemed_done":
            return None if item.deemed in item.waived else item.deemed
        if figure == "reopened":
            return None if item.reopened in item.waived else item.reopened
        return next((f for f in item.flags if f not in item.waived), None)  # buck_passing

    def _scores(self) -> dict[str, list[tuple[str, _Score]]]:
        out: dict[str, list[tuple[str, _Score]]] = {}
        for case, score in self.scores:
            if self.period.holds(score.log_time):
                for unit in score.units:
                    out.setdefault(unit, []).append((case, score))
        return out

    def figures(self) -> Figures:
        out: Figures = {}
        for unit, items in self.cohort().items():
            out[unit] = {
                f: (sum(1 for i in items if self._numerator(f, i) is not None), len(items))
                for f in ITEM_FIGURES
            }
        for unit, scores in self._scores().items():
            figures = out.setdefault(unit, {f: (0, 0) for f in ITEM_FIGURES})
            figures["satisfaction"] = (sum(1 for _, s in scores if s.rating >= 4), len(scores))
        for figures in out.values():
            figures.setdefault("satisfaction", (0, 0))
        return {u: dict(sorted(f.items())) for u, f in sorted(out.items())}

    def drill_down(self, unit: str, figure: str) -> Evidence:
        """The events behind one unit's figure: each numerator entry names the event that put
        the item there (for overdue, the event that set the due time no claim met), each
        denominator entry the event that set the item's due time in force (for satisfaction,
        the scores themselves)."""
        if figure == "satisfaction":
            scores = self._scores().get(unit, [])
            den = [EvidenceItem(c, unit, 0, s.id) for c, s in scores]
            num = [EvidenceItem(c, unit, 0, s.id) for c, s in scores if s.rating >= 4]
            return Evidence(num, den)
        if figure not in ITEM_FIGURES:
            raise KeyError(figure)
        items = self.cohort().get(unit, [])
        den = [EvidenceItem(i.case, unit, i.round, i.due_event) for i in items]
        num = [
            EvidenceItem(i.case, unit, i.round, e)
            for i in items
            if (e := self._numerator(figure, i)) is not None
        ]
        return Evidence(num, den)


# -- what each event does to a case's items ---------------------------------------------------


def _new_round(case: _Case, stream: str, units: Iterable[tuple[str, str]], event: str) -> None:
    case.round += 1
    case.current = {
        u: _Item(stream, u, case.round, _micros(due), event, opened=event) for u, due in units
    }
    case.items.extend(case.current.values())


def _assigned(fold: RatesFold, stream: str, case: _Case, f: Fact) -> None:
    d = f.data
    units = [(d["lead_unit"], d["due_at"])] + [(u["unit"], u["due_at"]) for u in d["co_units"]]
    case.lead = d["lead_unit"]
    _new_round(case, stream, units, f.id)


def _return_ruled(fold: RatesFold, stream: str, case: _Case, f: Fact) -> None:
    if not f.data["granted"]:
        return
    unit = f.data["unit"]
    items = case.current
    released = list(items) if unit == case.lead else [unit]
    for u in released:
        item = items.pop(u, None)
        if item is not None:
            item.released = True


def _due_moved(fold: RatesFold, stream: str, case: _Case, f: Fact) -> None:
    d = f.data
    if d.get("granted", True) and d.get("due_at"):
        item = case.current.get(d["unit"])
        if item is not None:
            item.due, item.due_event = _micros(d["due_at"]), f.id


def _replied(fold: RatesFold, stream: str, case: _Case, f: Fact) -> None:
    item = case.current.get(f.data["unit"])
    if item is not None and item.reply is None:
        item.reply = (f.log_time, f.id)


def _claimed(fold: RatesFold, stream: str, case: _Case, f: Fact) -> None:
    item = case.current.get(f.data["unit"])
    if item is not None and item.claim is None:
        item.claim = (f.log_time, f.id)


def _deemed(fold: RatesFold, stream: str, case: _Case, f: Fact) -> None:
    item = case.current.get(f.data["unit"])
    if item is not None and item.deemed is None:
        item.deemed = f.id


def _resolve(case: _Case, event: str) -> None:
    for item in case.current.values():
        if item.deemed is None and item.resolved is None:
            item.resolved = event


def _confirmed(fold: RatesFold, stream: str, case: _Case, f: Fact) -> None:
    _resolve(case, f.id)


def _closed(fold: RatesFold, stream: str, case: _Case, f: Fact) -> None:
    if f.data["basis"] in SUPERVISOR_BASES:
        _resolve(case, f.id)


def _reopened(fold: RatesFold, stream: str, case: _Case, f: Fact) -> None:
    for item in case.current.values():
        if item.reopened is None:
            item.reopened = f.id
    _new_round(case, stream, [(u["unit"], u["due_at"]) for u in f.data["units"]], f.id)


def _flagged(fold: RatesFold, stream: str, case: _Case, f: Fact) -> None:
    named = set(f.data["units"])
    for item in case.items:
        if item.unit in named:
            item.flags = (*item.flags, f.id)


def _appeal_ruled(fold: RatesFold, stream: str, case: _Case, f: Fact) -> None:
    if f.data["outcome"] != "upheld":
        return
    for item in case.items:
        if item.unit == f.data["unit"]:
            item.waived = (*item.waived, f.data["target_event"])


def _rated(fold: RatesFold, stream: str, case: _Case, f: Fact) -> None:
    score = _Score(f.id, f.log_time, f.data["rating"], tuple(case.current))
    fold.scores.append((stream, score))


_HANDLERS = {
    "ledger.dispatch.assigned.v1": _assigned,
    "ledger.dispatch.return_ruled.v1": _return_ruled,
    "ledger.dispatch.due_confirmed.v1": _due_moved,
    "ledger.handling.extension_ruled.v1": _due_moved,
    "ledger.handling.replied.v1": _replied,
    "ledger.handling.resolution_claimed.v1": _claimed,
    "ledger.dispatch.deemed_done.v1": _deemed,
    "ledger.complainant.confirmed.v1": _confirmed,
    "ledger.handling.closed.v1": _closed,
    "ledger.handling.reopened.v1": _reopened,
    "ledger.dispatch.buck_passing_flagged.v1": _flagged,
    "ledger.complainant.satisfaction_rated.v1": _rated,
    "ledger.appeal.ruled.v1": _appeal_ruled,
}
TYPES = frozenset(_HANDLERS)
"""The event types the fold reads (every other type changes no figure)."""


def period_figures(facts: Iterable[Fact], period: Period) -> Figures:
    return RatesFold(period).feed_all(facts).figures()
