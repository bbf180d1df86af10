"""Inspections (暗访): a supervisor records what an unannounced visit found, with its evidence,
and the finding opens a case of its own, assigned by dispatch like any other.

The finding (``inspection.finding_recorded``) is the first event of a new case stream: it names
the unit and the post (and the staff id where the inspector knows it), what was seen (one of
``InspectionFinding``: staff absent, gaming, watching videos at the window — the review's clinic
window — or other misconduct), when, and the SHA-256 of every evidence file. The files
themselves go to oversight's durable store (blobs addressed by their digest, never the log);
this module makes that one store call itself (``_keep_evidence``) until the unit workbench's
evidence store is shared. The rule book makes the case assignable at once (an inspection has no
complaint to screen for duplicates) and marks it opened by an inspection: it has no
complainant, so a supervisor closes it on the basis ``inspection_opened`` once its unit claims.

``record`` is pure (``decide(state, command)``); the routes store the files and read nothing
else. The page ``/inspections/new`` (zh-CN) is the form supervisors use.
"""

from __future__ import annotations

import base64
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from starlette.responses import Response

from shared.calendar import SHANGHAI
from shared.durable.port import MAX_BLOB_BYTES
from shared.events.catalog import ConfigKind, UnitDirectory
from shared.ledger.signer import Draft
from shared.rules.case import NEW
from shared.rules.stream import StreamState
from shared.web import Role
from shared.web.command_path import CommandAnswer, Ledger, LedgerDep, Refusal
from shared.web.config_in_force import typed_at
from shared.web.context import get_context
from shared.web.idempotency import command
from shared.web.identity import Operator
from shared.web.page_commands import new_form_key, page_command
from shared.web.pages import NavItem
from shared.web.sessions import page

FINDING_RECORDED = "ledger.inspection.finding_recorded.v1"
MAX_FILES = 20
BASE64 = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
NAV = (NavItem("暗访登记", "/inspections/new"),)

router = APIRouter(tags=["oversight"])


class InspectionFinding(StrEnum):
    """What an inspection saw (the finding's ``finding``)."""

    staff_absent = "staff_absent"  # 工作人员擅离岗位
    gaming = "gaming"  # 工作时间玩游戏
    watching_videos = "watching_videos"  # 工作时间在窗口看视频
    other_misconduct = "other_misconduct"  # 其他违反工作纪律的行为


FINDING_LABELS: dict[str, str] = {
    InspectionFinding.staff_absent: "工作人员擅离岗位",
    InspectionFinding.gaming: "工作时间玩游戏",
    InspectionFinding.watching_videos: "工作时间在窗口看视频",
    InspectionFinding.other_misconduct: "其他违反工作纪律的行为",
}


class EvidenceFile(BaseModel):
    """One evidence file as the API takes it (the page form takes files)."""

    model_config = ConfigDict(extra="forbid")

    media_type: Annotated[str, Field(pattern=r"^[a-z0-9.+-]{1,40}/[a-z0-9.+-]{1,60}$")]
    data: Annotated[
        str,
        Field(
            min_length=4,
            max_length=MAX_BLOB_BYTES * 4 // 3 + 4,
            pattern=BASE64,
            description="the file's bytes, base64 (RFC 4648)",
        ),
    ]

    def raw(self) -> bytes:
        return base64.b64decode(self.data)


class RecordFinding(BaseModel):
    """暗访发现: what was seen, where, when, with its evidence."""

    model_config = ConfigDict(extra="forbid")

    unit: Annotated[str, Field(pattern=r"^unit:[a-z0-9._-]{1,75}$")]
    post: Annotated[str, Field(min_length=1, max_length=80)]
    staff_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,40}$")] | None = None
    finding: InspectionFinding
    text: Annotated[str, Field(min_length=1, max_length=20_000)]
    inspected_on: AwareDatetime
    evidence: Annotated[list[EvidenceFile], Field(min_length=1, max_length=MAX_FILES)]


def record(state: StreamState, cmd: RecordFinding, actor: str, evidence: list[str]) -> list[Draft]:
    """The finding that opens the case (``evidence``: the files' SHA-256, as stored)."""
    if state.domain.status != NEW:
        raise Refusal("case_exists", "该暗访发现已登记")
    data: dict[str, Any] = {
        "unit": cmd.unit,
        "post": cmd.post,
        "finding": cmd.finding.value,
        "text": cmd.text,
        "inspected_on": cmd.inspected_on.astimezone(SHANGHAI).isoformat(),
        "evidence": evidence,
    }
    if cmd.staff_id is not None:
        data["staff_id"] = cmd.staff_id
    return [Draft(FINDING_RECORDED, data, actor)]


async def _keep_evidence(request: Request, files: list[bytes]) -> list[str]:
    """Each file into oversight's durable store (idempotent, by digest): their SHA-256."""
    handle = get_context(request).durable
    assert handle is not None, "oversight's deployment has a durable store"
    store = await handle.store()
    return [await store.put_blob(raw) for raw in files]


async def _record(request: Request, cmd: RecordFinding, ledger: Ledger) -> CommandAnswer:
    evidence = await _keep_evidence(request, [f.raw() for f in cmd.evidence])
    stream = ledger.new_stream("case")
    return await ledger.run(stream, lambda st: record(st, cmd, ledger.actor, evidence))


@router.post(
    "/inspections",
    status_code=201,
    summary="暗访发现: record a finding with its evidence files; it opens a case (assigned by "
    "dispatch like any other)",
    dependencies=[Depends(command(Role.SUPERVISOR))],
)
async def record_finding(request: Request, body: RecordFinding, ledger: LedgerDep) -> CommandAnswer:
    return await _record(request, body, ledger)


# -- the page ------------------------------------------------------------------------------------


async def _units(request: Request) -> list[tuple[str, str]]:
    writer = get_context(request).writer
    assert writer is not None
    fold = await (await writer.writer()).registry()
    directory = typed_at(fold.registry, ConfigKind.unit_directory, UnitDirectory)
    if directory is None:
        return []
    return [(u.id, u.name) for u in directory.content.units]


def _form(request: Request, extra: dict[str, Any] | None = None) -> Response:
    return get_context(request).pages.render(
        request,
        "oversight_inspection.html",
        {"findings": list(FINDING_LABELS.items()), "form_key": new_form_key, **(extra or {})},
    )


@router.get("/inspections/new", include_in_schema=False)
async def inspection_form(
    request: Request, operator: Operator = Depends(page(Role.SUPERVISOR))
) -> Response:
    """暗访登记: the form."""
    return _form(request, {"units": await _units(request)})


@router.post("/inspections/new", include_in_schema=False)
async def record_from_page(
    request: Request,
    ledger: LedgerDep,
    unit: Annotated[str, Form(max_length=80)],
    post: Annotated[str, Form(max_length=80)],
    finding: Annotated[str, Form(max_length=40)],
    text: Annotated[str, Form(max_length=20_000)],
    inspected_on: Annotated[str, Form(max_length=40)],
    staff_id: Annotated[str, Form(max_length=40)] = "",
    evidence: Annotated[list[UploadFile] | None, File()] = None,
    operator: Operator = Depends(page_command(Role.SUPERVISOR)),
) -> Response:
    files = [raw for f in evidence or [] if (raw := await f.read())]
    fields = {
        "unit": unit.strip(),
        "post": post.strip(),
        "staff_id": staff_id.strip() or None,
        "finding": finding,
        "text": text.strip(),
        "inspected_on": _local_time(inspected_on),
        "evidence": [
            {"media_type": "application/octet-stream", "data": base64.b64encode(raw).decode()}
            for raw in files
        ],
    }
    try:
        cmd = RecordFinding.model_validate(fields)
    except ValidationError as exc:
        errors = [{**e, "input": None, "loc": ("body", *e["loc"])} for e in exc.errors()]
        raise RequestValidationError(errors) from None
    answer = await _record(request, cmd, ledger)
    return _form(
        request,
        {"units": await _units(request), "recorded": answer.stream, "evidence_count": len(files)},
    )


def _local_time(value: str) -> str:
    """A ``datetime-local`` input (no zone) as Asia/Shanghai; anything else as given."""
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return value
    return (at if at.tzinfo else at.replace(tzinfo=SHANGHAI)).isoformat()
