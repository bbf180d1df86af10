"""The dispatch board's read model: one document per case (``dispatch_board``) with what the
board filters, sorts and pages on, and one per unit on a case (``dispatch_parts``) for the load
per unit. Pure, like every projection; no complaint text, no reasons beyond the unit's own
return reason (which a dispatch officer must read to rule).

* ``phase``: ``unscreened`` → ``ready`` (screened, awaiting assignment) → ``handling``
  (assigned, claimed or disputed) → ``ended`` (resolved, closed, merged, withdrawn, declined).
* Each unit's clock: the lead's due time (``lead_due``, µs, for sorting) and overdue; each
  co-unit's due time, overdue and deemed done (超时默认 counts as overdue, never as resolved).
* The returns awaiting a ruling, the returns granted, the buck-passing patterns flagged, and
  the transfer path (``transfer_path.py``) by log time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.dispatch import transfer_path
from services.dispatch.projection import RULES as DISPATCH_CASE_RULES
from shared.readside.case_table import CaseTable, Rule
from shared.readside.projection import Accepted, Write
from shared.rules.act import micros
from shared.store.port import Doc, DocumentStore

BOARD = "dispatch_board"
PARTS = "dispatch_parts"

UNSCREENED, READY, HANDLING, ENDED = "unscreened", "ready", "handling", "ended"


def _unit(u: Mapping[str, Any], lead: bool) -> dict[str, Any]:
    return {
        "unit": u["unit"],
        "lead": lead,
        "due_at": u["due_at"],
        "due": micros(u["due_at"]),
        "provisional": u.get("provisional", False),
        "overdue": False,
        "deemed_done": False,
        "completed": False,
    }


def _units(doc: Doc) -> list[dict[str, Any]]:
    return list(doc["units"])


def _set_unit(doc: Doc, unit: str, **changes: Any) -> None:
    doc["units"] = [{**u, **changes} if u["unit"] == unit else u for u in _units(doc)]


def _received(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    DISPATCH_CASE_RULES["ledger.complaint.received.v1"](doc, d, e)
    doc["phase"] = UNSCREENED


def _screened(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    DISPATCH_CASE_RULES["ledger.complaint.screened.v1"](doc, d, e)
    if doc["phase"] == UNSCREENED:
        doc["phase"] = READY


def _assigned(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    lead = {"unit": d["lead_unit"], "due_at": d["due_at"], "provisional": d.get("provisional")}
    doc.update(
        phase=HANDLING,
        urgency=d["urgency"],
        units=[_unit(lead, True), *(_unit(u, False) for u in d.get("co_units", ()))],
        returns=[],
        assigned_at=e.log_time,
    )


def _return_requested(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc["returns"] = [*doc["returns"], {"unit": d["unit"], "reason": d["reason"], "at": e.log_time}]


def _return_ruled(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc["returns"] = [r for r in doc["returns"] if r["unit"] != d["unit"]]
    if not d["granted"]:
        return
    doc["returns_granted"] += 1
    if d["unit"] == doc["lead_unit"]:  # the case waits for its next lead (the same append)
        doc.update(phase=READY, units=[], returns=[])
    else:
        doc["units"] = [u for u in _units(doc) if u["unit"] != d["unit"]]


def _claimed(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    _set_unit(doc, d["unit"], completed=True)


def _overdue(doc: Doc, unit: str) -> None:
    if unit not in doc["overdue_units"]:
        doc["overdue_units"] = [*doc["overdue_units"], unit]


def _deemed_done(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    _set_unit(doc, d["unit"], deemed_done=True, overdue=True)
    _overdue(doc, d["unit"])


def _elapsed(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    if d["deadline"] == "handling":
        _set_unit(doc, d["unit"], overdue=True)
        _overdue(doc, d["unit"])


def _extension_ruled(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    if d["granted"]:
        _set_unit(doc, d["unit"], due_at=d["due_at"], due=micros(d["due_at"]), overdue=False)


def _reopened(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    fresh = {u["unit"]: u for u in d["units"]}
    doc.update(
        phase=HANDLING,
        units=[_unit(fresh[u["unit"]], u["lead"]) for u in _units(doc) if u["unit"] in fresh],
    )


def _flagged(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc["flags"] = [
        *doc["flags"],
        {"pattern": d["pattern"], "units": list(d["units"]), "at": e.log_time},
    ]


def _ended(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc["phase"] = ENDED


def _split(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    if doc["phase"] == ENDED and not doc["units"]:  # a merged case comes back to dispatch
        doc["phase"] = READY if doc["screened"] else UNSCREENED


RULES: dict[str, Rule] = {
    "ledger.complaint.received.v1": _received,
    "ledger.complaint.screened.v1": _screened,
    "ledger.complaint.linked_as_duplicate.v1": _ended,
    "ledger.complaint.link_split.v1": _split,
    "ledger.complaint.withdrawn.v1": _ended,
    "ledger.complaint.declined.v1": _ended,
    "ledger.complainant.confirmed.v1": _ended,
    "ledger.dispatch.assigned.v1": _assigned,
    "ledger.dispatch.return_ruled.v1": _return_ruled,
    "ledger.dispatch.deemed_done.v1": _deemed_done,
    "ledger.dispatch.buck_passing_flagged.v1": _flagged,
    "ledger.handling.return_requested.v1": _return_requested,
    "ledger.handling.resolution_claimed.v1": _claimed,
    "ledger.handling.extension_ruled.v1": _extension_ruled,
    "ledger.handling.reopened.v1": _reopened,
    "ledger.handling.closed.v1": _ended,
    "ledger.deadline.elapsed.v1": _elapsed,
}


def _fresh() -> Doc:
    return {
        "complaint_no": None,
        "unit": None,
        "category": None,
        "received_at": None,
        "screened": False,
        "screening": None,
        "screened_at": None,
        "phase": UNSCREENED,
        "urgency": None,
        "assigned_at": None,
        "units": [],
        "returns": [],
        "returns_granted": 0,
        "flags": [],
        "path": [],
        "overdue_units": [],  # every unit whose deadline on the case ever elapsed
        # derived (see ``BoardCases.derive``): what the board filters and sorts on
        "lead_unit": None,
        "lead_due": None,
        "overdue": False,  # any unit on the case (a co-unit deemed done included)
        "lead_overdue": False,
        "returns_pending": 0,
        "flagged": False,
        "last_at": 0,
    }


def _part_docs(case: str, doc: Doc) -> dict[str, Doc]:
    """``dispatch_parts``: each unit that ever held the case, whether it holds it now, whether
    it was ever overdue on it (deemed done included: it counts as overdue, for assessment)."""
    return {
        f"{case}|{h['unit']}": {
            "case": case,
            "unit": h["unit"],
            "lead": h["lead"],
            "open": h["until"] is None,
            "overdue": h["unit"] in doc["overdue_units"],
        }
        for h in doc["path"]
    }


class BoardCases(CaseTable):
    """The Projection for ``dispatch_board`` and ``dispatch_parts`` (see the module docstring)."""

    name = "dispatch_board"
    collection = BOARD
    rules = RULES

    @property
    def collections(self) -> tuple[str, ...]:
        return (BOARD, PARTS)

    def fresh(self) -> Doc:
        return _fresh()

    def derive(self, doc: Doc) -> None:
        lead = next((u for u in doc["units"] if u["lead"]), None)
        doc.update(
            lead_unit=lead["unit"] if lead else None,
            lead_due=lead["due"] if lead else None,
            overdue=any(u["overdue"] for u in doc["units"]),
            lead_overdue=bool(lead and lead["overdue"]),
            returns_pending=len(doc["returns"]),
            flagged=bool(doc["flags"]),
        )

    async def setup(self, store: DocumentStore) -> None:
        await store.ensure_index(BOARD, ["phase", "screened_at"])
        await store.ensure_index(BOARD, ["phase", "lead_due"])
        await store.ensure_index(BOARD, ["phase", "overdue", "lead_due"])
        await store.ensure_index(BOARD, ["phase", "lead_overdue", "lead_due"])
        await store.ensure_index(BOARD, ["returns_pending", "last_at"])
        await store.ensure_index(BOARD, ["flagged", "last_at"])
        await store.ensure_index(PARTS, ["open", "unit"])

    def apply(self, current: Doc | None, event: Accepted) -> list[Write]:
        rule = self.rules.get(event.type)
        path_before = transfer_path.from_docs((current or {}).get("path", ()))
        path = transfer_path.advance(path_before, event.type, event.data, event.log_time)
        if rule is None and path == path_before:
            return []
        doc = {k: v for k, v in (current or self.fresh()).items() if k not in ("_id", "_pos")}
        before_parts = _part_docs(event.stream, doc)
        if rule is not None:
            rule(doc, event.data, event)
        doc["path"] = [h.as_doc() for h in path]
        doc["last_at"] = event.log_time
        self.derive(doc)
        writes = [Write(BOARD, event.stream, doc)]
        for key, part in _part_docs(event.stream, doc).items():
            if before_parts.get(key) != part:
                writes.append(Write(PARTS, key, part))
        return writes
