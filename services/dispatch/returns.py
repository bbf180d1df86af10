"""退单: a dispatch officer's ruling on a unit's return, pure (no I/O, no clock).

A unit asks to return its assignment through oversight's workbench, with a reason
(``handling.return_requested``); only a dispatch officer rules. Until a return is granted the
unit's clock keeps running — a pending or refused return changes no due time (首接负责).

* Refused: ``dispatch.return_ruled`` (granted false), nothing else.
* The lead's return granted: the ruling and, in the same append, the assignment to the next
  lead unit (直接交办: the case goes straight to it and never waits unassigned in between),
  with its own new due time; the co-units whose parts are still open carry on with their own
  due times, unchanged (a co-unit named as the next lead becomes the lead).
* A co-unit's return granted: its part leaves the case; the lead and the other co-units carry
  on.

Who holds the case from when to when is the transfer path (``transfer_path.py``); a case
returned twice or handed back to a unit that returned it is flagged (``buck_passing.py``).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from shared.calendar import Due
from shared.events.catalog import Urgency
from shared.ledger.signer import Draft
from shared.rules.case import ASSIGNED, CaseState
from shared.rules.stream import StreamState
from shared.web.command_path import Refusal, known_case
from shared.web.wire import JSON_INT

RETURN_RULED = "ledger.dispatch.return_ruled.v1"
ASSIGNED_TYPE = "ledger.dispatch.assigned.v1"

UnitId = Annotated[str, Field(pattern=r"^unit:[a-z0-9._-]{1,75}$", description="unit:<id>")]


class RuleReturn(BaseModel):
    """The ruling on one unit's pending return; granting the lead's names the next lead."""

    model_config = ConfigDict(extra="forbid")

    unit: UnitId = Field(description="The unit whose return is ruled on")
    granted: bool
    ruling: Annotated[str, Field(min_length=1, max_length=500)] = Field(
        description="The reasons for the ruling (recorded in the log)"
    )
    next_lead: UnitId | None = Field(
        None, description="Granting the lead's return: the unit the case goes to directly"
    )
    working_days: Annotated[int, Field(ge=1, le=60), JSON_INT] | None = Field(
        None, description="The next lead's limit, in working days"
    )
    urgency: Urgency = Urgency.normal


def _pending(case: CaseState, unit: str) -> None:
    if case.status != ASSIGNED:
        raise Refusal("wrong_state", "该件当前不在办理中，不能裁定退单")
    if unit not in case.returns_pending:
        raise Refusal("no_return_pending", "该单位没有待裁定的退单申请")


def _reassignment(case: CaseState, cmd: RuleReturn, due: Due | None) -> dict[str, object]:
    """The assignment to the next lead: the co-units still working carry their own clocks."""
    if cmd.next_lead is None or cmd.working_days is None or due is None:
        raise Refusal("next_lead_required", "准予牵头单位退单时须直接交办下一个牵头单位")
    if cmd.next_lead == cmd.unit:
        raise Refusal("same_unit", "不能把件退回给申请退单的单位")
    working = [c for c in case.clocks if not c.lead and not (c.completed or c.deemed_done)]
    if any(c.overdue for c in working):
        # its deemed-done follows its timer at once; carried on, it would never come
        raise Refusal("deemed_done_pending", "协办单位已超时，超时默认记录后再裁定")
    carried = [
        {"unit": c.unit, "due_at": c.due_at, "provisional": c.provisional}
        for c in working
        if c.unit != cmd.next_lead
    ]
    return {
        "lead_unit": cmd.next_lead,
        "due_at": due.at.isoformat(),
        "provisional": due.provisional,
        "co_units": carried,
        "calendar_version": due.calendar_version,
        "urgency": cmd.urgency,
        "direct": True,
        "instructions": "",
    }


def rule_return(state: StreamState, cmd: RuleReturn, actor: str, due: Due | None) -> list[Draft]:
    """The ruling (and, granting the lead's return, the direct reassignment). ``due`` is the
    next lead's due time, computed by the caller from the ruling's time."""
    case = known_case(state)
    _pending(case, cmd.unit)
    clock = case.clock(cmd.unit)
    assert clock is not None  # a pending return is a unit on the case
    ruling = Draft(
        RETURN_RULED, {"unit": cmd.unit, "granted": cmd.granted, "ruling": cmd.ruling}, actor
    )
    if not cmd.granted:
        if cmd.next_lead is not None or cmd.working_days is not None:
            raise Refusal("refusal_names_no_unit", "不予退单时不另行交办")
        return [ruling]
    if not clock.lead:
        if cmd.next_lead is not None:
            raise Refusal("co_unit_no_next_lead", "协办单位退单获准后不另行交办牵头单位")
        return [ruling]
    return [ruling, Draft(ASSIGNED_TYPE, _reassignment(case, cmd, due), actor)]
