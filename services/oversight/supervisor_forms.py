"""The supervisor's forms on the case page (办理全过程): rule on a unit's pending extension
request (grant it with working days and a ruling, or refuse it with a ruling) and reopen (重办)
a disputed case with a reason.

Each form posts here as the closure's form does (``page_command``: the session, its CSRF token
and the form's own key), is checked by the API's own command model, and runs the API's own
decision (``extensions.rule_in_force``, ``reopen.reopen_in_force``): no second copy of the
rules. Bad input is a 422 in zh-CN naming what to fix, a refusal the command path's own 409;
neither writes anything. Success goes back to the case page, waiting for the command's
position there.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from pydantic import BaseModel, ValidationError
from starlette.responses import Response

from services.oversight.extensions import GrantExtension, RefuseExtension, rule_in_force
from services.oversight.reopen import Reopen, reopen_in_force
from shared.web import Role
from shared.web.command_path import LedgerDep
from shared.web.identity import Operator
from shared.web.page_commands import back_to, page_command
from shared.web.problems import VALIDATION, ProblemError
from shared.web.service_read_model import CaseIdPath

router = APIRouter(tags=["oversight"])
supervisor_form = page_command(Role.SUPERVISOR)

UnitField = Annotated[str, Form(max_length=80)]
TextField = Annotated[str, Form(max_length=2000)]


def _checked(model: type[BaseModel], fields: dict[str, Any], what: str) -> Any:
    """The API's command model from the form's fields, or a 422 saying what to fix (never
    echoing what was sent)."""
    try:
        return model.model_validate(fields)
    except ValidationError:
        raise ProblemError(VALIDATION, what) from None


def _case_page(case_id: str) -> str:
    return f"/dashboard/cases/{case_id}"


@router.post("/dashboard/cases/{case_id}/extension-grant", include_in_schema=False)
async def grant_from_page(
    request: Request,
    case_id: CaseIdPath,
    ledger: LedgerDep,
    unit: UnitField = "",
    working_days: Annotated[str, Form(max_length=4)] = "",
    ruling: TextField = "",
    _: Operator = Depends(supervisor_form),
) -> Response:
    days = int(working_days) if working_days.strip().isdigit() else 0
    body = _checked(
        GrantExtension,
        {"unit": unit, "working_days": days, "ruling": ruling.strip()},
        "批准延期须选定单位，延长1至60个工作日，并填写不超过500字的审批意见",
    )
    answer = await rule_in_force(request, case_id, body, ledger)
    return back_to(_case_page(case_id), answer.position)


@router.post("/dashboard/cases/{case_id}/extension-refusal", include_in_schema=False)
async def refuse_from_page(
    request: Request,
    case_id: CaseIdPath,
    ledger: LedgerDep,
    unit: UnitField = "",
    ruling: TextField = "",
    _: Operator = Depends(supervisor_form),
) -> Response:
    body = _checked(
        RefuseExtension,
        {"unit": unit, "ruling": ruling.strip()},
        "不予批准延期须选定单位，并填写不超过500字的审批意见",
    )
    answer = await rule_in_force(request, case_id, body, ledger)
    return back_to(_case_page(case_id), answer.position)


@router.post("/dashboard/cases/{case_id}/reopening", include_in_schema=False)
async def reopen_from_page(
    request: Request,
    case_id: CaseIdPath,
    ledger: LedgerDep,
    reason: TextField = "",
    _: Operator = Depends(supervisor_form),
) -> Response:
    body = _checked(Reopen, {"reason": reason.strip()}, "重办须填写不超过500字的重办理由")
    answer = await reopen_in_force(request, case_id, body, ledger)
    return back_to(_case_page(case_id), answer.position)
