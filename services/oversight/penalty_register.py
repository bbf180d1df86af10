"""The penalty register's read model: every penalty (``oversight_penalties``, one document per
penalty) and every proposal with its decision (``oversight_proposals``, one per proposal), from
the case streams' ``penalty.*`` events. Pure, like every projection; the per-case document
(``oversight_penalty_cases``) keeps the case's proposals so a decision can rewrite its
proposal. Staff appear by id only: names stay in the staff directory, outside the log."""

from __future__ import annotations

from typing import Any

from shared.readside.projection import Accepted, Write
from shared.store.port import Doc, DocumentStore

PENALTIES = "oversight_penalties"
PROPOSALS = "oversight_proposals"
PENALTY_CASES = "oversight_penalty_cases"

IMPOSED = "ledger.penalty.imposed.v1"
REVOKED = "ledger.penalty.revoked.v1"
PROPOSED = "ledger.penalty.proposed.v1"
DISMISSED = "ledger.penalty.proposal_dismissed.v1"

PENDING = "pending"


class PenaltyRegister:
    """The Projection for the register (see the module docstring)."""

    name = "penalty_register"
    stream_kinds = frozenset({"case"})
    stream_collection = PENALTY_CASES
    collections = (PENALTIES, PROPOSALS, PENALTY_CASES)

    async def setup(self, store: DocumentStore) -> None:
        for fields in (["unit"], ["offence"], ["staff_id", "offence"], ["imposed_at"]):
            await store.ensure_index(PENALTIES, fields)
        await store.ensure_index(PROPOSALS, ["status"])

    def apply(self, current: Doc | None, event: Accepted) -> list[Write]:
        if event.type not in (IMPOSED, REVOKED, PROPOSED, DISMISSED):
            return []
        doc: dict[str, Any] = {"proposals": {}, "penalties": {}}
        if current is not None:
            doc = {"proposals": dict(current["proposals"]), "penalties": dict(current["penalties"])}
        d = event.data
        writes: list[Write] = []
        if event.type == PROPOSED:
            proposal = {**d, "case": event.stream, "status": PENDING, "proposed_at": event.log_time}
            doc["proposals"][d["proposal_id"]] = proposal
            writes.append(Write(PROPOSALS, d["proposal_id"], proposal))
        elif event.type == DISMISSED:
            writes += _decided(doc, d["proposal_id"], "dismissed", event, reason=d["reason"])
        elif event.type == IMPOSED:
            penalty = {
                **d,
                "case": event.stream,
                "departure": bool(d.get("departure_reason")),
                "imposed_at": event.log_time,
                "by": event.actor,
                "revoked": False,
            }
            doc["penalties"][d["penalty_id"]] = penalty
            writes.append(Write(PENALTIES, d["penalty_id"], penalty))
            if d.get("proposal_id"):
                writes += _decided(doc, d["proposal_id"], "imposed", event, penalty=d["penalty_id"])
        else:
            penalty = {**doc["penalties"][d["penalty_id"]], "revoked": True}
            penalty["revoked_reason"] = d["reason"]
            doc["penalties"][d["penalty_id"]] = penalty
            writes.append(Write(PENALTIES, d["penalty_id"], penalty))
        writes.append(Write(PENALTY_CASES, event.stream, doc))
        return writes


def _decided(
    doc: dict[str, Any], proposal_id: str, status: str, e: Accepted, **more: Any
) -> list[Write]:
    proposal = doc["proposals"].get(proposal_id)
    if proposal is None:
        return []
    proposal = {
        **proposal,
        "status": status,
        "decided_at": e.log_time,
        "decided_by": e.actor,
        **more,
    }
    doc["proposals"][proposal_id] = proposal
    return [Write(PROPOSALS, proposal_id, proposal)]
