"""Who acted and when, as the rule checks read it: the actor's kind, log times in µs, timers."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.rules.act import Act, all_of, by_body, micros, state_is
from shared.rules.timer import timer_key, timer_once
from shared.rules.verdict import Reason


def act(actor: str, at: int = 0) -> Act:
    org, person = actor.split("/", 1)
    return Act(actor, org, person, "/bodies/x/oversight", at, 0, None, "case-x")  # type: ignore[arg-type]


def test_the_kind_of_actor() -> None:
    unit, person, staff = act("unit:health/H1"), act("complainant/abc"), act("office/S1")
    assert (unit.by_unit, unit.by_complainant, unit.by_body) == (True, False, False)
    assert (person.by_unit, person.by_complainant, person.by_body) == (False, True, False)
    assert (staff.by_unit, staff.by_complainant, staff.by_body) == (False, False, True)
    assert act("units-office/S1").by_body  # not a unit: the prefix is "unit:"
    assert by_body(None, {}, staff) is None
    for a in (unit, person):
        v = by_body(None, {}, a)
        assert v is not None and v.reason is Reason.wrong_actor


def test_log_times_are_microseconds_since_the_epoch() -> None:
    assert micros("1970-01-01T00:00:00Z") == 0
    assert micros("1970-01-01T00:00:01.000005Z") == 1_000_005
    assert micros("1970-01-01T08:00:00+08:00") == 0
    dt = datetime(2026, 9, 1, 10, 0, 0, 123456, tzinfo=UTC)
    assert micros(dt.isoformat()) == int(dt.timestamp()) * 1_000_000 + 123456


def test_all_of_gives_the_first_refusal_in_order() -> None:
    first, second = state_is("first"), state_is("second")
    assert all_of(lambda s, d, a: None, lambda s, d, a: first)(None, {}, act("o/p")) is first
    check = all_of(lambda s, d, a: second, lambda s, d, a: first)
    assert check(None, {}, act("o/p")) is second
    assert all_of()(None, {}, act("o/p")) is None
    assert state_is("x").reason is Reason.wrong_state and state_is("x").detail == "x"


def test_a_timer_fires_at_its_due_time_and_once() -> None:
    d = {"unit": "unit:a", "due_at": "1970-01-01T00:00:01Z"}
    assert timer_key(d) == ("unit:a", 1_000_000)
    assert timer_key({"unit": None, "due_at": "1970-01-01T00:00:01Z"}) == ("", 1_000_000)
    assert timer_key({"due_at": "1970-01-01T00:00:01Z"}) == ("", 1_000_000)
    early = timer_once((), d, act("o/p", 999_999))
    assert early is not None and early.reason is Reason.too_early
    assert timer_once((), d, act("o/p", 1_000_000)) is None
    assert timer_once((("unit:b", 1_000_000),), d, act("o/p", 2_000_000)) is None
    again = timer_once((("unit:a", 1_000_000),), d, act("o/p", 2_000_000))
    assert again is not None and again.reason is Reason.duplicate_act
