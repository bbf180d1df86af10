"""Publication's decisions, pure: ``decide(state, command) -> drafts`` (no I/O, no clock).

A notice is drafted from structured fields only and must say what the log says: the unit and
category the complaint named, the finding the closure recorded. A confidential case is never
published.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from services.publication.notice_text import notice_text, text_sha256
from shared.events.catalog import Finding, OrgId
from shared.ledger.signer import Draft
from shared.rules.case import CLOSED
from shared.rules.stream import StreamState
from shared.web.command_path import Refusal, known_case

DRAFTED = "ledger.publication.drafted.v1"
PUBLISHED = "ledger.publication.published.v1"


class DraftNotice(BaseModel):
    """The notice's fields, as the drafter states them (no free text)."""

    model_config = ConfigDict(extra="forbid")

    unit: OrgId
    category: Annotated[str, Field(min_length=1, max_length=60)]
    finding: Finding


def notice_id(stream: str, n: int) -> str:
    """The case's ``n``-th notice (from 1), numbered from its case id."""
    return "GG" + stream.removeprefix("case-").replace("-", "")[:12].upper() + f"-{n}"


def draft(state: StreamState, cmd: DraftNotice, category: str | None, actor: str) -> list[Draft]:
    """起草: ``category`` is the one the complaint named (from the read model)."""
    case = known_case(state)
    if case.status != CLOSED:
        raise Refusal("not_closed", "该件尚未办结，不能起草公告")
    if case.confidential:
        raise Refusal("confidential", "该件涉密，不予公开")
    if any(s in ("drafted", "published") for _, s in case.notices):
        raise Refusal("already_noticed", "该件已有公告草稿或已公开")
    if cmd.unit != case.unit or cmd.finding != case.finding or cmd.category != category:
        raise Refusal("fields_mismatch", "公告内容须与账本记载的单位、类别和核查结论一致")
    nid = notice_id(state.stream, len(case.notices) + 1)
    text = notice_text(nid, cmd.unit, cmd.category, cmd.finding)
    return [Draft(DRAFTED, {"notice_id": nid, "text_sha256": text_sha256(text)}, actor)]


def publish(state: StreamState, nid: str, sha: str, actor: str) -> list[Draft]:
    """审核发布: the draft's text, unchanged (its hash)."""
    case = known_case(state)
    if case.notice(nid) != "drafted":
        raise Refusal("not_drafted", "没有待审核的这份公告")
    return [Draft(PUBLISHED, {"notice_id": nid, "text_sha256": sha}, actor)]
