"""The case-summary projection is pure; dead letters carry no payload values; crash points parse."""

from __future__ import annotations

import copy

import pytest

from shared.crash_points import plan as _crash_plan
from shared.log.port import StoredRecord
from shared.readside.dead_letters import scrubbed_message
from shared.readside.projection import Accepted, UnknownEvent
from shared.readside.projections.case_summary import CASES, TIMELINE, CaseSummary
from tests.samples import CASE, SAMPLES, UNIT


def event(event_type: str, offset: int, **data: object) -> Accepted:
    env = {
        "id": f"e{offset}",
        "type": event_type,
        "actor": "efficiency-office/S001",
        "source": "/bodies/efficiency-office/intake",
        "data": {**SAMPLES[event_type], **data},
    }
    rec = StoredRecord(1, offset, CASE, 1_790_000_000_000_000 + offset, b"")
    return Accepted.of(rec, env)


def test_apply_is_pure_and_keeps_no_payload_text() -> None:
    p = CaseSummary()
    received = event("ledger.complaint.received.v1", 3)
    writes = p.apply(None, received)
    assert [(w.coll, w.id) for w in writes] == [(TIMELINE, "e3"), (CASES, CASE)]
    doc = dict(writes[1].doc)
    assert doc["status"] == "received" and doc["complaints"] == 1 and doc["events"] == 1
    text = SAMPLES["ledger.complaint.received.v1"]["text"]
    assert all(text not in str(w.doc) for w in writes)
    assert "complainant" not in str(writes[0].doc) and "complainant" not in doc

    current = {"_id": CASE, "_pos": 3, **doc}
    frozen = copy.deepcopy(current)
    assigned = event("ledger.dispatch.assigned.v1", 9)
    first = p.apply(current, assigned)
    assert current == frozen  # the stored document is never changed in place
    assert p.apply(current, assigned) == first  # same input, same writes
    after = dict(first[1].doc)
    assert (after["status"], after["lead_unit"], after["events"]) == ("assigned", UNIT, 2)
    assert first[0].doc["n"] == 2 and "_pos" not in after


def test_gathered_complaints_are_counted_from_the_document() -> None:
    p = CaseSummary()
    doc = dict(p.apply(None, event("ledger.complaint.received.v1", 1))[1].doc)
    doc = dict(p.apply(doc, event("ledger.complaint.gathered.v1", 2, source="case-b"))[1].doc)
    doc = dict(p.apply(doc, event("ledger.complaint.gathered.v1", 3, source="case-c"))[1].doc)
    assert doc["complaints"] == 3
    doc = dict(p.apply(doc, event("ledger.complaint.link_split.v1", 4, other="case-b"))[1].doc)
    assert doc["complaints"] == 2 and doc["gathered"] == ["case-c"]


def test_an_unknown_type_is_a_poison_event() -> None:
    p = CaseSummary({})
    with pytest.raises(UnknownEvent):
        p.apply(None, event("ledger.complaint.received.v1", 1))


def test_dead_letter_messages_blank_payload_values() -> None:
    data = {"unit": "unit:health-bureau", "text": "张三在窗口玩手机", "n": 12345}
    exc = ValueError("bad unit unit:health-bureau near 张三在窗口玩手机 (12345)")
    message = scrubbed_message(exc, data)
    assert "health" not in message and "张三" not in message and "12345" not in message
    assert message.count("<value>") == 3


def test_crash_points_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEDGER_CRASH_AT", raising=False)
    assert _crash_plan() is None
    monkeypatch.setenv("LEDGER_CRASH_AT", "mid_batch:7")
    assert _crash_plan() == ("mid_batch", 7)
    monkeypatch.setenv("LEDGER_CRASH_AT", "somewhere:1")
    with pytest.raises(ValueError):
        _crash_plan()
