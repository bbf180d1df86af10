"""Intake's API: HTTP in, commands out."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Depends

from services.intake import commands
from shared.web.command_path import CommandAnswer, LedgerDep
from shared.web.idempotency import command
from shared.web.roles import Role

router = APIRouter(tags=["complaints"])


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
