"""Publication's API: HTTP in, commands out — a notice drafted from structured fields, a
reviewer's publication, the review queue, and the public page of published notices."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from services.publication import commands
from services.publication.projection import NOTICES
from shared.events.catalog import Finding
from shared.store.port import ASC, DESC
from shared.web import Role
from shared.web.command_path import CommandAnswer, Ledger, LedgerDep
from shared.web.context import get_context
from shared.web.demo import demo_router
from shared.web.idempotency import command
from shared.web.identity import Operator
from shared.web.page_commands import back_to, new_form_key, page_command
from shared.web.pages import NavItem
from shared.web.problems import NOT_FOUND, ProblemError
from shared.web.public_kit import public_page
from shared.web.read_your_writes import FreshRead
from shared.web.service_read_model import CaseIdPath, read_store
from shared.web.sessions import page

DUTIES = (
    "起草通报与公告，经审核后公开，不含秘密与任何个人信息",
    "公开网站：无需脚本即可浏览，图表由服务器生成",
    "公开透明日志：可验证每份通报已发布且未被改动",
)

NAV = (NavItem("审核队列", "/review"), NavItem("公开公告", "/public/notices"))

router = APIRouter(tags=["publication"])
home = demo_router("publication", Role.PUBLICATION_REVIEWER, DUTIES)


@router.post(
    "/cases/{case_id}/notice",
    status_code=201,
    summary="起草: draft the case's notice from structured fields (unit, category, finding)",
    dependencies=[Depends(command(Role.PUBLICATION_REVIEWER))],
)
async def draft_notice(
    case_id: CaseIdPath, body: commands.DraftNotice, ledger: LedgerDep, request: Request
) -> CommandAnswer:
    return await _draft(case_id, body, ledger, request)


async def _draft(
    case_id: str, body: commands.DraftNotice, ledger: Ledger, request: Request
) -> CommandAnswer:
    doc = await (await read_store(request)).get(NOTICES, case_id)
    category = doc.get("category") if doc else None
    return await ledger.run(case_id, lambda st: commands.draft(st, body, category, ledger.actor))


@router.post(
    "/cases/{case_id}/notice/publication",
    status_code=201,
    summary="审核发布: publish the case's drafted notice, its text unchanged",
    dependencies=[Depends(command(Role.PUBLICATION_REVIEWER))],
)
async def publish_notice(
    case_id: CaseIdPath, ledger: LedgerDep, request: Request, fresh: FreshRead
) -> CommandAnswer:
    return await _publish(case_id, ledger, request, fresh.gave_up)


async def _publish(case_id: str, ledger: Ledger, request: Request, gave_up: bool) -> CommandAnswer:
    doc = await (await read_store(request)).get(NOTICES, case_id)
    if doc is None or doc.get("stage") != "drafted" or not doc.get("text"):
        detail = "读模型尚未更新到该位置" if gave_up else "该件没有待审核的公告"
        raise ProblemError(NOT_FOUND, detail)
    nid, sha = str(doc["notice_id"]), str(doc["text_sha256"])
    return await ledger.run(case_id, lambda st: commands.publish(st, nid, sha, ledger.actor))


@router.post("/review/{case_id}/notice", include_in_schema=False)
async def draft_from_page(
    case_id: CaseIdPath,
    ledger: LedgerDep,
    request: Request,
    unit: Annotated[str, Form(pattern=r"^[a-z0-9:._-]{1,80}$")],
    category: Annotated[str, Form(min_length=1, max_length=60)],
    finding: Annotated[Finding, Form()],
    operator: Operator = Depends(page_command(Role.PUBLICATION_REVIEWER)),
) -> Response:
    body = commands.DraftNotice(unit=unit, category=category, finding=finding)
    answer = await _draft(case_id, body, ledger, request)
    return back_to("/review", answer.position)


@router.post("/review/{case_id}/publication", include_in_schema=False)
async def publish_from_page(
    case_id: CaseIdPath,
    ledger: LedgerDep,
    request: Request,
    operator: Operator = Depends(page_command(Role.PUBLICATION_REVIEWER)),
) -> Response:
    answer = await _publish(case_id, ledger, request, False)
    return back_to("/review", answer.position)


def _rows(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"case_id": d["_id"], **d} for d in docs]


@router.get("/review", include_in_schema=False)
async def review_queue(
    request: Request,
    fresh: FreshRead,
    operator: Operator = Depends(page(Role.PUBLICATION_REVIEWER)),
) -> Response:
    """审核队列: drafts awaiting review, closed cases awaiting a draft, recent publications."""
    store = await read_store(request)
    drafted = await store.find(NOTICES, {"stage": "drafted"}, sort=[("drafted_at", ASC)])
    to_draft = await store.find(
        NOTICES, {"stage": "to_draft"}, sort=[("closed_at", ASC)], limit=100
    )
    published = await store.find(
        NOTICES, {"stage": "published"}, sort=[("published_at", DESC)], limit=20
    )
    return get_context(request).pages.render(
        request,
        "publication_review.html",
        {
            "drafted": _rows(drafted),
            "to_draft": _rows(to_draft),
            "published": _rows(published),
            "stale": fresh.gave_up,
            "form_key": new_form_key,
        },
    )


@router.get("/public/notices", include_in_schema=False, dependencies=[Depends(public_page)])
async def public_notices(request: Request) -> Response:
    """公开公告: every published notice, newest first (no script, printable)."""
    store = await read_store(request)
    published = await store.find(
        NOTICES, {"stage": "published"}, sort=[("published_at", DESC)], limit=200
    )
    return get_context(request).pages.render(
        request, "public_notices.html", {"notices": [d for d in published if d.get("text")]}
    )
