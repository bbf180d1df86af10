"""申诉复核: a unit appeals an event the log counts against it — a penalty, a deemed done, a
reopen, a buck-passing flag — with its reasons; a supervisor rules, upheld or rejected, with a
reason. The pure decisions, the register's read model, the routes and the two pages (the
unit's appeal form on its case, ``/appeals`` for supervisors).

Every step is an event on the case stream (``appeal.filed``, ``appeal.ruled``); an upheld
appeal of a penalty is followed, in the same command, by ``penalty.revoked``. What an upheld
appeal changes in the rates is defined with the rates (README "Rates"); the period figures
worker signs the corrected version of an ended period's figures
(``services/oversight/period_figures.py``). The rule book checks the same things again
(``shared/rules/case/appeal.py``): these decisions only refuse earlier, in words a page shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.responses import Response

from services.oversight.workbench import (
    UnitCase,
    case_of_unit,
    on_case,
    unit_command,
    unit_form,
    unit_page,
    unit_reader,
)
from shared.events.catalog import AppealOutcome, AppealTarget
from shared.ledger.signer import Draft
from shared.readside.projection import Accepted, Write
from shared.rules.case import CaseState
from shared.rules.case.appeal import PENDING, appeal_of, target_of
from shared.rules.stream import StreamState
from shared.store.port import DESC, Doc, DocumentStore
from shared.web import Role
from shared.web.auth import require_roles
from shared.web.command_path import CommandAnswer, LedgerDep, Refusal, known_case
from shared.web.context import get_context
from shared.web.idempotency import command
from shared.web.identity import Operator
from shared.web.page_commands import back_to, new_form_key, page_command
from shared.web.pages import NavItem
from shared.web.problems import VALIDATION, ProblemError
from shared.web.read_your_writes import FreshRead
from shared.web.service_read_model import CaseIdPath, read_store
from shared.web.sessions import page

FILED = "ledger.appeal.filed.v1"
RULED = "ledger.appeal.ruled.v1"
REVOKED = "ledger.penalty.revoked.v1"
APPEALS = "oversight_appeals"
APPEAL_CASES = "oversight_appeal_cases"

EventId = Annotated[str, Field(pattern=r"^[0-9a-f-]{36}$")]
AppealIdPath = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$")]
NOT_YOURS = "没有这件投诉，或该件没有可由本单位申诉的事项"
LISTED = 200

router = APIRouter(tags=["appeals"])


def _stripped(v: str) -> str:
    v = v.strip()
    if not v:
        raise ValueError("must not be blank")
    return v


class FileAppeal(BaseModel):
    """申诉: which event (its kind and id, as the case's appealable events list them) and why."""

    model_config = ConfigDict(extra="forbid")

    target: AppealTarget
    target_event: EventId
    reasons: Annotated[str, Field(min_length=1, max_length=2000)]

    _reasons = field_validator("reasons")(_stripped)


class RuleAppeal(BaseModel):
    """复核: upheld (申诉成立) or rejected (不成立), always with the reason."""

    model_config = ConfigDict(extra="forbid")

    outcome: AppealOutcome
    reason: Annotated[str, Field(min_length=1, max_length=500)]

    _reason = field_validator("reason")(_stripped)


# -- the decisions, pure ---------------------------------------------------------------------


@dataclass(frozen=True)
class Appealable:
    """One event of a case the unit may appeal, and the appeal it already filed, if any."""

    target: str
    target_event: str
    penalty_id: str
    appeal: tuple[str, str, str, str] | None


def appealable(case: CaseState, unit: str) -> list[Appealable]:
    """Every event of the case counted against ``unit`` (a revoked penalty no longer is)."""
    out: list[Appealable] = []
    for event, kind, units, penalty_id in case.contestable:
        if unit not in units or (kind == "penalty" and penalty_id not in case.penalties):
            continue
        filed = next((a for a in case.appeals if a[1] == event and a[2] == unit), None)
        out.append(Appealable(kind, event, penalty_id, filed))
    return out


def file(state: StreamState, unit: str, cmd: FileAppeal, appeal_id: str, actor: str) -> list[Draft]:
    """The unit's appeal of one event counted against it, once per event."""
    case = known_case(state)
    target = target_of(case, cmd.target_event)
    if target is None or target[1] != cmd.target:
        raise Refusal("no_such_target", "该件没有这一可申诉的事项")
    if unit not in target[2]:
        raise Refusal("not_against_unit", "该事项不涉及本单位，不能申诉")
    if cmd.target == AppealTarget.penalty and target[3] not in case.penalties:
        raise Refusal("penalty_revoked", "该处分已撤销，无需申诉")
    if any(a[1] == cmd.target_event and a[2] == unit for a in case.appeals):
        raise Refusal("already_appealed", "本单位已就该事项申诉过，不能重复申诉")
    data = {
        "appeal_id": appeal_id,
        "target": cmd.target.value,
        "target_event": cmd.target_event,
        "unit": unit,
        "reasons": cmd.reasons,
    }
    return [Draft(FILED, data, actor)]


def rule(state: StreamState, appeal_id: str, cmd: RuleAppeal, actor: str) -> list[Draft]:
    """The supervisor's ruling on a pending appeal; upholding an appeal of a standing penalty
    revokes the penalty in the same command."""
    case = known_case(state)
    filed = appeal_of(case, appeal_id)
    if filed is None or filed[3] != PENDING:
        raise Refusal("no_such_appeal", "该申诉不存在或已复核")
    target = target_of(case, filed[1])
    assert target is not None  # the rule book accepted the filing only with its target
    ruled = {
        "appeal_id": appeal_id,
        "outcome": cmd.outcome.value,
        "reason": cmd.reason,
        "target": target[1],
        "target_event": filed[1],
        "unit": filed[2],
    }
    drafts = [Draft(RULED, ruled, actor)]
    upheld = cmd.outcome is AppealOutcome.upheld
    if upheld and target[1] == AppealTarget.penalty and target[3] in case.penalties:
        why = ("申诉复核成立：" + cmd.reason)[:500]
        drafts.append(Draft(REVOKED, {"penalty_id": target[3], "reason": why}, actor))
    return drafts


# -- the register's read model ---------------------------------------------------------------


class AppealRegister:
    """Every appeal (``oversight_appeals``, one document per appeal) with its ruling; the
    per-case document (``oversight_appeal_cases``) keeps the case's appeals so a ruling can
    rewrite its appeal. Pure, like every projection."""

    name = "appeal_register"
    stream_kinds = frozenset({"case"})
    stream_collection = APPEAL_CASES
    collections = (APPEALS, APPEAL_CASES)

    async def setup(self, store: DocumentStore) -> None:
        await store.ensure_index(APPEALS, ["status", "filed_at"])

    def apply(self, current: Doc | None, event: Accepted) -> list[Write]:
        if event.type not in (FILED, RULED):
            return []
        appeals: dict[str, Any] = dict(current["appeals"]) if current is not None else {}
        d = event.data
        if event.type == FILED:
            appeal = {
                **d,
                "case": event.stream,
                "status": PENDING,
                "filed_at": event.log_time,
                "filed_by": event.actor,
            }
        else:
            before = appeals.get(d["appeal_id"])
            if before is None:
                return []
            appeal = {
                **before,
                "status": d["outcome"],
                "ruling": d["reason"],
                "ruled_at": event.log_time,
                "ruled_by": event.actor,
            }
        appeals[d["appeal_id"]] = appeal
        return [
            Write(APPEALS, d["appeal_id"], appeal),
            Write(APPEAL_CASES, event.stream, {"appeals": appeals}),
        ]


# -- the shell: the unit ---------------------------------------------------------------------


supervisor_command = command(Role.SUPERVISOR)
supervisor_form = page_command(Role.SUPERVISOR)
supervisor_page = page(Role.SUPERVISOR)
supervisor_reader = require_roles(Role.SUPERVISOR)


def _may_appeal(case: CaseState, unit: str) -> bool:
    """The unit is on the case, or something on it counts against the unit."""
    return on_case(case, unit) or bool(appealable(case, unit))


async def _own(request: Request, case_id: str, operator: Operator) -> UnitCase:
    return await case_of_unit(request, case_id, operator, _may_appeal, NOT_YOURS)


async def own_command(
    request: Request, case_id: CaseIdPath, operator: Operator = Depends(unit_command)
) -> UnitCase:
    return await _own(request, case_id, operator)


async def own_form(
    request: Request, case_id: CaseIdPath, operator: Operator = Depends(unit_form)
) -> UnitCase:
    return await _own(request, case_id, operator)


async def own_page(
    request: Request, case_id: CaseIdPath, operator: Operator = Depends(unit_page)
) -> UnitCase:
    return await _own(request, case_id, operator)


async def own_read(
    request: Request, case_id: CaseIdPath, operator: Operator = Depends(unit_reader)
) -> UnitCase:
    return await _own(request, case_id, operator)


# The case is checked before the body: another unit's case is 404 whatever was sent.
OwnCommand = Annotated[UnitCase, Depends(own_command)]
OwnForm = Annotated[UnitCase, Depends(own_form)]
OwnPage = Annotated[UnitCase, Depends(own_page)]
OwnRead = Annotated[UnitCase, Depends(own_read)]


class AppealableView(BaseModel):
    target: AppealTarget
    target_event: str
    penalty_id: str | None
    appeal_id: str | None
    status: str | None = Field(description="pending, upheld or rejected; None: not appealed")


@router.get(
    "/workbench/cases/{case_id}/appealable",
    summary="申诉: what on this case counts against the unit, and its appeals of it",
)
async def unit_appealable(own: OwnRead) -> list[AppealableView]:
    return [_view(a) for a in appealable(own.state, own.unit)]


def _view(a: Appealable) -> AppealableView:
    return AppealableView(
        target=AppealTarget(a.target),
        target_event=a.target_event,
        penalty_id=a.penalty_id or None,
        appeal_id=a.appeal[0] if a.appeal else None,
        status=a.appeal[3] if a.appeal else None,
    )


async def _file(own: UnitCase, body: FileAppeal, ledger: LedgerDep) -> CommandAnswer:
    appeal_id = ledger.event_id(0)
    return await ledger.run(own.case_id, lambda st: file(st, own.unit, body, appeal_id, own.actor))


@router.post(
    "/workbench/cases/{case_id}/appeals",
    status_code=201,
    summary="申诉: the unit appeals a penalty, deemed done, reopen or buck-passing flag",
)
async def file_appeal(own: OwnCommand, body: FileAppeal, ledger: LedgerDep) -> CommandAnswer:
    return await _file(own, body, ledger)


@router.get("/workbench/{case_id}/appeals", include_in_schema=False)
async def unit_appeal_page(request: Request, own: OwnPage, fresh: FreshRead) -> Response:
    """The unit's appeal form on its case: each event counted against it, appealable once."""
    return get_context(request).pages.render(
        request,
        "oversight_appeal_filing.html",
        {
            "case_id": own.case_id,
            "unit": own.unit,
            "rows": appealable(own.state, own.unit),
            "stale": fresh.gave_up,
            "form_key": new_form_key,
        },
    )


@router.post("/workbench/{case_id}/appeals/filing", include_in_schema=False)
async def file_from_page(
    own: OwnForm,
    ledger: LedgerDep,
    target: Annotated[str, Form(max_length=40)] = "",
    target_event: Annotated[str, Form(max_length=40)] = "",
    reasons: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    body = _form(
        FileAppeal,
        {"target": target, "target_event": target_event, "reasons": reasons},
        "申诉须选定事项，并填写不超过2000字的申诉理由",
    )
    answer = await _file(own, body, ledger)
    return back_to(f"/workbench/{own.case_id}/appeals", answer.position)


def _form(model: type[BaseModel], fields: dict[str, Any], what: str) -> Any:
    """The API's command model from a form, or a 422 saying what to fix (never echoing it)."""
    try:
        return model.model_validate(fields)
    except ValidationError:
        raise ProblemError(VALIDATION, what) from None


# -- the shell: the supervisor ---------------------------------------------------------------


@router.post(
    "/cases/{case_id}/appeals/{appeal_id}/ruling",
    status_code=201,
    summary="复核: rule on a pending appeal (upheld or rejected, with the reason)",
    dependencies=[Depends(supervisor_command)],
)
async def rule_appeal(
    case_id: CaseIdPath, appeal_id: AppealIdPath, body: RuleAppeal, ledger: LedgerDep
) -> CommandAnswer:
    return await ledger.run(case_id, lambda st: rule(st, appeal_id, body, ledger.actor))


class AppealEntry(BaseModel):
    appeal_id: str
    case: str
    unit: str
    target: AppealTarget
    target_event: str
    reasons: str
    status: str
    filed_at: int
    ruling: str | None = None
    ruled_at: int | None = None
    ruled_by: str | None = None


async def _register(store: DocumentStore) -> tuple[list[Doc], list[Doc]]:
    waiting = await store.find(
        APPEALS, {"status": PENDING}, sort=[("filed_at", DESC)], limit=LISTED
    )
    ruled = await store.find(
        APPEALS, {"status": {"$ne": PENDING}}, sort=[("ruled_at", DESC)], limit=LISTED
    )
    return waiting, ruled


@router.get("/appeals/awaiting", summary="申诉复核: the appeals awaiting a ruling, newest first")
async def appeals_awaiting(
    request: Request, fresh: FreshRead, operator: Operator = Depends(supervisor_reader)
) -> list[AppealEntry]:
    waiting, _ = await _register(await read_store(request))
    return [AppealEntry.model_validate(_entry(r)) for r in waiting]


@router.get("/appeals/ruled", summary="申诉复核: the appeals ruled on, the latest ruling first")
async def appeals_ruled(
    request: Request, fresh: FreshRead, operator: Operator = Depends(supervisor_reader)
) -> list[AppealEntry]:
    _, ruled = await _register(await read_store(request))
    return [AppealEntry.model_validate(_entry(r)) for r in ruled]


def _entry(doc: Doc) -> dict[str, Any]:
    return {k: doc.get(k) for k in AppealEntry.model_fields}


@router.get("/appeals", include_in_schema=False)
async def appeals_page(
    request: Request, fresh: FreshRead, operator: Operator = Depends(supervisor_page)
) -> Response:
    """申诉复核: the appeals awaiting a ruling, each with the ruling form; then those ruled."""
    waiting, ruled = await _register(await read_store(request))
    return get_context(request).pages.render(
        request,
        "oversight_appeals.html",
        {
            "waiting": waiting,
            "ruled": ruled,
            "stale": fresh.gave_up,
            "form_key": new_form_key,
        },
    )


@router.post("/appeals/{case_id}/{appeal_id}/ruling", include_in_schema=False)
async def rule_from_page(
    case_id: CaseIdPath,
    appeal_id: AppealIdPath,
    ledger: LedgerDep,
    outcome: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
    operator: Operator = Depends(supervisor_form),
) -> Response:
    body = _form(
        RuleAppeal,
        {"outcome": outcome, "reason": reason},
        "复核须选择申诉成立或不成立，并填写不超过500字的复核理由",
    )
    answer = await ledger.run(case_id, lambda st: rule(st, appeal_id, body, ledger.actor))
    return back_to("/appeals", answer.position)


NAV = (NavItem("申诉复核", "/appeals", frozenset({Role.SUPERVISOR})),)
