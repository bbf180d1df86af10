"""Penalty proposals and decisions, pure: the rule book's rows for ``penalty.proposed`` and its
decisions (each a pair: accepted where it holds, refused with its reason where not), what each
of the three causes proposes, the supervisor's decision against the schedule in force, the
leadership tally and the directory's holder at a date."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from services.oversight import leadership, penalties, proposals
from services.oversight.staff_directory import (
    ImportRejected,
    PostHeld,
    StaffEntry,
    holder_at,
    parse_import,
)
from shared.events.catalog import LeadershipThreshold, PenaltySchedule, ProposalCause
from shared.rules.stream import StreamState
from shared.rules.verdict import Reason
from shared.web.command_path import Refusal
from shared.web.config_in_force import InForce
from tests.samples import (
    ASSIGNED,
    CLAIMED,
    CO_UNIT,
    HANDLER,
    SCHEDULE_VERSION,
    UNIT,
    Judge,
    MemoryLedger,
    step,
)

L = MemoryLedger(partitions=3)
J = Judge(L)
PROPOSAL = str(uuid.UUID(int=9))


def S(event_type: str, actor: str | None = None, **data):  # type: ignore[no-untyped-def]
    return step(f"ledger.{event_type}.v1", actor, **data)


# ---- the rule book ---------------------------------------------------------------------------


def test_a_proposal_awaits_one_decision() -> None:
    proposed = S("penalty.proposed")
    assert J.accepted([*ASSIGNED, proposed]).proposals == (PROPOSAL,)
    J.refused([*ASSIGNED, proposed, S("penalty.proposed")], Reason.wrong_state)  # same id
    J.refused([*ASSIGNED, S("penalty.proposed", HANDLER)], Reason.wrong_actor)
    J.refused([S("penalty.proposed")], Reason.wrong_state)  # no case yet
    dismissed = J.accepted([*ASSIGNED, proposed, S("penalty.proposal_dismissed")])
    assert dismissed.proposals == () and dismissed.penalties == ()
    J.refused([*ASSIGNED, S("penalty.proposal_dismissed")], Reason.wrong_state)
    J.refused(
        [*ASSIGNED, proposed, S("penalty.proposal_dismissed"), S("penalty.proposal_dismissed")],
        Reason.wrong_state,
    )


def test_imposing_a_proposal_decides_it_and_is_still_held_to_the_schedule() -> None:
    proposed = S("penalty.proposed")
    imposed = S("penalty.imposed", proposal_id=PROPOSAL)
    st = J.accepted([*ASSIGNED, proposed, imposed])
    assert st.proposals == () and st.penalties == ("P1",)
    J.refused([*ASSIGNED, imposed], Reason.wrong_state)  # no such proposal pending
    J.refused([*ASSIGNED, proposed, S("penalty.proposal_dismissed"), imposed], Reason.wrong_state)
    J.refused(
        [*ASSIGNED, proposed, S("penalty.imposed", proposal_id=PROPOSAL, penalty="criticism")],
        Reason.below_schedule,
    )


# ---- what each cause proposes ----------------------------------------------------------------


def _cause(event_type: str, **data: object) -> dict[str, object]:
    return {"id": str(uuid.uuid4()), "type": f"ledger.{event_type}.v1", "data": data}


def test_each_cause_proposes_a_penalty_with_an_id_derived_from_it() -> None:
    case = J.accepted(CLAIMED)
    deemed = _cause("dispatch.deemed_done", unit=CO_UNIT, due_at="x", cause="y")
    disputed = _cause("complainant.disputed", complaint_no="X1", reason="没有解决")
    finding = _cause(
        "inspection.finding_recorded",
        unit=UNIT,
        post="窗口受理岗",
        staff_id="E123",
        finding="idle_at_window",
    )
    by_cause = {c["type"]: proposals.proposal(c, case) for c in (deemed, disputed, finding)}
    got = list(by_cause.values())
    assert [p["cause"] for p in got if p] == [
        ProposalCause.deemed_done,
        ProposalCause.disputed,
        ProposalCause.inspection,
    ]
    d, u, f = got
    assert d and d["unit"] == CO_UNIT and d["offence"] == "overdue_without_reason"
    assert u and u["unit"] == UNIT and u["offence"] == "perfunctory_reply"  # the lead unit
    assert f and (f["unit"], f["post"], f["staff_id"], f["offence"]) == (
        UNIT,
        "窗口受理岗",
        "E123",
        "idle_at_window",
    )
    for c, p in zip((deemed, disputed, finding), got, strict=True):
        assert p and p["proposal_id"] == proposals.derived_id(c) and p["cause_event"] == c["id"]
    # a finding in words, not an offence code: the supervisor chooses the offence
    worded = _cause("inspection.finding_recorded", unit=UNIT, post="窗口", finding="看视频")
    assert "offence" not in (proposals.proposal(worded, case) or {})
    # other events propose nothing
    assert proposals.derived_id(_cause("handling.replied", unit=UNIT, text="x")) is None


def test_a_redelivered_cause_proposes_nothing_more() -> None:
    cause = _cause("dispatch.deemed_done", unit=CO_UNIT, due_at="x", cause="y")
    state = StreamState.empty("case-00000000-0000-4000-8000-00000000000a")
    state.domain = J.accepted(ASSIGNED)
    first = proposals.react(cause)(state)
    assert len(first) == 1 and first[0].id == proposals.derived_id(cause)
    state.seen_ids.add(str(first[0].id))
    assert proposals.react(cause)(state) == []


# ---- the supervisor's decision ---------------------------------------------------------------

SCHEDULE = InForce(
    "penalty_schedule",  # type: ignore[arg-type]
    SCHEDULE_VERSION,
    PenaltySchedule.model_validate(
        {"minimums": {"idle_at_window": ["criticism", "admonishment_talk", "public_criticism"]}}
    ),
)


def _impose(penalty: str, repeat: int, reason: str = "") -> list[object]:
    state = StreamState.empty("case-00000000-0000-4000-8000-00000000000b")
    state.domain = J.accepted(ASSIGNED)
    cmd = penalties.ImposePenalty(
        unit=UNIT,
        post="窗口受理岗",
        staff_id="E123",
        offence="idle_at_window",
        penalty=penalty,
        departure_reason=reason,
        causes=["c1"],
    )
    return list(penalties.impose(state, cmd, SCHEDULE, repeat, "P9", "efficiency-office/V001"))


@pytest.mark.parametrize(
    ("penalty", "repeat", "reason", "refusal"),
    [
        ("criticism", 1, "", None),
        ("criticism", 2, "", "below_schedule"),  # a second offence: 诫勉谈话 at least
        ("criticism", 2, "主动整改，情节轻微", None),
        ("admonishment_talk", 2, "情节轻微", "no_departure"),  # a reason without a departure
        ("admonishment_talk", 9, "", "below_schedule"),  # the last step repeats
    ],
)
def test_a_penalty_below_the_schedule_needs_a_reason(
    penalty: str, repeat: int, reason: str, refusal: str | None
) -> None:
    if refusal is None:
        (draft,) = _impose(penalty, repeat, reason)
        assert draft.data["repeat_count"] == repeat  # type: ignore[attr-defined]
        assert draft.data["schedule_version"] == SCHEDULE_VERSION  # type: ignore[attr-defined]
    else:
        with pytest.raises(Refusal) as refused:
            _impose(penalty, repeat, reason)
        assert refused.value.reason == refusal


# ---- leadership ------------------------------------------------------------------------------

THRESHOLD = LeadershipThreshold(post="主要负责人", offence="leadership_responsibility", cases=2)
NOV = int(datetime(2026, 11, 10, 4, tzinfo=UTC).timestamp() * 1e6)
DEC = int(datetime(2026, 12, 1, 1, tzinfo=UTC).timestamp() * 1e6)  # 09:00 in Shanghai


def _closed(finding: str = "substantiated") -> dict[str, object]:
    return _cause("handling.closed", finding=finding, basis="anonymous", confidential=False)


def test_a_unit_passing_the_threshold_in_a_month_calls_for_one_leadership_proposal() -> None:
    t = leadership.Tally()
    assert t.observe("case-a", _closed(), UNIT, NOV, THRESHOLD) is None
    assert t.observe("case-a", _closed(), UNIT, NOV, THRESHOLD) is None  # one case counts once
    assert t.observe("case-b", _closed("unsubstantiated"), UNIT, NOV, THRESHOLD) is None
    assert t.observe("case-c", _closed(), UNIT, DEC, THRESHOLD) is None  # another month
    assert t.observe("case-d", _closed(), CO_UNIT, NOV, THRESHOLD) is None  # another unit
    passed = t.observe("case-e", _closed("partly_substantiated"), UNIT, NOV + 5, THRESHOLD)
    assert passed is not None and (passed.unit, passed.period, passed.count) == (
        UNIT,
        "2026-11",
        2,
    )
    assert passed.stream == "case-e" and passed.proposal_id == leadership.leadership_id(
        UNIT, "2026-11"
    )
    data = leadership.proposal(passed, THRESHOLD, "L-OLD")
    t.observe(
        "case-e",
        {"id": passed.proposal_id, "type": proposals.PROPOSED, "data": data},
        UNIT,
        NOV,
        THRESHOLD,
    )
    assert t.observe("case-f", _closed(), UNIT, NOV, THRESHOLD) is None  # proposed once


def test_the_passing_event_is_the_same_whatever_order_the_partitions_are_read_in() -> None:
    first, second = _closed(), _closed()
    in_order, reversed_ = leadership.Tally(), leadership.Tally()
    in_order.observe("case-a", first, UNIT, NOV, THRESHOLD)
    a = in_order.observe("case-b", second, UNIT, NOV + 9, THRESHOLD)
    reversed_.observe("case-b", second, UNIT, NOV + 9, THRESHOLD)
    b = reversed_.observe("case-a", first, UNIT, NOV, THRESHOLD)
    assert a == b and a is not None and a.stream == "case-b" and a.cause_event == second["id"]


def test_leadership_counts_penalties_until_revoked() -> None:
    by_penalties = LeadershipThreshold(post="主要负责人", offence="x", penalties=2)
    t = leadership.Tally()

    def imposed(pid: str) -> dict[str, object]:
        return _cause("penalty.imposed", penalty_id=pid, unit=UNIT)

    assert t.observe("case-a", imposed("P1"), UNIT, NOV, by_penalties) is None
    t.observe("case-a", _cause("penalty.revoked", penalty_id="P1"), UNIT, NOV, by_penalties)
    assert t.observe("case-b", imposed("P2"), UNIT, NOV, by_penalties) is None
    assert t.observe("case-c", imposed("P3"), UNIT, NOV, by_penalties) is not None


def test_the_holder_of_a_post_is_the_one_on_that_day() -> None:
    old = StaffEntry(
        staff_id="L-OLD",
        name="甲",
        posts=[
            PostHeld(unit=UNIT, post="主要负责人", start=date(2020, 1, 1), end=date(2026, 11, 30))
        ],
    )
    new = StaffEntry(
        staff_id="L-NEW",
        name="乙",
        posts=[
            PostHeld(
                unit=CO_UNIT, post="主要负责人", start=date(2019, 1, 1), end=date(2026, 11, 30)
            ),
            PostHeld(unit=UNIT, post="主要负责人", start=date(2026, 12, 1)),
        ],
    )
    assert holder_at([old, new], UNIT, "主要负责人", leadership.local_day(NOV)) == "L-OLD"
    assert holder_at([old, new], UNIT, "主要负责人", leadership.local_day(DEC)) == "L-NEW"
    assert holder_at([old, new], UNIT, "副主任", leadership.local_day(NOV)) is None


# ---- the directory's import ------------------------------------------------------------------


def test_a_csv_import_joins_the_posts_of_one_person_and_refuses_bad_lines_by_number() -> None:
    text = (
        "staff_id,name,unit,post,start,end\n"
        "E1,张三,unit:a,窗口1,2025-01-01,2026-06-30\n"
        "E1,张三,unit:b,窗口3,2026-07-01,\n"
        "E2,李四,unit:b,主要负责人,2024-01-01,\n"
    )
    entries = {e.staff_id: e for e in parse_import(text.encode(), "staff.csv")}
    assert [p.unit for p in entries["E1"].posts] == ["unit:a", "unit:b"]
    assert entries["E1"].posts[1].end is None
    bad = text + "E3,王五,unit:b,窗口,2026-13-01,\nE4,,unit:b,窗口,2026-01-01,2025-01-01\n"
    with pytest.raises(ImportRejected) as refused:
        parse_import(bad.encode(), "staff.csv")
    assert refused.value.lines == [5, 6]
    assert "王五" not in str(refused.value)
    with pytest.raises(ImportRejected):
        parse_import(b"id,name\nE1,x\n", "staff.csv")


def test_a_jsonl_import_is_one_entry_a_line() -> None:
    post = '{"unit": "unit:a", "post": "窗口1", "start": "2025-01-01"}'
    line = '{"staff_id": "E1", "name": "张三", "posts": [' + post + "]}"
    assert parse_import(f"{line}\n\n".encode(), "s.jsonl")[0].posts[0].post == "窗口1"
    with pytest.raises(ImportRejected) as refused:
        parse_import(f"{line}\nnot json\n".encode(), "s.jsonl")
    assert refused.value.lines == [2]
