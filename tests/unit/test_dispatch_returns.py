"""退单, as pairs: the unit's request (oversight's workbench) and the dispatch officer's ruling
(dispatch), each accepted by the rule book too — a refused return leaves the unit's clock
running as it was (首接负责), a granted lead return goes straight to the next lead with the
co-units' clocks carried unchanged, and every refusal has its reason."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from pydantic import ValidationError

from services.dispatch import returns
from services.oversight import commands as oversight
from shared.calendar import SHANGHAI, StatutoryCalendar, TimeLimit, due_at
from shared.events.catalog import payload_model
from shared.ledger.signer import Draft
from shared.rules import case as rules
from shared.rules.act import micros
from shared.rules.case import ASSIGNED, CLAIMED, RECEIVED, CaseState, UnitClock
from shared.web.command_path import Refusal
from tests.unit.service_decide_support import UNIT, judged, lead, stream

OFFICER = "efficiency-office/D001"
CO = "unit:civil-affairs"
NEXT = "unit:housing-bureau"
HANDLER = f"{UNIT}/H001"
CO_DUE = "2026-12-10T00:00:00+08:00"
CO_CLOCK = UnitClock(CO, False, CO_DUE, micros(CO_DUE))
WORKING = CaseState(status=ASSIGNED, unit="x", screened=True, clocks=(lead(), CO_CLOCK))
PENDING = WORKING._replace(returns_pending=(UNIT,))
NEXT_DUE = due_at(
    datetime(2026, 11, 2, 10, tzinfo=SHANGHAI), TimeLimit(amount=5), StatutoryCalendar()
)
REFUSE = returns.RuleReturn(unit=UNIT, granted=False, ruling="属本单位职责，不予退单")
GRANT = returns.RuleReturn(
    unit=UNIT, granted=True, ruling="确非本单位职责", next_lead=NEXT, working_days=5
)


def applied(case: CaseState, drafts: list[Draft]) -> CaseState:
    """Each draft judged by the rule book (accepted) and evolved, in turn."""
    for d in drafts:
        assert judged(case, d) is None, d
        model = payload_model(d.type)
        assert model is not None
        data: dict[str, Any] = model.model_validate(d.data).model_dump(mode="json")
        case = rules.evolve(case, d.type, data)
    return case


def test_the_unit_asks_to_return_with_its_reason() -> None:
    cmd = oversight.RequestReturn(reason="不属本单位职责")
    [draft] = oversight.request_return(stream(WORKING), UNIT, cmd, HANDLER)
    assert draft.type == "ledger.handling.return_requested.v1"
    assert draft.data == {"unit": UNIT, "reason": "不属本单位职责"} and draft.actor == HANDLER
    after = applied(WORKING, [draft])
    assert after.returns_pending == (UNIT,)
    assert after.clocks == WORKING.clocks  # asking changes no clock


@pytest.mark.parametrize(
    ("case", "unit", "reason"),
    [
        (WORKING, "unit:other", "not_assigned"),
        (PENDING, UNIT, "return_pending"),
        (WORKING._replace(status=CLAIMED), UNIT, "wrong_state"),
        (WORKING.with_clock(CO, deemed_done=True), CO, "part_done"),
        (CaseState(), UNIT, "unknown_case"),
    ],
)
def test_a_return_request_is_refused(case: CaseState, unit: str, reason: str) -> None:
    with pytest.raises(Refusal) as refused:
        oversight.request_return(stream(case), unit, oversight.RequestReturn(reason="r"), HANDLER)
    assert refused.value.reason == reason


def test_a_refused_return_leaves_the_clock_running_as_it_was() -> None:
    [draft] = returns.rule_return(stream(PENDING), REFUSE, OFFICER, None)
    assert draft.data == {"unit": UNIT, "granted": False, "ruling": REFUSE.ruling}
    after = applied(PENDING, [draft])
    assert after.returns_pending == () and after.status == ASSIGNED
    assert after.lead_unit == UNIT and after.clocks == PENDING.clocks  # same due, still running


def test_a_granted_lead_return_goes_straight_to_the_next_lead() -> None:
    ruling, assigned = returns.rule_return(stream(PENDING), GRANT, OFFICER, NEXT_DUE)
    assert ruling.data["granted"] is True and assigned.type == "ledger.dispatch.assigned.v1"
    assert assigned.data["lead_unit"] == NEXT and assigned.data["direct"] is True
    assert assigned.data["due_at"] == NEXT_DUE.at.isoformat()
    # the co-unit carries on with its own due time, unchanged
    assert assigned.data["co_units"] == [
        {"unit": CO, "due_at": CO_CLOCK.due_at, "provisional": False}
    ]
    after = applied(PENDING, [ruling, assigned])
    assert after.status == ASSIGNED and after.lead_unit == NEXT
    assert after.clock(CO) == CO_CLOCK and after.clock(UNIT) is None
    assert after.assigned_times == PENDING.assigned_times + 1


def test_a_co_unit_named_next_lead_becomes_the_lead_and_a_finished_part_stays_behind() -> None:
    case = PENDING._replace(
        clocks=(lead(), CO_CLOCK, CO_CLOCK._replace(unit="unit:done", completed=True))
    )
    cmd = GRANT.model_copy(update={"next_lead": CO})
    _, assigned = returns.rule_return(stream(case), cmd, OFFICER, NEXT_DUE)
    assert assigned.data["lead_unit"] == CO and assigned.data["co_units"] == []


def test_a_granted_co_unit_return_takes_only_its_part_off() -> None:
    case = WORKING._replace(returns_pending=(CO,))
    cmd = returns.RuleReturn(unit=CO, granted=True, ruling="另行处理")
    [ruling] = returns.rule_return(stream(case), cmd, OFFICER, None)
    after = applied(case, [ruling])
    assert after.units == (UNIT,) and after.clock(UNIT) == case.clock(UNIT)


@pytest.mark.parametrize(
    ("case", "cmd", "reason"),
    [
        (WORKING, REFUSE, "no_return_pending"),
        (PENDING._replace(status=RECEIVED), REFUSE, "wrong_state"),
        (
            PENDING,
            GRANT.model_copy(update={"next_lead": None, "working_days": None}),
            "next_lead_required",
        ),
        (PENDING, GRANT.model_copy(update={"next_lead": UNIT}), "same_unit"),
        (PENDING.with_clock(CO, overdue=True), GRANT, "deemed_done_pending"),
        (PENDING, GRANT.model_copy(update={"working_days": None}), "next_lead_required"),
        (PENDING, REFUSE.model_copy(update={"next_lead": NEXT}), "refusal_names_no_unit"),
        (PENDING, REFUSE.model_copy(update={"working_days": 5}), "refusal_names_no_unit"),
        (
            WORKING._replace(returns_pending=(CO,)),
            GRANT.model_copy(update={"unit": CO}),
            "co_unit_no_next_lead",
        ),
    ],
)
def test_a_ruling_is_refused(case: CaseState, cmd: returns.RuleReturn, reason: str) -> None:
    with pytest.raises(Refusal) as refused:
        returns.rule_return(stream(case), cmd, OFFICER, NEXT_DUE)
    assert refused.value.reason == reason


def test_the_rule_book_refuses_a_ruling_with_no_return_pending_too() -> None:
    [draft] = returns.rule_return(stream(PENDING), REFUSE, OFFICER, None)
    assert judged(WORKING, draft) == "wrong_state"


@pytest.mark.parametrize(
    "body",
    [
        {"unit": UNIT, "granted": False, "ruling": ""},
        {"unit": "demo-unit", "granted": False, "ruling": "x"},
        {"unit": UNIT, "granted": "yes", "ruling": "x", "extra": 1},
    ],
)
def test_ruling_bodies_outside_the_schema_are_refused(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        returns.RuleReturn.model_validate(body)


def test_the_clock_runs_through_a_pending_and_a_refused_return() -> None:
    """首接负责, as every reader judges the log: the unit's timer fires while its return is
    pending, and after the refusal the unit is the lead, overdue, on the same due time."""
    from tests.samples import ASSIGNED as OPENED_AND_ASSIGNED
    from tests.samples import DUE as SAMPLE_DUE
    from tests.samples import UNIT as SAMPLE_UNIT
    from tests.samples import Judge, MemoryLedger, step

    judge = Judge(MemoryLedger(partitions=3))
    state = judge.accepted(
        [
            *OPENED_AND_ASSIGNED,
            step("ledger.handling.return_requested.v1"),
            step("ledger.deadline.elapsed.v1"),  # the lead's due time passes meanwhile
            step("ledger.dispatch.return_ruled.v1", granted=False),
        ]
    )
    clock = state.clock(SAMPLE_UNIT)
    assert state.lead_unit == SAMPLE_UNIT and state.status == ASSIGNED
    assert clock.due_at == SAMPLE_DUE and clock.overdue and not clock.deemed_done
    assert state.returns_pending == ()
