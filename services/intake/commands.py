"""Intake's decisions, pure: ``decide(state, command) -> drafts`` (no I/O, no clock)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from shared.events.catalog import Channel, OrgId
from shared.ledger.signer import Draft
from shared.rules.stream import StreamState
from shared.web.command_path import Refusal

RECEIVED = "ledger.complaint.received.v1"


class ReceiveComplaint(BaseModel):
    """A complaint as the intake clerk records it (text already free of personal data)."""

    model_config = ConfigDict(extra="forbid")

    channel: Channel
    unit: OrgId = Field(description="The unit complained about")
    category: Annotated[str, Field(min_length=1, max_length=60)]
    text: Annotated[str, Field(min_length=1, max_length=20_000)]


def complaint_no(stream: str) -> str:
    """The complaint's number, from its case id (so a retry numbers it the same)."""
    return "TS" + stream.removeprefix("case-").replace("-", "")[:12].upper()


def receive(
    state: StreamState, cmd: ReceiveComplaint, actor: str, tracking_code_hash: str
) -> list[Draft]:
    """Open the case with the complaint (受理)."""
    if state.accepted:
        raise Refusal("already_received", "该件已受理，不能重复受理")
    data = {
        "complaint_no": complaint_no(state.stream),
        "channel": cmd.channel,
        "unit": cmd.unit,
        "category": cmd.category,
        "text": cmd.text,
        "tracking_code_hash": tracking_code_hash,
    }
    return [Draft(RECEIVED, data, actor)]
