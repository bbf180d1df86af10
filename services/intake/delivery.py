"""Replies out to complainants, decided (pure): which events reach a complainant, which
complainants of the case, on which channel, with which text, under which derived id.

* :data:`NOTICES` — the table of event types that reach the complainant (a unit's reply, the
  closing finding with how to contest it, an extension ruling, a reopening) and what each is
  called in ``complaint.delivered`` (``what``).
* :func:`recipients` — every complaint on the case with a complainant (its own complaint and
  every gathered duplicate): anonymous complaints have nobody to deliver to.
* :func:`channel_for` — each complainant on their own channel: e-mail by SMTP (when it is
  configured), the call list for phone complaints, a letter for letters, the export file back
  to the platform (or Open311 client) the complaint came from; a form or visit complaint is
  reached at the contact it left; with none, on the status page only (``web``).
* :func:`delivery_id` — UUIDv5 of (cause, complaint): a restarted or second worker derives the
  same id, so the rule book takes the delivery once.
* :func:`message` — the zh-CN text (the unit's reply redacted before it leaves).

The event names the channel and the cause, never the address: the worker reads contacts from
the vault only (``delivery_worker.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.intake.vault_content import Identity
from shared.events.catalog import Channel, DeliveryChannel
from shared.events.ids import derived_event_id
from shared.events.reaches_complainant import (
    CLOSED,
    EXTENSION_RULED,
    NOTICE_FIELD,
    REACHES_COMPLAINANT,
    REOPENED,
    REPLIED,
)
from shared.rules.case.state import CaseState

DELIVERED = "ledger.complaint.delivered.v1"
RULE = "intake.delivery"
FOLLOW_UP_PAGE = "/public/follow-up"

NOTICES: dict[str, str] = dict(REACHES_COMPLAINANT)
"""Event type -> ``what`` in ``complaint.delivered``: every event that reaches the complainant."""

FINDING_WORDS: dict[str, str] = {
    "substantiated": "属实",
    "partly_substantiated": "部分属实",
    "unsubstantiated": "不属实",
}

CONTEST = (
    f"如对办理结果有异议：请凭投诉编号和查询码登录“投诉查询与确认”页面（{FOLLOW_UP_PAGE}）"
    "提出异议；也可向上一级效能监督机构或纪检监察机关反映，或依照《信访工作条例》"
    "申请复查、复核。"
)


@dataclass(frozen=True)
class Recipient:
    """A complaint on the case whose complainant is to be reached."""

    complaint_no: str
    complainant: str  # the keyed pseudonym


@dataclass(frozen=True)
class Filed:
    """What delivery needs of a complaint as it was received (from ``complaint.received``)."""

    case: str  # its own case stream: the vault entry's key
    channel: Channel
    platform: str | None = None


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def recipients(case: CaseState) -> list[Recipient]:
    """Every complaint on the case with a complainant: own and gathered, in order."""
    return [Recipient(no, who) for no, who in case.complaints if who is not None]


def delivery_id(cause_id: str, complaint_no: str) -> str:
    return derived_event_id(cause_id, f"{RULE}:{complaint_no}")


PLATFORM_CHANNELS: dict[Channel, DeliveryChannel] = {
    Channel.email: DeliveryChannel.email,
    Channel.phone: DeliveryChannel.phone,
    Channel.hotline_12345: DeliveryChannel.phone,
    Channel.letter: DeliveryChannel.letter,
    Channel.online_platform: DeliveryChannel.online_platform,
    Channel.open311: DeliveryChannel.open311,
}
"""The channels a complaint is answered on as it came in (the rest: by its contact)."""


def channel_for(filed: Filed, identity: Identity, smtp: bool) -> DeliveryChannel:
    """The complainant's own channel: as the complaint came in, else the contact it left
    (e-mail only when SMTP is configured), else the status page."""
    email = identity.email or (
        identity.contact if identity.contact and "@" in identity.contact else None
    )
    phone = identity.phone or (
        identity.contact if identity.contact and "@" not in identity.contact else None
    )
    came_in = PLATFORM_CHANNELS.get(filed.channel)
    if came_in is not None and (came_in != DeliveryChannel.email or (smtp and email)):
        return came_in
    if smtp and email:
        return DeliveryChannel.email
    if phone:
        return DeliveryChannel.phone
    if identity.address:
        return DeliveryChannel.letter
    return DeliveryChannel.web


def _day(ts: str | None) -> str:
    return f"{ts[:4]}年{int(ts[5:7])}月{int(ts[8:10])}日" if ts else ""


def message(event_type: str, data: Mapping[str, Any], complaint_no: str, reply: str) -> Message:
    """The text for one complainant (``reply``: the unit's reply text, already redacted)."""
    head = f"您的投诉（编号 {complaint_no}）"
    look = f"查询办理进度：请凭投诉编号和查询码访问“投诉查询与确认”页面（{FOLLOW_UP_PAGE}）。"
    if event_type == REPLIED:
        return Message(f"{head}有新的答复", f"承办单位答复如下：\n\n{reply}\n\n{look}")
    if event_type == CLOSED:
        finding = FINDING_WORDS.get(str(data.get("finding")), "")
        body = f"经核查，您反映的问题{finding}，本件已办结。\n\n{CONTEST}"
        return Message(f"{head}已办结", body)
    told = data.get(NOTICE_FIELD)
    if event_type in (EXTENSION_RULED, REOPENED) and isinstance(told, str) and told:
        title = "办理期限审批结果" if event_type == EXTENSION_RULED else "已重新交办"
        return Message(f"{head}{title}", f"{told}\n\n{look}")  # oversight's own wording
    if event_type == EXTENSION_RULED:
        if data.get("granted"):
            due = _day(data.get("due_at"))
            body = f"承办单位申请延期办理，督办机构已批准，办理期限延至{due}。\n\n{look}"
        else:
            body = f"承办单位申请延期办理，督办机构不予批准，仍须按原期限办结。\n\n{look}"
        return Message(f"{head}办理期限审批结果", body)
    if event_type == REOPENED:
        body = f"督办机构已要求承办单位重新办理您的投诉。\n\n{look}"
        return Message(f"{head}已重新交办", body)
    raise ValueError("not an event that reaches the complainant")
