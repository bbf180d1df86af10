"""Intake's API: HTTP in, commands out."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request

from services.intake import commands
from shared.readside.projections.case_summary import CASES
from shared.web.auth import require_roles
from shared.web.command_path import CommandAnswer, LedgerDep
from shared.web.context import get_context
from shared.web.demo import demo_router
from shared.web.idempotency import command
from shared.web.problems import NOT_FOUND, ProblemError
from shared.web.read_your_writes import FreshRead
from shared.web.roles import Role

router = APIRouter(tags=["complaints"])

DUTIES = (
    "统一受理各渠道（热线、网站、信件、来访）的投诉，一件一号，发放查询码",
    "在写入账本前去除投诉人个人信息，原件存入加密保管库",
    "识别重复投诉与越级投诉，合并为同一件",
    "向每位投诉人按其渠道回复，并收集确认、异议与满意度",
)

# The service home page (its duties) until intake's own pages arrive.
home = demo_router("intake", Role.INTAKE_CLERK, DUTIES)


@router.post(
    "/complaints",
    status_code=201,
    summary="Record a complaint (受理): opens its case",
    dependencies=[Depends(command(Role.INTAKE_CLERK))],
)
async def receive_complaint(body: commands.ReceiveComplaint, ledger: LedgerDep) -> CommandAnswer:
    stream = ledger.new_stream("case")
    # The tracking code is the command's own keyed id: a retry gives the same code.
    tracking = hashlib.sha256(ledger.event_id(-2).encode()).hexdigest()
    return await ledger.run(stream, lambda st: commands.receive(st, body, ledger.actor, tracking))


@router.get(
    "/complaints/{case_id}",
    summary="A complaint's case as the read model holds it (?after= waits for a command)",
    dependencies=[Depends(require_roles(Role.INTAKE_CLERK))],
)
async def complaint_case(
    case_id: Annotated[str, Path(pattern=r"^case-[0-9a-f-]{36}$")],
    fresh: FreshRead,
    request: Request,
) -> dict[str, Any]:
    read_model = get_context(request).read_model
    assert read_model is not None
    doc = await (await read_model.store()).get(CASES, case_id)
    if doc is None:
        detail = "读模型尚未更新到该位置" if fresh.gave_up else None
        raise ProblemError(NOT_FOUND, detail)
    return {k: v for k, v in doc.items() if not k.startswith("_")} | {"case_id": case_id}
