"""重办: a dispute reopens the case, with fresh time limits, and counts against the units.

**Who writes the reopen: a supervisor.** The complainant's dispute (``complainant.disputed``,
through intake) leaves the case ``disputed``: the unit's claim stands refused and no supervisor
may close it on any basis. The reopen is then a supervisor's act, not a reaction oversight
derives from the dispute, because it is a decision with content of its own: the reason the
units are given (what the dispute found wanting), written by a person who has read the
dispute; and the instant the fresh due times count from is when the units are told to start
again — the supervisor's act — not when the complainant wrote. A derived reaction would have to
invent the reason and would restart the clocks before anyone has looked at the dispute. The
reopen still names the dispute it follows (``cause``: the ``complainant.disputed`` event's
id, which must be an accepted event of the case), so every reopen is traced to its dispute, and
a case reopens only from ``disputed``: one dispute, one reopen (the next needs a new claim and
a new dispute).

**Fresh time limits, counted, never copied.** Every unit on the case (the lead and each co-unit)
gets its own due time, counted from the reopen's instant with the handling limit the time limits
in force give the case's category and urgency (``shared/time_limits.py``, as dispatch counts
an assignment) on the calendar in force. The count of reopens is in the case state
(``CaseState.reopened``) and oversight's case document (``reopened``): it counts against the
units in the rates and the assessment.

``reopen`` is pure (``decide(state, command)``); the route reads the configuration in force and
the case's category, urgency and dispute from oversight's read model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from services.oversight.complainant_notices import REOPENED, reopen_notice
from services.oversight.projection import OVERSIGHT_CASES
from shared.calendar import WorkingCalendar, due_at
from shared.events.catalog import ConfigKind, TimeLimits, Urgency
from shared.ledger.signer import Draft
from shared.rules.case import DISPUTED
from shared.rules.stream import StreamState
from shared.store.port import Doc
from shared.time_limits import as_time_limit, limit_for
from shared.web import Role
from shared.web.calendar_in_force import calendar_in_force
from shared.web.command_path import CommandAnswer, Ledger, LedgerDep, Refusal, known_case
from shared.web.config_in_force import InForce, in_force
from shared.web.context import get_context
from shared.web.idempotency import command
from shared.web.problems import CONFLICT, ProblemError
from shared.web.service_read_model import CaseIdPath, read_store

router = APIRouter(tags=["oversight"])


class Reopen(BaseModel):
    """The supervisor's reopen (重办) after a dispute: what the units are told to do again."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=1, max_length=500)]


@dataclass(frozen=True)
class ReopenBasis:
    """What the fresh due times are counted from (read by the caller, handed in)."""

    limits: TimeLimits
    calendar: WorkingCalendar
    category: str | None
    urgency: Urgency
    start: datetime
    dispute: str  # the complainant.disputed event's id


def reopen(state: StreamState, cmd: Reopen, actor: str, basis: ReopenBasis) -> list[Draft]:
    case = known_case(state)
    if case.status != DISPUTED:
        raise Refusal("not_disputed", "只有投诉人提出异议的件才能重办")
    if basis.dispute not in state.seen_ids:
        raise Refusal("unknown_dispute", "该件没有这一异议")
    limit = as_time_limit(limit_for(basis.limits, basis.category or "", basis.urgency))
    units: list[dict[str, Any]] = []
    for clock in case.clocks:  # each unit its own count (the same limit, from the same instant)
        due = due_at(basis.start, limit, basis.calendar)
        units.append(
            {"unit": clock.unit, "due_at": due.at.isoformat(), "provisional": due.provisional}
        )
    lead_due = next(u["due_at"] for u, c in zip(units, case.clocks, strict=True) if c.lead)
    data = {
        "reason": cmd.reason,
        "units": units,
        "cause": basis.dispute,
        "complainant_notice": reopen_notice(lead_due),
    }
    return [Draft(REOPENED, data, actor)]


async def _case_facts(request: Request, case_id: str) -> Doc:
    """Oversight's document of the case, once its projector has the dispute (bounded wait)."""
    store = await read_store(request)
    doc = await store.get(OVERSIGHT_CASES, case_id)
    if doc is None or doc.get("dispute_id") is None:
        ctx = get_context(request)
        if ctx.served is not None and ctx.writer is not None:
            head = await (await ctx.writer.writer()).log.head()
            await ctx.served.wait_for(head, ctx.settings.read_your_writes_seconds)
            doc = await store.get(OVERSIGHT_CASES, case_id)
    if doc is None or doc.get("dispute_id") is None:
        raise ProblemError(
            CONFLICT, "该件没有投诉人的异议，不能重办", extensions={"reason": "not_disputed"}
        )
    return doc


@router.post(
    "/cases/{case_id}/reopening",
    status_code=201,
    summary="重办: after the complainant's dispute, every unit gets a fresh due time (counted "
    "from now on the time limits and calendar in force); counts against the units",
    dependencies=[Depends(command(Role.SUPERVISOR))],
)
async def reopen_case(
    request: Request, case_id: CaseIdPath, body: Reopen, ledger: LedgerDep
) -> CommandAnswer:
    return await reopen_in_force(request, case_id, body, ledger)


async def reopen_in_force(
    request: Request, case_id: str, body: Reopen, ledger: Ledger
) -> CommandAnswer:
    """:func:`reopen` on the configuration in force and the case's facts (the API's and the
    case page's form's way in)."""
    doc = await _case_facts(request, case_id)
    limits: InForce[TimeLimits] = await in_force(request, ConfigKind.time_limits)
    basis = ReopenBasis(
        limits=limits.content,
        calendar=await calendar_in_force(request),
        category=doc.get("category"),
        urgency=Urgency(doc.get("urgency") or Urgency.normal),
        start=datetime.now(UTC),
        dispute=str(doc["dispute_id"]),
    )
    return await ledger.run(case_id, lambda st: reopen(st, body, ledger.actor, basis))
