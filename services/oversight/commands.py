"""Oversight's decisions, pure: ``decide(state, command) -> drafts`` (no I/O, no clock).

A unit acts only through the workbench, which signs for it and names it (``unit`` in the
payload, the actor ``unit:<id>/<staff id>``). A supervisor closes a case with a finding; who
decided the outcome is the basis: the complainant (confirmed), or — with nobody to ask — the
supervisor.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from shared.events.catalog import ClosureBasis, Finding
from shared.ledger.signer import Draft
from shared.rules.case import ASSIGNED, CLAIMED, DISPUTED, RESOLVED, CaseState
from shared.rules.case.state import UnitClock
from shared.rules.stream import StreamState
from shared.web.command_path import Refusal, known_case

ACKNOWLEDGED = "ledger.handling.acknowledged.v1"
REPLIED = "ledger.handling.replied.v1"
CLAIMED_TYPE = "ledger.handling.resolution_claimed.v1"
CLOSED = "ledger.handling.closed.v1"

_WORKING = (ASSIGNED, CLAIMED, DISPUTED)


class Reply(BaseModel):
    """The unit's reply to the complaint (答复)."""

    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, Field(min_length=1, max_length=20_000)]


class ClaimResolution(BaseModel):
    """The unit reports the case resolved (报办结): the complainant is then asked."""

    model_config = ConfigDict(extra="forbid")

    summary: Annotated[str, Field(min_length=1, max_length=20_000)]


class CloseCase(BaseModel):
    """The supervisor's closure: a finding, on a recorded basis."""

    model_config = ConfigDict(extra="forbid")

    basis: ClosureBasis
    finding: Finding
    confidential: bool = Field(description="Never published")
    note: Annotated[str, Field(max_length=500)] = ""


def unit_working(case: CaseState, unit: str) -> UnitClock:
    """The unit's clock on a case it works while the case is being worked."""
    clock = case.clock(unit)
    if clock is None:
        raise Refusal("not_assigned", "本单位不是该件的承办单位")
    if case.status not in _WORKING:
        raise Refusal("wrong_state", "该件当前不在办理中")
    return clock


def open_part(case: CaseState, unit: str, claimed: str) -> UnitClock:
    """The unit's clock on a case it works, its part not done and the case not yet claimed
    (``claimed``: the refusal's words when it is): a claim, a return or an extension."""
    clock = unit_working(case, unit)
    if clock.completed or clock.deemed_done:
        raise Refusal("part_done", "本单位的办理已经结束")
    if case.status != ASSIGNED:
        raise Refusal("wrong_state", claimed)
    return clock


def acknowledge(state: StreamState, unit: str, actor: str) -> list[Draft]:
    """签收: the unit has the case (the clock has run since assignment, and keeps running)."""
    unit_working(known_case(state), unit)
    return [Draft(ACKNOWLEDGED, {"unit": unit}, actor)]


def reply(state: StreamState, unit: str, cmd: Reply, actor: str) -> list[Draft]:
    unit_working(known_case(state), unit)
    return [Draft(REPLIED, {"unit": unit, "text": cmd.text}, actor)]


def claim_resolution(
    state: StreamState, unit: str, cmd: ClaimResolution, actor: str, answer_due_at: str
) -> list[Draft]:
    """报办结: not resolution — the complainant confirms until ``answer_due_at`` (回访)."""
    case = known_case(state)
    clock = open_part(case, unit, "该件已报办结，等待投诉人确认")
    data: dict[str, object] = {"unit": unit, "summary": cmd.summary}
    if clock.lead and case.has_complainant:
        data["answer_due_at"] = answer_due_at
    return [Draft(CLAIMED_TYPE, data, actor)]


def close(state: StreamState, cmd: CloseCase, actor: str) -> list[Draft]:
    """办结: the supervisor records the finding and on what basis the outcome stands."""
    case = known_case(state)
    if cmd.basis == ClosureBasis.complainant_confirmed:
        if case.status != RESOLVED:
            raise Refusal("not_confirmed", "投诉人尚未确认问题已解决")
    else:
        if case.status != CLAIMED:
            raise Refusal("wrong_state", "承办单位尚未报告办结，不能认定")
        if case.has_complainant and not case.answer_elapsed:
            raise Refusal("complainant_askable", "投诉人仍可确认：回访期满前不能由督办员认定")
        if cmd.basis == ClosureBasis.anonymous and case.has_complainant:
            raise Refusal("has_complainant", "该件有投诉人，不是匿名投诉")
        if cmd.basis == ClosureBasis.inspection_opened and not case.inspection:
            raise Refusal("not_inspection", "该件不是暗访发现的问题")
    data = {
        "basis": cmd.basis,
        "finding": cmd.finding,
        "confidential": cmd.confidential,
        "note": cmd.note,
    }
    return [Draft(CLOSED, data, actor)]


# -- 退单: the unit asks to return its assignment (dispatch rules on it) --------------------------

RETURN_REQUESTED = "ledger.handling.return_requested.v1"


class RequestReturn(BaseModel):
    """退单申请: the unit asks dispatch to take the case back, saying why. Its clock keeps
    running until a dispatch officer grants it (首接负责)."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=1, max_length=500)]


def request_return(state: StreamState, unit: str, cmd: RequestReturn, actor: str) -> list[Draft]:
    case = known_case(state)
    open_part(case, unit, "该件已报办结，不能退单")
    if unit in case.returns_pending:
        raise Refusal("return_pending", "本单位的退单申请正在等待裁定")
    return [Draft(RETURN_REQUESTED, {"unit": unit, "reason": cmd.reason}, actor)]
