"""Duplicates by hand and for review: a clerk links a missed duplicate or splits a wrong link
(API and page forms), the review page of recent automatic links and cross-level flags with the
figures behind each, and a case's gathered complaints (channel and receiving body, never the
complainant). Reads the screening worker's index (:mod:`services.intake.duplicate_index`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import Response

from services.intake import commands
from services.intake.duplicate_index import INDEX_FILE, read_only
from shared.events.catalog import CASE_ID_PATTERN
from shared.web.command_path import CommandAnswer, LedgerDep
from shared.web.context import get_context
from shared.web.idempotency import command
from shared.web.identity import Operator
from shared.web.page_commands import back_to, new_form_key, page_command
from shared.web.pages import NavItem
from shared.web.roles import Role
from shared.web.service_read_model import CaseIdPath
from shared.web.sessions import page

router = APIRouter(tags=["duplicates"])
NAV = NavItem("重复与越级", "/duplicates")
PAGE_SIZE = 50
KINDS = {"linked": "并案", "cross_level": "越级", "split": "拆分", "screened": "甄别"}


def _index_path(request: Request) -> Path:
    ctx = get_context(request)
    name = ctx.writer.key_name if ctx.writer is not None else "intake"
    return Path(ctx.settings.var_dir) / name / INDEX_FILE


@router.post(
    "/complaints/{case_id}/duplicate-link",
    status_code=201,
    summary="Link a complaint by hand into the case that holds its incident (the target's "
    "gathered follows)",
    dependencies=[Depends(command(Role.INTAKE_CLERK))],
)
async def link_duplicate(
    case_id: CaseIdPath, body: commands.LinkDuplicate, ledger: LedgerDep
) -> CommandAnswer:
    return await ledger.run(case_id, lambda st: commands.link_by_hand(st, body, ledger.actor))


@router.post(
    "/complaints/{case_id}/link-split",
    status_code=201,
    summary="Split a wrong link: the complaint leaves the case it was gathered into",
    dependencies=[Depends(command(Role.INTAKE_CLERK))],
)
async def split_link(
    case_id: CaseIdPath, body: commands.SplitLink, ledger: LedgerDep
) -> CommandAnswer:
    return await ledger.run(case_id, lambda st: commands.split_link(st, body, ledger.actor))


@router.get("/duplicates", include_in_schema=False)
async def review(
    request: Request,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    operator: Operator = Depends(page(Role.INTAKE_CLERK)),
) -> Response:
    """重复与越级: the latest links, splits and flags, each with its figures."""
    path = _index_path(request)
    rows: list[dict[str, Any]] = []
    if path.exists():
        with read_only(path) as index:
            for d in index.recent_decisions(PAGE_SIZE, offset):
                if d.kind == "screened":
                    continue
                figures = d.detail.get("figures") or {}
                rows.append({"d": d, "kind": KINDS.get(d.kind, d.kind), "figures": figures})
    return get_context(request).pages.render(
        request,
        "duplicate_review.html",
        {
            "rows": rows,
            "offset": offset,
            "page_size": PAGE_SIZE,
            "ready": path.exists(),
            "form_key": new_form_key,
        },
    )


@router.get("/duplicates/cases/{case_id}", include_in_schema=False)
async def gathered(
    case_id: CaseIdPath,
    request: Request,
    operator: Operator = Depends(page(Role.INTAKE_CLERK)),
) -> Response:
    """A case's complaints: its own and every gathered one, with channel and receiving body."""
    path = _index_path(request)
    members: list[Any] = []
    if path.exists():
        with read_only(path) as index:
            members = [m for m in index.members(case_id)]
    return get_context(request).pages.render(
        request,
        "duplicate_case.html",
        {"case_id": case_id, "members": members, "form_key": new_form_key},
    )


@router.post("/duplicates/{case_id}/split", include_in_schema=False)
async def split_from_page(
    case_id: CaseIdPath,
    ledger: LedgerDep,
    reason: Annotated[str, Form(min_length=1, max_length=500)],
    operator: Operator = Depends(page_command(Role.INTAKE_CLERK)),
) -> Response:
    body = commands.SplitLink(reason=reason)
    answer = await ledger.run(case_id, lambda st: commands.split_link(st, body, ledger.actor))
    return back_to("/duplicates", answer.position)


@router.post("/duplicates/link", include_in_schema=False)
async def link_from_page(
    ledger: LedgerDep,
    source: Annotated[str, Form(pattern=CASE_ID_PATTERN)],
    target: Annotated[str, Form(pattern=CASE_ID_PATTERN)],
    reason: Annotated[str, Form(min_length=1, max_length=500)],
    operator: Operator = Depends(page_command(Role.INTAKE_CLERK)),
) -> Response:
    body = commands.LinkDuplicate.model_validate({"target": target, "reason": reason})
    answer = await ledger.run(source, lambda st: commands.link_by_hand(st, body, ledger.actor))
    return back_to(f"/duplicates/cases/{target}", answer.position)
