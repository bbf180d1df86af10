"""The supervision dashboard's read model, pure: every unit's clock (deemed done counts as
overdue, an extension moves only its unit, a reopening gives fresh dues), the tab each case is
in (its key ordered by due time), and the timeline in words without the complainant."""

from __future__ import annotations

from typing import Any

from services.oversight.dashboard import DashboardFilters, timeline_view
from services.oversight.dashboard_projection import (
    DASHBOARD,
    STEPS,
    TABS,
    DashboardCases,
    due_key,
    tab_key,
    time_bound,
)
from services.oversight.timeline_words import WORDS, facts_of, in_words
from shared.readside.projection import Accepted
from shared.readside.projections.case_summary import RULES as SUMMARY_RULES
from shared.rules.act import micros
from shared.store.port import Doc

STREAM = "case-0192f0c4-7a1b-7c2d-8e3f-405162738495"
A, B, C = "unit:demo-unit", "unit:housing-bureau", "unit:civil-affairs"
DUE = "2026-12-15T00:00:00+08:00"
LATER = "2026-12-22T00:00:00+08:00"
PSEUDONYM = "p-3f9a0c1e7b2d4a6f"
RECEIVED = {
    "complaint_no": "TS1",
    "unit": "demo-unit",
    "category": "窗口服务",
    "text": "窗口人员玩手机，张三 13800000000",
    "complainant": PSEUDONYM,
}
HOUR = 3_600_000_000


def event(n: int, kind: str, data: dict[str, Any], actor: str = "x/y") -> Accepted:
    return Accepted(STREAM, 0, n, n * HOUR, f"id-{n}", f"ledger.{kind}.v1", actor, "/x", data, {})


Events = tuple[str, dict[str, Any]] | tuple[str, dict[str, Any], str]


def projected(*events: Events) -> tuple[Doc, list[Doc]]:
    """The case's document and its steps (the case's document written last)."""
    p, doc, steps = DashboardCases(), None, []
    for n, ev in enumerate(events, start=1):
        step, case = p.apply(doc, event(n, *ev))
        assert (step.coll, step.id, case.coll, case.id) == (STEPS, f"id-{n}", DASHBOARD, STREAM)
        steps.append(dict(step.doc))
        doc = dict(case.doc)
    assert doc is not None
    return doc, steps


def applied(*events: Events) -> Doc:
    return projected(*events)[0]


ASSIGNED = (
    "dispatch.assigned",
    {
        "lead_unit": A,
        "due_at": DUE,
        "co_units": [{"unit": C, "due_at": DUE}],
        "urgency": "normal",
        "calendar_version": "v",
    },
)


def test_each_units_clock_deemed_done_counts_as_overdue_never_as_done() -> None:
    doc = applied(
        ("complaint.received", RECEIVED),
        ASSIGNED,
        ("deadline.elapsed", {"deadline": "handling", "unit": C, "due_at": DUE}),
        ("dispatch.deemed_done", {"unit": C, "due_at": DUE, "cause": "id-3"}),
        ("handling.resolution_claimed", {"unit": A, "summary": "已整改", "answer_due_at": LATER}),
    )
    lead, co = doc["clocks"]
    assert (lead["unit"], lead["lead"], lead["completed"], lead["overdue"]) == (
        A,
        True,
        True,
        False,
    )
    assert (co["unit"], co["deemed_done"], co["overdue"], co["completed"]) == (C, True, True, False)
    assert doc["status"] == "claimed" and doc["late"] is True
    assert doc["answer_due_at"] == LATER and doc["has_complainant"] is True
    key = due_key(micros(DUE), STREAM)
    assert {t: doc[tab_key(t)] for t in TABS} == {
        "overdue": key,  # a co-unit deemed done: the case is overdue
        "due_soon": None,
        "escalated": None,
        "claimed": key,
        "disputed": None,
        "resolved": None,
    }
    assert timeline_view(doc, [])["clocks"][1]["state"] == "超时默认（计为超时）"


def test_an_extension_moves_only_its_unit_and_a_reopening_gives_fresh_dues() -> None:
    extended = applied(
        ("complaint.received", RECEIVED),
        ASSIGNED,
        ("deadline.elapsed", {"deadline": "handling", "unit": A, "due_at": DUE}),
        ("handling.extension_ruled", {"unit": A, "granted": True, "due_at": LATER, "ruling": "准"}),
    )
    lead, co = extended["clocks"]
    assert (lead["due_at"], lead["overdue"], lead["extensions"]) == (LATER, False, 1)
    assert (co["due_at"], co["extensions"]) == (DUE, 0)
    assert extended[tab_key("overdue")] is None
    assert extended[tab_key("due_soon")] == due_key(micros(LATER), STREAM)

    reopened = applied(
        ("complaint.received", RECEIVED),
        ASSIGNED,
        ("handling.resolution_claimed", {"unit": A, "summary": "已整改", "answer_due_at": DUE}),
        ("complainant.disputed", {"complaint_no": "TS1", "reason": "没解决"}, "complainant/p"),
        ("handling.reopened", {"reason": "不认可", "units": [{"unit": A, "due_at": LATER}]}),
    )
    assert [(k["unit"], k["due_at"], k["completed"]) for k in reopened["clocks"]] == [
        (A, LATER, False)  # only the units named go on, on fresh dues
    ]
    assert reopened["status"] == "assigned" and reopened["answer"] is None


def test_escalation_shows_todays_level_in_its_tab() -> None:
    doc = applied(
        ("complaint.received", RECEIVED),
        ASSIGNED,
        ("deadline.elapsed", {"deadline": "handling", "unit": A, "due_at": DUE}),
        ("supervision.escalated", {"level": 1, "reason": "超时"}),
        ("supervision.escalated", {"level": 2, "reason": "仍未办结"}),
    )
    assert doc["escalation"] == 2
    assert doc[tab_key("escalated")] == doc[tab_key("overdue")] == due_key(micros(DUE), STREAM)
    closed = applied(
        ("complaint.received", RECEIVED),
        ASSIGNED,
        ("supervision.escalated", {"level": 1, "reason": "超时"}),
        ("handling.resolution_claimed", {"unit": A, "summary": "好了"}),
        (
            "handling.closed",
            {
                "basis": "no_answer_in_time",
                "finding": "partly_substantiated",
                "confidential": False,
            },
        ),
    )
    assert closed["open"] is False and all(closed[tab_key(t)] is None for t in TABS)


def test_the_timeline_is_in_words_and_never_names_the_complainant() -> None:
    doc, steps = projected(
        ("complaint.received", RECEIVED, "efficiency-office/clerk"),
        ASSIGNED,
        ("handling.extension_requested", {"unit": A, "until": LATER, "reason": "需现场核查"}),
        ("handling.extension_ruled", {"unit": A, "granted": False, "ruling": "不准"}),
        ("complainant.confirmed", {"complaint_no": "TS1"}, f"complainant/{PSEUDONYM}"),
    )
    assert [(s["case"], s["n"], s["at"]) for s in steps] == [
        (STREAM, n, n * HOUR) for n in range(1, 6)
    ]
    view = timeline_view(doc, steps)
    words = [s["words"] for s in view["steps"]]
    assert words[0] == "受理投诉 TS1：被投诉单位 demo-unit，类别「窗口服务」"
    assert words[1].startswith("交办：牵头单位 unit:demo-unit，时限 2026年12月15日 00:00")
    assert words[1].endswith("协办单位 unit:civil-affairs（时限 2026年12月15日 00:00）")
    assert words[2] == "unit:demo-unit 申请延期至 2026年12月22日 00:00"
    assert words[3] == "延期申请（unit:demo-unit）：不同意，时限 不变"
    assert words[4] == "投诉人确认问题已解决"
    assert view["steps"][4]["actor"] == "投诉人"
    stored = repr((doc, steps))
    for secret in (PSEUDONYM, "张三", "13800000000", "窗口人员", "需现场核查"):
        assert secret not in stored  # neither the identity nor any free text is kept


def test_every_case_event_has_words_and_they_name_no_free_text() -> None:
    assert set(SUMMARY_RULES) <= set(WORDS)
    free_text = {"text", "summary", "reason", "note", "ruling", "complainant", "instructions"}
    for event_type, wording in WORDS.items():
        assert not free_text & set(wording.fields), event_type
        assert in_words(event_type, dict.fromkeys(wording.fields)), event_type
    assert facts_of("ledger.handling.replied.v1", {"unit": A, "text": "答复全文"}) == {"unit": A}
    assert in_words("ledger.supervision.new_step.v1", {}) == "事件 ledger.supervision.new_step.v1"


def test_an_event_type_the_case_summary_does_not_know_yet_is_still_a_step() -> None:
    doc, steps = projected(
        ("complaint.received", RECEIVED),
        ASSIGNED,
        ("supervision.reminder_sent", {"level": 1, "notice": "请尽快办理"}),
    )
    assert doc["events"] == 3 and doc["last_at"] == 3 * HOUR and doc["status"] == "assigned"
    assert steps[2]["facts"] == {} and steps[2]["n"] == 3
    assert timeline_view(doc, steps)["steps"][2]["words"] == (
        "事件 ledger.supervision.reminder_sent.v1"
    )


def test_a_tab_query_is_one_range_on_its_key_then_equalities() -> None:
    now = micros(DUE)
    q = DashboardFilters(A, "窗口服务", "assigned", 2, 3).query("overdue", now, after="a")
    assert q == {
        tab_key("overdue"): {"$lte": time_bound(now + 3 * 24 * HOUR), "$gt": "a"},
        "lead_unit": A,
        "category": "窗口服务",
        "status": "assigned",
        "escalation": 2,
    }
    assert DashboardFilters().query("due_soon", now) == {
        tab_key("due_soon"): {"$lte": time_bound(now + 2 * 24 * HOUR)}
    }
    assert DashboardFilters().query("claimed", now) == {tab_key("claimed"): {"$gt": ""}}
    assert (
        due_key(micros(DUE), STREAM) <= time_bound(micros(DUE)) < due_key(micros(DUE) + 1, STREAM)
    )
