"""The case rules, each as a pair on a signed history: the act accepted where its condition
holds, and refused with its reason where it does not (leaving the state as it was)."""

from __future__ import annotations

import hashlib

import pytest

from shared.rules.verdict import Reason
from tests.samples import (
    ANSWER_DUE,
    ASSIGNED,
    CLAIMED,
    CO_UNIT,
    COMPLAINANT,
    DUE,
    HANDLER,
    LATER,
    OPENED,
    SUPERVISOR,
    UNIT,
    Judge,
    MemoryLedger,
    new_case,
    step,
)

L = MemoryLedger(partitions=3)
J = Judge(L)
OTHER_UNIT = "unit:housing-bureau"
CASE_B = "case-00000000-0000-4000-8000-0000000000bb"
CO_HANDLER = f"{CO_UNIT}/H002"
STRANGER = "complainant/" + hashlib.sha256(b"someone else").hexdigest()


def S(event_type: str, actor: str | None = None, signer: str | None = None, **data):  # type: ignore[no-untyped-def]
    return step(f"ledger.{event_type}.v1", actor, signer, **data)


# ---- 1. a unit acts only for itself, on a case it is assigned to ----------------------------


@pytest.mark.parametrize("act", ["handling.acknowledged", "handling.replied", "handling.progress"])
def test_a_unit_acts_on_its_own_case(act: str) -> None:
    J.accepted([*ASSIGNED, S(act)])
    J.accepted([*ASSIGNED, S(act, CO_HANDLER, unit=CO_UNIT)])
    J.refused([*ASSIGNED, S(act, f"{OTHER_UNIT}/H9", unit=OTHER_UNIT)], Reason.not_assigned)


@pytest.mark.parametrize(
    "act",
    [
        "handling.acknowledged",
        "handling.replied",
        "handling.progress",
        "handling.resolution_claimed",
        "handling.extension_requested",
        "handling.return_requested",
    ],
)
def test_a_unit_never_acts_in_another_units_name(act: str) -> None:
    J.accepted([*ASSIGNED, S(act)])
    J.refused([*ASSIGNED, S(act, CO_HANDLER)], Reason.acts_for_other)  # unit:B as unit:A
    J.refused([*ASSIGNED, S(act, SUPERVISOR)], Reason.wrong_actor)  # the body is no unit


_ANSWERED = S("deadline.elapsed", deadline="answer", unit=None, due_at=ANSWER_DUE)


@pytest.mark.parametrize(
    ("history", "act"),
    [
        ([*ASSIGNED, S("handling.extension_requested")], S("handling.extension_ruled")),
        ([*CLAIMED, _ANSWERED], S("handling.closed", basis="no_answer_in_time")),
        ([*CLAIMED, S("complainant.disputed")], S("handling.reopened")),
        (ASSIGNED, S("deadline.elapsed")),
        (ASSIGNED, S("supervision.escalated")),
        (ASSIGNED, S("penalty.imposed")),
        (CLAIMED, S("penalty.revoked")),
        ([], S("inspection.finding_recorded")),
    ],
)
def test_a_unit_cannot_do_a_supervisors_act_through_the_workbench(history, act) -> None:  # type: ignore[no-untyped-def]
    if act.type == "ledger.penalty.revoked.v1":
        history = [*history, S("penalty.imposed")]
    J.accepted([*history, act._replace(actor=SUPERVISOR)])
    J.refused([*history, act._replace(actor=HANDLER)], Reason.wrong_actor)


@pytest.mark.parametrize(
    "act",
    [
        S("complaint.screened"),
        S("complaint.declined"),
        S("complaint.linked_as_duplicate"),
        S("complaint.flagged_cross_level"),
        S("complaint.delivered"),
        S("complaint.gathered", source=CASE_B, complaint_no="X2"),
    ],
)
def test_a_complainant_cannot_do_a_clerks_act_through_intake(act) -> None:  # type: ignore[no-untyped-def]
    history = [S("complaint.received")]
    J.accepted([*history, act])
    J.refused([*history, act._replace(actor=COMPLAINANT)], Reason.wrong_actor)


# ---- 1. the complainant's say is the complainant's -------------------------------------------


@pytest.mark.parametrize("act", ["complainant.confirmed", "complainant.disputed"])
def test_only_a_complainant_of_the_case_confirms_or_disputes(act: str) -> None:
    J.accepted([*CLAIMED, S(act)])
    J.refused([*CLAIMED, S(act, STRANGER)], Reason.not_complainant)
    J.refused([*CLAIMED, S(act, "efficiency-office/S001")], Reason.not_complainant)
    J.refused([*CLAIMED, S(act, complaint_no="XN-NOT-HERE")], Reason.unknown_complaint)


def test_an_anonymous_complaint_has_nobody_to_confirm() -> None:
    anonymous = [S("complaint.received", complainant=None), *ASSIGNED[1:], CLAIMED[-1]]
    J.refused([*anonymous, S("complainant.confirmed")], Reason.not_complainant)


def test_a_gathered_complainant_confirms_for_their_own_complaint() -> None:
    gathered = S(
        "complaint.gathered", source=new_case(), complaint_no="X2", complainant=STRANGER[12:]
    )
    J.accepted(
        [
            *CLAIMED[:3],
            gathered,
            *CLAIMED[3:],
            S("complainant.confirmed", STRANGER, complaint_no="X2"),
        ]
    )
    J.refused(
        [*CLAIMED[:3], gathered, *CLAIMED[3:], S("complainant.confirmed", complaint_no="X2")],
        Reason.not_complainant,
    )


def test_one_satisfaction_score_per_complaint() -> None:
    resolved = [*CLAIMED, S("complainant.confirmed")]
    st = J.accepted([*resolved, S("complainant.satisfaction_rated")])
    assert st.rated == ("XN2026-000001",)
    J.refused(
        [
            *resolved,
            S("complainant.satisfaction_rated"),
            S("complainant.satisfaction_rated", rating=1),
        ],
        Reason.duplicate_act,
    )
    J.refused([*resolved, S("complainant.satisfaction_rated", STRANGER)], Reason.not_complainant)
    J.refused(
        [*resolved, S("complainant.satisfaction_rated", complaint_no="XN-NOT-HERE")],
        Reason.unknown_complaint,
    )


# ---- 1. timers: after their due time, once --------------------------------------------------


def test_a_timer_fires_only_after_its_due_time_by_the_log_clock() -> None:
    st = J.accepted([*ASSIGNED, S("deadline.elapsed")])
    assert st.clock(UNIT).overdue and st.status == "assigned"
    late = S("dispatch.assigned", due_at=LATER, co_units=[])
    J.refused([*OPENED, late, S("deadline.elapsed", due_at=LATER)], Reason.too_early)


def test_exactly_one_timer_per_unit_and_due_time_whatever_its_id() -> None:
    J.refused([*ASSIGNED, S("deadline.elapsed"), S("deadline.elapsed")], Reason.duplicate_act)
    # the co-unit's deadline at the same time is another timer
    st = J.accepted([*ASSIGNED, S("deadline.elapsed"), S("deadline.elapsed", unit=CO_UNIT)])
    assert st.clock(CO_UNIT).overdue


def test_a_timer_names_the_units_current_due_time() -> None:
    J.refused([*ASSIGNED, S("deadline.elapsed", due_at=ANSWER_DUE)], Reason.wrong_state)
    J.refused([*ASSIGNED, S("deadline.elapsed", unit=OTHER_UNIT)], Reason.not_assigned)
    J.refused([*OPENED, S("deadline.elapsed")], Reason.wrong_state)  # no clock runs yet


def test_an_extension_moves_the_units_clock() -> None:
    extended = [*ASSIGNED, S("handling.extension_requested"), S("handling.extension_ruled")]
    st = J.accepted(extended)
    assert st.clock(UNIT).due_at == LATER and st.extensions_pending == ()
    J.refused([*extended, S("deadline.elapsed")], Reason.wrong_state)  # the old due time
    J.refused([*extended, S("deadline.elapsed", due_at=LATER)], Reason.too_early)
    refused = S("handling.extension_ruled", granted=False, due_at=None)
    st = J.accepted([*ASSIGNED, S("handling.extension_requested"), refused])
    assert st.clock(UNIT).due_at == DUE
    J.refused([*ASSIGNED, S("handling.extension_ruled")], Reason.wrong_state)  # none pending
    J.refused(
        [*ASSIGNED, S("handling.extension_requested"), S("handling.extension_requested")],
        Reason.wrong_state,
    )
    J.refused(
        [*ASSIGNED, S("handling.extension_requested"), S("handling.extension_ruled", due_at=None)],
        Reason.wrong_state,
    )


# ---- 1. closing without the complainant while one can be asked ------------------------------


def test_a_supervisor_closes_without_the_complainant_only_when_nobody_can_be_asked() -> None:
    no_answer = S("handling.closed", basis="no_answer_in_time")
    J.refused([*CLAIMED, no_answer], Reason.complainant_askable)
    J.refused([*CLAIMED, S("handling.closed", basis="anonymous")], Reason.complainant_askable)
    answer_elapsed = S("deadline.elapsed", deadline="answer", unit=None, due_at=ANSWER_DUE)
    st = J.accepted([*CLAIMED, answer_elapsed, no_answer])
    assert (st.status, st.closed_basis) == ("closed", "no_answer_in_time")
    J.refused(
        [*CLAIMED, answer_elapsed, S("handling.closed", basis="anonymous")], Reason.wrong_state
    )
    J.refused([*CLAIMED, S("handling.closed")], Reason.wrong_state)  # nobody confirmed


def test_the_answer_deadline_is_the_one_the_claim_named_and_fires_once() -> None:
    answer = S("deadline.elapsed", deadline="answer", unit=None, due_at=ANSWER_DUE)
    J.refused(
        [*CLAIMED, S("deadline.elapsed", deadline="answer", unit=None, due_at=DUE)],
        Reason.wrong_state,
    )
    J.refused([*CLAIMED, answer, answer], Reason.duplicate_act)
    late_claim = S("handling.resolution_claimed", answer_due_at=LATER)
    J.refused(
        [*ASSIGNED, late_claim, answer._replace(data={**answer.data, "due_at": LATER})],
        Reason.too_early,
    )
    J.refused([*ASSIGNED, answer], Reason.wrong_state)  # nothing claimed yet


def test_anonymous_and_inspection_cases_are_closed_on_a_supervisors_decision() -> None:
    anonymous = [S("complaint.received", complainant=None), *ASSIGNED[1:], CLAIMED[-1]]
    st = J.accepted(
        [*anonymous, S("handling.closed", basis="anonymous", finding="unsubstantiated")]
    )
    assert st.finding == "unsubstantiated"
    J.refused([*anonymous, S("handling.closed", basis="inspection_opened")], Reason.wrong_state)
    inspected = [S("inspection.finding_recorded"), *ASSIGNED[2:], CLAIMED[-1]]
    st = J.accepted([*inspected, S("handling.closed", basis="inspection_opened")])
    assert st.inspection and st.complaints == ()
    J.refused([*inspected, S("handling.closed", basis="no_answer_in_time")], Reason.wrong_state)


# ---- 2. each unit has its own clock ---------------------------------------------------------


def test_assignment_gives_each_unit_its_own_due_time() -> None:
    co = [{"unit": CO_UNIT, "due_at": LATER, "provisional": True}]
    st = J.accepted([*OPENED, S("dispatch.assigned", co_units=co)])
    assert st.clock(UNIT).due_at == DUE and st.clock(UNIT).lead
    assert st.clock(CO_UNIT).due_at == LATER and st.clock(CO_UNIT).provisional
    J.refused(
        [*OPENED, S("dispatch.assigned", co_units=[{"unit": UNIT, "due_at": DUE}])],
        Reason.invalid_data,
    )


def test_a_co_unit_completes_its_part_without_blocking_the_case() -> None:
    done = S("handling.resolution_claimed", CO_HANDLER, unit=CO_UNIT)
    st = J.accepted([*ASSIGNED, done])
    assert st.status == "assigned" and st.clock(CO_UNIT).completed
    assert not st.clock(UNIT).completed
    J.refused([*ASSIGNED, done, done], Reason.wrong_state)
    st = J.accepted([*ASSIGNED, S("handling.resolution_claimed")])  # the lead's claim is the case's
    assert st.status == "claimed" and not st.clock(CO_UNIT).completed


def test_a_co_unit_is_deemed_done_once_its_own_deadline_elapsed() -> None:
    deemed = S("dispatch.deemed_done", unit=CO_UNIT)
    elapsed = S("deadline.elapsed", unit=CO_UNIT)
    st = J.accepted([*ASSIGNED, elapsed, deemed])
    c = st.clock(CO_UNIT)
    assert c.deemed_done and c.overdue and not c.completed and st.status == "assigned"
    J.refused([*ASSIGNED, deemed], Reason.too_early)
    J.refused([*ASSIGNED, elapsed, deemed, deemed], Reason.wrong_state)
    J.refused(
        [*ASSIGNED, elapsed, S("dispatch.deemed_done", unit=CO_UNIT, due_at=LATER)],
        Reason.too_early,
    )
    J.refused([*ASSIGNED, elapsed, S("dispatch.deemed_done", unit=OTHER_UNIT)], Reason.not_assigned)
    # a deemed-done unit's part is done: no claim, no further timer
    J.refused(
        [*ASSIGNED, elapsed, deemed, S("handling.resolution_claimed", CO_HANDLER, unit=CO_UNIT)],
        Reason.wrong_state,
    )


def test_the_lead_unit_is_never_deemed_done_it_is_overdue_and_escalated() -> None:
    elapsed = S("deadline.elapsed")
    J.refused([*ASSIGNED, elapsed, S("dispatch.deemed_done")], Reason.wrong_state)
    st = J.accepted(
        [*ASSIGNED, elapsed, S("supervision.escalated"), S("supervision.escalated", level=2)]
    )
    assert st.status == "assigned" and st.clock(UNIT).overdue and st.escalation == 2
    J.refused(
        [*ASSIGNED, S("supervision.escalated"), S("supervision.escalated")], Reason.wrong_state
    )


def test_a_reopen_gives_every_acting_unit_a_fresh_due_time() -> None:
    disputed = [*CLAIMED, S("complainant.disputed")]
    elapsed = S("deadline.elapsed", unit=CO_UNIT)
    st = J.accepted(
        [
            *ASSIGNED[:3],
            elapsed,
            S("dispatch.deemed_done", unit=CO_UNIT),
            *disputed[3:],
            S("handling.reopened"),
        ]
    )
    assert st.status == "assigned" and st.reopened == 1
    for unit in (UNIT, CO_UNIT):
        c = st.clock(unit)
        assert c.due_at == LATER and not (c.overdue or c.deemed_done or c.completed)
    only_lead = S("handling.reopened", units=[{"unit": UNIT, "due_at": LATER}])
    J.refused([*disputed, only_lead], Reason.wrong_state)
    J.refused([*ASSIGNED, S("handling.reopened")], Reason.wrong_state)  # nothing to redo


def test_deemed_done_after_a_reopen_needs_the_new_deadline_to_elapse() -> None:
    reopened = [
        *ASSIGNED,
        S("deadline.elapsed", unit=CO_UNIT),
        S("dispatch.deemed_done", unit=CO_UNIT),
        S("handling.resolution_claimed"),
        S("complainant.disputed"),
        S("handling.reopened"),
    ]
    J.refused([*reopened, S("dispatch.deemed_done", unit=CO_UNIT)], Reason.too_early)
    J.refused([*reopened, S("deadline.elapsed", unit=CO_UNIT)], Reason.duplicate_act)
    J.refused([*reopened, S("deadline.elapsed", unit=CO_UNIT, due_at=LATER)], Reason.too_early)


def test_a_return_keeps_the_unit_responsible_until_granted() -> None:
    asked = [*ASSIGNED, S("handling.return_requested")]
    st = J.accepted(asked)
    assert st.status == "assigned" and st.lead_unit == UNIT and st.returns_pending == (UNIT,)
    J.refused([*asked, S("handling.return_requested")], Reason.wrong_state)
    st = J.accepted([*asked, S("dispatch.return_ruled", granted=True)])
    assert st.status == "received" and st.clocks == () and st.screened
    st = J.accepted([*asked, S("dispatch.return_ruled")])
    assert st.lead_unit == UNIT and st.returns_pending == ()
    J.refused([*ASSIGNED, S("dispatch.return_ruled")], Reason.wrong_state)
    co = [*ASSIGNED, S("handling.return_requested", CO_HANDLER, unit=CO_UNIT)]
    st = J.accepted([*co, S("dispatch.return_ruled", unit=CO_UNIT, granted=True)])
    assert st.units == (UNIT,) and st.status == "assigned"


# ---- 5. screening before dispatch -----------------------------------------------------------


def test_a_case_is_assigned_only_after_intake_screened_it() -> None:
    J.refused([S("complaint.received"), S("dispatch.assigned")], Reason.unscreened)
    manual = S("complaint.screened", method="manual", note="自动查重停用，人工核查")
    st = J.accepted([S("complaint.received"), manual, S("dispatch.assigned")])
    assert st.screening == "new"
    J.refused([*OPENED, S("complaint.screened")], Reason.wrong_state)
    J.refused(
        [S("complaint.received"), S("complaint.screened", outcome="duplicate")], Reason.invalid_data
    )


def test_a_repeat_complaint_after_closure_opens_its_own_case() -> None:
    closed = new_case()
    J.accepted([*CLAIMED, S("complainant.confirmed"), S("handling.closed")], closed)
    # it is not gathered into the closed case ...
    gathered = S("complaint.gathered", source=new_case(), complaint_no="X9")
    J.refused(
        [*CLAIMED, S("complainant.confirmed"), S("handling.closed"), gathered], Reason.wrong_state
    )
    # ... it is screened as a repeat naming that case, and dispatched afresh
    repeat = S("complaint.screened", outcome="repeat_after_closure", related_case=closed)
    st = J.accepted([S("complaint.received"), repeat, S("dispatch.assigned")])
    assert (st.screening, st.related_case, st.status) == (
        "repeat_after_closure",
        closed,
        "assigned",
    )


def test_duplicates_link_and_split() -> None:
    target = new_case()
    linked = [*OPENED, S("complaint.linked_as_duplicate", target=target)]
    st = J.accepted(linked)
    assert (st.status, st.merged_into) == ("merged", target)
    J.refused([*linked, S("dispatch.assigned")], Reason.wrong_state)
    st = J.accepted([*linked, S("complaint.link_split", other=target)])
    assert st.status == "received" and st.merged_into is None
    J.refused([*linked, S("complaint.link_split", other=new_case())], Reason.wrong_state)
    source = new_case()
    gathered = [*ASSIGNED, S("complaint.gathered", source=source, complaint_no="X2")]
    st = J.accepted(gathered)
    assert st.gathered == ((source, "X2"),) and len(st.complaints) == 2
    J.refused(
        [*gathered, S("complaint.gathered", source=source, complaint_no="X2")], Reason.wrong_state
    )
    st = J.accepted([*gathered, S("complaint.link_split", other=source)])
    assert st.gathered == () and len(st.complaints) == 1
    J.refused([*ASSIGNED, S("complaint.link_split", other=source)], Reason.wrong_state)


def test_withdrawn_and_declined() -> None:
    assert J.accepted([*ASSIGNED, S("complaint.withdrawn")]).status == "withdrawn"
    J.refused([*ASSIGNED, S("complaint.withdrawn"), S("handling.acknowledged")], Reason.wrong_state)
    assert J.accepted([*OPENED, S("complaint.declined")]).status == "declined"
    J.refused([*ASSIGNED, S("complaint.declined")], Reason.wrong_state)


# ---- 6. the facts later readers need --------------------------------------------------------


@pytest.mark.parametrize(
    ("penalty", "repeat", "reason", "expected"),
    [
        ("admonishment_talk", 2, "", Reason.ok),  # at the minimum for a second offence
        ("public_criticism", 2, "", Reason.ok),  # above it
        ("criticism", 2, "", Reason.below_schedule),
        ("criticism", 2, "主动整改，情节轻微", Reason.ok),  # a reasoned departure
        ("criticism", 1, "", Reason.ok),  # first offence
        ("admonishment_talk", 3, "", Reason.below_schedule),  # third and later: the last step
        ("admonishment_talk", 7, "", Reason.below_schedule),
        ("public_criticism", 7, "", Reason.ok),
    ],
)
def test_a_penalty_is_held_to_the_schedule_it_names(penalty, repeat, reason, expected) -> None:  # type: ignore[no-untyped-def]
    act = S("penalty.imposed", penalty=penalty, repeat_count=repeat, departure_reason=reason)
    if expected is Reason.ok:
        assert J.accepted([*ASSIGNED, act]).penalties == ("P1",)
    else:
        J.refused([*ASSIGNED, act], expected)


def test_a_penalty_naming_no_schedule_in_force_is_refused() -> None:
    J.refused([*ASSIGNED, S("penalty.imposed", schedule_version="1999.9")], Reason.unknown_config)
    J.refused([*ASSIGNED, S("penalty.imposed", offence="no_such_offence")], Reason.unknown_config)
    J.refused([*ASSIGNED, S("penalty.imposed"), S("penalty.imposed")], Reason.wrong_state)
    J.refused([S("penalty.imposed")], Reason.wrong_state)  # no case yet


def test_a_penalty_is_revoked_once() -> None:
    st = J.accepted([*ASSIGNED, S("penalty.imposed"), S("penalty.revoked")])
    assert st.penalties == ()
    J.refused([*ASSIGNED, S("penalty.revoked")], Reason.wrong_state)


def test_a_delivery_names_a_complaint_of_the_case_with_someone_to_reach() -> None:
    assert J.accepted([*OPENED, S("complaint.delivered")]).deliveries == 1
    J.refused(
        [*OPENED, S("complaint.delivered", complaint_no="XN-NOT-HERE")], Reason.unknown_complaint
    )
    J.refused(
        [S("complaint.received", complainant=None), S("complaint.delivered")], Reason.wrong_state
    )


def test_a_confidential_closure_is_never_published() -> None:
    closed = [*CLAIMED, S("complainant.confirmed")]
    st = J.accepted(
        [*closed, S("handling.closed"), S("publication.drafted"), S("publication.published")]
    )
    assert st.notices == (("N1", "published"),)
    J.refused(
        [*closed, S("handling.closed", confidential=True), S("publication.drafted")],
        Reason.wrong_state,
    )
    J.refused([*closed, S("publication.drafted")], Reason.wrong_state)  # not closed yet


def test_notices_follow_their_own_states() -> None:
    closed = [*CLAIMED, S("complainant.confirmed"), S("handling.closed"), S("publication.drafted")]
    assert J.accepted([*closed, S("publication.withheld")]).notice("N1") == "withheld"
    J.refused([*closed, S("publication.withdrawn")], Reason.wrong_state)
    J.refused([*closed, S("publication.corrected")], Reason.wrong_state)
    J.refused([*closed, S("publication.drafted")], Reason.wrong_state)
    pub = [*closed, S("publication.published")]
    assert J.accepted([*pub, S("publication.corrected")]).notice("N1") == "published"
    assert J.accepted([*pub, S("publication.withdrawn")]).notice("N1") == "withdrawn"
    J.refused([*pub, S("publication.published")], Reason.wrong_state)
    J.refused([*pub, S("publication.withheld")], Reason.wrong_state)


@pytest.mark.parametrize(
    ("act", "valid"),
    [
        (S("complaint.received", channel="online_platform", platform="人民网领导留言板"), True),
        (S("complaint.received", channel="open311", platform="city-app"), True),
        (S("complaint.received", channel="hotline_12345"), True),
        (S("complaint.received", channel="online_platform"), False),  # which platform?
        (S("complaint.received", channel="visit", platform="x"), False),
        (S("inspection.finding_recorded", evidence=[]), False),
        (S("complaint.flagged_cross_level", other_body=None), False),
    ],
)
def test_the_catalog_requires_the_facts_later_readers_need(act, valid: bool) -> None:  # type: ignore[no-untyped-def]
    history = [S("complaint.received"), act] if act.type.endswith("cross_level.v1") else [act]
    if valid:
        J.accepted(history)
    else:
        J.refused(history, Reason.invalid_data)


# ---- each entry's state condition -----------------------------------------------------------


@pytest.mark.parametrize(
    ("history", "act"),
    [
        ([S("complaint.received")], S("complaint.received")),  # a case opens once
        ([S("inspection.finding_recorded")], S("inspection.finding_recorded")),
        ([S("complaint.received")], S("inspection.finding_recorded")),
        ([*ASSIGNED, S("complaint.withdrawn")], S("complaint.withdrawn")),
        (ASSIGNED, S("complaint.linked_as_duplicate")),
        ([*OPENED, S("complaint.declined")], S("complaint.flagged_cross_level")),
        ([*OPENED, S("complaint.declined")], S("complaint.gathered", source=CASE_B)),
        (ASSIGNED, S("dispatch.assigned")),  # assigned once, until a return is granted
        (CLAIMED, S("complainant.satisfaction_rated")),  # scored after resolution
        (ASSIGNED, S("complainant.confirmed")),  # nothing claimed yet
        (ASSIGNED, S("complainant.disputed")),
        ([*OPENED, S("complaint.declined")], S("supervision.escalated")),
        ([*OPENED, S("complaint.declined")], S("complaint.withdrawn")),
        ([*CLAIMED, S("complainant.confirmed")], S("handling.resolution_claimed")),
        ([*CLAIMED, S("complainant.confirmed")], S("handling.extension_requested")),
        ([*CLAIMED, S("complainant.confirmed")], S("handling.return_requested")),
        ([*CLAIMED, S("complainant.confirmed")], S("handling.acknowledged")),
        ([*CLAIMED, S("complainant.confirmed")], S("dispatch.return_ruled")),
        ([*CLAIMED, S("complainant.confirmed")], S("dispatch.deemed_done", unit=CO_UNIT)),
        ([*CLAIMED, S("complainant.disputed")], S("complainant.confirmed")),
    ],
)
def test_an_act_in_the_wrong_state_is_refused(history, act) -> None:  # type: ignore[no-untyped-def]
    J.refused([*history, act], Reason.wrong_state)


def test_the_same_acts_in_their_states_are_accepted() -> None:
    assert J.accepted([*OPENED, S("complaint.flagged_cross_level")]).status == "received"
    assert J.accepted([*ASSIGNED, S("supervision.escalated")]).escalation == 1
    assert J.accepted([*CLAIMED, S("complainant.disputed")]).status == "disputed"
    assert J.accepted([*CLAIMED, S("complainant.confirmed")]).status == "resolved"
    st = J.accepted([S("inspection.finding_recorded"), S("dispatch.assigned")])
    assert st.inspection and st.status == "assigned" and st.unit == UNIT
    st = J.accepted(OPENED)
    assert (st.status, st.unit, st.complaints) == (
        "received",
        UNIT,
        (("XN2026-000001", COMPLAINANT[12:]),),
    )
