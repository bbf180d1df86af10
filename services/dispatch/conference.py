"""The joint conference's decisions (联席会议), pure: ``decide(state, command) -> drafts``.

A dispatch officer of the convening body convenes a conference (its own stream) with member
bodies, the cases concerned, the question, the decision rule and an opinion deadline. Each
member body gives one opinion (agree / object / abstain, with its text) through its own
deployment, or through a shared dispatch the registry lets act for it; an opinion is never
changed, only explained by a note. When the opinion deadline has elapsed (oversight's timer
on the conference stream) or every member has spoken, the convener records the decision: the
absent members deemed to consent (缺席默认), the tally and the outcome under the stated rule —
the rule book checks all three against the stream. Its effect on each case concerned follows
as the case's own event (``dispatch.conference_ruled``, :func:`ruling`), derived from the
decision, so it is written once whoever writes it.

Nothing here reads a clock or a store: the caller hands in the time and what it checked
across streams (the cases exist, the members are bodies of the directory in force).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from shared.events.catalog import CASE_ID_PATTERN, DecisionRule, Opinion, Tally
from shared.events.ids import derived_event_id
from shared.ledger.signer import Draft
from shared.rules.conference import NEW, OPEN, ConferenceState, outcome
from shared.rules.stream import StreamState
from shared.web.command_path import Refusal

CONVENED = "ledger.conference.convened.v1"
OPINION = "ledger.conference.opinion_given.v1"
NOTED = "ledger.conference.opinion_noted.v1"
DECIDED = "ledger.conference.decided.v1"
RULED = "ledger.dispatch.conference_ruled.v1"
RULING_RULE = "dispatch.conference_ruled"

BodyId = Annotated[str, Field(pattern=r"^[a-z0-9._-]{1,80}$", description="a supervisory body")]
CaseRef = Annotated[str, Field(pattern=CASE_ID_PATTERN)]


class ConveneConference(BaseModel):
    """召集联席会议: members, the cases concerned, the question, the rule, the deadline."""

    model_config = ConfigDict(extra="forbid")

    members: Annotated[list[BodyId], Field(min_length=1, max_length=30)] = Field(
        description="the member bodies (ids of the body directory in force), each once",
        json_schema_extra={"uniqueItems": True},
    )
    cases: Annotated[list[CaseRef], Field(min_length=1, max_length=50)] = Field(
        description="the cases concerned, each once",
        json_schema_extra={"uniqueItems": True},
    )
    question: Annotated[str, Field(min_length=1, max_length=500)]
    rule: DecisionRule = DecisionRule.majority
    opinions_due_at: AwareDatetime = Field(description="the opinion deadline (with its offset)")

    @model_validator(mode="after")
    def _each_once(self) -> ConveneConference:
        if len(set(self.members)) != len(self.members):
            raise ValueError("each member is named once")
        if len(set(self.cases)) != len(self.cases):
            raise ValueError("each case is named once")
        return self


class GiveOpinion(BaseModel):
    """发表意见: the member is the operator's own body."""

    model_config = ConfigDict(extra="forbid")

    opinion: Opinion
    text: Annotated[str, Field(max_length=500)] = Field("", description="the opinion's reasons")


class NoteOpinion(BaseModel):
    """补充说明: explains an opinion already given, never changes it."""

    model_config = ConfigDict(extra="forbid")

    note: Annotated[str, Field(min_length=1, max_length=500)]


class RecordDecision(BaseModel):
    """记录决定. The tally and the absent members are the stream's unless the officer states
    what was counted (the page does): a stated count the stream contradicts is refused."""

    model_config = ConfigDict(extra="forbid")

    decision: Annotated[str, Field(min_length=1, max_length=500)]
    tally: Tally | None = None
    absent_deemed_consent: Annotated[list[BodyId], Field(max_length=30)] | None = None


def _conference(state: StreamState) -> ConferenceState:
    s = state.domain
    assert isinstance(s, ConferenceState)
    if s.status == NEW:
        raise Refusal("unknown_conference", "没有这次联席会议")
    return s


def _open(s: ConferenceState) -> None:
    if s.status != OPEN:
        raise Refusal("wrong_state", "联席会议已作出决定，不再接受意见")


def convene(
    state: StreamState, cmd: ConveneConference, actor: str, convener: str, now: datetime
) -> list[Draft]:
    """Open the conference; ``convener`` is the officer's body, ``now`` the caller's clock."""
    if not isinstance(state.domain, ConferenceState) or state.domain.status != NEW:
        raise Refusal("wrong_state", "该联席会议已召集")
    if cmd.opinions_due_at <= now:
        raise Refusal("deadline_passed", "意见期限须晚于召集时间")
    data = {
        "convener": convener,
        "cases": list(cmd.cases),
        "members": list(cmd.members),
        "question": cmd.question,
        "rule": cmd.rule.value,
        "opinions_due_at": cmd.opinions_due_at.isoformat(),
    }
    return [Draft(CONVENED, data, actor)]


def give_opinion(state: StreamState, cmd: GiveOpinion, actor: str, member: str) -> list[Draft]:
    s = _conference(state)
    _open(s)
    if member not in s.members:
        raise Refusal("not_member", "本单位不是该联席会议的成员单位")
    if any(m == member for m, _ in s.opinions):
        raise Refusal("opinion_given", "本单位已发表意见，意见不能更改，只能补充说明")
    data = {"member": member, "opinion": cmd.opinion.value, "note": cmd.text}
    return [Draft(OPINION, data, actor)]


def note_opinion(state: StreamState, cmd: NoteOpinion, actor: str, member: str) -> list[Draft]:
    s = _conference(state)
    if not any(m == member for m, _ in s.opinions):
        raise Refusal("no_opinion", "本单位尚未发表意见，无可补充说明")
    return [Draft(NOTED, {"member": member, "note": cmd.note}, actor)]


def record_decision(state: StreamState, cmd: RecordDecision, actor: str, body: str) -> list[Draft]:
    """The decision with the tally and 缺席默认; the rule book refuses it before signing when
    the deadline has not elapsed with members absent, or the stated count is not the stream's."""
    s = _conference(state)
    _open(s)
    if body != s.convener:
        raise Refusal("not_convener", "只有召集单位可以记录决定")
    tally = cmd.tally.model_dump() if cmd.tally is not None else s.tally()
    absent = (
        sorted(cmd.absent_deemed_consent) if cmd.absent_deemed_consent is not None else s.absent()
    )
    data: dict[str, Any] = {
        "decision": cmd.decision,
        "absent_deemed_consent": absent,
        "tally": tally,
        "outcome": outcome(s.rule, tally, len(s.members)),
    }
    return [Draft(DECIDED, data, actor)]


def ruling_id(decided_id: str, case: str) -> str:
    """The id of the ruling a decision calls for on one case concerned."""
    return derived_event_id(decided_id, f"{RULING_RULE}|{case}")


def ruling(decided: dict[str, Any], conference: str) -> Any:
    """The decision's effect on a case concerned, as a decide on that case's stream: the
    ruling, once (none if written already, or if the case is not the stream's)."""

    def decide(state: StreamState) -> list[Draft]:
        event_id = ruling_id(decided["id"], state.stream)
        if event_id in state.seen_ids:
            return []
        data = {
            "conference": conference,
            "outcome": decided["data"]["outcome"],
            "decision": decided["data"]["decision"],
            "cause": decided["id"],
        }
        return [Draft(RULED, data, decided["actor"], id=event_id)]

    return decide
