"""The minutes record (pure fold of a conference's events), its readable text, and the
conference read model's member documents; the dispatch decisions' refusals."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.dispatch import conference as decisions
from services.dispatch import minutes
from services.dispatch.conference_projection import (
    CONFERENCE_MEMBERS,
    CONFERENCES,
    DEEMED,
    GIVEN,
    PENDING,
    ConferenceMinutes,
)
from shared.readside.projection import Accepted
from shared.rules import conference as rules
from shared.rules.stream import StreamState
from shared.web.command_path import Refusal
from tests.samples import DUE, SAMPLES

CONF = "conf-00000000-0000-4000-8000-0000000000cc"
AT = 1_780_000_000_000_000  # a log time, µs
OFFICER = "efficiency-office/D001"
EVENTS: list[tuple[str, dict[str, Any], str, int]] = [
    ("ledger.conference.convened.v1", SAMPLES["ledger.conference.convened.v1"], OFFICER, AT),
    (
        "ledger.conference.opinion_given.v1",
        {"member": "efficiency-office", "opinion": "consent", "note": "同意并联办理"},
        "efficiency-office/M001",
        AT + 1,
    ),
    (
        "ledger.conference.opinion_noted.v1",
        {"member": "efficiency-office", "note": "以区级先行核实为前提"},
        "efficiency-office/M001",
        AT + 2,
    ),
    ("ledger.deadline.elapsed.v1", {"deadline": "opinions", "due_at": DUE}, "x/timer", AT + 3),
    ("ledger.conference.decided.v1", SAMPLES["ledger.conference.decided.v1"], OFFICER, AT + 4),
]
NAMES = {"efficiency-office": "市效能办", "petitions-office": "信访部门"}


def test_the_minutes_record_names_opinions_notes_the_decision_and_the_absent() -> None:
    r = minutes.fold(CONF, EVENTS)
    assert r["status"] == "decided" and r["pending"] == []
    assert r["opinions"][0]["text"] == "同意并联办理"
    assert r["opinions"][0]["notes"][0]["note"] == "以区级先行核实为前提"
    assert r["opinions_elapsed_at"] == AT + 3
    assert r["decision"]["absent_deemed_consent"] == ["petitions-office"]
    text = "\n".join(minutes.minutes_text(r, NAMES))
    for line in (
        "议题：是否并联办理",
        "市效能办（efficiency-office）：同意",
        "意见说明：同意并联办理",
        "补充说明",
        "决定（",
        "表决结果：同意 1，反对 0，弃权 0，缺席视为同意 1；按“过半数同意（缺席视为同意）”，通过",
        "缺席默认（视为同意）：信访部门（petitions-office）",
    ):
        assert line in text, line
    midway = minutes.fold(CONF, EVENTS[:2])
    assert "尚未发表意见：petitions-office" in "\n".join(minutes.minutes_text(midway))
    assert minutes.minutes_text(minutes.fresh(CONF)) == [f"联席会议纪要 {CONF}：尚未召集"]
    with pytest.raises(ValueError):
        minutes.advance(None, CONF, "ledger.dispatch.assigned.v1", {}, OFFICER, AT)
    assert minutes.cn_log_time(AT) == "2026年5月29日 04:26"


def _accepted(i: int, event_type: str, data: dict[str, Any], actor: str, at: int) -> Accepted:
    return Accepted(CONF, 0, i, at, f"id-{i}", event_type, actor, "/x", data, {})


def test_the_read_model_keeps_each_members_standing() -> None:
    p = ConferenceMinutes()
    doc: dict[str, Any] | None = None
    members: dict[str, dict[str, Any]] = {}
    for i, (t, d, actor, at) in enumerate(EVENTS):
        for w in p.apply(doc, _accepted(i, t, d, actor, at)):
            if w.coll == CONFERENCE_MEMBERS:
                members[w.id] = dict(w.doc)
            else:
                assert w.coll == CONFERENCES and w.id == CONF
                doc = dict(w.doc)
        if i == 0:
            assert {m["status"] for m in members.values()} == {PENDING}
    assert doc is not None and doc["decided_at"] == AT + 4 and doc["pending_count"] == 0
    assert members[f"{CONF}|efficiency-office"]["status"] == GIVEN
    assert members[f"{CONF}|petitions-office"]["status"] == DEEMED
    assert p.apply(doc, _accepted(9, "ledger.dispatch.assigned.v1", {}, OFFICER, AT)) == []


def _state(events: int) -> StreamState:
    s = StreamState.empty(CONF)
    for t, d, _, _ in EVENTS[:events]:
        if t != "ledger.conference.opinion_noted.v1":
            s.domain = rules.evolve(s.domain, t, d)
    return s


def test_the_decisions_refuse_what_the_conference_cannot_take() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    sample = {k: v for k, v in SAMPLES["ledger.conference.convened.v1"].items() if k != "convener"}
    convene = decisions.ConveneConference.model_validate(sample)
    [d] = decisions.convene(_state(0), convene, OFFICER, "efficiency-office", now)
    assert d.data["convener"] == "efficiency-office" and d.data["rule"] == "majority"
    late = datetime(2027, 1, 1, tzinfo=UTC)
    for state, why in ((_state(1), "wrong_state"), (_state(0), "deadline_passed")):
        with pytest.raises(Refusal) as e:
            decisions.convene(
                state, convene, OFFICER, "efficiency-office", late if why != "wrong_state" else now
            )
        assert e.value.reason == why
    opinion = decisions.GiveOpinion(opinion="consent")
    for state, member, why in (
        (_state(0), "efficiency-office", "unknown_conference"),
        (_state(2), "efficiency-office", "opinion_given"),
        (_state(1), "audit-office", "not_member"),
        (_state(5), "petitions-office", "wrong_state"),
    ):
        with pytest.raises(Refusal) as e:
            decisions.give_opinion(state, opinion, "x/y", member)
        assert e.value.reason == why
    with pytest.raises(Refusal) as e:
        decisions.note_opinion(
            _state(1), decisions.NoteOpinion(note="说明"), "x/y", "petitions-office"
        )
    assert e.value.reason == "no_opinion"
    decide = decisions.RecordDecision(decision="并联办理")
    with pytest.raises(Refusal) as e:
        decisions.record_decision(_state(4), decide, "petitions-office/D1", "petitions-office")
    assert e.value.reason == "not_convener"
    [d] = decisions.record_decision(_state(4), decide, OFFICER, "efficiency-office")
    assert d.data == {**SAMPLES["ledger.conference.decided.v1"], "decision": "并联办理"}
    with pytest.raises(ValueError):
        decisions.ConveneConference.model_validate(
            {
                **SAMPLES["ledger.conference.convened.v1"],
                "members": ["a", "a"],
                "opinions_due_at": DUE,
            }
        )


def test_the_ruling_on_a_case_is_derived_once_from_the_decision() -> None:
    decided = {
        "id": "0190a0b0-0000-7000-8000-00000000000d",
        "actor": OFFICER,
        "data": SAMPLES["ledger.conference.decided.v1"],
    }
    case = StreamState.empty("case-00000000-0000-4000-8000-000000000001")
    [d] = decisions.ruling(decided, CONF)(case)
    assert d.id == decisions.ruling_id(decided["id"], case.stream) and d.actor == OFFICER
    assert d.data["conference"] == CONF and d.data["outcome"] == "adopted"
    other = StreamState.empty("case-00000000-0000-4000-8000-000000000002")
    assert decisions.ruling_id(decided["id"], other.stream) != d.id
    case.seen_ids.add(d.id)
    assert decisions.ruling(decided, CONF)(case) == []
