"""Dispatch's assignment, as a pair: accepted with the computed due time (and the rule book
agrees), refused with its reason — an unscreened case first of all."""

from __future__ import annotations

from datetime import datetime

import pytest
from pydantic import ValidationError

from services.dispatch import commands
from shared.calendar import SHANGHAI, StatutoryCalendar, TimeLimit, due_at
from shared.rules.case import ASSIGNED, NEW, RECEIVED, CaseState
from shared.web.command_path import Refusal
from tests.unit.service_decide_support import UNIT, judged, stream

OFFICER = "efficiency-office/D001"
SCREENED = CaseState(status=RECEIVED, unit="x", screened=True, screening="new")
CMD = commands.AssignCase(lead_unit=UNIT, working_days=5)
# Assigned on Friday 2026-09-25: five working days skip the weekend and 国庆节.
DUE = due_at(datetime(2026, 9, 25, 10, tzinfo=SHANGHAI), TimeLimit(amount=5), StatutoryCalendar())


def test_assign_records_the_lead_units_due_time_and_calendar() -> None:
    [draft] = commands.assign(stream(SCREENED), CMD, OFFICER, DUE)
    assert draft.data["lead_unit"] == UNIT and draft.data["due_at"] == DUE.at.isoformat()
    assert draft.data["calendar_version"] == DUE.calendar_version
    assert judged(SCREENED, draft) is None


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
        commands.assign(stream(case), CMD, OFFICER, DUE)
    assert refused.value.reason == reason


def test_the_rule_book_refuses_an_unscreened_assignment_too() -> None:
    [draft] = commands.assign(stream(SCREENED), CMD, OFFICER, DUE)
    assert judged(SCREENED._replace(screened=False), draft) == "unscreened"


@pytest.mark.parametrize(
    "body",
    [
        {"lead_unit": "demo-unit", "working_days": 5},  # not a unit id
        {"lead_unit": UNIT, "working_days": 0},
        {"lead_unit": UNIT, "working_days": "5"},
        {"lead_unit": UNIT, "working_days": 5, "due_at": "2026-01-01T00:00:00Z"},
    ],
)
def test_assignment_bodies_outside_the_schema_are_refused(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        commands.AssignCase.model_validate(body)
