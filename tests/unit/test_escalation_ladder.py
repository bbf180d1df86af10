"""The escalation ladder (reminder → 督办单 → 挂牌督办): the rule book's order and refusals on a
signed history, when each step comes on the working-day calendar, and oversight's pure decision
of each step with its notice."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from services.oversight.deadline import Deadline, timestamp
from services.oversight.escalation import Ladder, Step, after, ahead_of, draft, fire, pending_of
from services.oversight.notice import ESCALATED, REMINDED
from shared.calendar import SHANGHAI, TableCalendar
from shared.events.catalog import (
    ConfigKind,
    EscalationThresholds,
    LadderStep,
    LimitSpec,
    SupervisionEscalated,
)
from shared.rules.act import micros
from shared.rules.verdict import Reason
from shared.web.config_in_force import InForce
from tests.samples import ASSIGNED, CO_UNIT, DUE, LATER, UNIT, Judge, MemoryLedger, new_case, step

ELAPSED = "ledger.deadline.elapsed.v1"
PAST = "2026-08-20T00:00:00+08:00"  # before the samples' log times (2026-09-21)
FUTURE = "2098-12-31T00:00:00+08:00"  # after them
AFTER_DUE = "2026-09-04T00:00:00+08:00"  # after DUE, before the log times


@pytest.fixture(scope="module")
def judge() -> Judge:
    return Judge(MemoryLedger())


def assigned(due: str) -> list[Any]:
    return [
        *ASSIGNED[:-1],
        step(
            "ledger.dispatch.assigned.v1",
            due_at=due,
            co_units=[{"unit": CO_UNIT, "due_at": due, "provisional": False}],
        ),
    ]


def remind(due: str = LATER, at: str = PAST, unit: str = UNIT, **more: Any) -> Any:
    return step(REMINDED, unit=unit, due_at=due, threshold_at=at, **more)


def escalate(kind: str, level: int, at: str, due: str = DUE, **more: Any) -> Any:
    data = {"unit": UNIT, "due_at": due, "threshold_at": at, "thresholds": "1", "notice": "…"}
    return step(ESCALATED, level=level, step=kind, **{**data, **more})


def elapsed(due: str = DUE, unit: str = UNIT) -> Any:
    return step(ELAPSED, deadline="handling", unit=unit, due_at=due)


ORDER = escalate("order", 1, DUE)
LISTED = escalate("listed", 2, AFTER_DUE)
LAPSED = [*assigned(DUE), elapsed()]


# ---- the rule book ---------------------------------------------------------------------------


def test_the_ladder_climbs_in_order_once_per_deadline(judge: Judge) -> None:
    st = judge.accepted([*assigned(LATER), remind()])
    assert st.on_ladder(UNIT, micros(LATER), "reminder") and st.escalation == 0
    st = judge.accepted([*LAPSED, ORDER, LISTED])
    assert st.escalation == 2 and st.status == "assigned"
    assert [s for _, _, s in st.ladder] == ["order", "listed"]


def test_each_step_is_taken_once(judge: Judge) -> None:
    judge.refused([*assigned(LATER), remind(), remind()], Reason.duplicate_act)
    judge.refused([*LAPSED, ORDER, escalate("order", 2, DUE)], Reason.duplicate_act)
    judge.refused([*LAPSED, ORDER, LISTED, escalate("listed", 3, AFTER_DUE)], Reason.duplicate_act)


def test_no_step_comes_before_its_threshold_by_the_log_clock(judge: Judge) -> None:
    judge.refused([*assigned(LATER), remind(at=FUTURE)], Reason.too_early)
    late = "2026-10-01T00:00:00+08:00"  # after the samples' log times
    judge.refused([*LAPSED, ORDER, escalate("listed", 2, late)], Reason.too_early)


def test_a_reminder_comes_only_before_the_due_time(judge: Judge) -> None:
    judge.refused([*assigned(DUE), remind(due=DUE)], Reason.wrong_state)  # the log is past DUE
    judge.refused([*LAPSED, remind(due=DUE)], Reason.wrong_state)


def test_no_order_before_the_deadline_elapsed_and_no_listing_before_an_order(
    judge: Judge,
) -> None:
    judge.refused([*assigned(DUE), ORDER], Reason.wrong_state)
    judge.refused([*LAPSED, LISTED], Reason.wrong_state)  # no 挂牌督办 before a 督办单
    judge.refused([*LAPSED, escalate("order", 1, PAST)], Reason.wrong_state)  # before the due


def test_the_ladder_follows_the_leads_current_deadline_only(judge: Judge) -> None:
    judge.refused([*assigned(LATER), remind(unit=CO_UNIT)], Reason.wrong_state)
    judge.refused([*assigned(LATER), remind(unit="unit:other")], Reason.not_assigned)
    judge.refused([*assigned(LATER), remind(due=FUTURE)], Reason.wrong_state)
    # An extension granted is a new deadline, so a new ladder: the old one's steps are refused.
    moved = [
        step("ledger.handling.extension_requested.v1", until=LATER),
        step("ledger.handling.extension_ruled.v1", granted=True, due_at=LATER),
    ]
    judge.refused([*LAPSED, ORDER, *moved, LISTED], Reason.wrong_state)
    st = judge.accepted([*LAPSED, ORDER, *moved, remind()])
    assert st.on_ladder(UNIT, micros(LATER), "reminder")


def test_no_step_once_the_unit_completed_or_the_case_closed(judge: Judge) -> None:
    claimed = step("ledger.handling.resolution_claimed.v1")
    judge.refused([*LAPSED, ORDER, claimed, LISTED], Reason.wrong_state)
    judge.refused([*assigned(LATER), claimed, remind()], Reason.wrong_state)
    closed = [
        claimed,
        step("ledger.complainant.confirmed.v1"),
        step("ledger.handling.closed.v1"),
    ]
    judge.refused([*LAPSED, *closed, ORDER], Reason.wrong_state)


def test_only_a_body_takes_a_step(judge: Judge) -> None:
    by_unit = {"actor": f"{UNIT}/H001"}
    judge.refused([*assigned(LATER), remind(**{})._replace(**by_unit)], Reason.wrong_actor)


def test_a_ladder_step_names_its_deadline_and_a_plain_escalation_none() -> None:
    with pytest.raises(ValueError):
        SupervisionEscalated.model_validate({"level": 1, "reason": "x", "step": "order"})
    with pytest.raises(ValueError):
        SupervisionEscalated.model_validate({"level": 1, "reason": "x", "notice": "x"})
    listed = {"unit": UNIT, "due_at": DUE, "threshold_at": DUE, "notice": "x"}
    with pytest.raises(ValueError):  # a 挂牌督办 names the thresholds it used
        SupervisionEscalated.model_validate({"level": 1, "reason": "x", "step": "listed", **listed})


# ---- when each step comes --------------------------------------------------------------------

# 2026-09: the 1st is a Tuesday; the 25th (Friday) is made a holiday here, the 26th (Sat) a
# working day (调休), to show the calendar is the one counted on.
CAL = TableCalendar(
    "test-1",
    frozenset({2026}),
    holidays=frozenset({date(2026, 9, 25)}),
    workdays=frozenset({date(2026, 9, 26)}),
)


def us(text: str) -> int:
    return micros(text)


def wd(n: int) -> LimitSpec:
    return LimitSpec(amount=n, unit="working_days")


def test_a_reminder_comes_working_days_before_the_due_time() -> None:
    # Due at 00:00 on Wednesday the 2nd (Tuesday is the last day in time).
    assert ahead_of(us("2026-09-02T00:00:00+08:00"), wd(1), CAL) == us("2026-09-01T00:00:00+08:00")
    # Due at 00:00 on Monday the 7th: the weekend does not count.
    assert ahead_of(us("2026-09-07T00:00:00+08:00"), wd(2), CAL) == us("2026-09-03T00:00:00+08:00")
    # Due at 00:00 on Monday the 28th: Saturday the 26th works, Friday the 25th does not.
    assert ahead_of(us("2026-09-28T00:00:00+08:00"), wd(2), CAL) == us("2026-09-24T00:00:00+08:00")
    hours = LimitSpec(amount=4, unit="hours")
    assert ahead_of(us("2026-09-02T10:00:00+08:00"), hours, CAL) == us("2026-09-02T06:00:00+08:00")


def test_a_listing_comes_working_days_after_the_due_time() -> None:
    # Due at 00:00 on Wednesday the 2nd: Wed, Thu, Fri late → listed at 00:00 on Saturday.
    assert after(us("2026-09-02T00:00:00+08:00"), wd(3), CAL) == us("2026-09-05T00:00:00+08:00")
    # Due at 00:00 on Thursday the 24th: Thu, (Fri off), Sat → listed at 00:00 on Sunday.
    assert after(us("2026-09-24T00:00:00+08:00"), wd(2), CAL) == us("2026-09-27T00:00:00+08:00")
    hours = LimitSpec(amount=2, unit="hours")
    assert after(us("2026-09-02T10:00:00+08:00"), hours, CAL) == us("2026-09-02T12:00:00+08:00")


# ---- oversight's decision ----------------------------------------------------------------------

THRESHOLDS = EscalationThresholds(remind_before=wd(1), list_after=wd(3))
LADDER = Ladder(
    InForce(ConfigKind.escalation_thresholds, "7", THRESHOLDS), CAL, {UNIT: "市卫生健康委员会"}
)


def state(judge: Judge, steps: list[Any]) -> tuple[str, Any]:
    c = new_case()
    _, fold = judge.judge(c, steps)
    return c, fold.streams[c]


def test_the_pending_step_follows_the_state(judge: Judge) -> None:
    c, st = state(judge, assigned(LATER))
    [reminder] = pending_of(c, st.domain, LADDER)
    assert reminder == Step(
        c, LadderStep.reminder, UNIT, us(LATER), ahead_of(us(LATER), wd(1), CAL)
    )
    assert pending_of(c, st.domain, Ladder(None, CAL)) == frozenset()  # no thresholds: none
    c, st = state(judge, LAPSED)
    [order] = pending_of(c, st.domain, Ladder(None, CAL))  # a 督办单 needs no threshold
    assert order == Step(c, LadderStep.order, UNIT, us(DUE), us(DUE))
    c, st = state(judge, [*LAPSED, ORDER])
    [listed] = pending_of(c, st.domain, LADDER)
    assert listed.step == LadderStep.listed and listed.due == after(us(DUE), wd(3), CAL)
    for done in (
        [*LAPSED, ORDER, LISTED],
        [*LAPSED, step("ledger.handling.resolution_claimed.v1")],
    ):
        c, st = state(judge, done)
        assert pending_of(c, st.domain, LADDER) == frozenset()


def test_each_step_is_written_with_its_notice_and_accepted(judge: Judge) -> None:
    c, st = state(judge, LAPSED)
    [order] = fire(sorted(pending_of(c, st.domain, LADDER)), LADDER, us(AFTER_DUE))(st)
    assert order.type == ESCALATED and order.id == Step(c, "order", UNIT, us(DUE), us(DUE)).event_id
    d = order.data
    assert (d["step"], d["level"], d["thresholds"], d["due_at"]) == ("order", 1, "7", DUE)
    assert d["cause"] == Deadline(c, "handling", UNIT, us(DUE)).event_id  # the timer it follows
    text = d["notice"]
    assert text.startswith("督办单\n市卫生健康委员会：")
    assert "XN2026-000001" in text and c in text and "2026年9月1日 18:00" in text
    assert "超过办理时限" in text
    st_after = judge.accepted([*LAPSED, step(order.type, **d)], c)
    assert st_after.escalation == 1
    # Nothing twice: the same step against the state holding it, or seen by its id.
    st.seen_ids.add(order.id)
    assert (
        fire([Step(c, LadderStep.order, UNIT, us(DUE), us(DUE))], LADDER, us(AFTER_DUE))(st) == []
    )


def test_a_step_waits_for_its_threshold_and_a_reminder_for_nothing_past_due(judge: Judge) -> None:
    c, st = state(judge, assigned(LATER))
    [reminder] = pending_of(c, st.domain, LADDER)
    assert fire([reminder], LADDER, reminder.due - 1)(st) == []
    assert fire([reminder], LADDER, us(LATER))(st) == []  # the due time came: a 督办单 follows
    [d] = fire([reminder], LADDER, reminder.due)(st)
    assert d.type == REMINDED and d.data["threshold_at"] == timestamp(reminder.due)
    assert "督办提醒" in d.data["notice"] and "不足1个工作日" in d.data["notice"]
    c, st = state(judge, [*LAPSED, ORDER])
    [listed] = pending_of(c, st.domain, LADDER)
    [d] = fire([listed], LADDER, listed.due)(st)
    assert d.data["step"] == "listed" and d.data["level"] == 2
    assert d.data["cause"] == listed._replace(step=LadderStep.order).event_id
    assert d.data["notice"].startswith("挂牌督办通知书") and "已满3个工作日" in d.data["notice"]
    assert draft(listed, st.domain, LADDER) is not None
    at = datetime.fromtimestamp(listed.due / 1e6, SHANGHAI)
    assert (at.hour, at.minute) == (0, 0)
