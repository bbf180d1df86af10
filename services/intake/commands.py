"""Intake's decisions, pure: ``decide(state, command) -> drafts`` (no I/O, no clock).

Each refuses (:class:`Refusal`, a stable reason and fixed zh-CN text) what the case's state
cannot take, before the rule book is asked; the rule book still judges every draft.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.intake.vault_content import AttachmentUpload, Identity
from shared.events.catalog import Attachment, CaseId, Channel, OrgId, ScreeningOutcome
from shared.ledger.signer import Draft
from shared.rules.case import CLAIMED, OPEN, RECEIVED, CaseState
from shared.rules.case.complaint import UNRESOLVED_UNIT
from shared.rules.stream import StreamState
from shared.web.command_path import Refusal, known_case

RECEIVED_TYPE = "ledger.complaint.received.v1"
SCREENED = "ledger.complaint.screened.v1"
CONFIRMED = "ledger.complainant.confirmed.v1"
DISPUTED = "ledger.complainant.disputed.v1"


class ReceiveComplaint(BaseModel):
    """A complaint as the intake clerk records it. The text may hold personal data: the receipt
    redacts it before the log and keeps the original, the complainant's details and the
    attachments in the vault (``services/intake/vault.py``)."""

    model_config = ConfigDict(extra="forbid")

    channel: Channel
    platform: Annotated[str, Field(min_length=1, max_length=60)] | None = Field(
        None, description="The online platform or Open311 client (those channels only)"
    )
    unit: OrgId = Field(description="The unit complained about")
    category: Annotated[str, Field(min_length=1, max_length=60)]
    text: Annotated[str, Field(min_length=1, max_length=20_000)]
    contact: Annotated[str, Field(min_length=3, max_length=100)] | None = Field(
        None,
        description="How the complainant can be reached (phone or e-mail). Only its keyed "
        "pseudonym enters the log; absent, the complaint is anonymous and a supervisor "
        "decides its closure",
    )
    received_by: OrgId | None = Field(
        None,
        description="The supervisory body that received it (the body directory's id, one this "
        "deployment acts for); absent, the clerk's own body",
    )
    stated_received_at: AwareDatetime | None = Field(
        None,
        description="When the receiving body says it got it (a visit, a letter's postmark, a "
        "call), RFC 3339 with offset; informational, the log's time is the intake time",
    )
    body_code: Annotated[str, Field(pattern=r"^[A-Z]{2,6}$")] | None = Field(
        None,
        description="Set by intake from the body directory (any value sent is replaced): the "
        "receiving body's code in the complaint number",
    )
    # The complainant's details (the vault keeps them; the log never sees them).
    complainant_name: Annotated[str, Field(min_length=1, max_length=50)] | None = None
    complainant_phone: Annotated[str, Field(min_length=3, max_length=40)] | None = None
    complainant_email: Annotated[str, Field(min_length=3, max_length=100)] | None = None
    complainant_id_number: Annotated[str, Field(min_length=15, max_length=30)] | None = None
    complainant_address: Annotated[str, Field(min_length=2, max_length=200)] | None = None
    attachments: Annotated[list[AttachmentUpload], Field(max_length=10)] = Field(
        default_factory=list,
        description="Files (base64): the vault keeps them, the log only their SHA-256 and type",
    )

    def identity(self) -> Identity:
        return Identity(
            name=self.complainant_name,
            phone=self.complainant_phone,
            email=self.complainant_email,
            id_number=self.complainant_id_number,
            address=self.complainant_address,
            contact=self.contact,
        )

    @property
    def reachable_at(self) -> str | None:
        """What the pseudonym is made from: the contact, else the phone, else the e-mail."""
        return self.contact or self.complainant_phone or self.complainant_email


class ScreenComplaint(BaseModel):
    """A clerk's screening by hand (duplicate and cross-level checks done)."""

    model_config = ConfigDict(extra="forbid")

    outcome: ScreeningOutcome
    related_case: CaseId | None = Field(
        None, description="The open case it duplicates, or the closed case it repeats"
    )
    note: Annotated[str, Field(max_length=500)] = ""


class DisputeReason(StrEnum):
    """Why a complainant does not accept the claimed resolution (a choice, never free text)."""

    not_resolved = "not_resolved"  # 问题没有解决
    reply_untrue = "reply_untrue"  # 答复与事实不符
    no_contact = "no_contact"  # 承办单位未与我联系


DISPUTE_REASONS: dict[DisputeReason, str] = {
    DisputeReason.not_resolved: "问题没有解决",
    DisputeReason.reply_untrue: "答复与事实不符",
    DisputeReason.no_contact: "承办单位未与我联系",
}


COMPLAINT_NO_PATTERN = r"^TS([A-Z]{2,6}-)?[0-9A-F]{12}$"


def complaint_no(stream: str, body_code: str | None = None) -> str:
    """The complaint's number, from its case id (so a retry numbers it the same) and the
    receiving body's code: ``TS<code>-<12 hex>`` (``TSXNB-1A2B3C4D5E6F``), unique across the
    bodies running intake on one log; ``TS<12 hex>`` for a body without a code."""
    digits = stream.removeprefix("case-").replace("-", "")[:12].upper()
    return f"TS{body_code}-{digits}" if body_code else "TS" + digits


def _case(state: StreamState) -> CaseState:
    assert isinstance(state.domain, CaseState)
    return state.domain


def receive(
    state: StreamState,
    cmd: ReceiveComplaint,
    actor: str,
    tracking_code_hash: str,
    complainant: str | None = None,
    *,
    text: str | None = None,
    attachments: Sequence[Attachment] = (),
) -> list[Draft]:
    """Open the case with the complaint (受理). ``complainant`` is the keyed pseudonym,
    ``text`` the redacted text the log gets (the receipt always passes it) and ``attachments``
    the files' hashes."""
    if state.accepted:
        raise Refusal("already_received", "该件已受理，不能重复受理")
    # Checked here, not in the body's schema, which cannot say it (a 409 naming the reason).
    if (cmd.platform is not None) != (cmd.channel in (Channel.online_platform, Channel.open311)):
        raise Refusal("platform_mismatch", "网上平台和 Open311 渠道须写明平台名称，其他渠道不写")
    data: dict[str, object] = {
        "complaint_no": complaint_no(state.stream, cmd.body_code),
        "channel": cmd.channel,
        "received_by": cmd.received_by or actor.split("/", 1)[0],
        "unit": cmd.unit,
        "category": cmd.category,
        "text": cmd.text if text is None else text,
        "tracking_code_hash": tracking_code_hash,
    }
    if attachments:
        data["attachments"] = [a.model_dump() for a in attachments]
    if cmd.platform is not None:
        data["platform"] = cmd.platform
    if cmd.stated_received_at is not None:
        data["stated_received_at"] = cmd.stated_received_at.isoformat()
    if complainant is not None:
        data["complainant"] = complainant
    return [Draft(RECEIVED_TYPE, data, actor)]


def screen(state: StreamState, cmd: ScreenComplaint, actor: str) -> list[Draft]:
    """Record a screening by hand (the automatic checks are not in place yet)."""
    case = known_case(state)
    if case.screened:
        raise Refusal("already_screened", "该件已完成甄别")
    if case.status != RECEIVED:
        raise Refusal("wrong_state", "该件当前状态不能甄别")
    related = cmd.outcome in (ScreeningOutcome.duplicate, ScreeningOutcome.repeat_after_closure)
    if related != (cmd.related_case is not None):
        raise Refusal("related_case_mismatch", "重复件和办结后重复件须写明关联件，其他情形不写")
    data: dict[str, object] = {"outcome": cmd.outcome, "method": "manual", "note": cmd.note}
    if cmd.related_case is not None:
        if cmd.related_case == state.stream:
            raise Refusal("self_related", "关联的件不能是本件")
        data["related_case"] = cmd.related_case
    return [Draft(SCREENED, data, actor)]


def _awaiting_answer(case: CaseState, number: str, actor_person: str) -> None:
    on_case, who = case.complainant_of(number)
    if not on_case or who is None or who != actor_person:
        # Said alike for every mismatch: nothing tells a guesser which part was wrong.
        raise Refusal("not_complainant", "查询号或查询码不正确")
    if case.status != CLAIMED:
        raise Refusal("not_claimed", "承办单位尚未报告办结，暂不能确认或提出异议")


def confirm(state: StreamState, number: str, complainant: str) -> list[Draft]:
    """The complainant confirms the claimed resolution (intake signs for them)."""
    _awaiting_answer(_case(state), number, complainant)
    return [Draft(CONFIRMED, {"complaint_no": number}, f"complainant/{complainant}")]


def dispute(
    state: StreamState, number: str, complainant: str, reason: DisputeReason
) -> list[Draft]:
    """The complainant does not accept the claimed resolution."""
    _awaiting_answer(_case(state), number, complainant)
    data = {"complaint_no": number, "reason": DISPUTE_REASONS[reason]}
    return [Draft(DISPUTED, data, f"complainant/{complainant}")]


# -- normalisation after receipt: the unit, the category, out of scope, withdrawal -------------

UNIT_RESOLVED = "ledger.complaint.unit_resolved.v1"
RECATEGORISED = "ledger.complaint.recategorised.v1"
DECLINED_TYPE = "ledger.complaint.declined.v1"
WITHDRAWN_TYPE = "ledger.complaint.withdrawn.v1"


class WithdrawReason(StrEnum):
    """Why a complainant withdraws (a choice, never free text)."""

    solved_otherwise = "solved_otherwise"  # 问题已得到解决
    no_longer_wanted = "no_longer_wanted"  # 不再需要处理
    filed_by_mistake = "filed_by_mistake"  # 误投或重复提交


WITHDRAW_REASONS: dict[WithdrawReason, str] = {
    WithdrawReason.solved_otherwise: "问题已得到解决",
    WithdrawReason.no_longer_wanted: "不再需要处理",
    WithdrawReason.filed_by_mistake: "误投或重复提交",
}


def resolve_unit(state: StreamState, unit: str, actor: str) -> list[Draft]:
    """A clerk names the directory unit of a complaint received with an unresolved name."""
    case = known_case(state)
    if case.unit != UNRESOLVED_UNIT:
        raise Refusal("unit_already_resolved", "该件的被投诉单位已确定")
    return [Draft(UNIT_RESOLVED, {"unit": unit}, actor)]


def recategorise(state: StreamState, category: str, actor: str) -> list[Draft]:
    """A clerk overrides the suggested category."""
    known_case(state)
    return [Draft(RECATEGORISED, {"category": category}, actor)]


def decline(state: StreamState, code: str, reason: str, actor: str) -> list[Draft]:
    """Out of scope (litigation, criminal matters…): declined, naming the proper channel."""
    case = known_case(state)
    if case.status != RECEIVED:
        raise Refusal("wrong_state", "该件当前状态不能不予受理")
    return [Draft(DECLINED_TYPE, {"reason_code": code, "reason": reason}, actor)]


def withdraw(state: StreamState, number: str, reason: WithdrawReason, actor: str) -> list[Draft]:
    """The complainant withdraws (through the tracking code); intake signs for them."""
    case = known_case(state)
    on_case, _ = case.complainant_of(number)
    if not on_case:
        raise Refusal("not_complainant", "查询号或查询码不正确")
    if case.status not in OPEN:
        raise Refusal("not_open", "该件已办结或已终止，不能撤回")
    return [Draft(WITHDRAWN_TYPE, {"reason": WITHDRAW_REASONS[reason]}, actor)]


# -- duplicates by hand (a clerk links a missed duplicate, or splits a wrong link) ------------

LINKED = "ledger.complaint.linked_as_duplicate.v1"
SPLIT = "ledger.complaint.link_split.v1"


class LinkDuplicate(BaseModel):
    """A clerk links this complaint, by hand, into the case that holds its incident."""

    model_config = ConfigDict(extra="forbid")

    target: CaseId = Field(description="The case that already holds the incident")
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class SplitLink(BaseModel):
    """A clerk splits a wrong link: this complaint leaves the case it was gathered into."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=1, max_length=500)]


def link_by_hand(state: StreamState, cmd: LinkDuplicate, actor: str) -> list[Draft]:
    """The link on this case (and its screening, if none yet); the target's ``gathered``
    follows from the link (the screening worker derives it)."""
    case = known_case(state)
    if case.status != RECEIVED:
        raise Refusal("wrong_state", "该件当前状态不能并案")
    if cmd.target == state.stream:
        raise Refusal("self_related", "关联的件不能是本件")
    number = case.complaints[0][0]
    drafts: list[Draft] = []
    if not case.screened:
        screened = {
            "outcome": ScreeningOutcome.duplicate,
            "method": "manual",
            "related_case": cmd.target,
            "note": cmd.reason,
        }
        drafts.append(Draft(SCREENED, screened, actor))
    link = {"target": cmd.target, "complaint_no": number, "basis": cmd.reason, "method": "manual"}
    drafts.append(Draft(LINKED, link, actor))
    return drafts


def split_link(state: StreamState, cmd: SplitLink, actor: str) -> list[Draft]:
    """The split on the linked complaint's case (it is on its own again); the target's side
    follows (the screening worker mirrors it)."""
    case = known_case(state)
    if case.merged_into is None:
        raise Refusal("not_linked", "该件未并入其他件")
    return [Draft(SPLIT, {"other": case.merged_into, "reason": cmd.reason}, actor)]
