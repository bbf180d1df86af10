"""Intake's vault routes: the complainant's rights (access, erasure), staff's recorded look at
an original, the auditor's list of those looks, and the administrator's expiry run.

Who sees the original: the **intake clerk** (受理员) of the deployment that holds it — the
person who took the complaint and returns answers to the complainant on their channel — and
only with a stated reason; each look is recorded (staff id, body, role, time, reason) before
the answer leaves. The **auditor** (审计员) lists those records, never the originals.
Supervisors, dispatch officers, units and publication never see identity or original text.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse

from services.intake import rights
from services.intake.commands import COMPLAINT_NO_PATTERN
from services.intake.proof import proven_complaint
from services.intake.pseudonym import pseudonym, pseudonym_key_of
from services.intake.vault import now_text, vault_of
from services.intake.vault_content import Held, View
from services.intake.vault_settings import VaultSettings
from shared.events.catalog import VaultErasureCause
from shared.ledger.deployments import spec
from shared.web.auth import require_roles
from shared.web.command_path import CommandAnswer
from shared.web.context import get_context
from shared.web.identity import Operator
from shared.web.problems import NOT_FOUND, ProblemError
from shared.web.public_kit import public_command, public_page
from shared.web.roles import Role
from shared.web.service_read_model import CaseIdPath

router = APIRouter(tags=["vault"])

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
WRONG = "投诉编号、查询码或联系方式不正确"
VAULT_ACTOR = "vault"  # the staff id intake signs a complainant's erasure request under


class Proof(BaseModel):
    """What a complainant gives to prove a complaint is theirs (see ``rights``)."""

    model_config = ConfigDict(extra="forbid")

    complaint_no: Annotated[str, Field(pattern=COMPLAINT_NO_PATTERN)]
    tracking_code: Annotated[str, Field(min_length=1, max_length=40)]
    contact: Annotated[str, Field(min_length=3, max_length=100)] | None = None


class ViewedAt(BaseModel):
    at: str
    role: str


class Access(BaseModel):
    """What the vault holds about the requester's complaint."""

    case_id: str
    held: Held
    viewed: list[ViewedAt] = Field(description="When, and by which role, staff looked at it")


class Erased(CommandAnswer):
    complaint_no: str


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=4, max_length=200, description="为何需要查看原件")]


async def _proven(request: Request, proof: Proof) -> str:
    """The case the proof opens; else the same 404 for every mismatch, counted."""
    who = pseudonym(pseudonym_key_of(request), proof.contact) if proof.contact else None
    doc = await proven_complaint(
        request,
        proof.complaint_no,
        proof.tracking_code,
        lambda found, code_hash: rights.proves(found, code_hash, who),
    )
    if doc is None:
        raise ProblemError(NOT_FOUND, WRONG)
    return str(doc["_id"])


@router.post(
    "/public/vault/access",
    summary="A complainant's access request: what the vault holds about their complaint",
    dependencies=[Depends(public_page)],
)
async def access_request(proof: Proof, request: Request) -> JSONResponse:
    case = await _proven(request, proof)
    vault = await vault_of(request)
    held = await vault.read(case)
    if held is None:
        raise ProblemError(NOT_FOUND, "保管库中已无该件的个人信息（已删除或已过保存期限）")
    viewed = [ViewedAt(at=v.at, role=v.role) for v in await vault.views(case)]
    body = Access(case_id=case, held=held, viewed=viewed)
    return JSONResponse(body.model_dump(mode="json"), headers=NO_STORE)


@router.post(
    "/public/vault/erasure",
    status_code=201,
    summary="A complainant's erasure request: the vault entry is deleted, the log keeps the "
    "redacted record",
    dependencies=[Depends(public_command())],
)
async def erasure_request(proof: Proof, request: Request) -> Erased:
    case = await _proven(request, proof)
    ctx = get_context(request)
    assert ctx.writer is not None
    vault = await vault_of(request)
    if await vault.read(case) is None:
        raise ProblemError(NOT_FOUND, "保管库中已无该件的个人信息（已删除或已过保存期限）")
    actor = f"{spec(ctx.service, ctx.settings).body}/{VAULT_ACTOR}"
    done = await rights.erase(
        ctx.writer, vault, case, proof.complaint_no, VaultErasureCause.request, actor
    )
    return Erased(**done.model_dump(), complaint_no=proof.complaint_no)


@router.post(
    "/complaints/{case_id}/original",
    summary="The complaint's original text and the complainant's identity, for a stated "
    "reason (each look recorded)",
)
async def original(
    case_id: CaseIdPath,
    body: Reason,
    request: Request,
    operator: Annotated[Operator, Depends(require_roles(Role.INTAKE_CLERK))],
) -> JSONResponse:
    vault = await vault_of(request)
    held = await vault.read(case_id)
    if held is None:
        raise ProblemError(NOT_FOUND, "保管库中没有该件（未受理、已删除或已过保存期限）")
    await vault.record_view(
        View(
            case=case_id,
            complaint_no=held.complaint_no,
            staff_id=operator.staff_id,
            body=operator.body,
            role=Role.INTAKE_CLERK,
            reason=body.reason,
            at=now_text(),
        )
    )
    return JSONResponse(held.model_dump(mode="json"), headers=NO_STORE)


@router.get(
    "/vault/views",
    summary="Every recorded look at a vault original (who, when, why), oldest first",
)
async def views(
    request: Request,
    operator: Annotated[Operator, Depends(require_roles(Role.AUDITOR))],
    case: Annotated[str | None, Query(pattern=r"^case-[0-9a-f-]{36}$")] = None,
) -> list[View]:
    if set(request.query_params) - {"case"}:  # a mistyped filter must not list everything
        raise RequestValidationError([{"loc": ("query", "*"), "type": "extra_forbidden"}])
    vault = await vault_of(request)
    return await vault.views(case)


@router.post(
    "/vault/expiry",
    summary="Run the retention expiry: each expired entry erased and reported, orphans deleted",
)
async def expiry(
    request: Request,
    operator: Annotated[Operator, Depends(require_roles(Role.ADMIN))],
) -> dict[str, Any]:
    ctx = get_context(request)
    assert ctx.writer is not None
    settings = VaultSettings()
    report = await rights.expire(
        ctx.writer,
        await vault_of(request),
        f"{operator.body}/{operator.staff_id}",
        retention_days=settings.vault_retention_days,
        orphan_grace_seconds=settings.vault_orphan_grace_seconds,
    )
    return report.model_dump()
