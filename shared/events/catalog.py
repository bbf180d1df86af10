"""Every event type of the ledger, one pydantic model per (type, version).

v1 ships for every family now. Later work adds types or new versions (with an upcaster in
``upcast.py``) and never edits a shipped version: a shipped model is part of the signed record.
Payloads carry no float (see ``codec``) and no personal data: complainants appear by a keyed
pseudonym, officials by staff id, complaint text with personal data replaced by placeholders.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

# ---- field types -----------------------------------------------------------------------------

_TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")


def _timestamp(v: str) -> str:
    if not _TS_RE.match(v):
        raise ValueError("not an RFC 3339 timestamp with offset")
    datetime.fromisoformat(v.replace("Z", "+00:00"))
    return v


Timestamp = Annotated[str, AfterValidator(_timestamp)]
CaseId = Annotated[str, Field(pattern=r"^case-[0-9a-f-]{36}$")]
ConferenceId = Annotated[str, Field(pattern=r"^conf-[0-9a-f-]{36}$")]
OrgId = Annotated[str, Field(pattern=r"^[a-z0-9:._-]{1,80}$")]
StaffId = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,40}$")]
Pseudonym = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
ShortText = Annotated[str, Field(max_length=500)]
LongText = Annotated[str, Field(max_length=20_000)]


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Channel(StrEnum):
    web = "web"
    hotline = "hotline"
    letter = "letter"
    visit = "visit"
    email = "email"
    forum = "forum"
    referral = "referral"


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
    complainant: Pseudonym | None = Field(None, description="keyed pseudonym; None = anonymous")
    unit: OrgId = Field(description="the unit complained about")
    category: Annotated[str, Field(max_length=60)]
    text: LongText = Field(description="complaint text, personal data replaced by placeholders")
    attachments: list[Attachment] = []
    tracking_code_hash: Sha256


class ComplaintLinkedAsDuplicate(Payload):
    target: CaseId
    complaint_no: Annotated[str, Field(max_length=40)]
    basis: ShortText


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
    basis: ShortText


class ComplaintWithdrawn(Payload):
    reason: ShortText


class ComplaintDeclined(Payload):
    reason_code: Annotated[str, Field(max_length=40)]
    reason: ShortText


class ComplainantConfirmed(Payload):
    complaint_no: Annotated[str, Field(max_length=40)]


class ComplainantDisputed(Payload):
    complaint_no: Annotated[str, Field(max_length=40)]
    reason: ShortText


class ComplainantSatisfaction(Payload):
    complaint_no: Annotated[str, Field(max_length=40)]
    rating: Annotated[int, Field(ge=1, le=5)]


# ---- dispatch.* (dispatch, case stream) -----------------------------------------------------


class DispatchAssigned(Payload):
    lead_unit: OrgId
    co_units: list[OrgId] = []
    due_at: Timestamp = Field(description="absolute due time")
    calendar_version: Annotated[str, Field(max_length=40)]
    urgency: Urgency
    direct: bool = Field(description="直接交办: assigned without intermediate transfer")
    instructions: ShortText = ""


class DispatchReturnRequested(Payload):
    unit: OrgId
    reason: ShortText


class DispatchReturnRuled(Payload):
    unit: OrgId
    granted: bool
    ruling: ShortText


class DispatchDeemedDone(Payload):
    unit: OrgId
    due_at: Timestamp
    cause: str = Field(description="id of the deadline.elapsed event this follows from")


# ---- conference.* (dispatch, conference stream) ---------------------------------------------


class Opinion(StrEnum):
    consent = "consent"
    object = "object"
    abstain = "abstain"


class ConferenceConvened(Payload):
    cases: Annotated[list[CaseId], Field(min_length=1)]
    members: Annotated[list[OrgId], Field(min_length=1)]
    question: ShortText
    opinions_due_at: Timestamp


class ConferenceOpinionGiven(Payload):
    member: OrgId
    opinion: Opinion
    note: ShortText = ""


class ConferenceDecided(Payload):
    decision: ShortText
    absent_deemed_consent: list[OrgId] = Field(description="缺席默认: members who gave no opinion")


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
    unit: OrgId
    summary: LongText


class HandlingExtensionRequested(Payload):
    unit: OrgId
    until: Timestamp
    reason: ShortText


class HandlingExtensionRuled(Payload):
    unit: OrgId
    granted: bool
    due_at: Timestamp | None = None
    ruling: ShortText


class ClosureBasis(StrEnum):
    complainant_confirmed = "complainant_confirmed"
    supervisor_decided = "supervisor_decided"


class HandlingReopened(Payload):
    reason: ShortText


class HandlingClosed(Payload):
    basis: ClosureBasis
    note: ShortText = ""


class DeadlineElapsed(Payload):
    deadline: Annotated[str, Field(max_length=40)] = Field(description="which limit, e.g. handling")
    unit: OrgId | None = None
    due_at: Timestamp


class SupervisionEscalated(Payload):
    level: Annotated[int, Field(ge=1, le=9)]
    reason: ShortText
    cause: str | None = None


class PenaltyImposed(Payload):
    penalty_id: Annotated[str, Field(max_length=40)]
    post: Annotated[str, Field(max_length=80)]
    staff_id: StaffId
    offence: Annotated[str, Field(max_length=80)]
    schedule_minimum: Annotated[str, Field(max_length=80)]
    measure: Annotated[str, Field(max_length=80)]
    departure_reason: ShortText = ""
    leadership: bool = False
    repeat_count: Annotated[int, Field(ge=1)]


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


class FiguresPublished(Payload):
    period: Annotated[str, Field(pattern=r"^\d{4}-\d{2}$")]
    figures_sha256: Sha256
    units: Annotated[int, Field(ge=0)]


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
        list[Annotated[str, Field(pattern=r"^ledger\.[a-z_.*]+$")]], Field(min_length=1)
    ]


class RightsRevoked(Payload):
    deployment: Deployment
    types: Annotated[
        list[Annotated[str, Field(pattern=r"^ledger\.[a-z_.*]+$")]], Field(min_length=1)
    ]


class ConfigPublished(Payload):
    kind: Annotated[str, Field(pattern=r"^(routing|limits|penalty|calendar)$")]
    version: Annotated[str, Field(max_length=40)]
    content: dict[str, Any]


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


# ---- the catalog ----------------------------------------------------------------------------

CATALOG: dict[str, type[Payload]] = {
    "ledger.complaint.received.v1": ComplaintReceived,
    "ledger.complaint.linked_as_duplicate.v1": ComplaintLinkedAsDuplicate,
    "ledger.complaint.gathered.v1": ComplaintGathered,
    "ledger.complaint.link_split.v1": ComplaintLinkSplit,
    "ledger.complaint.flagged_cross_level.v1": ComplaintFlaggedCrossLevel,
    "ledger.complaint.withdrawn.v1": ComplaintWithdrawn,
    "ledger.complaint.declined.v1": ComplaintDeclined,
    "ledger.complainant.confirmed.v1": ComplainantConfirmed,
    "ledger.complainant.disputed.v1": ComplainantDisputed,
    "ledger.complainant.satisfaction_rated.v1": ComplainantSatisfaction,
    "ledger.dispatch.assigned.v1": DispatchAssigned,
    "ledger.dispatch.return_requested.v1": DispatchReturnRequested,
    "ledger.dispatch.return_ruled.v1": DispatchReturnRuled,
    "ledger.dispatch.deemed_done.v1": DispatchDeemedDone,
    "ledger.conference.convened.v1": ConferenceConvened,
    "ledger.conference.opinion_given.v1": ConferenceOpinionGiven,
    "ledger.conference.decided.v1": ConferenceDecided,
    "ledger.handling.acknowledged.v1": HandlingAcknowledged,
    "ledger.handling.replied.v1": HandlingReplied,
    "ledger.handling.progress.v1": HandlingProgress,
    "ledger.handling.resolution_claimed.v1": HandlingResolutionClaimed,
    "ledger.handling.extension_requested.v1": HandlingExtensionRequested,
    "ledger.handling.extension_ruled.v1": HandlingExtensionRuled,
    "ledger.handling.reopened.v1": HandlingReopened,
    "ledger.handling.closed.v1": HandlingClosed,
    "ledger.deadline.elapsed.v1": DeadlineElapsed,
    "ledger.supervision.escalated.v1": SupervisionEscalated,
    "ledger.penalty.imposed.v1": PenaltyImposed,
    "ledger.penalty.revoked.v1": PenaltyRevoked,
    "ledger.inspection.finding_recorded.v1": InspectionFindingRecorded,
    "ledger.figures.published.v1": FiguresPublished,
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
    "ledger.registry.config_published.v1": ConfigPublished,
    "ledger.audit.digest_recorded.v1": DigestRecorded,
    "ledger.audit.seal_recorded.v1": SealRecorded,
    "ledger.audit.acknowledged.v1": BadEventsAcknowledged,
}

# Which stream kind each family lives in (DESIGN: "Streams, actors and who writes what").
STREAM_KIND_OF_FAMILY: dict[str, str] = {
    "complaint": "case",
    "complainant": "case",
    "dispatch": "case",
    "handling": "case",
    "deadline": "case",
    "supervision": "case",
    "penalty": "case",
    "inspection": "case",
    "publication": "case",
    "conference": "conference",
    "figures": "period",
    "registry": "registry",
    "audit": "audit",
}


def family(event_type: str) -> str:
    return event_type.split(".", 2)[1]


def payload_model(event_type: str) -> type[Payload] | None:
    return CATALOG.get(event_type)
