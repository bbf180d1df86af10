"""A channel's filing, normalised: the respondent unit resolved against the unit directory in
force (an unresolved name is received as ``unit:unresolved`` and remembered for the clerks'
queue), the category suggested from the text unless a clerk chose one, the receiving body
checked, then the one filing path (``receipt.file_complaint``).

Channels without a signed-in operator (the public form, Open311) sign through
:class:`ChannelLedger`: the receiving body, with a staff id naming the channel
(``efficiency-office/web-form``, ``efficiency-office/open311.<client>``).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import Request, UploadFile
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from services.intake import category, respondent
from services.intake.commands import ReceiveComplaint
from services.intake.receipt import Receipt, file_complaint
from services.intake.receiving import settle
from services.intake.vault_content import MEDIA_TYPE, AttachmentUpload
from shared.events.catalog import Channel, ConfigKind, UnitDirectory
from shared.web.command_path import Ledger, ServiceWriter
from shared.web.config_in_force import in_force
from shared.web.context import get_context
from shared.web.identity import Operator

UNRESOLVED = "unresolved_units"  # durable collection: case id -> the name as stated


class ChannelLedger(Ledger):
    """The command path for a channel without an operator: the body signs, naming the
    channel as its staff id; the idempotency key is the channel's (form token, request)."""

    def __init__(self, service: ServiceWriter, request: Request, body: str, staff: str) -> None:
        super().__init__(service, request)
        self._who = Operator(staff_id=staff, body=body, roles=frozenset())

    @property
    def operator(self) -> Operator:
        return self._who


@dataclass(frozen=True)
class Stated:
    """A complaint as a channel takes it, before normalisation."""

    channel: Channel
    unit_name: str
    text: str
    category: str | None = None  # a clerk's choice; None: suggested from the text
    contact: str | None = None
    platform: str | None = None
    received_by: str | None = None
    stated_received_at: str | None = None
    # The complainant's own details and files, for the vault (never the log): the
    # ``complainant_*`` fields of ReceiveComplaint, and the uploads.
    personal: Mapping[str, str] = field(default_factory=dict)
    attachments: tuple[AttachmentUpload, ...] = ()

    @property
    def anonymous(self) -> bool:
        """No way to reach the complainant (no contact, phone or e-mail): nobody to ask."""
        reach = ("complainant_phone", "complainant_email")
        return self.contact is None and not any(self.personal.get(k) for k in reach)


@dataclass(frozen=True)
class Filed:
    receipt: Receipt
    resolution: respondent.Resolution
    category: str


async def file_stated(
    request: Request,
    ledger: Ledger,
    stated: Stated,
    where: tuple[str, ...] = ("body",),
) -> Filed:
    units = await in_force(request, ConfigKind.unit_directory, UnitDirectory)
    resolution = respondent.resolve(stated.unit_name, units.content)
    chosen = stated.category or category.suggest(stated.text)
    body = page_body(
        {
            "channel": stated.channel,
            "platform": stated.platform,
            "unit": resolution.unit,
            "category": chosen,
            "text": stated.text,
            "contact": stated.contact,
            "received_by": stated.received_by,
            "stated_received_at": (
                datetime.fromisoformat(stated.stated_received_at)
                if stated.stated_received_at
                else None
            ),
            "attachments": list(stated.attachments),
            **stated.personal,
        }
    )
    body = await settle(request, body, ledger.operator.body, where)
    receipt = await file_complaint(body, ledger, request)
    if not resolution.resolved:
        await remember_unresolved(request, receipt.stream, stated.unit_name, resolution)
    return Filed(receipt, resolution, chosen)


async def remember_unresolved(
    request: Request, case_id: str, name: str, resolution: respondent.Resolution
) -> None:
    """Keep the stated name for the clerk (the durable store, never the log: it is the
    complainant's own words)."""
    durable = get_context(request).durable
    assert durable is not None
    store = await durable.store()
    candidates = [[c.unit, c.name, c.score] for c in resolution.candidates]
    await store.put(UNRESOLVED, case_id, {"stated": name, "candidates": candidates})


async def unresolved_entry(request: Request, case_id: str) -> dict[str, object] | None:
    durable = get_context(request).durable
    assert durable is not None
    entry = await (await durable.store()).get(UNRESOLVED, case_id)
    return dict(entry.value) if entry is not None else None


async def forget_unresolved(request: Request, case_id: str) -> None:
    durable = get_context(request).durable
    assert durable is not None
    await (await durable.store()).delete(UNRESOLVED, case_id)


def filled(**fields: str) -> dict[str, str]:
    """A page form's optional text fields, blank ones left out."""
    return {k: v.strip() for k, v in fields.items() if v.strip()}


def page_body(fields: dict[str, Any]) -> ReceiveComplaint:
    """The command from a page form's fields; invalid, the usual masked 422 problem."""
    try:
        return ReceiveComplaint.model_validate(fields)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        raise RequestValidationError(errors) from None


async def uploads(files: Sequence[UploadFile]) -> list[AttachmentUpload]:
    """A page form's files as the command takes them (an empty file input sends none)."""
    out = []
    for f in files:
        raw = await f.read()
        if not f.filename and not raw:
            continue
        media = (f.content_type or "").lower()
        if not re.fullmatch(MEDIA_TYPE, media):
            media = "application/octet-stream"
        out.append(AttachmentUpload(media_type=media, data=base64.b64encode(raw).decode()))
    return out
