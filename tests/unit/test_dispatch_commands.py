"""Dispatch's assignment, as a pair: accepted with the route proposed and each unit's due time
(and the rule book agrees), refused with its reason — an unscreened case first of all; an
officer's departure from the proposal stands only with its reason."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from pydantic import ValidationError

from services.dispatch import commands
from services.dispatch.routing import RouteIndex
from shared.calendar import SHANGHAI, StatutoryCalendar
from shared.events.catalog import DispatchAssigned, Routing, TimeLimits, Urgency
from shared.ledger.configuration import default_contents
from shared.rules.case import ASSIGNED, NEW, RECEIVED, CaseState
from shared.web.command_path import Refusal
from tests.unit.service_decide_support import UNIT, judged, stream

OFFICER = "efficiency-office/D001"
DEFAULTS = default_contents()
ROUTES = RouteIndex(Routing.model_validate(DEFAULTS["routing"]))
LIMITS = TimeLimits.model_validate(DEFAULTS["time_limits"])
# A case about the city's 政务服务中心 on 不动产登记: the catalogue sends it to the natural
# resources bureau, with the centre as co-unit (R0005 of deploy/config/routing.json).
SCREENED = CaseState(
    status=RECEIVED, unit="unit:government-services", screened=True, screening="new"
)
# Assigned on Friday 2026-09-25 10:00 (中秋节, 9/25-9/27 off): seven working days skip it and
# 国庆节 (10/1-10/7 off; 10/10 Saturday works): 9/28, 9/29, 9/30, 10/8, 10/9,
# 10/10, 10/12 → due at 24:00 on 10/12 (国务院办公厅关于2026年部分节假日安排的通知).
START = datetime(2026, 9, 25, 10, tzinfo=SHANGHAI)


def basis(category: str | None = "不动产登记", start: datetime = START) -> commands.AssignmentBasis:
    return commands.AssignmentBasis(
        routing_version="1",
        routes=ROUTES,
        time_limits_version="1",
        limits=LIMITS,
        calendar=StatutoryCalendar(),
        category=category,
        start=start,
    )


def assign(cmd: dict[str, Any], case: CaseState = SCREENED, **kw: Any) -> dict[str, Any]:
    [draft] = commands.assign(
        stream(case), commands.AssignCase.model_validate(cmd), OFFICER, basis(**kw)
    )
    assert judged(case, draft) is None
    DispatchAssigned.model_validate(draft.data)
    return draft.data


def test_as_proposed_the_case_goes_straight_to_the_unit_that_acts() -> None:
    data = assign({})
    assert data["lead_unit"] == "unit:natural-resources"
    assert [u["unit"] for u in data["co_units"]] == ["unit:government-services"]
    assert data["due_at"] == "2026-10-13T00:00:00+08:00"
    assert data["co_units"][0]["due_at"] == "2026-10-13T00:00:00+08:00"  # its own clock
    assert data["proposed"]["entry"] == "R0005"
    assert data["routing_version"] == "1" and data["time_limits_version"] == "1"
    assert data["handle_within"] == {"amount": 7, "unit": "working_days"}
    assert data["counted_from"] == START.isoformat()
    assert data["calendar_version"] == "chinesecalendar-1.11.0"
    assert data["direct"] is True and "override_reason" not in data


def test_an_urgent_case_is_due_in_hours() -> None:
    data = assign({"urgency": "urgent"})
    assert data["handle_within"] == {"amount": 2, "unit": "hours"}
    assert data["due_at"] == "2026-09-25T12:00:00+08:00"
    assert data["provisional"] is False


def test_a_category_of_its_own_has_its_own_limit() -> None:
    # 劳动欠薪 at normal urgency: 5 working days (by_category), not the 7 of by_urgency.
    data = assign({}, category="劳动欠薪")
    assert data["handle_within"] == {"amount": 5, "unit": "working_days"}
    assert data["due_at"] == "2026-10-10T00:00:00+08:00"  # 9/28, 9/29, 9/30, 10/8, 10/9


def test_an_override_records_its_reason_and_the_proposal() -> None:
    data = assign({"lead_unit": UNIT, "override_reason": "该中心窗口由示范单位派驻"})
    assert data["lead_unit"] == UNIT and data["co_units"] == []
    assert data["override_reason"] == "该中心窗口由示范单位派驻"
    assert data["proposed"]["lead"] == "unit:natural-resources"


def test_an_explicit_limit_is_an_override_too() -> None:
    data = assign({"working_days": 10, "override_reason": "涉及多部门，延长时限"})
    assert data["handle_within"] == {"amount": 10, "unit": "working_days"}
    # 9/28-9/30, 10/8-10/10, 10/12-10/15: the tenth is 10/15.
    assert data["due_at"] == "2026-10-16T00:00:00+08:00"


@pytest.mark.parametrize(
    "cmd",
    [
        {"lead_unit": UNIT},
        {"working_days": 10},
        {"co_units": []},
        {"co_units": ["unit:government-services", "unit:huicheng-services"]},
    ],
)
def test_a_departure_without_its_reason_is_refused(cmd: dict[str, Any]) -> None:
    with pytest.raises(Refusal) as refused:
        assign(cmd)
    assert refused.value.reason == "override_needs_reason"


def test_the_catalog_refuses_a_departure_without_a_reason_too() -> None:
    data = assign({"lead_unit": UNIT, "override_reason": "理由"})
    del data["override_reason"]
    with pytest.raises(ValidationError, match="states its reason"):
        DispatchAssigned.model_validate(data)


def test_no_route_and_no_unit_named_is_refused() -> None:
    other = {"code": "X", "category": "别的", "lead": "respondent"}
    empty = RouteIndex(Routing.model_validate({"entries": [other]}))
    b = commands.AssignmentBasis("9", empty, "1", LIMITS, StatutoryCalendar(), "不动产登记", START)
    with pytest.raises(Refusal) as refused:
        commands.assign(stream(SCREENED), commands.AssignCase(), OFFICER, b)
    assert refused.value.reason == "no_route"
    cmd = commands.AssignCase(lead_unit=UNIT, override_reason="目录无此类别")
    [draft] = commands.assign(stream(SCREENED), cmd, OFFICER, b)
    assert draft.data["proposed"]["entry"] is None and draft.data["lead_unit"] == UNIT


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        (CaseState(status=NEW), "unknown_case"),
        (SCREENED._replace(screened=False), "unscreened"),
        (SCREENED._replace(status=ASSIGNED), "wrong_state"),
    ],
)
def test_assign_refuses(case: CaseState, reason: str) -> None:
    with pytest.raises(Refusal) as refused:
        commands.assign(stream(case), commands.AssignCase(), OFFICER, basis())
    assert refused.value.reason == reason


def test_the_rule_book_refuses_an_unscreened_assignment_too() -> None:
    [draft] = commands.assign(stream(SCREENED), commands.AssignCase(), OFFICER, basis())
    assert judged(SCREENED._replace(screened=False), draft) == "unscreened"


@pytest.mark.parametrize(
    "body",
    [
        {"lead_unit": "demo-unit"},  # not a unit id
        {"working_days": 0},
        {"working_days": "5"},
        {"override_reason": ""},
        {"due_at": "2026-01-01T00:00:00Z"},
        {"urgency": "whenever"},
    ],
)
def test_assignment_bodies_outside_the_schema_are_refused(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        commands.AssignCase.model_validate(body)


def test_urgency_names_every_level_the_time_limits_know() -> None:
    for urgency in Urgency:
        assert commands.proposal(SCREENED, basis(), urgency).handle_within is not None
