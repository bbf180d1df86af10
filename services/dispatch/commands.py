"""Dispatch's decisions, pure: ``decide(state, command) -> drafts`` (no I/O, no clock).

The due time is computed by the caller (``shared/calendar.py``, from the assignment's time)
and handed in: the decision records it with the calendar's version, and replay never
recomputes it.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from shared.calendar import Due
from shared.events.catalog import Urgency
from shared.ledger.signer import Draft
from shared.rules.case import RECEIVED
from shared.rules.stream import StreamState
from shared.web.command_path import Refusal, known_case
from shared.web.wire import JsonInt

ASSIGNED = "ledger.dispatch.assigned.v1"

UnitId = Annotated[str, Field(pattern=r"^unit:[a-z0-9._-]{1,75}$", description="unit:<id>")]


class AssignCase(BaseModel):
    """直接交办: one lead unit, with a time limit in working days (限时办结)."""

    model_config = ConfigDict(extra="forbid")

    lead_unit: UnitId
    working_days: JsonInt = Field(
        ge=1,
        le=60,
        description="The limit, in working days of the statutory calendar, from the day after "
        "the assignment",
    )
    urgency: Urgency = Urgency.normal
    instructions: Annotated[str, Field(max_length=500)] = ""


def assign(state: StreamState, cmd: AssignCase, actor: str, due: Due) -> list[Draft]:
    """Assign the case to its lead unit, with that unit's absolute due time."""
    case = known_case(state)
    if not case.screened:
        raise Refusal("unscreened", "该件尚未完成甄别，不能转办")
    if case.status != RECEIVED:
        raise Refusal("wrong_state", "该件已在办理中或已结束，不能再次转办")
    data = {
        "lead_unit": cmd.lead_unit,
        "due_at": due.at.isoformat(),
        "provisional": due.provisional,
        "calendar_version": due.calendar_version,
        "urgency": cmd.urgency,
        "direct": True,
        "instructions": cmd.instructions,
    }
    return [Draft(ASSIGNED, data, actor)]
