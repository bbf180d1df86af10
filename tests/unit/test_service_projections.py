"""The services' own projections, pure: each event's row, what a page needs and nothing more
(no complaint or reply text), and a notice's text shown only when the log's hash pins it."""

from __future__ import annotations

from typing import Any

from services.dispatch.projection import DispatchCases
from services.intake.projection import IntakeComplaints
from services.oversight.projection import OversightCases
from services.publication.commands import notice_id
from services.publication.notice_text import notice_text, text_sha256
from services.publication.projection import Notices
from shared.readside.projection import Accepted, Projection
from shared.store.port import Doc

STREAM = "case-0192f0c4-7a1b-7c2d-8e3f-405162738495"
UNIT = "unit:demo-unit"
RECEIVED = {
    "complaint_no": "TS0192F0C47A1B",
    "channel": "visit",
    "unit": "city-housing-bureau",
    "category": "窗口服务",
    "text": "窗口无人办理。",
    "tracking_code_hash": "c" * 64,
    "complainant": "ab" * 32,
}
CLOSED = {"basis": "complainant_confirmed", "finding": "substantiated", "confidential": False}


def event(n: int, kind: str, data: dict[str, Any], actor: str = "efficiency-office/S1") -> Accepted:
    return Accepted(STREAM, 0, n, 1_000 * n, f"id-{n}", f"ledger.{kind}.v1", actor, "/x", data, {})


def fold(p: Projection, *events: Accepted) -> Doc:
    doc: Doc | None = None
    for e in events:
        for w in p.apply(doc, e):
            assert w.id == STREAM and w.coll == p.stream_collection
            doc = dict(w.doc)
    assert doc is not None
    return doc


def test_intake_keeps_the_code_hash_and_pseudonym_never_the_text() -> None:
    doc = fold(
        IntakeComplaints(),
        event(1, "complaint.received", RECEIVED),
        event(2, "complaint.screened", {"outcome": "new", "method": "manual"}),
        event(3, "complainant.confirmed", {"complaint_no": "TS0192F0C47A1B"}),
    )
    assert doc["tracking_code_hash"] == "c" * 64 and doc["complainant"] == "ab" * 32
    assert doc["screened"] and doc["screening_method"] == "manual" and doc["answer"] == "confirmed"
    assert "窗口无人办理。" not in str(doc)


def test_a_family_a_service_does_not_show_writes_nothing() -> None:
    assert IntakeComplaints().apply(None, event(1, "handling.replied", {"unit": UNIT})) == []
    assert DispatchCases().apply(None, event(1, "publication.drafted", {})) == []


def test_dispatch_records_screening_and_the_assignment() -> None:
    doc = fold(
        DispatchCases(),
        event(1, "complaint.received", RECEIVED),
        event(2, "complaint.screened", {"outcome": "new", "method": "manual"}),
        event(
            3,
            "dispatch.assigned",
            {"lead_unit": UNIT, "due_at": "x", "calendar_version": "cal-1", "urgency": "high"},
            "efficiency-office/D1",
        ),
    )
    assert doc["screened"] and doc["screened_at"] == 2_000
    assert doc["urgency"] == "high" and doc["calendar_version"] == "cal-1"
    assert doc["assigned_by"] == "efficiency-office/D1"
    assert doc["dues"] == [
        {"unit": UNIT, "due_at": "x", "provisional": False, "calendar_version": "cal-1"}
    ]
    assert not doc["provisional"] and doc["counted_from"] is None  # recorded before it was


def test_dispatch_keeps_each_units_due_and_a_confirmation_moves_only_that_one() -> None:
    co = "unit:co"
    assigned = {
        "lead_unit": UNIT,
        "due_at": "a",
        "provisional": True,
        "co_units": [{"unit": co, "due_at": "a", "provisional": True}],
        "calendar_version": "cal-1",
        "urgency": "normal",
        "routing_version": "3",
        "time_limits_version": "2",
        "proposed": {"entry": "R0005"},
        "handle_within": {"amount": 7, "unit": "working_days"},
        "counted_from": "t0",
        "override_reason": "理由",
    }
    confirmed = {
        "unit": co,
        "previous_due_at": "a",
        "due_at": "b",
        "provisional": False,
        "calendar_version": "cal-2",
    }
    doc = fold(
        DispatchCases(),
        event(1, "complaint.received", RECEIVED),
        event(2, "dispatch.assigned", assigned, "efficiency-office/D1"),
    )
    assert doc["provisional"] and [u["unit"] for u in doc["dues"]] == [UNIT, co]
    assert (doc["routing_version"], doc["time_limits_version"], doc["route_entry"]) == (
        "3",
        "2",
        "R0005",
    )
    assert doc["counted_from"] == "t0" and doc["override_reason"] == "理由"
    doc = fold(
        DispatchCases(),
        event(1, "complaint.received", RECEIVED),
        event(2, "dispatch.assigned", assigned, "efficiency-office/D1"),
        event(3, "dispatch.due_confirmed", confirmed, "efficiency-office/D1"),
    )
    assert doc["dues"][0] == {
        "unit": UNIT,
        "due_at": "a",
        "provisional": True,
        "calendar_version": "cal-1",
    }
    assert doc["dues"][1] == {
        "unit": co,
        "due_at": "b",
        "provisional": False,
        "calendar_version": "cal-2",
    }
    assert doc["provisional"]  # the lead's is still provisional


def test_oversight_counts_signatures_once_and_replies_and_the_closure() -> None:
    doc = fold(
        OversightCases(),
        event(1, "complaint.received", RECEIVED),
        event(2, "handling.acknowledged", {"unit": UNIT}),
        event(3, "handling.acknowledged", {"unit": UNIT}),
        event(4, "handling.replied", {"unit": UNIT, "text": "已整改。"}),
        event(
            5, "handling.resolution_claimed", {"unit": UNIT, "summary": "好", "answer_due_at": "t"}
        ),
        event(6, "handling.closed", CLOSED),
    )
    assert doc["acknowledged"] == [UNIT] and doc["replies"] == 1
    assert doc["answer_due_at"] == "t" and doc["finding"] == "substantiated"
    assert "已整改。" not in str(doc)


def notice_events(finding: str = "substantiated", sha: str | None = None) -> list[Accepted]:
    nid = notice_id(STREAM, 1)
    text = notice_text(nid, RECEIVED["unit"], RECEIVED["category"], finding)
    return [
        event(1, "complaint.received", RECEIVED),
        event(2, "handling.closed", {**CLOSED, "finding": finding}),
        event(
            3, "publication.drafted", {"notice_id": nid, "text_sha256": sha or text_sha256(text)}
        ),
    ]


def test_a_notice_moves_from_to_draft_to_published_with_its_text() -> None:
    p = Notices()
    closed = fold(p, *notice_events()[:2])
    assert closed["stage"] == "to_draft"
    drafted = fold(p, *notice_events())
    assert drafted["stage"] == "drafted" and "群众反映的问题属实" in drafted["text"]
    nid = notice_id(STREAM, 1)
    published = fold(
        p,
        *notice_events(),
        event(
            4, "publication.published", {"notice_id": nid, "text_sha256": drafted["text_sha256"]}
        ),
    )
    assert published["stage"] == "published" and published["published_at"] == 4_000


def test_a_notice_whose_hash_does_not_match_its_facts_shows_no_text() -> None:
    doc = fold(Notices(), *notice_events(sha="0" * 64))
    assert doc["stage"] == "drafted" and doc["text"] is None


def test_a_confidential_closure_is_never_to_be_drafted() -> None:
    doc = fold(
        Notices(),
        event(1, "complaint.received", RECEIVED),
        event(2, "handling.closed", {**CLOSED, "confidential": True}),
    )
    assert doc["stage"] == "confidential"


def test_a_reopen_withdraws_a_pending_draft() -> None:
    doc = fold(
        Notices(),
        *notice_events(),
        event(4, "handling.reopened", {"reason": "投诉人不认可", "units": []}),
    )
    assert doc["stage"] is None and doc["finding"] is None
