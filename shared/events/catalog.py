"""Every event type of the ledger, one pydantic model per (type, version).

Catalog policy. Nothing has been released yet, so v1 models may still be amended in place (and
are, as the rule book learns what the services need). From the first release on, a shipped
model is part of the signed record: changes are new types or new versions with an upcaster in
``upcast.py``, never an edit of a shipped version.
Payloads carry no float (see ``codec``) and no personal data: complainants appear by a keyed
pseudonym, officials by staff id, complaint text with personal data replaced by placeholders.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    StrictBool,
    StrictInt,
    StrictStr,
    model_validator,
)
from typing_extensions import TypeAliasType

from shared.events.codec import CanonicalFormError, canonical

# ---- field types -----------------------------------------------------------------------------

_TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")


def _timestamp(v: str) -> str:
    if not _TS_RE.match(v):
        raise ValueError("not an RFC 3339 timestamp with offset")
    datetime.fromisoformat(v.replace("Z", "+00:00"))
    return v


Timestamp = Annotated[str, AfterValidator(_timestamp)]
CASE_ID_PATTERN = r"^case-[0-9a-f-]{36}$"
CaseId = Annotated[str, Field(pattern=CASE_ID_PATTERN)]
CONFERENCE_ID_PATTERN = r"^conf-[0-9a-f-]{36}$"
ConferenceId = Annotated[str, Field(pattern=CONFERENCE_ID_PATTERN)]
OrgId = Annotated[str, Field(pattern=r"^[a-z0-9:._-]{1,80}$")]
StaffId = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,40}$")]
Pseudonym = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
ShortText = Annotated[str, Field(max_length=500)]
LongText = Annotated[str, Field(max_length=20_000)]


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Channel(StrEnum):
    """Every way a complaint arrives."""

    visit = "visit"  # 来访
    letter = "letter"  # 来信
    phone = "phone"  # 来电 (the body's own line)
    email = "email"
    web_form = "web_form"  # the intake site's own form
    hotline_12345 = "hotline_12345"  # 12345 政务服务便民热线
    online_platform = "online_platform"  # 网上信访, 人民网留言板, ... (names the platform)
    open311 = "open311"  # an Open311 GeoReport v2 client
    referral = "referral"  # 转来: handed over by another body


class DeliveryChannel(StrEnum):
    """How a reply or notice reached a complainant (the address stays in intake's vault)."""

    sms = "sms"
    phone = "phone"
    letter = "letter"
    email = "email"
    web = "web"  # the tracking page
    in_person = "in_person"
    online_platform = "online_platform"
    open311 = "open311"


class Urgency(StrEnum):
    urgent = "urgent"
    high = "high"
    normal = "normal"
    low = "low"


class Attachment(Payload):
    sha256: Sha256
    media_type: Annotated[str, Field(max_length=100)]
    redacted: bool


# ---- complaint.* (intake, case stream) ----------------------------------------------------


class ComplaintReceived(Payload):
    complaint_no: Annotated[str, Field(max_length=40)]
    channel: Channel
    platform: Annotated[str, Field(max_length=60)] | None = Field(
        None, description="which online platform or Open311 client (required for those channels)"
    )
    complainant: Pseudonym | None = Field(None, description="keyed pseudonym; None = anonymous")
    received_by: OrgId = Field(
        description="the supervisory body that received it (the body directory's id)"
    )
    stated_received_at: Timestamp | None = Field(
        None,
        description="when the receiving body says it got it (informational: the log's time is "
        "the intake time)",
    )
    unit: OrgId = Field(description="the unit complained about")
    category: Annotated[str, Field(max_length=60)]
    text: LongText = Field(description="complaint text, personal data replaced by placeholders")
    attachments: list[Attachment] = []
    tracking_code_hash: Sha256

    @model_validator(mode="after")
    def _platform_named(self) -> ComplaintReceived:
        named = self.platform is not None
        if named != (self.channel in (Channel.online_platform, Channel.open311)):
            raise ValueError("online platforms and Open311 clients are named; others are not")
        return self


class ScreeningOutcome(StrEnum):
    new = "new"  # no earlier case about this incident
    duplicate = "duplicate"  # another open case holds the incident: link it
    cross_level = "cross_level"  # also filed at another level (see flagged_cross_level)
    repeat_after_closure = "repeat_after_closure"  # the incident's case is already closed


class ComplaintScreened(Payload):
    """Intake's duplicate and cross-level checks are done: the case may now be assigned."""

    outcome: ScreeningOutcome
    method: Annotated[str, Field(pattern=r"^(automatic|manual)$")] = Field(
        description="manual: a clerk screened by hand while automatic screening was down"
    )
    related_case: CaseId | None = Field(
        None, description="the open case it duplicates, or the closed case it repeats"
    )
    note: ShortText = ""

    @model_validator(mode="after")
    def _related(self) -> ComplaintScreened:
        needs = self.outcome in (ScreeningOutcome.duplicate, ScreeningOutcome.repeat_after_closure)
        if needs != (self.related_case is not None):
            raise ValueError("duplicates and repeats name the related case; others do not")
        return self


class ComplaintDelivered(Payload):
    """One delivery of a reply or notice to a complainant: channel and cause, never the address."""

    complaint_no: Annotated[str, Field(max_length=40)]
    channel: DeliveryChannel
    cause: Annotated[str, Field(max_length=40)] = Field(description="id of the event delivered")
    what: Annotated[str, Field(pattern=r"^(receipt|reply|closure|notice|follow_up)$")]


class DuplicateFigures(Payload):
    """The basis of an automatic duplicate link or cross-level flag, as intake's matcher
    weighed it (integers only: similarities in per mille)."""

    matched_complaint: Annotated[str, Field(max_length=40)] = Field(
        description="the earlier complaint the new one matched (its number)"
    )
    similarity_permille: Annotated[int, Field(ge=0, le=1000)]
    keywords_permille: Annotated[int, Field(ge=0, le=1000)] = Field(
        description="cosine of the two texts' content words"
    )
    fuzz_permille: Annotated[int, Field(ge=0, le=1000)] = Field(
        description="string similarity of the two normalised texts"
    )
    unit_relation: Literal["same", "related", "unrelated"]
    days_apart: Annotated[int, Field(ge=0)]
    same_complainant: bool
    same_category: bool
    signals: Annotated[
        list[Annotated[str, Field(pattern=r"^[a-z_]{1,20}$")]], Field(max_length=10)
    ] = Field(description="the signals that counted: keywords, fuzz, unit, time, complainant, …")
    thresholds: Annotated[str, Field(max_length=80)] = Field(
        "", description="which thresholds decided (their label)"
    )


class ComplaintLinkedAsDuplicate(Payload):
    target: CaseId
    complaint_no: Annotated[str, Field(max_length=40)]
    basis: ShortText
    method: Annotated[str, Field(pattern=r"^(automatic|manual)$")] = "automatic"
    figures: DuplicateFigures | None = Field(
        None, description="automatic links: the figures behind it; a clerk's link has none"
    )


class ComplaintGathered(Payload):
    source: CaseId
    complaint_no: Annotated[str, Field(max_length=40)]
    complainant: Pseudonym | None = None


class ComplaintLinkSplit(Payload):
    other: CaseId
    reason: ShortText


class ComplaintFlaggedCrossLevel(Payload):
    from_level: Annotated[str, Field(max_length=40)]
    to_level: Annotated[str, Field(max_length=40)]
    other_body: OrgId = Field(description="the body at the other level")
    other_case: Annotated[str, Field(max_length=80)] = Field(description="its case number there")
    basis: ShortText
    figures: DuplicateFigures | None = Field(
        None, description="the figures of the match that found the lower body's case"
    )


class ComplaintWithdrawn(Payload):
    reason: ShortText


class ComplaintDeclined(Payload):
    reason_code: Annotated[str, Field(max_length=40)]
    reason: ShortText


class VaultErasureCause(StrEnum):
    request = "request"  # the complainant asked (PIPL erasure)
    retention = "retention"  # the retention period after the case ended passed


class ComplaintVaultErased(Payload):
    """Intake deleted the complaint's vault entry (identity, contact, original text and
    attachments). Names no personal data: the redacted text in ``received`` still replays."""

    complaint_no: Annotated[str, Field(max_length=40)]
    cause: VaultErasureCause


class ComplaintUnitResolved(Payload):
    """A clerk names the directory unit a complaint received with an unresolved name is about
    (received with ``unit: unit:unresolved``; never guessed silently)."""

    unit: Annotated[str, Field(pattern=r"^unit:[a-z0-9._-]{1,75}$")]


class ComplaintRecategorised(Payload):
    """A clerk overrides the category suggested at receipt."""

    category: Annotated[str, Field(max_length=60)]


class ComplainantConfirmed(Payload):
    complaint_no: Annotated[str, Field(max_length=40)]


class ComplainantDisputed(Payload):
    complaint_no: Annotated[str, Field(max_length=40)]
    reason: ShortText


class ComplainantSatisfaction(Payload):
    complaint_no: Annotated[str, Field(max_length=40)]
    rating: Annotated[int, Field(ge=1, le=5)]


# ---- dispatch.* (dispatch, case stream) -----------------------------------------------------


class UnitDue(Payload):
    unit: OrgId
    due_at: Timestamp = Field(description="absolute due time of this unit's part")
    provisional: bool = Field(
        False, description="computed past the years the holiday calendar knows: may move"
    )


class DispatchAssigned(Payload):
    """Each unit gets its own clock: the lead's due time here, each co-unit's in ``co_units``."""

    lead_unit: OrgId
    due_at: Timestamp = Field(description="absolute due time of the lead unit")
    provisional: bool = False
    co_units: list[UnitDue] = []
    calendar_version: Annotated[str, Field(max_length=40)]
    urgency: Urgency
    direct: bool = Field(description="直接交办: assigned without intermediate transfer")
    instructions: ShortText = ""
    # What the route and the due times were decided from (routing as data, issue 19): the
    # versions in force, the route and limit dispatch proposed, the limit applied, the instant
    # the due times were counted from (so a newer calendar can recount them without guessing),
    # and, when the officer departed from the proposal, why.
    routing_version: Annotated[str, Field(max_length=40)] | None = None
    time_limits_version: Annotated[str, Field(max_length=40)] | None = None
    proposed: ProposedRoute | None = None
    handle_within: LimitSpec | None = Field(None, description="the limit every unit was given")
    counted_from: Timestamp | None = Field(None, description="the start the dues count from")
    override_reason: Annotated[str, Field(min_length=1, max_length=500)] | None = None

    @model_validator(mode="after")
    def _units_once(self) -> DispatchAssigned:
        units = [self.lead_unit, *(u.unit for u in self.co_units)]
        if len(set(units)) != len(units):
            raise ValueError("each unit is named once")
        return self

    @model_validator(mode="after")
    def _override_states_its_reason(self) -> DispatchAssigned:
        p = self.proposed
        if p is None or self.override_reason is not None:
            return self
        departs = (
            p.lead != self.lead_unit
            or set(p.co_units) != {u.unit for u in self.co_units}
            or (self.handle_within is not None and self.handle_within != p.handle_within)
        )
        if departs:
            raise ValueError("an assignment departing from the proposed route states its reason")
        return self


class DispatchReturnRuled(Payload):
    unit: OrgId
    granted: bool
    ruling: ShortText


class DispatchDueConfirmed(Payload):
    """An officer confirms what a newer holiday calendar makes of a provisional due time (the
    due may move, or only lose its provisional mark): never changed silently."""

    unit: OrgId
    previous_due_at: Timestamp = Field(description="the provisional due time it replaces")
    due_at: Timestamp = Field(description="the due time under the newer calendar")
    provisional: bool = Field(False, description="still counted past the calendar's years")
    calendar_version: Annotated[str, Field(max_length=40)]


class DispatchDeemedDone(Payload):
    """超时默认 for a co-unit: its part counts as done (and overdue, never resolved)."""

    unit: OrgId
    due_at: Timestamp = Field(description="the due time that elapsed")
    cause: str = Field(description="id of the deadline.elapsed event this follows from")


class BuckPassingPattern(StrEnum):
    """踢皮球: how a case was seen passed around."""

    returned_twice = "returned_twice"  # two returns granted on one case
    cycle = "cycle"  # back to a unit that had returned it (A → B → A)


class DispatchBuckPassingFlagged(Payload):
    """踢皮球: derived by dispatch from the case's own history, once per pattern per case."""

    pattern: BuckPassingPattern
    units: Annotated[list[OrgId], Field(min_length=1, max_length=50)] = Field(
        description="the units the pattern went through, in order (a cycle: A, B, A)"
    )
    cause: str = Field(description="id of the event that completed the pattern")


# ---- conference.* (dispatch, conference stream) ---------------------------------------------


class Opinion(StrEnum):
    consent = "consent"
    object = "object"
    abstain = "abstain"


class DecisionRule(StrEnum):
    """How a conference decides; deemed consents (缺席默认) count as consents in each."""

    majority = "majority"  # 过半数同意: consents more than half of the members
    two_thirds = "two_thirds"  # 三分之二以上同意: consents at least two thirds of the members
    unanimous = "unanimous"  # 全体同意: every member consents (no objection, no abstention)


class ConferenceOutcome(StrEnum):
    adopted = "adopted"  # 通过
    rejected = "rejected"  # 未通过


class ConferenceConvened(Payload):
    convener: OrgId = Field(description="the convening body: it alone records the decision")
    cases: Annotated[list[CaseId], Field(min_length=1)]
    members: Annotated[list[OrgId], Field(min_length=1)]
    question: ShortText
    rule: DecisionRule = DecisionRule.majority
    opinions_due_at: Timestamp


class ConferenceOpinionGiven(Payload):
    member: OrgId
    opinion: Opinion
    note: ShortText = Field("", description="the opinion's text (its reasons)")


class ConferenceOpinionNoted(Payload):
    """An opinion once given never changes: its member may only explain it by a note."""

    member: OrgId
    note: Annotated[str, Field(min_length=1, max_length=500)]


class Tally(Payload):
    consent: Annotated[int, Field(ge=0)]
    object: Annotated[int, Field(ge=0)]
    abstain: Annotated[int, Field(ge=0)]
    deemed_consent: Annotated[int, Field(ge=0)]


class ConferenceDecided(Payload):
    decision: ShortText
    absent_deemed_consent: list[OrgId] = Field(description="缺席默认: members who gave no opinion")
    tally: Tally
    outcome: ConferenceOutcome = Field(description="the outcome of the tally under the rule")


class DispatchConferenceRuled(Payload):
    """A conference's decision, as it bears on one case concerned (its own event on the case).

    Written by the convener's dispatch once the decision is accepted; its id derives from the
    decision (``cause``) and the case, so it is written once. Which conference and what it
    decided span streams: the writer states them, the case's rules do not re-check them."""

    conference: ConferenceId
    outcome: ConferenceOutcome
    decision: ShortText
    cause: str = Field(description="id of the conference.decided event this follows from")


# ---- handling.* and supervision (oversight, case stream) ------------------------------------


class HandlingAcknowledged(Payload):
    unit: OrgId


class HandlingReplied(Payload):
    unit: OrgId
    text: LongText


class HandlingProgress(Payload):
    unit: OrgId
    note: ShortText


class HandlingResolutionClaimed(Payload):
    """The lead's claim for the case, or a co-unit's completion of its part."""

    unit: OrgId
    summary: LongText
    answer_due_at: Timestamp | None = Field(
        None, description="回访: until when the complainant is asked (the lead's claim only)"
    )
    evidence: Annotated[list[Sha256], Field(max_length=5)] = Field(
        default_factory=list,
        description="SHA-256 of each evidence file the unit sent, kept in oversight's store",
    )


class HandlingExtensionRequested(Payload):
    unit: OrgId
    until: Timestamp
    reason: ShortText


class HandlingReturnRequested(Payload):
    """退单: a unit asks to hand the case back; dispatch rules on it."""

    unit: OrgId
    reason: ShortText


class HandlingExtensionRuled(Payload):
    unit: OrgId
    granted: bool
    due_at: Timestamp | None = None
    ruling: ShortText
    complainant_notice: ShortText | None = Field(
        None, description="what the complainant is told (zh-CN; no staff names, no free text)"
    )


class HandlingFirstShown(Payload):
    """When the workbench first showed a unit its assignment (beside the assignment's own time).

    Once per unit per assignment: ``assignment`` and ``reopened`` name the round (the case's
    assignments and reopens so far; a reopen is a fresh assignment of due times), and the event's
    id derives from the case, the unit and the round, so a second view or a race writes nothing
    more."""

    unit: OrgId
    due_at: Timestamp = Field(description="the unit's due time as shown")
    assignment: Annotated[int, Field(ge=1)]
    reopened: Annotated[int, Field(ge=0)]


class ClosureBasis(StrEnum):
    complainant_confirmed = "complainant_confirmed"
    # a supervisor decides, because there is nobody to ask:
    anonymous = "anonymous"
    inspection_opened = "inspection_opened"
    no_answer_in_time = "no_answer_in_time"


class Finding(StrEnum):
    substantiated = "substantiated"  # 属实
    partly_substantiated = "partly_substantiated"  # 部分属实
    unsubstantiated = "unsubstantiated"  # 不属实


class HandlingReopened(Payload):
    """重办: every acting unit gets a fresh due time."""

    reason: ShortText
    units: Annotated[list[UnitDue], Field(min_length=1)]
    cause: Annotated[str, Field(max_length=40)] | None = Field(
        None, description="id of the complainant.disputed event this reopen follows"
    )
    complainant_notice: ShortText | None = Field(
        None, description="what the complainant is told (zh-CN; no staff names, no free text)"
    )


class HandlingClosed(Payload):
    basis: ClosureBasis
    finding: Finding
    confidential: bool = Field(description="never published")
    note: ShortText = ""


class DeadlineElapsed(Payload):
    """A timer fired: exactly one per (stream, unit, due time), never before the due time."""

    deadline: Annotated[str, Field(pattern=r"^(handling|answer|opinions)$")] = Field(
        description="handling: a unit's due time; answer: the complainant's (回访); "
        "opinions: a conference's opinion deadline"
    )
    unit: OrgId | None = None
    due_at: Timestamp

    @model_validator(mode="after")
    def _unit_for_handling(self) -> DeadlineElapsed:
        if (self.deadline == "handling") != (self.unit is not None):
            raise ValueError("a handling deadline names its unit; others name none")
        return self


class LadderStep(StrEnum):
    """The escalation ladder on the lead unit's deadline (督办升级), in its order."""

    reminder = "reminder"  # 督办提醒: before the due time
    order = "order"  # 督办单: at the due time, the deadline elapsed
    listed = "listed"  # 挂牌督办: so long after the due time, a 督办单 already issued


ThresholdsLabel = Annotated[str, Field(min_length=1, max_length=40)]


class SupervisionReminded(Payload):
    """督办提醒: the ladder's first step, before the lead unit's due time (once per deadline)."""

    unit: OrgId
    due_at: Timestamp = Field(description="the deadline the ladder follows (the lead's due)")
    threshold_at: Timestamp = Field(description="when the step was due, by the thresholds")
    thresholds: ThresholdsLabel = Field(description="the escalation_thresholds version used")
    notice: LongText


class SupervisionEscalated(Payload):
    """One level up. A ladder step (``step``: 督办单 or 挂牌督办) names the deadline it follows,
    when it was due, the thresholds version it used and its notice; an escalation without a
    step is a supervisor's own."""

    level: Annotated[int, Field(ge=1, le=9)]
    reason: ShortText
    cause: str | None = None
    step: Literal[LadderStep.order, LadderStep.listed] | None = None
    unit: OrgId | None = None
    due_at: Timestamp | None = None
    threshold_at: Timestamp | None = None
    thresholds: ThresholdsLabel | None = Field(
        None, description="the escalation_thresholds version used (None: none in force)"
    )
    notice: LongText | None = None

    @model_validator(mode="after")
    def _a_step_names_its_deadline(self) -> SupervisionEscalated:
        named = (self.unit, self.due_at, self.threshold_at, self.notice)
        if self.step is not None and any(v is None for v in named):
            raise ValueError("a ladder step names its unit, deadline, threshold and notice")
        if self.step is None and any(v is not None for v in (*named, self.thresholds)):
            raise ValueError("only a ladder step names a deadline, threshold and notice")
        if self.step == LadderStep.listed and self.thresholds is None:
            raise ValueError("a 挂牌督办 names the thresholds version it used")
        return self


class Penalty(StrEnum):
    """The accountability measures, mildest first: the order is the scale."""

    criticism = "criticism"  # 批评教育
    written_self_criticism = "written_self_criticism"  # 书面检查
    admonishment_talk = "admonishment_talk"  # 诫勉谈话
    public_criticism = "public_criticism"  # 通报批评
    efficiency_warning = "efficiency_warning"  # 效能告诫
    post_transfer = "post_transfer"  # 调离岗位
    suspension = "suspension"  # 停职检查
    dismissal = "dismissal"  # 免职


PENALTY_RANK: dict[str, int] = {p.value: i for i, p in enumerate(Penalty)}

OffenceCode = Annotated[str, Field(pattern=r"^[a-z0-9_]{1,40}$")]


class PenaltyImposed(Payload):
    """The minimum is read from the penalty schedule the event names, never stated here."""

    penalty_id: Annotated[str, Field(max_length=40)]
    unit: OrgId
    post: Annotated[str, Field(max_length=80)]
    staff_id: StaffId
    offence: OffenceCode
    schedule_version: Annotated[str, Field(max_length=40)]
    penalty: Penalty
    departure_reason: ShortText = Field("", description="why below the schedule's minimum")
    causes: Annotated[list[Annotated[str, Field(max_length=40)]], Field(min_length=1)] = Field(
        description="ids of the events this penalty answers (deemed done, findings, ...)"
    )
    repeat_count: Annotated[int, Field(ge=1)] = Field(description="by person, across transfers")
    leadership: bool = Field(description="领导责任 applies")
    proposal_id: Annotated[str, Field(max_length=40)] | None = Field(
        None, description="the pending proposal this penalty decides, if any"
    )


class PenaltyRevoked(Payload):
    penalty_id: Annotated[str, Field(max_length=40)]
    reason: ShortText


class InspectionFindingRecorded(Payload):
    unit: OrgId
    post: Annotated[str, Field(max_length=80)]
    staff_id: StaffId | None = None
    finding: Annotated[str, Field(max_length=80)]
    text: LongText
    inspected_on: Timestamp
    evidence: Annotated[list[Sha256], Field(min_length=1)] = Field(
        description="SHA-256 of each evidence file (photos, video) in oversight's store"
    )


# ---- penalty proposals (oversight, case stream) --------------------------------------------


class ProposalCause(StrEnum):
    """What calls for a penalty: the log's own facts, never a supervisor's memory."""

    deemed_done = "deemed_done"  # 超时默认
    disputed = "disputed"  # the complainant disputed the resolution
    inspection = "inspection"  # an 暗访 finding
    leadership = "leadership"  # 领导责任: a unit passed the configured threshold in a period


class PenaltyProposed(Payload):
    """A penalty the log's facts call for, awaiting a supervisor's decision (imposed with
    ``proposal_id``, or dismissed with a reason). Its id derives from its cause."""

    proposal_id: Annotated[str, Field(max_length=40)]
    cause: ProposalCause
    cause_event: Annotated[str, Field(max_length=40)] = Field(
        description="id of the event (or, for leadership, the last closure) it follows from"
    )
    unit: OrgId
    post: Annotated[str, Field(max_length=80)] | None = None
    staff_id: StaffId | None = Field(None, description="leadership: the post-holder at the time")
    offence: OffenceCode | None = None
    period: PeriodId | None = Field(None, description="leadership: the period counted")
    count: Annotated[int, Field(ge=1)] | None = Field(
        None, description="leadership: how many cases or penalties passed the threshold"
    )


class PenaltyProposalDismissed(Payload):
    proposal_id: Annotated[str, Field(max_length=40)]
    reason: Annotated[str, Field(min_length=1, max_length=500)]


# ---- period.* (oversight, period stream: period-YYYY-MM or period-YYYY-Qn) ------------------

PeriodId = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4])$")]


class Ratio(Payload):
    numerator: Annotated[int, Field(ge=0)]
    denominator: Annotated[int, Field(ge=0)]

    @model_validator(mode="after")
    def _proper(self) -> Ratio:
        if self.numerator > self.denominator:
            raise ValueError("numerator above denominator")
        return self


class UnitFigures(Payload):
    unit: OrgId
    figures: dict[Annotated[str, Field(pattern=r"^[a-z_]{1,40}$")], Ratio] = Field(
        description="every rate as numerator and denominator: reply, resolution, satisfaction..."
    )


class PeriodFiguresPublished(Payload):
    """A period's figures, version 1; a correction is a new version naming the one it replaces."""

    period: PeriodId
    version: Annotated[int, Field(ge=1)]
    replaces: Annotated[int, Field(ge=1)] | None = None
    units: list[UnitFigures]
    reason: ShortText = ""


# ---- publication.* (publication, case stream) -----------------------------------------------


class PublicationDrafted(Payload):
    notice_id: Annotated[str, Field(max_length=40)]
    text_sha256: Sha256


class PublicationPublished(Payload):
    notice_id: Annotated[str, Field(max_length=40)]
    text_sha256: Sha256


class PublicationWithheld(Payload):
    notice_id: Annotated[str, Field(max_length=40)]
    reason: ShortText


class PublicationWithdrawn(Payload):
    notice_id: Annotated[str, Field(max_length=40)]
    reason: ShortText


class PublicationCorrected(Payload):
    notice_id: Annotated[str, Field(max_length=40)]
    text_sha256: Sha256
    reason: ShortText


# ---- registry.* (the deployment that owns it, registry stream) ------------------------------

Deployment = Annotated[str, Field(pattern=r"^/[a-z0-9._/-]{1,120}$")]


class DeploymentRegistered(Payload):
    deployment: Deployment
    body: OrgId
    service: Annotated[str, Field(pattern=r"^[a-z-]{1,40}$")]
    acts_for: list[Annotated[str, Field(max_length=80)]] = Field(
        description="org patterns whose actors this deployment may sign for"
    )


class KeyAdded(Payload):
    deployment: Deployment
    kid: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    public_key: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{43}$")]


class KeyRevoked(Payload):
    kid: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    reason: ShortText


class RightsGranted(Payload):
    deployment: Deployment
    types: Annotated[
        list[Annotated[str, Field(pattern=r"^ledger\.[a-z0-9_.*]+$")]], Field(min_length=1)
    ]


class RightsRevoked(Payload):
    deployment: Deployment
    types: Annotated[
        list[Annotated[str, Field(pattern=r"^ledger\.[a-z0-9_.*]+$")]], Field(min_length=1)
    ]


class ConfigKind(StrEnum):
    """Each kind of configuration has one owner deployment, named once by the genesis key."""

    body_directory = "body_directory"  # supervisory bodies, with levels
    unit_directory = "unit_directory"
    routing = "routing"
    time_limits = "time_limits"
    calendar = "calendar"  # the holiday calendar version
    escalation_thresholds = "escalation_thresholds"
    penalty_schedule = "penalty_schedule"
    assessment_weights = "assessment_weights"
    publication_policy = "publication_policy"


class LeadershipThreshold(Payload):
    """领导责任: when a unit passes ``cases`` substantiated cases, or ``penalties`` penalties,
    in one calendar month (Asia/Shanghai, by log time), the holder of ``post`` at the time is
    proposed for ``offence``."""

    post: Annotated[str, Field(min_length=1, max_length=80)] = Field(
        description="the leader's post as the staff directory names it (e.g. 主要负责人)"
    )
    offence: OffenceCode
    cases: Annotated[int, Field(ge=1)] | None = Field(None, description="substantiated cases")
    penalties: Annotated[int, Field(ge=1)] | None = Field(None, description="penalties imposed")

    @model_validator(mode="after")
    def _a_threshold(self) -> LeadershipThreshold:
        if self.cases is None and self.penalties is None:
            raise ValueError("a threshold of cases, penalties or both")
        return self


class PenaltySchedule(Payload):
    """Per offence code, the minimum penalty for the 1st, 2nd, ... offence (the last repeats)."""

    minimums: dict[OffenceCode, Annotated[list[Penalty], Field(min_length=1)]]
    labels: dict[OffenceCode, Annotated[str, Field(min_length=1, max_length=60)]] = Field(
        default_factory=dict, description="offence code -> its name (zh-CN), for pages"
    )
    leadership: LeadershipThreshold | None = Field(
        None, description="when a unit's leader is proposed for leadership responsibility"
    )

    @model_validator(mode="after")
    def _never_milder_on_repeat(self) -> PenaltySchedule:
        for steps in self.minimums.values():
            ranks = [PENALTY_RANK[p] for p in steps]
            if ranks != sorted(ranks):
                raise ValueError("a repeat offence's minimum is never milder than the one before")
        if not set(self.labels) <= set(self.minimums):
            raise ValueError("labels name offences of the schedule only")
        if self.leadership is not None and self.leadership.offence not in self.minimums:
            raise ValueError("the leadership offence is one of the schedule's")
        return self


AssessedFigure = Literal[
    "reply", "resolution", "satisfaction", "overdue", "deemed_done", "reopened", "buck_passing"
]


class AssessmentWeights(Payload):
    """效能考核权重: how a unit's score for a period is made from its rates (weight per figure;
    overdue, deemed_done, reopened and buck_passing count in their negative sense, as the share
    of items that escaped them), how many cases a unit needs in the period before it is
    ranked, and which figures break a tie of scores, in order. A figure not named weighs 0."""

    weights: dict[AssessedFigure, Annotated[int, Field(strict=True, ge=0, le=1000)]] = Field(
        description="figure -> its weight (integers, 0-1000; their sum is the whole score)"
    )
    min_cases: Annotated[int, Field(strict=True, ge=1, le=1_000_000)] = Field(
        description="cases due in the period a unit needs before it is ranked"
    )
    tie_break: Annotated[list[AssessedFigure], Field(max_length=7)] = Field(
        default_factory=list, description="figures compared, in order, when scores are equal"
    )

    @model_validator(mode="after")
    def _a_score_and_one_order(self) -> AssessmentWeights:
        if sum(self.weights.values()) <= 0:
            raise ValueError("at least one figure has a weight above 0")
        if len(set(self.tie_break)) != len(self.tie_break):
            raise ValueError("each tie-break figure is named once")
        return self


# Configuration contents: one model per kind (CONFIG_CONTENT), checked by the rule book on every
# ``registry.config_published`` and by each owner's command endpoint before signing.
# Publication policy is a loose object for now (any JSON object without floats, bounded in
# size): its service will give it a schema.

DirectoryName = Annotated[str, Field(min_length=1, max_length=60)]


class BodyLevel(StrEnum):
    """Where a supervisory body sits: a city body, a district's, or stationed in a unit."""

    municipal = "municipal"  # 市级
    district = "district"  # 区（县）级
    stationed = "stationed"  # 派驻（驻在被监督单位）


class BodyEntry(Payload):
    id: OrgId
    name: DirectoryName
    level: BodyLevel
    parent: OrgId | None = Field(None, description="the body it belongs to or reports to")
    aliases: Annotated[list[DirectoryName], Field(max_length=10)] = []
    code: Annotated[str, Field(pattern=r"^[A-Z]{2,6}$")] | None = Field(
        None,
        description="the body's code in its complaint numbers (TS<code>-…), so numbers stay "
        "unique when several bodies run intake on one log; unique in the directory",
    )


def _ids_once_and_parents_known(entries: list[Any]) -> None:
    """Shared check of both directories: ids are unique, a parent is an entry of the same
    directory, and following parents never comes back to where it started."""
    ids = [e.id for e in entries]
    if len(set(ids)) != len(ids):
        raise ValueError("each id is listed once")
    parent = {e.id: e.parent for e in entries}
    for e in entries:
        if e.parent is not None and e.parent not in parent:
            raise ValueError("a parent is an entry of the same directory")
        seen = {e.id}
        up = e.parent
        while up is not None:
            if up in seen:
                raise ValueError("parents form a cycle")
            seen.add(up)
            up = parent.get(up)


class BodyDirectory(Payload):
    """The supervisory bodies that receive efficiency complaints, with their levels."""

    bodies: Annotated[list[BodyEntry], Field(min_length=1, max_length=500)]

    @model_validator(mode="after")
    def _consistent(self) -> BodyDirectory:
        _ids_once_and_parents_known(self.bodies)
        return self

    @model_validator(mode="after")
    def _codes_once(self) -> BodyDirectory:
        codes = [b.code for b in self.bodies if b.code is not None]
        if len(set(codes)) != len(codes):
            raise ValueError("each body code is used once")
        return self


class UnitLevel(StrEnum):
    municipal = "municipal"  # 市直单位
    district = "district"  # 区（县）直单位
    street = "street"  # 街道（乡镇）


UnitId = Annotated[str, Field(pattern=r"^unit:[a-z0-9._-]{1,75}$")]


class UnitEntry(Payload):
    id: UnitId
    name: DirectoryName
    level: UnitLevel
    parent: UnitId | None = Field(None, description="the unit it is part of (a district's own)")
    supervised_by: OrgId = Field(description="the body whose stationed office supervises it")
    aliases: Annotated[list[DirectoryName], Field(max_length=20)] = Field(
        [], description="other names complainants use (short forms, old names, misspellings)"
    )


class UnitDirectory(Payload):
    """The units under supervision: who they are, where they sit, which body supervises them."""

    units: Annotated[list[UnitEntry], Field(min_length=1, max_length=5000)]

    @model_validator(mode="after")
    def _consistent(self) -> UnitDirectory:
        _ids_once_and_parents_known(self.units)
        return self


class LimitSpec(Payload):
    """A time limit as configured (``shared.calendar.TimeLimit`` reads the same shape)."""

    amount: Annotated[int, Field(strict=True, gt=0, le=1000)]
    unit: Literal["working_days", "hours"] = "working_days"


class UrgencyLimits(Payload):
    dispatch_within: LimitSpec = Field(description="from receipt to assignment (转办)")
    handle_within: LimitSpec = Field(description="from assignment to the unit's reply (办结)")


class LimitsByUrgency(Payload):
    urgent: UrgencyLimits
    high: UrgencyLimits
    normal: UrgencyLimits
    low: UrgencyLimits


class TimeLimits(Payload):
    """限时办结: per urgency (every one of ``Urgency``), how long dispatch and the units have;
    how long a 回访 waits; the longest extension."""

    by_urgency: LimitsByUrgency
    revisit_within: LimitSpec = Field(description="how long a complainant is waited for (回访)")
    extension_at_most: LimitSpec = Field(description="the longest one extension may grant")
    by_category: dict[
        Annotated[str, Field(min_length=1, max_length=60)], dict[Urgency, LimitSpec]
    ] = Field(
        default_factory=dict,
        description="per category, the handling limit of some urgencies (others: by_urgency)",
    )


class EscalationThresholds(Payload):
    """督办升级阈值: when each step of the ladder on a lead unit's deadline comes. The 督办单
    goes out when the deadline elapses (at the due time); the reminder so long before it, the
    挂牌督办 so long after it."""

    remind_before: LimitSpec = Field(description="督办提醒: so long before the due time")
    list_after: LimitSpec = Field(description="挂牌督办: so long after the due time")


# ---- routing (dispatch's 转办规则, after a 12345 派单目录) ---------------------------------------

RESPONDENT = "respondent"  # a route whose acting unit is the unit complained about
ANY_CATEGORY = "*"
RouteCode = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,20}$")]
CategoryName = Annotated[str, Field(min_length=1, max_length=60)]


class RouteEntry(Payload):
    """One line of the catalogue: category × respondent unit × unit level → the acting unit
    (the lead) and the co-units. A missing unit or level (or category ``*``) matches any."""

    code: RouteCode = Field(description="目录编码")
    category: CategoryName = Field(description="the complaint's category, or * for any")
    unit: UnitId | None = Field(None, description="the unit complained about; None = any")
    level: UnitLevel | None = Field(None, description="its level in the unit directory")
    lead: UnitId | Literal["respondent"] = Field(description="the unit that acts")
    co_units: Annotated[list[UnitId], Field(max_length=10)] = []


class Routing(Payload):
    """转办规则: the catalogue dispatch proposes routes from (the most specific entry wins)."""

    entries: Annotated[list[RouteEntry], Field(min_length=1, max_length=2000)]

    @model_validator(mode="after")
    def _consistent(self) -> Routing:
        codes = [e.code for e in self.entries]
        if len(set(codes)) != len(codes):
            raise ValueError("each code is listed once")
        keys = [(e.category, e.unit, e.level) for e in self.entries]
        if len(set(keys)) != len(keys):
            raise ValueError("each category, unit and level is routed once")
        for e in self.entries:
            if len(set(e.co_units)) != len(e.co_units) or e.lead in e.co_units:
                raise ValueError("each unit of a route is named once")
        return self


class ProposedRoute(Payload):
    """What dispatch proposed for a case: the catalogue entry (None: none matched), its units,
    the limit the time limits give the case's category and urgency."""

    entry: RouteCode | None
    category: CategoryName
    lead: UnitId | None
    co_units: Annotated[list[UnitId], Field(max_length=10)] = []
    handle_within: LimitSpec


DispatchAssigned.model_rebuild()


class CalendarVersion(Payload):
    """The holiday calendar due times are counted on (``Due.calendar`` names it)."""

    version: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,40}$")]


LOOSE_CONFIG_MAX_BYTES = 65_536


# Keys are names (Latin, digits, _.:- and CJK ideographs); integers are those JSON keeps exact.
PlainKey = Annotated[str, Field(pattern="^[A-Za-z0-9_.:\u4e00-\u9fff-]{1,80}$")]
SafeInt = Annotated[StrictInt, Field(ge=-(2**53 - 1), le=2**53 - 1)]
PlainJson = TypeAliasType(
    "PlainJson",
    "StrictStr | SafeInt | StrictBool | list[PlainJson] | dict[PlainKey, PlainJson] | None",
)


class LooseConfig(RootModel[dict[PlainKey, PlainJson]]):
    """A kind without its own schema yet: any JSON object of integers, strings, booleans, lists
    and objects in the events' domain (no floats, integers within ±(2**53-1), valid Unicode),
    at most 64 KiB as canonical bytes."""

    model_config = ConfigDict(frozen=True)

    @model_validator(mode="after")
    def _in_the_event_domain(self) -> LooseConfig:
        try:
            size = len(canonical(self.root))
        except (CanonicalFormError, orjson.JSONEncodeError):
            raise ValueError("not in the events' JSON domain") from None
        if size > LOOSE_CONFIG_MAX_BYTES:
            raise ValueError("at most 64 KiB")
        return self


CONFIG_CONTENT: dict[str, type[BaseModel]] = {
    ConfigKind.penalty_schedule: PenaltySchedule,
    ConfigKind.body_directory: BodyDirectory,
    ConfigKind.unit_directory: UnitDirectory,
    ConfigKind.time_limits: TimeLimits,
    ConfigKind.calendar: CalendarVersion,
    ConfigKind.routing: Routing,
    ConfigKind.escalation_thresholds: EscalationThresholds,
    ConfigKind.assessment_weights: AssessmentWeights,
    ConfigKind.publication_policy: LooseConfig,
}


class ConfigOwnerNamed(Payload):
    """The genesis key names, once per kind, the deployment that publishes it from then on."""

    kind: ConfigKind
    deployment: Deployment


class ConfigPublished(Payload):
    """A version of one kind of configuration, published by that kind's owner deployment."""

    kind: ConfigKind
    version: Annotated[str, Field(max_length=40)]
    content: dict[str, Any]

    @model_validator(mode="after")
    def _content(self) -> ConfigPublished:
        model = CONFIG_CONTENT.get(self.kind)
        if model is not None:
            model.model_validate(self.content)
        return self


EndpointName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.-]{0,40}$")]


class CallsGranted(Payload):
    """The genesis key lets ``deployment`` call the named internal endpoints of ``callee`` (a
    deployment) with requests signed by its own key (``shared/web/signed_calls``)."""

    deployment: Deployment
    callee: Deployment
    endpoints: Annotated[list[EndpointName], Field(min_length=1)]


class CallsRevoked(Payload):
    deployment: Deployment
    callee: Deployment
    endpoints: Annotated[list[EndpointName], Field(min_length=1)]


# ---- audit (auditor, audit stream) ----------------------------------------------------------


class DigestRecorded(Payload):
    partition: Annotated[int, Field(ge=0)]
    count: Annotated[int, Field(ge=0)]
    digest: Sha256
    partitions: Annotated[int, Field(ge=1)]


class SealRecorded(Payload):
    positions: dict[str, int] = Field(description="partition -> records verified")
    partitions: Annotated[int, Field(ge=1)]
    digests: dict[str, Sha256]
    tampered: Annotated[int, Field(ge=0)]
    conflicts: Annotated[int, Field(ge=0)]
    rejected: list[tuple[int, int, str]] = Field(
        default_factory=list,
        description="(partition, offset, reason) of every record below the seal the rule book "
        "rejected as a normal conflict: rebuilds trusting the seal skip exactly these",
    )


class BadEventsAcknowledged(Payload):
    """An auditor's signed acknowledgement of a known incident: these records are bad, for this
    reason. ``ledger verify`` still lists them every time, and passes once all are named."""

    events: Annotated[
        list[tuple[Annotated[int, Field(ge=0)], Annotated[int, Field(ge=0)], str]],
        Field(min_length=1, description="(partition, offset, SHA-256 of the record there or '')"),
    ]
    reason: Annotated[str, Field(min_length=1, max_length=500)]


# ---- appeal.* (oversight, case stream): 申诉复核 --------------------------------------------


class AppealTarget(StrEnum):
    """What a unit may appeal: an event the log counts against it."""

    penalty = "penalty"  # penalty.imposed
    deemed_done = "deemed_done"  # dispatch.deemed_done
    reopen = "reopen"  # handling.reopened
    buck_passing = "buck_passing"  # dispatch.buck_passing_flagged


class AppealOutcome(StrEnum):
    upheld = "upheld"  # 申诉成立: the target no longer counts against the unit
    rejected = "rejected"  # 申诉不成立


class AppealFiled(Payload):
    """A unit appeals one event counted against it, with its reasons (once per event)."""

    appeal_id: Annotated[str, Field(max_length=40)]
    target: AppealTarget
    target_event: Annotated[str, Field(max_length=40)] = Field(
        description="id of the event appealed (penalty.imposed, dispatch.deemed_done, ...)"
    )
    unit: OrgId
    reasons: Annotated[str, Field(min_length=1, max_length=2000)]


class AppealRuled(Payload):
    """A supervisor's ruling on a pending appeal, with a reason; it repeats what was appealed
    so that the rates read the ruling alone."""

    appeal_id: Annotated[str, Field(max_length=40)]
    outcome: AppealOutcome
    reason: Annotated[str, Field(min_length=1, max_length=500)]
    target: AppealTarget
    target_event: Annotated[str, Field(max_length=40)]
    unit: OrgId


# ---- the catalog ----------------------------------------------------------------------------

CATALOG: dict[str, type[Payload]] = {
    "ledger.complaint.received.v1": ComplaintReceived,
    "ledger.complaint.screened.v1": ComplaintScreened,
    "ledger.complaint.delivered.v1": ComplaintDelivered,
    "ledger.complaint.linked_as_duplicate.v1": ComplaintLinkedAsDuplicate,
    "ledger.complaint.gathered.v1": ComplaintGathered,
    "ledger.complaint.link_split.v1": ComplaintLinkSplit,
    "ledger.complaint.flagged_cross_level.v1": ComplaintFlaggedCrossLevel,
    "ledger.complaint.withdrawn.v1": ComplaintWithdrawn,
    "ledger.complaint.declined.v1": ComplaintDeclined,
    "ledger.complaint.unit_resolved.v1": ComplaintUnitResolved,
    "ledger.complaint.recategorised.v1": ComplaintRecategorised,
    "ledger.complainant.confirmed.v1": ComplainantConfirmed,
    "ledger.complaint.vault_erased.v1": ComplaintVaultErased,
    "ledger.complainant.disputed.v1": ComplainantDisputed,
    "ledger.complainant.satisfaction_rated.v1": ComplainantSatisfaction,
    "ledger.dispatch.assigned.v1": DispatchAssigned,
    "ledger.dispatch.return_ruled.v1": DispatchReturnRuled,
    "ledger.dispatch.deemed_done.v1": DispatchDeemedDone,
    "ledger.dispatch.due_confirmed.v1": DispatchDueConfirmed,
    "ledger.dispatch.buck_passing_flagged.v1": DispatchBuckPassingFlagged,
    "ledger.conference.convened.v1": ConferenceConvened,
    "ledger.conference.opinion_given.v1": ConferenceOpinionGiven,
    "ledger.conference.decided.v1": ConferenceDecided,
    "ledger.conference.opinion_noted.v1": ConferenceOpinionNoted,
    "ledger.dispatch.conference_ruled.v1": DispatchConferenceRuled,
    "ledger.handling.acknowledged.v1": HandlingAcknowledged,
    "ledger.handling.replied.v1": HandlingReplied,
    "ledger.handling.progress.v1": HandlingProgress,
    "ledger.handling.resolution_claimed.v1": HandlingResolutionClaimed,
    "ledger.handling.return_requested.v1": HandlingReturnRequested,
    "ledger.handling.extension_requested.v1": HandlingExtensionRequested,
    "ledger.handling.extension_ruled.v1": HandlingExtensionRuled,
    "ledger.handling.reopened.v1": HandlingReopened,
    "ledger.handling.closed.v1": HandlingClosed,
    "ledger.handling.first_shown.v1": HandlingFirstShown,
    "ledger.deadline.elapsed.v1": DeadlineElapsed,
    "ledger.supervision.escalated.v1": SupervisionEscalated,
    "ledger.supervision.reminded.v1": SupervisionReminded,
    "ledger.penalty.imposed.v1": PenaltyImposed,
    "ledger.penalty.revoked.v1": PenaltyRevoked,
    "ledger.inspection.finding_recorded.v1": InspectionFindingRecorded,
    "ledger.penalty.proposed.v1": PenaltyProposed,
    "ledger.penalty.proposal_dismissed.v1": PenaltyProposalDismissed,
    "ledger.period.figures_published.v1": PeriodFiguresPublished,
    "ledger.publication.drafted.v1": PublicationDrafted,
    "ledger.publication.published.v1": PublicationPublished,
    "ledger.publication.withheld.v1": PublicationWithheld,
    "ledger.publication.withdrawn.v1": PublicationWithdrawn,
    "ledger.publication.corrected.v1": PublicationCorrected,
    "ledger.registry.deployment_registered.v1": DeploymentRegistered,
    "ledger.registry.key_added.v1": KeyAdded,
    "ledger.registry.key_revoked.v1": KeyRevoked,
    "ledger.registry.rights_granted.v1": RightsGranted,
    "ledger.registry.rights_revoked.v1": RightsRevoked,
    "ledger.registry.config_owner_named.v1": ConfigOwnerNamed,
    "ledger.registry.config_published.v1": ConfigPublished,
    "ledger.registry.calls_granted.v1": CallsGranted,
    "ledger.registry.calls_revoked.v1": CallsRevoked,
    "ledger.audit.digest_recorded.v1": DigestRecorded,
    "ledger.audit.seal_recorded.v1": SealRecorded,
    "ledger.audit.acknowledged.v1": BadEventsAcknowledged,
    "ledger.appeal.filed.v1": AppealFiled,
    "ledger.appeal.ruled.v1": AppealRuled,
}

# Which stream kinds each family lives in (DESIGN: "Streams, actors and who writes what").
# A timer writes to the stream that holds its deadline: a case, or a conference.
STREAM_KINDS_OF_FAMILY: dict[str, frozenset[str]] = {
    "complaint": frozenset({"case"}),
    "complainant": frozenset({"case"}),
    "dispatch": frozenset({"case"}),
    "handling": frozenset({"case"}),
    "deadline": frozenset({"case", "conference"}),
    "supervision": frozenset({"case"}),
    "penalty": frozenset({"case"}),
    "inspection": frozenset({"case"}),
    "publication": frozenset({"case"}),
    "conference": frozenset({"conference"}),
    "period": frozenset({"period"}),
    "registry": frozenset({"registry"}),
    "audit": frozenset({"audit"}),
    "appeal": frozenset({"case"}),
}


def family(event_type: str) -> str:
    return event_type.split(".", 2)[1]


def payload_model(event_type: str) -> type[Payload] | None:
    return CATALOG.get(event_type)
