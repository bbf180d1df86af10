"""The case rules' finer points, each on a signed history: which states each act is allowed in,
and exactly what each accepted act leaves in the case's state."""

from __future__ import annotations

import pytest

from shared.rules.act import micros
from shared.rules.verdict import Reason
from tests.samples import (
    ANSWER_DUE,
    ASSIGNED,
    CLAIMED,
    CO_UNIT,
    DUE,
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
CO_HANDLER = f"{CO_UNIT}/H002"
CASE_T = "case-00000000-0000-4000-8000-0000000000cc"
EARLIER = "2026-08-01T18:00:00+08:00"  # another due time, also before every log time


def S(event_type: str, actor: str | None = None, signer: str | None = None, **data):  # type: ignore[no-untyped-def]
    return step(f"ledger.{event_type}.v1", actor, signer, **data)


DISPUTED = [*CLAIMED, S("complainant.disputed")]
RESOLVED = [*CLAIMED, S("complainant.confirmed")]
CLOSED = [*RESOLVED, S("handling.closed")]
ANSWERED = S("deadline.elapsed", deadline="answer", unit=None, due_at=ANSWER_DUE)


# ---- handling: a unit's acts while the case is worked on ------------------------------------


@pytest.mark.parametrize("act", ["handling.acknowledged", "handling.replied", "handling.progress"])
def test_a_unit_acts_while_the_case_is_worked_on_and_not_after(act: str) -> None:
    for history in (ASSIGNED, CLAIMED, DISPUTED):
        st = J.accepted([*history, S(act)])
        assert st == J.accepted(history)  # informs, changes nothing
    J.refused([*RESOLVED, S(act)], Reason.wrong_state)


def test_a_lead_claim_without_an_answer_deadline_awaits_no_answer_timer() -> None:
    st = J.accepted([*ASSIGNED, S("handling.resolution_claimed", answer_due_at=None)])
    assert st.status == "claimed" and st.answer_due is None and st.clock(UNIT).completed
    st = J.accepted(CLAIMED)
    assert st.answer_due == micros(ANSWER_DUE) and not st.answer_elapsed


def test_returns_and_extensions_are_pending_per_unit() -> None:
    both = [
        *ASSIGNED,
        S("handling.return_requested"),
        S("handling.return_requested", CO_HANDLER, unit=CO_UNIT),
        S("handling.extension_requested"),
        S("handling.extension_requested", CO_HANDLER, unit=CO_UNIT),
    ]
    st = J.accepted(both)
    assert st.returns_pending == (UNIT, CO_UNIT) and st.extensions_pending == (UNIT, CO_UNIT)
    st = J.accepted([*both, S("dispatch.return_ruled", unit=CO_UNIT)])  # refused: stays on
    assert st.returns_pending == (UNIT,) and st.units == (UNIT, CO_UNIT)
    assert st.extensions_pending == (UNIT, CO_UNIT)
    st = J.accepted([*both, S("dispatch.return_ruled", unit=CO_UNIT, granted=True)])
    assert st.returns_pending == (UNIT,) and st.extensions_pending == (UNIT,)
    assert st.units == (UNIT,)
    st = J.accepted([*both, S("handling.extension_ruled", unit=CO_UNIT)])
    assert st.extensions_pending == (UNIT,) and st.clock(CO_UNIT).due_at == LATER
    assert st.clock(UNIT).due_at == DUE
    st = J.accepted([*both, S("dispatch.return_ruled", granted=True)])  # the lead released
    assert (st.status, st.clocks, st.returns_pending, st.extensions_pending) == (
        "received",
        (),
        (),
        (),
    )


def test_a_granted_extension_lifts_the_overdue_mark_and_a_refused_one_keeps_it() -> None:
    late = [*ASSIGNED, S("deadline.elapsed"), S("handling.extension_requested")]
    st = J.accepted([*late, S("handling.extension_ruled")])
    c = st.clock(UNIT)
    assert not c.overdue and c.due_at == LATER and c.due == micros(LATER)
    st = J.accepted([*late, S("handling.extension_ruled", granted=False, due_at=None)])
    assert st.clock(UNIT).overdue and st.extensions_pending == ()


def test_an_extension_is_ruled_only_for_a_unit_on_the_case_while_assigned() -> None:
    asked = [*ASSIGNED, S("handling.extension_requested")]
    J.refused([*asked, S("handling.extension_ruled", unit="unit:other")], Reason.not_assigned)
    J.refused(
        [*asked, S("handling.resolution_claimed"), S("handling.extension_ruled")],
        Reason.wrong_state,
    )


def test_a_reopen_names_each_acting_unit_once() -> None:
    twice = S(
        "handling.reopened",
        units=[
            {"unit": UNIT, "due_at": LATER},
            {"unit": UNIT, "due_at": LATER},
            {"unit": CO_UNIT, "due_at": LATER},
        ],
    )
    J.refused([*DISPUTED, twice], Reason.wrong_state)
    extra = S(
        "handling.reopened",
        units=[
            {"unit": UNIT, "due_at": LATER},
            {"unit": CO_UNIT, "due_at": LATER},
            {"unit": "unit:other", "due_at": LATER},
        ],
    )
    J.refused([*DISPUTED, extra], Reason.wrong_state)


def test_a_reopen_after_closure_clears_the_closure_and_the_answer() -> None:
    closed = [
        *CLAIMED,
        ANSWERED,
        S(
            "handling.closed",
            basis="no_answer_in_time",
            finding="unsubstantiated",
            confidential=True,
        ),
    ]
    st = J.accepted(closed)
    assert (st.closed_basis, st.finding, st.confidential) == (
        "no_answer_in_time",
        "unsubstantiated",
        True,
    )
    assert st.answer_elapsed
    units = [{"unit": UNIT, "due_at": LATER, "provisional": True}, {"unit": CO_UNIT, "due_at": DUE}]
    st = J.accepted([*closed, S("handling.reopened", units=units)])
    assert (st.status, st.closed_basis, st.finding, st.confidential) == (
        "assigned",
        None,
        None,
        False,
    )
    assert st.answer_due is None and not st.answer_elapsed and st.reopened == 1
    assert st.clock(UNIT).provisional and not st.clock(CO_UNIT).provisional
    assert st.clock(UNIT).due == micros(LATER) and st.clock(CO_UNIT).due == micros(DUE)
    st = J.accepted([*RESOLVED, S("handling.reopened")])  # after the complainant confirmed
    assert st.status == "assigned" and st.reopened == 1
    twice = [*closed, S("handling.reopened", units=units)]
    twice += [S("handling.resolution_claimed"), S("complainant.disputed"), S("handling.reopened")]
    assert J.accepted(twice).reopened == 2


def test_a_supervisor_decides_a_closure_only_once_the_lead_claimed() -> None:
    anonymous = [S("complaint.received", complainant=None), *ASSIGNED[1:]]
    J.refused([*anonymous, S("handling.closed", basis="anonymous")], Reason.wrong_state)
    st = J.accepted([*anonymous, CLAIMED[-1], S("handling.closed", basis="anonymous")])
    assert (st.status, st.closed_basis, st.finding) == ("closed", "anonymous", "substantiated")
    J.refused(
        [*anonymous, CLAIMED[-1], S("handling.closed", basis="no_answer_in_time")],
        Reason.wrong_state,
    )
    J.refused([*DISPUTED, S("handling.closed", basis="no_answer_in_time")], Reason.wrong_state)
    J.refused([*CLAIMED, S("handling.closed", basis="complainant_confirmed")], Reason.wrong_state)
    st = J.accepted([*CLAIMED, ANSWERED, S("handling.closed", basis="no_answer_in_time")])
    assert st.closed_basis == "no_answer_in_time"
    J.refused(
        [*CLAIMED, ANSWERED, S("handling.closed", basis="inspection_opened")], Reason.wrong_state
    )
    J.refused([*CLOSED, S("handling.closed")], Reason.wrong_state)


def test_a_closure_records_its_finding_and_confidentiality() -> None:
    st = J.accepted([*RESOLVED, S("handling.closed", finding="unsubstantiated", confidential=True)])
    assert (st.status, st.finding, st.confidential, st.closed_basis) == (
        "closed",
        "unsubstantiated",
        True,
        "complainant_confirmed",
    )


# ---- deadlines and escalation ---------------------------------------------------------------


def test_a_co_units_deadline_elapses_while_the_case_is_claimed_or_disputed() -> None:
    co = S("deadline.elapsed", unit=CO_UNIT)
    assert J.accepted([*CLAIMED, co]).clock(CO_UNIT).overdue
    assert J.accepted([*DISPUTED, co]).clock(CO_UNIT).overdue
    J.refused([*RESOLVED, co], Reason.wrong_state)
    done = S("handling.resolution_claimed", CO_HANDLER, unit=CO_UNIT)
    J.refused([*ASSIGNED, done, co], Reason.wrong_state)  # its part is done
    J.refused([*CLAIMED, S("deadline.elapsed")], Reason.wrong_state)  # the lead's too


def test_an_elapsed_deadline_is_remembered_by_unit_and_due_time() -> None:
    st = J.accepted([*ASSIGNED, S("deadline.elapsed"), S("deadline.elapsed", unit=CO_UNIT)])
    assert st.timers == ((UNIT, micros(DUE)), (CO_UNIT, micros(DUE)))
    assert not st.answer_elapsed
    st = J.accepted([*CLAIMED, ANSWERED])
    assert st.timers == (("", micros(ANSWER_DUE)),) and st.answer_elapsed
    assert not st.clock(UNIT).overdue


def test_an_answer_deadline_needs_a_claim_awaiting_the_answer() -> None:
    J.refused([*DISPUTED, ANSWERED], Reason.wrong_state)
    J.refused([*RESOLVED, ANSWERED], Reason.wrong_state)


def test_a_case_holds_no_opinion_deadline() -> None:
    opinions = S("deadline.elapsed", deadline="opinions", unit=None, due_at=DUE)
    J.refused([*ASSIGNED, opinions], Reason.wrong_state)


def test_escalation_only_climbs_while_the_case_is_open() -> None:
    st = J.accepted([*OPENED, S("supervision.escalated", level=3)])
    assert st.escalation == 3
    J.refused(
        [*OPENED, S("supervision.escalated", level=3), S("supervision.escalated", level=2)],
        Reason.wrong_state,
    )
    assert J.accepted([*DISPUTED, S("supervision.escalated")]).escalation == 1
    assert J.accepted([*CLAIMED, S("supervision.escalated")]).escalation == 1
    J.refused([*RESOLVED, S("supervision.escalated")], Reason.wrong_state)
    J.refused([*CLOSED, S("supervision.escalated")], Reason.wrong_state)


# ---- dispatch -------------------------------------------------------------------------------


def test_a_new_assignment_after_a_granted_return_starts_afresh() -> None:
    again = [
        *ASSIGNED,
        S("handling.extension_requested", CO_HANDLER, unit=CO_UNIT),
        S("handling.return_requested"),
        S("dispatch.return_ruled", granted=True),
        S("dispatch.assigned", lead_unit=CO_UNIT, co_units=[]),
    ]
    st = J.accepted(again)
    assert st.status == "assigned" and st.assigned_times == 2
    assert st.lead_unit == CO_UNIT and st.units == (CO_UNIT,)
    assert st.returns_pending == () and st.extensions_pending == ()
    assert not st.clock(CO_UNIT).provisional
    assert J.accepted(ASSIGNED).assigned_times == 1


def test_a_deemed_done_needs_the_units_part_open_and_its_current_deadline() -> None:
    done = S("handling.resolution_claimed", CO_HANDLER, unit=CO_UNIT)
    elapsed = S("deadline.elapsed", unit=CO_UNIT)
    J.refused(
        [*ASSIGNED, elapsed, S("dispatch.deemed_done", unit=CO_UNIT, due_at=EARLIER)],
        Reason.too_early,
    )
    st = J.accepted([*ASSIGNED, elapsed, S("dispatch.deemed_done", unit=CO_UNIT)])
    assert st.clock(CO_UNIT).deemed_done and not st.clock(UNIT).deemed_done
    assert J.accepted([*CLAIMED, elapsed, S("dispatch.deemed_done", unit=CO_UNIT)]).status == (
        "claimed"
    )
    J.refused([*ASSIGNED, done, S("dispatch.deemed_done", unit=CO_UNIT)], Reason.wrong_state)


def test_dispatch_rulings_are_a_bodys() -> None:
    asked = [*ASSIGNED, S("handling.return_requested")]
    st = J.accepted([*asked, S("dispatch.return_ruled", SUPERVISOR, "dispatch")])
    assert st.returns_pending == ()


# ---- complaints -----------------------------------------------------------------------------


def test_a_screening_records_its_outcome_and_the_related_case() -> None:
    st = J.accepted(OPENED)
    assert st.screened and st.screening == "new" and st.related_case is None
    assert not J.accepted(OPENED[:1]).screened


def test_a_split_returns_only_that_sources_complaints() -> None:
    a, b = new_case(), new_case()
    two = [
        *ASSIGNED,
        S("complaint.gathered", source=a, complaint_no="X2"),
        S("complaint.gathered", source=b, complaint_no="X3"),
    ]
    st = J.accepted([*two, S("complaint.link_split", other=a)])
    assert st.gathered == ((b, "X3"),)
    assert [no for no, _ in st.complaints] == ["XN2026-000001", "X3"]
    J.refused([*OPENED, S("complaint.declined"), S("complaint.link_split")], Reason.wrong_state)
    J.refused([*CLOSED, S("complaint.link_split", other=a)], Reason.wrong_state)


def test_a_gathered_complaint_is_a_new_one() -> None:
    J.refused(
        [*ASSIGNED, S("complaint.gathered", source=new_case(), complaint_no="XN2026-000001")],
        Reason.wrong_state,
    )
    st = J.accepted([*DISPUTED, S("complaint.gathered", source=new_case(), complaint_no="X4")])
    assert st.status == "disputed" and len(st.gathered) == 1


@pytest.mark.parametrize("history", [OPENED, CLAIMED, DISPUTED])
def test_a_complaint_is_withdrawn_while_open(history) -> None:  # type: ignore[no-untyped-def]
    assert J.accepted([*history, S("complaint.withdrawn")]).status == "withdrawn"


def test_a_complaint_is_not_withdrawn_after_its_outcome() -> None:
    J.refused([*RESOLVED, S("complaint.withdrawn")], Reason.wrong_state)
    J.refused([*CLOSED, S("complaint.withdrawn")], Reason.wrong_state)


def test_cross_level_flags_while_open_only() -> None:
    assert J.accepted([*CLAIMED, S("complaint.flagged_cross_level")]).status == "claimed"
    J.refused([*CLOSED, S("complaint.flagged_cross_level")], Reason.wrong_state)


def test_a_satisfaction_score_after_closure_too() -> None:
    st = J.accepted([*CLOSED, S("complainant.satisfaction_rated")])
    assert st.rated == ("XN2026-000001",) and st.status == "closed"


def test_deliveries_count_up() -> None:
    st = J.accepted([*OPENED, S("complaint.delivered"), S("complaint.delivered")])
    assert st.deliveries == 2
    J.refused([*OPENED, S("complaint.delivered", "complainant/" + "a" * 64)], Reason.wrong_actor)


# ---- penalties, inspections, notices --------------------------------------------------------


def test_a_penalty_while_the_case_runs_or_after_its_outcome_but_not_after_it_ended() -> None:
    assert J.accepted([*OPENED, S("penalty.imposed")]).penalties == ("P1",)
    assert J.accepted([*CLOSED, S("penalty.imposed")]).penalties == ("P1",)
    J.refused([*OPENED, S("complaint.declined"), S("penalty.imposed")], Reason.wrong_state)
    J.refused(
        [*OPENED, S("complaint.linked_as_duplicate"), S("penalty.imposed")], Reason.wrong_state
    )
    st = J.accepted([*ASSIGNED, S("penalty.imposed"), S("penalty.imposed", penalty_id="P2")])
    assert st.penalties == ("P1", "P2")
    st = J.accepted(
        [
            *ASSIGNED,
            S("penalty.imposed"),
            S("penalty.imposed", penalty_id="P2"),
            S("penalty.revoked"),
        ]
    )
    assert st.penalties == ("P2",)


@pytest.mark.parametrize(
    ("penalty", "repeat", "expected"),
    [
        ("criticism", 1, Reason.ok),  # the first step
        ("admonishment_talk", 1, Reason.ok),
        ("criticism", 3, Reason.below_schedule),  # the third step
        ("admonishment_talk", 4, Reason.below_schedule),  # past the last: the last
    ],
)
def test_the_schedules_step_is_the_repeat_count(penalty, repeat, expected) -> None:  # type: ignore[no-untyped-def]
    act = S("penalty.imposed", penalty=penalty, repeat_count=repeat)
    if expected is Reason.ok:
        J.accepted([*ASSIGNED, act])
    else:
        J.refused([*ASSIGNED, act], expected)


def test_an_inspection_opens_a_screened_case_about_its_unit() -> None:
    st = J.accepted([S("inspection.finding_recorded", unit=CO_UNIT)])
    assert (st.status, st.unit, st.inspection, st.screened) == ("received", CO_UNIT, True, True)
    assert st.complaints == ()


def test_notices_are_kept_apart() -> None:
    two = [*CLOSED, S("publication.drafted"), S("publication.drafted", notice_id="N2")]
    st = J.accepted([*two, S("publication.published")])
    assert st.notices == (("N2", "drafted"), ("N1", "published"))
    assert st.notice("N2") == "drafted"
    J.refused([*two, S("publication.withheld", notice_id="N3")], Reason.wrong_state)
    st = J.accepted([*two, S("publication.withheld", notice_id="N2")])
    assert st.notice("N2") == "withheld" and st.notice("N1") == "drafted"


# ---- the state's own views ------------------------------------------------------------------


def test_the_case_summary_names_every_part_of_the_state() -> None:
    source = new_case()
    st = J.accepted(
        [
            *ASSIGNED,
            S("complaint.gathered", source=source, complaint_no="X2", complainant="b" * 64),
            S("deadline.elapsed"),
            S("supervision.escalated"),
            S("penalty.imposed"),
            S("handling.return_requested", CO_HANDLER, unit=CO_UNIT),
            S("handling.extension_requested"),
            S("complaint.delivered"),
        ]
    )
    assert st.summary() == {
        "status": "assigned",
        "unit": UNIT,
        "clocks": [
            [UNIT, True, DUE, False, True, False, False],
            [CO_UNIT, False, DUE, False, False, False, False],
        ],
        "returns_pending": [CO_UNIT],
        "extensions_pending": [UNIT],
        "complaints": [["XN2026-000001", st.complaints[0][1]], ["X2", "b" * 64]],
        "screened": True,
        "screening": "new",
        "related_case": None,
        "merged_into": None,
        "gathered": [[source, "X2"]],
        "inspection": False,
        "escalation": 1,
        "penalties": ["P1"],
        "notices": [],
        "closed_basis": None,
        "finding": None,
        "confidential": False,
        "assigned_times": 1,
        "reopened": 0,
        "answer_due": None,
        "answer_elapsed": False,
        "rated": [],
        "timers": [[UNIT, micros(DUE)]],
        "deliveries": 1,
        "ladder": [],
        "proposals": [],
        "contestable": [[st.contestable[0][0], "penalty", [UNIT], "P1"]],
        "appeals": [],
    }
    assert st.overdue and st.due_at == DUE and st.co_units == (CO_UNIT,)
    assert st.units == (UNIT, CO_UNIT) and st.lead_unit == UNIT and st.has_complainant
    assert st.clock("unit:nobody") is None and st.notice("N1") is None
    assert st.complainant_of("X2") == (True, "b" * 64)
    assert st.complainant_of("X9") == (False, None)


def test_a_closed_case_summarises_its_closure_answer_score_and_notice() -> None:
    st = J.accepted(
        [
            *CLAIMED,
            S("deadline.elapsed", unit=CO_UNIT),
            S("dispatch.deemed_done", unit=CO_UNIT),
            S("complainant.confirmed"),
            S("complainant.satisfaction_rated"),
            S("handling.closed", finding="unsubstantiated"),
            S("publication.drafted"),
        ]
    )
    s = st.summary()
    assert s["clocks"] == [
        [UNIT, True, DUE, False, False, False, True],
        [CO_UNIT, False, DUE, False, True, True, False],
    ]
    assert (s["status"], s["closed_basis"], s["finding"]) == (
        "closed",
        "complainant_confirmed",
        "unsubstantiated",
    )
    assert s["answer_due"] == micros(ANSWER_DUE) and s["rated"] == ["XN2026-000001"]
    assert s["notices"] == [["N1", "drafted"]] and s["timers"] == [[CO_UNIT, micros(DUE)]]
    assert not st.overdue and st.due_at == DUE
    anonymous = J.accepted([S("complaint.received", complainant=None), *OPENED[1:]])
    assert not anonymous.has_complainant and anonymous.lead_unit is None
    assert anonymous.due_at is None and not anonymous.overdue and anonymous.co_units == ()
    merged = J.accepted([*OPENED, S("complaint.linked_as_duplicate", target=CASE_T)])
    assert merged.summary()["merged_into"] == CASE_T and merged.summary()["status"] == "merged"
    repeat = S("complaint.screened", outcome="repeat_after_closure", related_case=CASE_T)
    s = J.accepted([OPENED[0], repeat]).summary()
    assert (s["screening"], s["related_case"]) == ("repeat_after_closure", CASE_T)
    assert J.accepted([S("inspection.finding_recorded")]).summary()["inspection"] is True
    reopened = J.accepted([*CLAIMED, S("complainant.disputed"), S("handling.reopened")])
    assert reopened.summary()["reopened"] == 1
    ruled = J.accepted([*CLAIMED, ANSWERED])
    assert ruled.summary()["answer_elapsed"] is True
    conf = J.accepted([*RESOLVED, S("handling.closed", confidential=True)])
    assert conf.summary()["confidential"] is True


def test_a_provisional_due_time_is_in_the_summary() -> None:
    st = J.accepted([*OPENED, S("dispatch.assigned", provisional=True, co_units=[])])
    assert st.summary()["clocks"] == [[UNIT, True, DUE, True, False, False, False]]
    assert st.clock(UNIT).provisional


def test_a_staff_member_never_speaks_for_the_complainant_even_with_the_same_name() -> None:
    pseudonym = J.accepted(OPENED).complaints[0][1]
    J.refused(
        [*CLAIMED, S("complainant.confirmed", f"efficiency-office/{pseudonym}")],
        Reason.not_complainant,
    )
