"""The supervision dashboard's read model (``oversight_dashboard``): one document per case with
what the dashboard filters, counts and pages on, every unit's clock, and the case's timeline.

* The case summary's fields (status, lead unit, due time, escalation level, ...), by the case
  summary's own rules (:class:`~shared.readside.projections.case_summary.CaseSummary`), plus the
  complaint number and category.
* ``clocks``: each unit on the case, its due time, overdue, deemed done (超时默认, counted as
  overdue, never as done), completed (it claimed resolution), how many extensions it was
  granted; a reopening (重办) gives the named units fresh dues.
* ``oversight_steps``: the timeline, one document per accepted event (by event id) — its case,
  its place among the case's events, type, log time, who acted (a complainant only as
  ``投诉人``: never the pseudonym) and the few facts its wording
  (:mod:`services.oversight.timeline_words`) names. No free text, no complainant identity.
  Apart from the case's document, so the dashboard's rows and counts stay small.
* One key per dashboard tab (``k_<tab>``): ``<due µs, 20 digits>|<case id>`` while the case is
  in the tab, else None. Unique and ordered by due time, so one indexed range serves a tab's
  page, its keyset paging (``> last key``) and its due window (``<= key of now + window``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.oversight.timeline_words import facts_of
from shared.readside.projection import Accepted, UnknownEvent, Write
from shared.readside.projections.case_summary import CaseSummary
from shared.rules import case as c
from shared.rules.act import COMPLAINANT, micros
from shared.store.port import Doc, DocumentStore

DASHBOARD = "oversight_dashboard"
STEPS = "oversight_steps"

TABS = ("overdue", "due_soon", "escalated", "claimed", "disputed", "resolved")
"""超时 · 即将到期 · 已督办 · 待投诉人确认 · 投诉人不认可 · 已确认待办结."""

WORKING = frozenset({c.ASSIGNED, c.DISPUTED})  # a unit still has to act
KEY_DIGITS = 20

_SUMMARY = CaseSummary()


IN_TAB = {"$gt": ""}
"""A case in the tab: its key is a string (SQLite plans ``IS NOT NULL`` on an expression as a
full scan; a range it serves from the index)."""


def tab_key(tab: str) -> str:
    return f"k_{tab}"


def due_key(due: int | None, case: str) -> str:
    """The ordered, unique key of a case in a tab (no due time sorts first)."""
    return f"{max(due or 0, 0):0{KEY_DIGITS}d}|{case}"


def time_bound(at_micros: int) -> str:
    """The key bound of a log time: every key with a due time up to it sorts at or below."""
    return f"{max(at_micros, 0):0{KEY_DIGITS}d}|~"


# -- every unit's clock --------------------------------------------------------------------------


def _clock(unit: str, due_at: str | None, lead: bool) -> dict[str, Any]:
    return {
        "unit": unit,
        "lead": lead,
        "due_at": due_at,
        "overdue": False,
        "deemed_done": False,
        "completed": False,
        "extensions": 0,
    }


def _set(doc: Doc, unit: str | None, **changes: Any) -> None:
    doc["clocks"] = [{**k, **changes} if k["unit"] == unit else k for k in doc["clocks"]]


def _clocks(doc: Doc, d: Mapping[str, Any], t: str) -> None:
    if t == "ledger.dispatch.assigned.v1":
        doc["clocks"] = [
            _clock(d["lead_unit"], d["due_at"], True),
            *(_clock(u["unit"], u["due_at"], False) for u in d.get("co_units", ())),
        ]
    elif t == "ledger.dispatch.return_ruled.v1" and d["granted"]:
        doc["clocks"] = [k for k in doc["clocks"] if k["unit"] != d["unit"]]
    elif t == "ledger.handling.resolution_claimed.v1":
        _set(doc, d["unit"], completed=True)
    elif t == "ledger.dispatch.deemed_done.v1":
        _set(doc, d["unit"], deemed_done=True, overdue=True)
    elif t == "ledger.deadline.elapsed.v1" and d["deadline"] == "handling":
        _set(doc, d.get("unit"), overdue=True)
    elif t == "ledger.dispatch.due_confirmed.v1":
        _set(doc, d["unit"], due_at=d["due_at"])
    elif t == "ledger.handling.extension_ruled.v1" and d["granted"]:
        ext = next((k["extensions"] for k in doc["clocks"] if k["unit"] == d["unit"]), 0)
        _set(doc, d["unit"], due_at=d["due_at"], overdue=False, extensions=ext + 1)
    elif t == "ledger.handling.reopened.v1":
        fresh = {u["unit"]: u["due_at"] for u in d["units"]}
        doc["clocks"] = [
            {**_clock(k["unit"], fresh[k["unit"]], k["lead"]), "extensions": k["extensions"]}
            for k in doc["clocks"]
            if k["unit"] in fresh
        ]


def _facts(doc: Doc, d: Mapping[str, Any], t: str) -> None:
    if t == "ledger.complaint.received.v1":
        doc.update(
            complaint_no=d["complaint_no"],
            category=d["category"],
            has_complainant=d.get("complainant") is not None,
        )
    elif t == "ledger.inspection.finding_recorded.v1":
        doc["category"] = d["finding"]
    elif t == "ledger.complaint.recategorised.v1":
        doc["category"] = d["category"]
    elif t == "ledger.handling.resolution_claimed.v1" and d["unit"] == doc["lead_unit"]:
        doc.update(answer_due_at=d.get("answer_due_at"), answer=None)
    elif t == "ledger.complainant.confirmed.v1":
        doc["answer"] = "confirmed"
    elif t == "ledger.complainant.disputed.v1":
        doc["answer"] = "disputed"
    elif t == "ledger.handling.reopened.v1":
        doc.update(answer_due_at=None, answer=None)


def _step(e: Accepted, n: int) -> dict[str, Any]:
    actor = "投诉人" if e.actor.split("/", 1)[0] == COMPLAINANT else e.actor
    facts = facts_of(e.type, e.data)
    return {
        "case": e.stream,
        "n": n,
        "type": e.type,
        "at": e.log_time,
        "actor": actor,
        "facts": facts,
    }


# -- the tabs ------------------------------------------------------------------------------------


def _tabs(doc: Doc) -> dict[str, bool]:
    status, open_, late = doc["status"], doc["open"], doc["late"]
    return {
        "overdue": open_ and late,
        "due_soon": status in WORKING and not late and doc["due_at"] is not None,
        "escalated": open_ and doc["escalation"] > 0,
        "claimed": status == c.CLAIMED,
        "disputed": status == c.DISPUTED,
        "resolved": status == c.RESOLVED,
    }


def derive(doc: Doc, case: str) -> None:
    """The fields the dashboard filters, counts and sorts on, from the others."""
    due = micros(doc["due_at"]) if doc["due_at"] else None
    doc.update(
        open=doc["status"] in c.OPEN,
        due=due,
        late=any(k["overdue"] for k in doc["clocks"]),
    )
    key = due_key(due, case)
    doc.update({tab_key(t): key if inside else None for t, inside in _tabs(doc).items()})


def fresh() -> Doc:
    return {
        "complaint_no": None,
        "category": None,
        "has_complainant": False,  # whether anyone can be asked (回访); never who
        "answer_due_at": None,
        "answer": None,
        "clocks": [],
    }


class DashboardCases:
    """The Projection for ``oversight_dashboard`` (see the module docstring)."""

    name = "oversight_dashboard"
    stream_kinds = frozenset({"case"})
    stream_collection = DASHBOARD
    collections = (DASHBOARD, STEPS)

    async def setup(self, store: DocumentStore) -> None:
        await ensure_indexes(store)

    def apply(self, current: Doc | None, event: Accepted) -> list[Write]:
        try:
            doc = dict(_SUMMARY.apply(current, event)[-1].doc)
        except UnknownEvent:  # a type the case summary does not know yet: a step all the same
            if current is None:
                return []
            doc = {k: v for k, v in current.items() if k not in ("_id", "_pos")}
            doc.update(events=doc["events"] + 1, last_at=event.log_time)
        for key, value in fresh().items():
            doc.setdefault(key, value)
        _facts(doc, event.data, event.type)
        _clocks(doc, event.data, event.type)
        derive(doc, event.stream)
        step = _step(event, doc["events"])
        return [Write(STEPS, event.id, step), Write(DASHBOARD, event.stream, doc)]


# Each tab key alone and after each filter's field, so a tab's page and count under one filter
# read the index alone (a filter on a field outside the index reads every document in range);
# the gauges' counts (open by level) from one more. The pair a supervisor filters by most (a
# unit's cases of one category) has its own index per tab, so its page is one range too.
FILTERED_BY = ("lead_unit", "category", "status", "escalation")
FILTERED_BY_PAIRS = (("lead_unit", "category"),)


async def ensure_indexes(store: DocumentStore) -> None:
    for tab in TABS:
        await store.ensure_index(DASHBOARD, [tab_key(tab)])
        for field in FILTERED_BY:
            await store.ensure_index(DASHBOARD, [field, tab_key(tab)])
        for pair in FILTERED_BY_PAIRS:
            await store.ensure_index(DASHBOARD, [*pair, tab_key(tab)])
    await store.ensure_index(DASHBOARD, ["open", "escalation"])
    await store.ensure_index(DASHBOARD, ["status"])
    await store.ensure_index(DASHBOARD, ["complaint_no"])
    await store.ensure_index(STEPS, ["case", "n"])
