"""complaint.* and complainant.*: filing, screening, duplicates, deliveries, the complainant's say.

Screening comes before dispatch: a case is assignable only once intake has recorded
``complaint.screened`` (automatic, or by a clerk's hand while automatic screening is down).

A complaint about an incident whose case is already resolved or closed is not gathered into
that case (``gathered`` is refused once a case has an outcome): it opens its own case, screened
as ``repeat_after_closure`` naming the closed case, and is dispatched afresh. It counts as a
new case and as evidence that the earlier resolution failed; it never vanishes into the old one.
"""

from __future__ import annotations

from typing import Any

from shared.rules.act import COMPLAINANT, UNIT_PREFIX, Act, Check, Evolve, by_body, state_is
from shared.rules.case.guards import all_of, by_its_complainant, complaint_on_case, in_status, same
from shared.rules.case.state import (
    CLAIMED,
    CLOSED,
    DECLINED,
    DISPUTED,
    MERGED,
    NEW,
    OPEN,
    RECEIVED,
    RESOLVED,
    WITHDRAWN,
    CaseState,
)
from shared.rules.verdict import Reason, Verdict, reject


def _opened(s: CaseState, d: dict[str, Any]) -> CaseState:
    return s._replace(
        status=RECEIVED, unit=d["unit"], complaints=((d["complaint_no"], d.get("complainant")),)
    )


def _not_screened(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    return state_is("already screened") if s.screened else None


def _screened(s: CaseState, d: dict[str, Any]) -> CaseState:
    return s._replace(screened=True, screening=d["outcome"], related_case=d.get("related_case"))


def _deliverable(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    _, who = s.complainant_of(d["complaint_no"])
    return None if who is not None else state_is("an anonymous complaint has nobody to deliver to")


def _new_complaint(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    on_case, _ = s.complainant_of(d["complaint_no"])
    return state_is("complaint already on the case") if on_case else None


def _gathered(s: CaseState, d: dict[str, Any]) -> CaseState:
    return s._replace(
        gathered=(*s.gathered, (d["source"], d["complaint_no"])),
        complaints=(*s.complaints, (d["complaint_no"], d.get("complainant"))),
    )


def _split_check(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    if s.status == MERGED:
        return None if d["other"] == s.merged_into else state_is("not merged into that case")
    if s.status in OPEN:
        gathered = any(src == d["other"] for src, _ in s.gathered)
        return None if gathered else state_is("that case was not gathered here")
    return state_is(f"not allowed while {s.status}")


def _split(s: CaseState, d: dict[str, Any]) -> CaseState:
    if s.status == MERGED:
        return s._replace(status=RECEIVED, merged_into=None)
    leaving = {no for src, no in s.gathered if src == d["other"]}
    return s._replace(
        gathered=tuple(g for g in s.gathered if g[0] != d["other"]),
        complaints=tuple(c for c in s.complaints if c[0] not in leaving),
    )


def _not_rated(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    if d["complaint_no"] in s.rated:
        return reject(Reason.duplicate_act, "this complaint already has a satisfaction score")
    return None


# A respondent unit named by the complainant that the unit directory could not resolve: the
# complaint is received with this placeholder and a clerk names the unit later
# (``complaint.unit_resolved``), never a guess.
UNRESOLVED_UNIT = "unit:unresolved"


def _received_for_own_body(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    """A deployment records complaints only for the bodies it acts for (``received_by``)."""
    body = d["received_by"]
    if body == COMPLAINANT or body.startswith(UNIT_PREFIX):
        return reject(Reason.acts_for_other, "a complaint is received by a supervisory body")
    if not act.registry.may_act_for(act.source, body):
        return reject(Reason.acts_for_other, "this deployment does not receive for that body")
    return None


def _unit_unresolved(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    return None if s.unit == UNRESOLVED_UNIT else state_is("the unit is already resolved")


RULES: dict[str, tuple[Check, Evolve]] = {
    "ledger.complaint.received.v1": (all_of(in_status(NEW), _received_for_own_body), _opened),
    "ledger.complaint.unit_resolved.v1": (
        all_of(by_body, in_status(*OPEN), _unit_unresolved),
        lambda s, d: s._replace(unit=d["unit"]),
    ),
    "ledger.complaint.recategorised.v1": (all_of(by_body, in_status(*OPEN)), same),
    "ledger.complaint.screened.v1": (
        all_of(by_body, in_status(RECEIVED), _not_screened),
        _screened,
    ),
    "ledger.complaint.delivered.v1": (
        all_of(by_body, complaint_on_case, _deliverable),
        lambda s, d: s._replace(deliveries=s.deliveries + 1),
    ),
    "ledger.complaint.linked_as_duplicate.v1": (
        all_of(by_body, in_status(RECEIVED)),
        lambda s, d: s._replace(status=MERGED, merged_into=d["target"]),
    ),
    # Only into a case still open: a repeat after closure opens its own case (see above).
    "ledger.complaint.gathered.v1": (all_of(by_body, in_status(*OPEN), _new_complaint), _gathered),
    "ledger.complaint.link_split.v1": (all_of(by_body, _split_check), _split),
    "ledger.complaint.flagged_cross_level.v1": (all_of(by_body, in_status(*OPEN)), same),
    "ledger.complaint.withdrawn.v1": (in_status(*OPEN), lambda s, d: s._replace(status=WITHDRAWN)),
    "ledger.complaint.declined.v1": (
        all_of(by_body, in_status(RECEIVED)),
        lambda s, d: s._replace(status=DECLINED),
    ),
    # Erasure of the vault entry (on request or at retention): any state, once per case.
    "ledger.complaint.vault_erased.v1": (all_of(by_body, complaint_on_case), same),
    "ledger.complainant.confirmed.v1": (
        all_of(in_status(CLAIMED), by_its_complainant),
        lambda s, d: s._replace(status=RESOLVED),
    ),
    "ledger.complainant.disputed.v1": (
        all_of(in_status(CLAIMED), by_its_complainant),
        lambda s, d: s._replace(status=DISPUTED),
    ),
    "ledger.complainant.satisfaction_rated.v1": (
        all_of(in_status(RESOLVED, CLOSED), by_its_complainant, _not_rated),
        lambda s, d: s._replace(rated=(*s.rated, d["complaint_no"])),
    ),
}
