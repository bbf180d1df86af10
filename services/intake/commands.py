"""Intake's decisions, pure: ``decide(state, command) -> drafts`` (no I/O, no clock).

Each refuses (:class:`Refusal`, a stable reason and fixed zh-CN text) what the case's state
cannot take, before the rule book is asked; the rule book still judges every draft.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from shared.events.catalog import CaseId, Channel, OrgId, ScreeningOutcome
from shared.ledger.signer import Draft
from shared.rules.case import CLAIMED, RECEIVED, CaseState
from shared.rules.stream import StreamState
from shared.web.command_path import Refusal, known_case

RECEIVED_TYPE = "ledger.complaint.received.v1"
SCREENED = "ledger.complaint.screened.v1"
CONFIRMED = "ledger.complainant.confirmed.v1"
DISPUTED = "ledger.complainant.disputed.v1"


class ReceiveComplaint(BaseModel):
    """A complaint as the intake clerk records it (text already free of personal data)."""

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


def complaint_no(stream: str) -> str:
    """The complaint's number, from its case id (so a retry numbers it the same)."""
    return "TS" + stream.removeprefix("case-").replace("-", "")[:12].upper()


def _case(state: StreamState) -> CaseState:
    assert isinstance(state.domain, CaseState)
    return state.domain


def receive(
    state: StreamState,
    cmd: ReceiveComplaint,
    actor: str,
    tracking_code_hash: str,
    complainant: str | None = None,
) -> list[Draft]:
    """Open the case with the complaint (受理). ``complainant`` is the keyed pseudonym."""
    if state.accepted:
        raise Refusal("already_received", "该件已受理，不能重复受理")
    # Checked here, not in the body's schema, which cannot say it (a 409 naming the reason).
    if (cmd.platform is not None) != (cmd.channel in (Channel.online_platform, Channel.open311)):
        raise Refusal("platform_mismatch", "网上平台和 Open311 渠道须写明平台名称，其他渠道不写")
    data: dict[str, object] = {
        "complaint_no": complaint_no(state.stream),
        "channel": cmd.channel,
        "received_by": actor.split("/", 1)[0],  # the clerk's body (channels may name another)
        "unit": cmd.unit,
        "category": cmd.category,
        "text": cmd.text,
        "tracking_code_hash": tracking_code_hash,
    }
    if cmd.platform is not None:
        data["platform"] = cmd.platform
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
