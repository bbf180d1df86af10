"""The complainant's status page by tracking code (查询结果): only what is safe to show.

Status in words, the dates (received, due, closed), the units' replies redacted by the shared
detectors as they are shown (a reply may name the unit's staff or other people: they become
placeholders), extension rulings and reopenings, the closing finding with how to contest it,
and the satisfaction form once the case has its outcome. Never who wrote a reply, never a
staff id, never the complainant's own contact (this page is reached by number and code only).

A complaint gathered into another case as a duplicate is followed there: its status, replies
and finding are that case's, and its confirmation, dispute and score are recorded there.
"""

from __future__ import annotations

from typing import Any

import anyio

from services.intake.delivery import CONTEST
from services.intake.satisfaction import RATING_WORDS
from services.intake.status_projection import CASE_STATUS
from shared.readside.projections.case_summary import CASES
from shared.redaction import redact
from shared.rules.case.state import MERGED, OUTCOME
from shared.store.port import Doc, DocumentStore


async def holding_case(store: DocumentStore, doc: Doc) -> str:
    """The case a complaint counts on: its own, or the one it was gathered into."""
    own = str(doc["_id"])
    case = await store.get(CASES, own) or {}
    if case.get("status") == MERGED and case.get("merged_into"):
        return str(case["merged_into"])
    return own


def _redacted(texts: list[str]) -> list[str]:
    return [redact(t).text for t in texts]


async def status_context(store: DocumentStore, doc: Doc, case_id: str) -> dict[str, Any]:
    """What the result page shows of the complaint ``doc`` counted on ``case_id``."""
    case = await store.get(CASES, case_id) or {}
    shown = await store.get(CASE_STATUS, case_id) or {}
    replies = list(shown.get("replies") or [])
    texts = await anyio.to_thread.run_sync(_redacted, [str(r["text"]) for r in replies])
    number = str(doc["complaint_no"])
    status = case.get("status")
    ratings: dict[str, int] = shown.get("ratings") or {}
    return {
        "complaint_no": number,
        "status": status,
        "received_at": doc.get("received_at"),
        "due_at": case.get("due_at"),
        "answer": doc.get("answer"),
        "replies": [{"at": r["at"], "text": t} for r, t in zip(replies, texts, strict=True)],
        "extensions": shown.get("extensions") or [],
        "reopened": shown.get("reopened") or [],
        "finding": shown.get("finding"),
        "closed_at": shown.get("closed_at"),
        "contest": CONTEST,
        "rating": ratings.get(number),
        "may_rate": status in OUTCOME and number not in ratings and bool(doc.get("complainant")),
        "rating_words": RATING_WORDS,
    }
