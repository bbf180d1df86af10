"""The deliveries clerks carry out by hand, from the outbox (``delivery_channels``):

* 电话回复清单 ``/deliveries/calls`` (and ``.csv``): each phone complaint's reply to call
  back, with the number to call read from the vault as the list is shown;
* 书面回复函 ``/deliveries/letters``: one printable A4 letter per letter complaint (print CSS,
  no PDF), addressed from the vault;
* 平台回传 ``/deliveries/platform.csv`` / ``.jsonl`` ``?platform=``: the file back to one online
  platform or Open311 client: complaint numbers and texts only (the platform knows its user).

Each list that shows contacts is a look at the vault: it is recorded (``vault_views``) with the
clerk and the reason ``delivery``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from services.intake.delivery_channels import (
    Outbox,
    OutboxRow,
    call_list_csv,
    platform_csv,
    platform_jsonl,
)
from services.intake.vault import Vault, now_text, vault_of
from services.intake.vault_content import View
from shared.events.catalog import DeliveryChannel
from shared.web.context import get_context
from shared.web.identity import Operator
from shared.web.pages import NavItem
from shared.web.roles import Role
from shared.web.sessions import page

router = APIRouter(tags=["deliveries"])

NAV = (NavItem("电话回复清单", "/deliveries/calls"), NavItem("书面回复函", "/deliveries/letters"))
NO_STORE = {"cache-control": "no-store"}
PLATFORMS = (DeliveryChannel.online_platform, DeliveryChannel.open311)
Platform = Annotated[str, Query(min_length=1, max_length=60)]


async def _with_contacts(
    vault: Vault, rows: list[OutboxRow], operator: Operator
) -> list[tuple[OutboxRow, dict[str, Any]]]:
    out: list[tuple[OutboxRow, dict[str, Any]]] = []
    for row in rows:
        held = await vault.read(row.case)
        identity = held.identity if held is not None else None
        contact = {
            "name": identity.name if identity else None,
            "phone": (identity.phone or identity.contact) if identity else None,
            "address": identity.address if identity else None,
        }
        out.append((row, contact))
        if held is not None:
            await vault.record_view(
                View(
                    case=row.case,
                    complaint_no=row.complaint_no,
                    staff_id=operator.staff_id,
                    body=operator.body,
                    role=Role.INTAKE_CLERK,
                    reason="delivery",
                    at=now_text(),
                )
            )
    return out


async def _rows(request: Request, *channels: DeliveryChannel) -> tuple[Vault, list[OutboxRow]]:
    vault = await vault_of(request)
    return vault, await Outbox(vault.store).rows(*channels)


@router.get("/deliveries/calls", include_in_schema=False)
async def call_list(
    request: Request, operator: Operator = Depends(page(Role.INTAKE_CLERK))
) -> Response:
    vault, rows = await _rows(request, DeliveryChannel.phone)
    listed = await _with_contacts(vault, rows, operator)
    ctx = get_context(request)
    return ctx.pages.render(request, "delivery_calls.html", {"rows": listed}, headers=NO_STORE)


@router.get("/deliveries/calls.csv", include_in_schema=False)
async def call_list_file(
    request: Request, operator: Operator = Depends(page(Role.INTAKE_CLERK))
) -> Response:
    vault, rows = await _rows(request, DeliveryChannel.phone)
    text = call_list_csv(await _with_contacts(vault, rows, operator))
    headers = {**NO_STORE, "content-disposition": 'attachment; filename="call-list.csv"'}
    return Response(text, media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/deliveries/letters", include_in_schema=False)
async def letters(
    request: Request, operator: Operator = Depends(page(Role.INTAKE_CLERK))
) -> Response:
    vault, rows = await _rows(request, DeliveryChannel.letter)
    listed = await _with_contacts(vault, rows, operator)
    ctx = get_context(request)
    return ctx.pages.render(request, "delivery_letters.html", {"rows": listed}, headers=NO_STORE)


async def _platform_rows(request: Request, platform: str) -> list[OutboxRow]:
    _, rows = await _rows(request, *PLATFORMS)
    return [r for r in rows if r.platform == platform]


@router.get("/deliveries/platform.csv", include_in_schema=False)
async def platform_file_csv(
    request: Request,
    platform: Platform,
    operator: Operator = Depends(page(Role.INTAKE_CLERK)),
) -> Response:
    text = platform_csv(await _platform_rows(request, platform))
    headers = {**NO_STORE, "content-disposition": 'attachment; filename="platform-replies.csv"'}
    return Response(text, media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/deliveries/platform.jsonl", include_in_schema=False)
async def platform_file_jsonl(
    request: Request,
    platform: Platform,
    operator: Operator = Depends(page(Role.INTAKE_CLERK)),
) -> Response:
    body = platform_jsonl(await _platform_rows(request, platform))
    headers = {**NO_STORE, "content-disposition": 'attachment; filename="platform-replies.jsonl"'}
    return Response(body, media_type="application/jsonl", headers=headers)
