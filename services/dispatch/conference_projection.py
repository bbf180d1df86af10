"""The conference read model: one ``conferences`` document per conference — its minutes
(``minutes.py``'s record) with the fields its lists sort and filter on — and one
``conference_members`` document per (conference, member): whether that member has spoken, for
a member body's list of pending opinions. Pure, like every projection."""

from __future__ import annotations

from typing import Any

from services.dispatch import minutes
from shared.readside.projection import Accepted, Write
from shared.rules.act import micros
from shared.store.port import Doc, DocumentStore

CONFERENCES = "conferences"
CONFERENCE_MEMBERS = "conference_members"

PENDING = "pending"  # 待发表意见
GIVEN = "given"  # 已发表意见
DEEMED = "deemed_consent"  # 缺席视为同意


def member_doc_id(conference: str, member: str) -> str:
    return f"{conference}|{member}"


class ConferenceMinutes:
    """The Projection for ``conferences`` and ``conference_members`` (see the module docstring)."""

    name = "conference_minutes"
    stream_kinds = frozenset({"conference"})
    stream_collection = CONFERENCES
    collections = (CONFERENCES, CONFERENCE_MEMBERS)

    async def setup(self, store: DocumentStore) -> None:
        await store.ensure_index(CONFERENCES, ["status", "due"])
        await store.ensure_index(CONFERENCES, ["status", "decided_at"])
        await store.ensure_index(CONFERENCE_MEMBERS, ["member", "status", "due"])

    def apply(self, current: Doc | None, event: Accepted) -> list[Write]:
        if event.type not in minutes.TYPES:
            return []
        record = minutes.advance(
            current, event.stream, event.type, event.data, event.actor, event.log_time
        )
        decision = record["decision"]
        record.update(
            due=micros(record["opinions_due_at"]) if record["opinions_due_at"] else 0,
            decided_at=decision["at"] if decision else 0,
            pending_count=len(record["pending"]),
        )
        writes = [*self._member_writes(record, event), Write(CONFERENCES, event.stream, record)]
        return writes

    def _member_writes(self, record: dict[str, Any], event: Accepted) -> list[Write]:
        def doc(member: str, status: str, opinion: str | None) -> Write:
            return Write(
                CONFERENCE_MEMBERS,
                member_doc_id(event.stream, member),
                {
                    "conference": event.stream,
                    "member": member,
                    "status": status,
                    "opinion": opinion,
                    "question": record["question"],
                    "convener": record["convener"],
                    "due": record["due"],
                    "opinions_due_at": record["opinions_due_at"],
                },
            )

        if event.type == minutes.CONVENED:
            return [doc(m, PENDING, None) for m in record["members"]]
        if event.type == minutes.OPINION:
            return [doc(event.data["member"], GIVEN, event.data["opinion"])]
        if event.type == minutes.DECIDED:
            return [doc(m, DEEMED, None) for m in event.data["absent_deemed_consent"]]
        return []
