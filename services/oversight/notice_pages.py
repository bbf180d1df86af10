"""The ladder's notices as pages: a case's notices (督办提醒, 督办单, 挂牌督办) and each 督办单 or
挂牌督办 as a printable document (A4, print CSS, zh-CN), like the conference minutes.

What is printed is the text the step's event carries (``notice.py``), from oversight's
``oversight_notices`` table. Supervisors read every case's notices; a unit handler reads only
the notices addressed to its own unit (another unit's case, or a notice to another unit, is not
found), and nothing here names the complainant.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from starlette.responses import Response

from services.oversight.notice import LADDER_NOTICES, PRINTABLE, TITLES
from services.oversight.workbench import case_of_unit
from shared.events.catalog import BodyDirectory, ConfigKind
from shared.ledger.deployments import BODY
from shared.web import Role
from shared.web.config_in_force import typed_at
from shared.web.context import get_context
from shared.web.identity import Operator
from shared.web.problems import NOT_FOUND, ProblemError
from shared.web.read_your_writes import FreshRead
from shared.web.service_read_model import CaseIdPath, read_store
from shared.web.sessions import page

router = APIRouter(tags=["oversight"])

NoticeIdPath = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$")]
READERS = (Role.SUPERVISOR, Role.UNIT_HANDLER)


async def _issuer(request: Request) -> str:
    """The supervising body's name (the body directory in force), else its id."""
    writer = get_context(request).writer
    if writer is None:
        return BODY
    fold = await (await writer.writer()).registry()
    found = typed_at(fold.registry, ConfigKind.body_directory, BodyDirectory)
    names = {} if found is None else {b.id: b.name for b in found.content.bodies}
    return names.get(BODY, BODY)


async def _notices(request: Request, case_id: str, operator: Operator) -> dict[str, Any]:
    """The case's notices this operator may read (a unit: only on a case it is on, and only
    those addressed to it; another unit's case is 404 like a missing one)."""
    doc = await (await read_store(request)).get(LADDER_NOTICES, case_id)
    notices = list(doc["notices"]) if doc is not None else []
    if not operator.has_any({Role.SUPERVISOR}):
        unit = (await case_of_unit(request, case_id, operator)).unit
        notices = [n for n in notices if n["unit"] == unit]
    complaint_no = doc["complaint_no"] if doc is not None else None
    return {"case_id": case_id, "complaint_no": complaint_no, "notices": notices}


@router.get("/cases/{case_id}/notices", include_in_schema=False)
async def case_notices(
    request: Request,
    case_id: CaseIdPath,
    fresh: FreshRead,
    operator: Operator = Depends(page(*READERS)),
) -> Response:
    """督办通知: every step of the ladder taken on the case, with its notice."""
    found = await _notices(request, case_id, operator)
    return get_context(request).pages.render(
        request,
        "oversight_notices.html",
        {**found, "titles": TITLES, "printable": PRINTABLE, "stale": fresh.gave_up},
    )


@router.get("/cases/{case_id}/notices/{notice_id}/print", include_in_schema=False)
async def notice_document(
    request: Request,
    case_id: CaseIdPath,
    notice_id: NoticeIdPath,
    fresh: FreshRead,
    operator: Operator = Depends(page(*READERS)),
) -> Response:
    """A 督办单 or 挂牌督办 as the printable document (A4): no navigation, no forms."""
    found = await _notices(request, case_id, operator)
    notice = next((n for n in found["notices"] if n["id"] == notice_id), None)
    if notice is None or notice["step"] not in PRINTABLE:
        raise ProblemError(NOT_FOUND, "没有这份督办文书")
    title, *body = notice["text"].split("\n")
    return get_context(request).pages.render(
        request,
        "oversight_notice_print.html",
        {
            **found,
            "n": notice,
            "title": title,
            "addressee": body[0] if body else "",
            "paragraphs": body[1:],
            "issuer": await _issuer(request),
        },
    )
