"""Case summary: one document per case stream (``cases``) and one per accepted event (``timeline``).

Written independently of the rule book's case state machine (``shared/rules/case/``) so the
two can catch each other; it keeps only what list pages need: the lead unit's clock (due time,
overdue) and which co-units were deemed done. No payload text: complaint text,
replies and rulings stay in the log (and the complainant's identity never enters it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from shared.readside.projection import Accepted, UnknownEvent, Write
from shared.rules import case as c
from shared.store.port import DESC, Doc, DocumentStore, Scalar

CASES = "cases"
TIMELINE = "timeline"

Rule = Callable[[Doc, Mapping[str, Any]], None]


def _opened(doc: Doc, d: Mapping[str, Any]) -> None:
    doc.update(status=c.RECEIVED, unit=d["unit"], own_complaint=1 if "complaint_no" in d else 0)


def _status(status: str) -> Rule:
    def rule(doc: Doc, d: Mapping[str, Any]) -> None:
        doc["status"] = status

    return rule


def _merged(doc: Doc, d: Mapping[str, Any]) -> None:
    doc.update(status=c.MERGED, merged_into=d["target"])


def _gathered(doc: Doc, d: Mapping[str, Any]) -> None:
    doc["gathered"] = [*doc["gathered"], d["source"]]


def _split(doc: Doc, d: Mapping[str, Any]) -> None:
    if doc["status"] == c.MERGED:
        doc.update(status=c.RECEIVED, merged_into=None)
    else:
        doc["gathered"] = [g for g in doc["gathered"] if g != d["other"]]


def _assigned(doc: Doc, d: Mapping[str, Any]) -> None:
    doc.update(
        status=c.ASSIGNED,
        lead_unit=d["lead_unit"],
        co_units=[u["unit"] for u in d.get("co_units", ())],
        due_at=d["due_at"],
        overdue=False,
        deemed_done=[],
    )


def _return_ruled(doc: Doc, d: Mapping[str, Any]) -> None:
    if not d["granted"]:
        return
    if d["unit"] == doc["lead_unit"]:
        doc.update(status=c.RECEIVED, lead_unit=None, co_units=[], due_at=None, deemed_done=[])
    else:
        doc["co_units"] = [u for u in doc["co_units"] if u != d["unit"]]


def _claimed(doc: Doc, d: Mapping[str, Any]) -> None:
    if d["unit"] == doc["lead_unit"]:  # a co-unit's claim completes only its part
        doc["status"] = c.CLAIMED


def _extension_ruled(doc: Doc, d: Mapping[str, Any]) -> None:
    if d["granted"] and d["unit"] == doc["lead_unit"]:
        doc.update(due_at=d["due_at"], overdue=False)


def _deemed_done(doc: Doc, d: Mapping[str, Any]) -> None:
    doc["deemed_done"] = [*doc["deemed_done"], d["unit"]]


def _due_confirmed(doc: Doc, d: Mapping[str, Any]) -> None:
    if d["unit"] == doc["lead_unit"]:  # a co-unit's due is its own (dispatch_cases keeps it)
        doc["due_at"] = d["due_at"]


def _reopened(doc: Doc, d: Mapping[str, Any]) -> None:
    lead = next(u for u in d["units"] if u["unit"] == doc["lead_unit"])
    doc.update(status=c.ASSIGNED, due_at=lead["due_at"], overdue=False, deemed_done=[])


def _elapsed(doc: Doc, d: Mapping[str, Any]) -> None:
    if d["deadline"] == "handling" and d["unit"] == doc["lead_unit"]:
        doc["overdue"] = True  # the lead is overdue; the case stays open and is escalated


def _escalated(doc: Doc, d: Mapping[str, Any]) -> None:
    doc["escalation"] = d["level"]


def _same(doc: Doc, d: Mapping[str, Any]) -> None:
    return None


def _unit_resolved(doc: Doc, d: Mapping[str, Any]) -> None:
    doc["unit"] = d["unit"]


RULES: dict[str, Rule] = {
    "ledger.complaint.received.v1": _opened,
    "ledger.complaint.screened.v1": _same,
    "ledger.complaint.delivered.v1": _same,
    "ledger.inspection.finding_recorded.v1": _opened,
    "ledger.complaint.linked_as_duplicate.v1": _merged,
    "ledger.complaint.gathered.v1": _gathered,
    "ledger.complaint.link_split.v1": _split,
    "ledger.complaint.flagged_cross_level.v1": _same,
    "ledger.complaint.withdrawn.v1": _status(c.WITHDRAWN),
    "ledger.complaint.declined.v1": _status(c.DECLINED),
    "ledger.complaint.unit_resolved.v1": _unit_resolved,
    "ledger.complaint.recategorised.v1": _same,
    "ledger.complainant.confirmed.v1": _status(c.RESOLVED),
    "ledger.complainant.disputed.v1": _status(c.DISPUTED),
    "ledger.complainant.satisfaction_rated.v1": _same,
    "ledger.complaint.vault_erased.v1": _same,
    "ledger.dispatch.assigned.v1": _assigned,
    "ledger.dispatch.return_ruled.v1": _return_ruled,
    "ledger.dispatch.deemed_done.v1": _deemed_done,
    "ledger.dispatch.due_confirmed.v1": _due_confirmed,
    "ledger.dispatch.conference_ruled.v1": _same,  # a conference's ruling moves no clock
    "ledger.dispatch.buck_passing_flagged.v1": _same,
    "ledger.handling.acknowledged.v1": _same,
    "ledger.handling.replied.v1": _same,
    "ledger.handling.progress.v1": _same,
    "ledger.handling.resolution_claimed.v1": _claimed,
    "ledger.handling.return_requested.v1": _same,
    "ledger.handling.extension_requested.v1": _same,
    "ledger.handling.extension_ruled.v1": _extension_ruled,
    "ledger.handling.reopened.v1": _reopened,
    "ledger.handling.closed.v1": _status(c.CLOSED),
    "ledger.handling.first_shown.v1": _same,
    "ledger.deadline.elapsed.v1": _elapsed,
    "ledger.supervision.escalated.v1": _escalated,
    "ledger.supervision.reminded.v1": _same,  # a reminder moves no clock and no level
    "ledger.penalty.imposed.v1": _same,
    "ledger.penalty.revoked.v1": _same,
    "ledger.penalty.proposed.v1": _same,
    "ledger.penalty.proposal_dismissed.v1": _same,
    "ledger.publication.drafted.v1": _same,
    "ledger.publication.published.v1": _same,
    "ledger.publication.withheld.v1": _same,
    "ledger.publication.withdrawn.v1": _same,
    "ledger.publication.corrected.v1": _same,
    "ledger.appeal.filed.v1": _same,  # an appeal moves no status and no clock
    "ledger.appeal.ruled.v1": _same,
}


def _fresh() -> Doc:
    return {
        "status": c.NEW,
        "unit": None,
        "lead_unit": None,
        "co_units": [],
        "due_at": None,
        "overdue": False,
        "deemed_done": [],
        "escalation": 0,
        "merged_into": None,
        "own_complaint": 0,
        "gathered": [],
        "complaints": 0,
        "opened_at": None,
        "last_at": 0,
        "events": 0,
    }


class CaseSummary:
    """The Projection for ``cases`` and ``timeline`` (see the module docstring)."""

    name = "case_summary"
    stream_kinds = frozenset({"case"})
    stream_collection = CASES
    collections = (CASES, TIMELINE)

    def __init__(self, rules: Mapping[str, Rule] | None = None) -> None:
        # Tests pass a damaged rule table to make poison events; services use the default.
        self.rules = RULES if rules is None else rules

    async def setup(self, store: DocumentStore) -> None:
        # Equality fields first, the sort field last (the port's advice for pages).
        await store.ensure_index(CASES, ["status", "due_at"])
        await store.ensure_index(CASES, ["unit", "status", ("last_at", DESC)])
        await store.ensure_index(CASES, ["lead_unit", "status", "due_at"])
        await store.ensure_index(CASES, ["overdue", "status"])
        await store.ensure_index(TIMELINE, ["case", "at"])

    def apply(self, current: Doc | None, event: Accepted) -> list[Write]:
        rule = self.rules.get(event.type)
        if rule is None:
            raise UnknownEvent(event.type)
        before = current if current is not None else _fresh()
        doc = {k: v for k, v in before.items() if k not in ("_id", "_pos")}
        rule(doc, event.data)
        n = doc["events"] + 1
        doc.update(
            complaints=doc["own_complaint"] + len(doc["gathered"]),
            opened_at=doc["opened_at"] or event.log_time,
            last_at=event.log_time,
            events=n,
        )
        entry = {
            "case": event.stream,
            "n": n,  # the event's place among the case's accepted events (from the doc before)
            "type": event.type,
            "actor": event.actor,
            "at": event.log_time,
        }
        return [Write(TIMELINE, event.id, entry), Write(CASES, event.stream, doc)]


# -- aggregates: queries over the per-case documents, never counters ---------------------------


async def status_counts(store: DocumentStore, unit: str | None = None) -> dict[Scalar, int]:
    return await store.grouped_count(CASES, "status", {"unit": unit} if unit else None)


async def overdue_open_by_unit(store: DocumentStore) -> dict[Scalar, int]:
    return await store.grouped_count(
        CASES, "lead_unit", {"overdue": True, "status": {"$in": sorted(c.OPEN)}}
    )
