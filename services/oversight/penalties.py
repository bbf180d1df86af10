"""Penalties by schedule (按标准问责): a supervisor imposes a penalty, or decides a proposal —
imposing it, or dismissing it with a reason. The routes, the pure decisions and the register
page (问责登记簿).

The minimum is the schedule in force for the offence and the person's repeat count; a penalty
below it needs a recorded reason (``departure_reason``), and a reason without a departure is
refused too, so every departure is visible and countable. The repeat count goes by person
(staff id), across transfers: the writer counts the person's penalties for the offence in the
log (the register's read model) — a clerk moved to another window or unit is still on a second
offence. The rule book checks the minimum again against the schedule version the event names.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.responses import Response

from services.oversight.penalty_register import PENALTIES, PENDING, PROPOSALS
from services.oversight.proposals import DISMISSED
from shared.events.catalog import (
    PENALTY_RANK,
    ConfigKind,
    OffenceCode,
    OrgId,
    Penalty,
    PenaltySchedule,
    StaffId,
)
from shared.ledger.signer import Draft
from shared.rules.case.penalty import floor_of
from shared.rules.stream import StreamState
from shared.store.port import DESC, DocumentStore
from shared.web import Role
from shared.web.command_path import CommandAnswer, Ledger, LedgerDep, Refusal, known_case
from shared.web.config_in_force import InForce, in_force
from shared.web.context import get_context
from shared.web.idempotency import command
from shared.web.identity import Operator
from shared.web.page_commands import back_to, new_form_key, page_command
from shared.web.pages import NavItem
from shared.web.problems import VALIDATION, ProblemError
from shared.web.read_your_writes import FreshRead
from shared.web.service_read_model import CaseIdPath, read_store
from shared.web.sessions import page

IMPOSED = "ledger.penalty.imposed.v1"
ProposalId = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$")]

router = APIRouter(tags=["penalties"])


class ImposePenalty(BaseModel):
    """处分: who (post and staff id), for which offence, which measure on the scale; below the
    schedule's minimum only with a reason. ``proposal_id`` decides a pending proposal (then it
    is the cause); otherwise ``causes`` names the events the penalty answers."""

    model_config = ConfigDict(extra="forbid")

    unit: OrgId
    post: Annotated[str, Field(min_length=1, max_length=80)]
    staff_id: StaffId
    offence: OffenceCode
    penalty: Penalty
    departure_reason: Annotated[str, Field(max_length=500)] = ""
    leadership: bool = False
    proposal_id: Annotated[str, Field(pattern=r"^[0-9a-f-]{36}$")] | None = None
    causes: Annotated[list[Annotated[str, Field(max_length=40)]], Field(max_length=20)] = []


class DismissProposal(BaseModel):
    """不予问责: the proposal is dismissed, with the reason recorded."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=1, max_length=500)]


# -- the decisions, pure ---------------------------------------------------------------------


def impose(
    state: StreamState,
    cmd: ImposePenalty,
    schedule: InForce[PenaltySchedule],
    repeat_count: int,
    penalty_id: str,
    actor: str,
) -> list[Draft]:
    """The penalty, checked against the schedule in force for the person's ``repeat_count``."""
    case = known_case(state)
    floor = floor_of(schedule.content.model_dump(mode="json"), cmd.offence, repeat_count)
    if floor is None:
        raise Refusal("unknown_offence", "现行问责标准中没有该违规情形")
    below = PENALTY_RANK[cmd.penalty] < PENALTY_RANK[floor]
    reason = cmd.departure_reason.strip()
    if below and not reason:
        raise Refusal("below_schedule", "低于问责标准的最低处理，须写明理由")
    if reason and not below:
        raise Refusal("no_departure", "未低于问责标准，无需填写从轻理由")
    if cmd.proposal_id is not None and cmd.proposal_id not in case.proposals:
        raise Refusal("no_such_proposal", "该问责建议不存在或已处理")
    causes = [cmd.proposal_id] if cmd.proposal_id is not None else cmd.causes
    if not causes:
        raise Refusal("no_cause", "须写明问责所依据的事件")
    data: dict[str, Any] = {
        "penalty_id": penalty_id,
        "unit": cmd.unit,
        "post": cmd.post,
        "staff_id": cmd.staff_id,
        "offence": cmd.offence,
        "schedule_version": schedule.label,
        "penalty": cmd.penalty,
        "departure_reason": reason,
        "causes": causes,
        "repeat_count": repeat_count,
        "leadership": cmd.leadership,
    }
    if cmd.proposal_id is not None:
        data["proposal_id"] = cmd.proposal_id
    return [Draft(IMPOSED, data, actor)]


def dismiss(state: StreamState, proposal_id: str, cmd: DismissProposal, actor: str) -> list[Draft]:
    case = known_case(state)
    if proposal_id not in case.proposals:
        raise Refusal("no_such_proposal", "该问责建议不存在或已处理")
    return [Draft(DISMISSED, {"proposal_id": proposal_id, "reason": cmd.reason.strip()}, actor)]


# -- the shell ---------------------------------------------------------------------------------


async def repeat_count(store: DocumentStore, staff_id: str, offence: str) -> int:
    """Which offence this is for the person, by staff id across every post and unit they held:
    their standing penalties for it in the log, plus this one."""
    held = await store.count(
        PENALTIES, {"staff_id": staff_id, "offence": offence, "revoked": False}
    )
    return held + 1


async def _impose(
    request: Request, case_id: str, cmd: ImposePenalty, ledger: Ledger
) -> CommandAnswer:
    schedule = await in_force(request, ConfigKind.penalty_schedule, PenaltySchedule)
    count = await repeat_count(await read_store(request), cmd.staff_id, cmd.offence)
    penalty_id = ledger.event_id(0)
    return await ledger.run(
        case_id, lambda st: impose(st, cmd, schedule, count, penalty_id, ledger.actor)
    )


@router.post(
    "/cases/{case_id}/penalties",
    status_code=201,
    summary="问责: impose a penalty by the schedule in force (below its minimum: with a reason)",
    dependencies=[Depends(command(Role.SUPERVISOR))],
)
async def impose_penalty(
    request: Request, case_id: CaseIdPath, body: ImposePenalty, ledger: LedgerDep
) -> CommandAnswer:
    return await _impose(request, case_id, body, ledger)


@router.post(
    "/cases/{case_id}/proposals/{proposal_id}/dismissal",
    status_code=201,
    summary="不予问责: dismiss a proposed penalty, with the reason",
    dependencies=[Depends(command(Role.SUPERVISOR))],
)
async def dismiss_proposal(
    case_id: CaseIdPath, proposal_id: ProposalId, body: DismissProposal, ledger: LedgerDep
) -> CommandAnswer:
    return await ledger.run(case_id, lambda st: dismiss(st, proposal_id, body, ledger.actor))


# -- the register page (问责登记簿) --------------------------------------------------------------


@router.get("/penalties", include_in_schema=False)
async def register(
    request: Request,
    fresh: FreshRead,
    unit: Annotated[str | None, Query(max_length=80)] = None,
    offence: Annotated[str | None, Query(max_length=40)] = None,
    departure: Annotated[str | None, Query(pattern=r"^(yes|no)?$")] = None,
    operator: Operator = Depends(page(Role.SUPERVISOR)),
) -> Response:
    """Every penalty, filtered by unit, offence and departure from the schedule; the proposals
    awaiting a decision."""
    store = await read_store(request)
    query: dict[str, Any] = {}
    if unit:
        query["unit"] = unit
    if offence:
        query["offence"] = offence
    if departure:
        query["departure"] = departure == "yes"
    rows = await store.find(PENALTIES, query, sort=[("imposed_at", DESC)], limit=200)
    waiting = await store.find(
        PROPOSALS, {"status": PENDING}, sort=[("proposed_at", DESC)], limit=200
    )
    schedule = await in_force(request, ConfigKind.penalty_schedule, PenaltySchedule)
    return get_context(request).pages.render(
        request,
        "oversight_penalties.html",
        {
            "rows": rows,
            "proposals": waiting,
            "labels": schedule.content.labels,
            "offences": sorted(schedule.content.minimums),
            "measures": list(Penalty),
            "filters": {"unit": unit or "", "offence": offence or "", "departure": departure or ""},
            "stale": fresh.gave_up,
            "form_key": new_form_key,
        },
    )


def _invalid(exc: ValidationError) -> ProblemError:
    fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
    return ProblemError(VALIDATION, "请检查以下字段：" + "、".join(fields))


@router.post("/penalties/{case_id}/penalty", include_in_schema=False)
async def impose_from_page(
    request: Request,
    case_id: CaseIdPath,
    ledger: LedgerDep,
    unit: Annotated[str, Form(max_length=80)],
    post: Annotated[str, Form(max_length=80)],
    staff_id: Annotated[str, Form(max_length=40)],
    offence: Annotated[str, Form(max_length=40)],
    penalty: Annotated[str, Form(max_length=40)],
    departure_reason: Annotated[str, Form(max_length=500)] = "",
    proposal_id: Annotated[str, Form(max_length=40)] = "",
    leadership: Annotated[bool, Form()] = False,
    operator: Operator = Depends(page_command(Role.SUPERVISOR)),
) -> Response:
    try:
        cmd = ImposePenalty.model_validate(
            {
                "unit": unit,
                "post": post,
                "staff_id": staff_id,
                "offence": offence,
                "penalty": penalty,
                "departure_reason": departure_reason,
                "leadership": leadership,
                "proposal_id": proposal_id or None,
            }
        )
    except ValidationError as exc:
        raise _invalid(exc) from None
    answer = await _impose(request, case_id, cmd, ledger)
    return back_to("/penalties", answer.position)


@router.post("/penalties/{case_id}/proposals/{proposal_id}/dismissal", include_in_schema=False)
async def dismiss_from_page(
    case_id: CaseIdPath,
    proposal_id: ProposalId,
    ledger: LedgerDep,
    reason: Annotated[str, Form(max_length=500)] = "",
    operator: Operator = Depends(page_command(Role.SUPERVISOR)),
) -> Response:
    if not reason.strip():
        raise ProblemError(VALIDATION, "请填写不予问责的理由")
    cmd = DismissProposal(reason=reason)
    answer = await ledger.run(case_id, lambda st: dismiss(st, proposal_id, cmd, ledger.actor))
    return back_to("/penalties", answer.position)


NAV = (
    NavItem("问责登记簿", "/penalties", frozenset({Role.SUPERVISOR})),
    NavItem("人员名录", "/staff", frozenset({Role.ADMIN})),
)
