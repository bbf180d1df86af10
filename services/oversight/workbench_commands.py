"""The unit workbench's own decisions, pure: ``decide(state, ...) -> drafts`` (no I/O, no clock).

Beside the acts ``commands.py`` decides (签收, 答复, 报办结, 退单): the record of when the
workbench first showed a unit its assignment, a note of progress (进展), and a request for more
time (申请延期). Every draft names the unit, and its actor is the officer (``unit:<id>/<staff>``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from services.oversight.commands import open_part, unit_working
from shared.events.ids import derived_event_id
from shared.ledger.signer import Draft
from shared.rules.case import ASSIGNED, CaseState
from shared.rules.stream import StreamState
from shared.web.command_path import Refusal, known_case

FIRST_SHOWN = "ledger.handling.first_shown.v1"
PROGRESS = "ledger.handling.progress.v1"
EXTENSION_REQUESTED = "ledger.handling.extension_requested.v1"
MAX_EXTENSION_WORKING_DAYS = 60


class NoteProgress(BaseModel):
    """进展: what the unit has done so far (its clock keeps running)."""

    model_config = ConfigDict(extra="forbid")

    note: Annotated[str, Field(min_length=1, max_length=500)]


class RequestExtension(BaseModel):
    """申请延期: so many more working days beyond the unit's due time, and why. A supervisor
    grants or refuses it; until then the unit's due time stands."""

    model_config = ConfigDict(extra="forbid")

    working_days: Annotated[int, Field(strict=True, ge=1, le=MAX_EXTENSION_WORKING_DAYS)]
    reason: Annotated[str, Field(min_length=1, max_length=500)]


def first_shown_id(case_id: str, unit: str, case: CaseState) -> str:
    """One id per case, unit and round (assignments and reopens so far)."""
    cause = f"{case_id}|{unit}|{case.assigned_times}|{case.reopened}"
    return derived_event_id(cause, FIRST_SHOWN)


def record_first_shown(state: StreamState, unit: str, actor: str) -> list[Draft]:
    """The first showing of the unit's current assignment, or nothing: not the unit's, not in
    handling, or already recorded for this round."""
    case = state.domain
    if not isinstance(case, CaseState) or case.status != ASSIGNED:
        return []
    clock = case.clock(unit)
    if clock is None:
        return []
    event_id = first_shown_id(state.stream, unit, case)
    if event_id in state.seen_ids:
        return []
    data = {
        "unit": unit,
        "due_at": clock.due_at,
        "assignment": case.assigned_times,
        "reopened": case.reopened,
    }
    return [Draft(FIRST_SHOWN, data, actor, id=event_id)]


def note_progress(state: StreamState, unit: str, cmd: NoteProgress, actor: str) -> list[Draft]:
    unit_working(known_case(state), unit)
    return [Draft(PROGRESS, {"unit": unit, "note": cmd.note}, actor)]


def request_extension(
    state: StreamState, unit: str, cmd: RequestExtension, actor: str, until: str
) -> list[Draft]:
    """申请延期 until ``until`` (the unit's due time moved on by ``cmd.working_days``)."""
    case = known_case(state)
    open_part(case, unit, "该件已报办结，不能申请延期")
    if unit in case.extensions_pending:
        raise Refusal("extension_pending", "本单位的延期申请正在等待裁定")
    return [Draft(EXTENSION_REQUESTED, {"unit": unit, "until": until, "reason": cmd.reason}, actor)]


def with_evidence(drafts: list[Draft], evidence: Sequence[str]) -> list[Draft]:
    """The claim's drafts naming the evidence files it rests on (their SHA-256)."""
    if not evidence:
        return drafts
    return [dataclasses.replace(d, data={**d.data, "evidence": list(evidence)}) for d in drafts]
