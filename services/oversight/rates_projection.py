"""Oversight's live read model of the rates: one document per case (``rate_items``) holding
every cohort item with the log time of each fact about it, so that any period's figures can be
read as of its end (README "Rates"; the definitions).

Written separately from the independent fold of ``ledger report`` (``shared/reports/rates.py``),
which must agree with it: this side records histories as events arrive and evaluates them per
period at query time; the fold replays the period's events and stops at its end. Nothing here
is a counter: a period's figures are a query over the per-case documents.

An item: ``unit``, ``round``, ``dues`` (every due time it had: ``{t: log time, due: µs,
event}``, the first one when it was made), ``{t, event}`` (or None) for its first reply, first
resolution claim, resolution, deemed-done, reopen and buck-passing flag, and ``released`` (log
time of the granted return that released it), ``flags`` (every buck-passing flag naming the
unit, ``{t, event}``) and ``waived`` (the ids of the events an upheld appeal of the unit
waived: whatever the ruling's log time, so a ruling corrects past periods too). A score:
``{t, rating, units, event}``. (No arrays inside arrays: the stores refuse them.)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from shared.readside.case_table import CaseTable, Rule
from shared.readside.projection import Accepted, Write
from shared.reports.periods import month_of, period, quarter_of
from shared.reports.rates import FIGURES
from shared.rules.act import micros
from shared.store.port import ASC, Doc, DocumentStore

RATE_ITEMS = "rate_items"
RATE_PERIODS = "rate_periods"  # a case's share of each period's figures
SUPERVISOR_BASES = ("anonymous", "inspection_opened", "no_answer_in_time")
_FACTS = ("reply", "claim", "resolved", "deemed", "reopened", "flagged")


def _at(e: Accepted) -> dict[str, Any]:
    return {"t": e.log_time, "event": e.id}


def _current(doc: Doc) -> list[dict[str, Any]]:
    return [i for i in doc["items"] if i["round"] == doc["round"] and i["released"] is None]


def _item_of(doc: Doc, unit: str) -> dict[str, Any] | None:
    return next((i for i in _current(doc) if i["unit"] == unit), None)


def _open_round(doc: Doc, units: Iterable[tuple[str, str]], e: Accepted) -> None:
    doc["round"] += 1
    fresh = [
        {
            "unit": u,
            "round": doc["round"],
            "dues": [{"t": e.log_time, "due": micros(due), "event": e.id}],
            "released": None,
        }
        | {f: None for f in _FACTS}
        for u, due in units
    ]
    doc["items"] = [*doc["items"], *fresh]


def _assigned(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc["lead"] = d["lead_unit"]
    _open_round(
        doc, [(d["lead_unit"], d["due_at"]), *((u["unit"], u["due_at"]) for u in d["co_units"])], e
    )


def _return_ruled(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    if not d["granted"]:
        return
    for item in _current(doc):
        if d["unit"] == doc["lead"] or item["unit"] == d["unit"]:
            item["released"] = e.log_time


def _due_moved(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    if not d.get("granted", True) or not d.get("due_at"):
        return
    item = _item_of(doc, d["unit"])
    if item is not None:
        item["dues"] = [*item["dues"], {"t": e.log_time, "due": micros(d["due_at"]), "event": e.id}]


def _first(fact: str) -> Rule:
    def rule(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
        item = _item_of(doc, d["unit"])
        if item is not None and item[fact] is None:
            item[fact] = _at(e)

    return rule


def _resolve(doc: Doc, e: Accepted) -> None:
    for item in _current(doc):
        if item["deemed"] is None and item["resolved"] is None:
            item["resolved"] = _at(e)


def _confirmed(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    _resolve(doc, e)


def _closed(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    if d["basis"] in SUPERVISOR_BASES:
        _resolve(doc, e)


def _reopened(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    for item in _current(doc):
        if item["reopened"] is None:
            item["reopened"] = _at(e)
    _open_round(doc, [(u["unit"], u["due_at"]) for u in d["units"]], e)


def _flagged(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    for item in doc["items"]:
        if item["unit"] in d["units"]:
            if item["flagged"] is None:
                item["flagged"] = _at(e)
            item["flags"] = [*item.get("flags", []), _at(e)]


def _appeal_ruled(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    if d["outcome"] != "upheld":
        return
    for item in doc["items"]:
        if item["unit"] == d["unit"]:
            item["waived"] = [*item.get("waived", []), d["target_event"]]


def _rated(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    units = [i["unit"] for i in _current(doc)]
    score = {"t": e.log_time, "rating": d["rating"], "units": units, "event": e.id}
    doc["scores"] = [*doc["scores"], score]


RULES: dict[str, Rule] = {
    "ledger.dispatch.assigned.v1": _assigned,
    "ledger.dispatch.return_ruled.v1": _return_ruled,
    "ledger.dispatch.due_confirmed.v1": _due_moved,
    "ledger.handling.extension_ruled.v1": _due_moved,
    "ledger.handling.replied.v1": _first("reply"),
    "ledger.handling.resolution_claimed.v1": _first("claim"),
    "ledger.dispatch.deemed_done.v1": _first("deemed"),
    "ledger.complainant.confirmed.v1": _confirmed,
    "ledger.handling.closed.v1": _closed,
    "ledger.handling.reopened.v1": _reopened,
    "ledger.dispatch.buck_passing_flagged.v1": _flagged,
    "ledger.complainant.satisfaction_rated.v1": _rated,
    "ledger.appeal.ruled.v1": _appeal_ruled,
}


class RateItems(CaseTable):
    """The Projection for ``rate_items`` (see the module docstring), and each case's share of
    every period's figures in ``rate_periods`` (see "a period's totals" below)."""

    name = "rate_items"
    collection = RATE_ITEMS
    rules = RULES

    def fresh(self) -> Doc:
        return {"lead": None, "round": 0, "items": [], "scores": []}

    @property
    def collections(self) -> tuple[str, ...]:
        return (RATE_ITEMS, RATE_PERIODS)

    async def setup(self, store: DocumentStore) -> None:
        await super().setup(store)
        await store.ensure_index(RATE_PERIODS, ["period"])
        await store.ensure_index(RATE_PERIODS, ["period", "partition", "_pos"])  # written since

    def apply(self, current: Doc | None, event: Accepted) -> list[Write]:
        writes = super().apply(current, event)
        if not writes:
            return writes
        case = writes[-1]
        shares = [
            Write(RATE_PERIODS, share_id(event.stream, p), {**doc, "partition": event.partition})
            for p, doc in shares_of(dict(case.doc))
        ]
        return [*shares, case]


# -- a period's figures, as of its end ---------------------------------------------------------

Figures = dict[str, dict[str, tuple[int, int]]]


def _by(fact: Mapping[str, Any] | None, end: int, waived: list[str] | None = None) -> bool:
    return fact is not None and fact["t"] < end and fact["event"] not in (waived or ())


def _flags(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every flag naming the item's unit (a document from before ``flags``: its first)."""
    if "flags" in item:
        return list(item["flags"])
    return [item["flagged"]] if item["flagged"] is not None else []


def figures_of(docs: Iterable[Doc], start: int, end: int) -> Figures:
    """Every unit's numerators and denominators for the period [start, end), read from the
    per-case documents as they stood at ``end`` (pure)."""
    counts: dict[str, dict[str, list[int]]] = {}

    def unit_row(unit: str) -> dict[str, list[int]]:
        return counts.setdefault(
            unit,
            {
                f: [0, 0]
                for f in (
                    "buck_passing",
                    "deemed_done",
                    "overdue",
                    "reopened",
                    "reply",
                    "resolution",
                    "satisfaction",
                )
            },
        )

    for doc in docs:
        for item in doc["items"]:
            dues = [d["due"] for d in item["dues"] if d["t"] < end]
            if not dues or (item["released"] is not None and item["released"] < end):
                continue
            waived = item.get("waived", [])
            if item["dues"][0]["event"] in waived:  # opened by a reopen an appeal waived
                continue
            due = dues[-1]
            if not start <= due < end:
                continue
            row = unit_row(item["unit"])
            reply, claim = item["reply"], item["claim"]
            excused = _by(item["deemed"], end) and not _by(item["deemed"], end, waived)
            hits = {
                "reply": reply is not None and reply["t"] <= due,
                "overdue": not (claim is not None and claim["t"] <= due) and not excused,
                "resolution": _by(item["resolved"], end),
                "deemed_done": _by(item["deemed"], end, waived),
                "reopened": _by(item["reopened"], end, waived),
                "buck_passing": any(_by(f, end, waived) for f in _flags(item)),
            }
            for figure, hit in hits.items():
                row[figure][0] += hit
                row[figure][1] += 1
        for score in doc["scores"]:
            if start <= score["t"] < end:
                for unit in score["units"]:
                    sat = unit_row(unit)["satisfaction"]
                    sat[0] += score["rating"] >= 4
                    sat[1] += 1
    return {
        unit: {f: (n, d) for f, (n, d) in sorted(row.items())}
        for unit, row in sorted(counts.items())
    }


async def live_figures(store: DocumentStore, start: int, end: int) -> Figures:
    """The period's figures from the live read model (read a page of documents at a time)."""
    docs: list[Doc] = []
    last: str | None = None
    while True:
        page = await store.find(
            RATE_ITEMS, {"_id": {"$gt": last}} if last else None, sort=[("_id", ASC)], limit=1000
        )
        if not page:
            return figures_of(docs, start, end)
        docs.extend(page)
        last = page[-1]["_id"]


# -- a period's totals, one document per case and period ------------------------------------
#
# Each case's share of a period's figures (``figures_of`` on its document alone, as of the
# period's end), kept by the projection in ``rate_periods`` (``_id`` = the case and the period),
# for every month and quarter one of its items' due times or one of its scores falls in. The
# figures add up over cases, so a period's totals are a sum over its shares: one indexed read
# of small documents instead of every case's history. The set of periods a case touches only
# grows (due times and scores are only ever added), so no share is left behind stale; a share
# whose items moved out of the period holds no units. Each share names its stream's partition,
# so the shares written since a projector position can be read alone (``live_totals.py``).
# ``live_figures`` still reads the case documents themselves: ``ledger report`` checks those
# against the log.


def share_id(case: str, period_id: str) -> str:
    return f"{case}|{period_id}"


def periods_of(doc: Mapping[str, Any]) -> list[str]:
    """Every month and quarter an item's due time (any it had) or a score falls in."""
    times = [d["due"] for item in doc["items"] for d in item["dues"]]
    times += [s["t"] for s in doc["scores"]]
    return sorted({f(t) for t in times for f in (month_of, quarter_of)})


def shares_of(doc: Doc) -> list[tuple[str, Doc]]:
    """The case's share of each period it touches: per unit, each figure's (n, d)."""
    out: list[tuple[str, Doc]] = []
    for period_id in periods_of(doc):
        p = period(period_id)
        units = [
            {"unit": unit, "n": [row[f][0] for f in FIGURES], "d": [row[f][1] for f in FIGURES]}
            for unit, row in figures_of([doc], p.start, p.end).items()
        ]
        out.append((period_id, {"period": period_id, "units": units}))
    return out


def totals_of(shares: Iterable[Mapping[str, Any]]) -> Figures:
    """The period's figures from its shares (pure): equal to ``figures_of`` over the cases."""
    sums: dict[str, tuple[list[int], list[int]]] = {}
    for share in shares:
        for u in share["units"]:
            n, d = sums.setdefault(u["unit"], ([0] * len(FIGURES), [0] * len(FIGURES)))
            for i in range(len(FIGURES)):
                n[i] += u["n"][i]
                d[i] += u["d"][i]
    return {
        unit: dict(sorted((f, (n[i], d[i])) for i, f in enumerate(FIGURES)))
        for unit, (n, d) in sorted(sums.items())
    }


async def period_totals(store: DocumentStore, period_id: str, page: int = 5000) -> Figures:
    """A month's or a quarter's figures from the shares in ``rate_periods`` (paged by id)."""
    shares: list[Doc] = []
    last: str | None = None
    while True:
        query: dict[str, Any] = {"period": period_id}
        if last is not None:
            query["_id"] = {"$gt": last}
        got = await store.find(RATE_PERIODS, query, sort=[("_id", ASC)], limit=page)
        shares.extend(got)
        if len(got) < page:
            return totals_of(shares)
        last = got[-1]["_id"]
