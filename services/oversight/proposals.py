"""What proposes a penalty (问责建议): pure.

Three facts of a case's own stream call for one — a unit deemed done on timeout
(``dispatch.deemed_done``: silence is never rewarded), a complainant disputing the claimed
resolution (``complainant.disputed``), and an inspection finding (``inspection.finding_recorded``)
— each one ``penalty.proposed`` on the same case, for a supervisor to impose or dismiss with a
reason. The proposal's id (and the event's) derives from its cause, so every oversight process
derives the same one and the rule book accepts it once. Leadership responsibility is the fourth
cause; it spans streams and is decided in :mod:`services.oversight.leadership`.
"""

from __future__ import annotations

import re
from typing import Any

from shared.events.catalog import ProposalCause
from shared.events.ids import derived_event_id
from shared.ledger.deployments import BODY
from shared.ledger.signer import Draft
from shared.ledger.writer import Decide
from shared.rules.case.state import CaseState
from shared.rules.stream import StreamState

PROPOSED = "ledger.penalty.proposed.v1"
DISMISSED = "ledger.penalty.proposal_dismissed.v1"
RULE = "penalty.proposed"
PROPOSER = f"{BODY}/penalty-proposals"
"""Who the derived proposals name: the body's own reaction (a body's act, by the rule book)."""

CAUSES: dict[str, ProposalCause] = {
    "ledger.dispatch.deemed_done.v1": ProposalCause.deemed_done,
    "ledger.complainant.disputed.v1": ProposalCause.disputed,
    "ledger.inspection.finding_recorded.v1": ProposalCause.inspection,
}

OFFENCE_OF: dict[ProposalCause, str] = {
    ProposalCause.deemed_done: "overdue_without_reason",  # 无正当理由超时办理
    ProposalCause.disputed: "perfunctory_reply",  # 敷衍回复、随意答复
}
"""The offence each cause suggests; a finding names its own when it is an offence code. The
supervisor chooses the offence when imposing."""

_OFFENCE_CODE = re.compile(r"[a-z0-9_]{1,40}")


def proposal_id(cause_id: str) -> str:
    return derived_event_id(cause_id, RULE)


def derived_id(cause: dict[str, Any]) -> str | None:
    """The proposal's id, for an accepted event that calls for one."""
    return proposal_id(cause["id"]) if cause.get("type") in CAUSES else None


def proposal(cause: dict[str, Any], case: CaseState) -> dict[str, Any] | None:
    """The proposal's payload for ``cause`` against its case, or None when it calls for none
    (a dispute on a case without a lead unit)."""
    kind = CAUSES.get(cause.get("type", ""))
    if kind is None:
        return None
    d = cause["data"]
    data: dict[str, Any] = {
        "proposal_id": proposal_id(cause["id"]),
        "cause": kind,
        "cause_event": cause["id"],
    }
    if kind is ProposalCause.inspection:
        data.update(unit=d["unit"], post=d["post"])
        if d.get("staff_id"):
            data["staff_id"] = d["staff_id"]
        if _OFFENCE_CODE.fullmatch(d["finding"]):
            data["offence"] = d["finding"]
        return data
    unit = d["unit"] if kind is ProposalCause.deemed_done else case.lead_unit
    if unit is None:
        return None
    data.update(unit=unit, offence=OFFENCE_OF[kind])
    return data


def react(cause: dict[str, Any]) -> Decide:
    """The proposal ``cause`` calls for, against its case now: none if written already."""

    def decide(state: StreamState) -> list[Draft]:
        s = state.domain
        event_id = derived_id(cause)
        if event_id is None or event_id in state.seen_ids or not isinstance(s, CaseState):
            return []
        data = proposal(cause, s)
        if data is None:
            return []
        return [Draft(PROPOSED, data, PROPOSER, id=event_id)]

    return decide
