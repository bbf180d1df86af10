"""The pending deadlines, read off the rule book's states: what starts, moves and ends a timer,
and the reaction to a co-unit's lapse (超时默认), each decision pure and judged by the rule book
on a signed history. The lead's escalation ladder: ``test_escalation_ladder.py``."""

from __future__ import annotations

from typing import Any

import pytest

from services.dispatch import deemed_done
from services.oversight.deadline import (
    TIMER_ACTOR,
    Deadline,
    PendingSet,
    fire,
    pending_of,
    timestamp,
)
from shared.rules.act import micros
from shared.rules.verdict import Reason
from tests.samples import (
    ANSWER_DUE,
    ASSIGNED,
    CLAIMED,
    CO_UNIT,
    DUE,
    LATER,
    UNIT,
    Judge,
    MemoryLedger,
    new_case,
    step,
)

ELAPSED = "ledger.deadline.elapsed.v1"
CO_HANDLER = f"{CO_UNIT}/H002"
CONF = "conf-00000000-0000-4000-8000-000000000009"


@pytest.fixture(scope="module")
def judge() -> Judge:
    return Judge(MemoryLedger())


def pending(judge: Judge, steps: list[Any], stream: str | None = None) -> set[Deadline]:
    stream = stream or new_case()
    return set(pending_of(stream, judge.accepted(steps, stream)))


def handling(stream: str, unit: str, due: str) -> Deadline:
    return Deadline(stream, "handling", unit, micros(due))


def elapsed(unit: str | None = UNIT, due: str = DUE, deadline: str = "handling") -> Any:
    return step(ELAPSED, deadline=deadline, unit=unit, due_at=due)


def test_an_assignment_starts_one_deadline_per_unit(judge: Judge) -> None:
    c = new_case()
    assert pending(judge, ASSIGNED, c) == {handling(c, UNIT, DUE), handling(c, CO_UNIT, DUE)}
    assert pending(judge, ASSIGNED[:2], c) == set()  # received and screened: no clock yet


def test_a_granted_extension_moves_only_that_units_deadline(judge: Judge) -> None:
    c = new_case()
    asked = [*ASSIGNED, step("ledger.handling.extension_requested.v1")]
    assert pending(judge, asked, c) == {handling(c, UNIT, DUE), handling(c, CO_UNIT, DUE)}
    granted = [*asked, step("ledger.handling.extension_ruled.v1", due_at=LATER)]
    assert pending(judge, granted, c) == {handling(c, UNIT, LATER), handling(c, CO_UNIT, DUE)}
    refused = [*asked, step("ledger.handling.extension_ruled.v1", granted=False, due_at=None)]
    assert pending(judge, refused, c) == {handling(c, UNIT, DUE), handling(c, CO_UNIT, DUE)}


def test_a_claim_completes_the_part_and_starts_the_answer_deadline(judge: Judge) -> None:
    c = new_case()
    answer = Deadline(c, "answer", None, micros(ANSWER_DUE))
    assert pending(judge, CLAIMED, c) == {handling(c, CO_UNIT, DUE), answer}
    co_done = [
        *CLAIMED[:-1],
        step("ledger.handling.resolution_claimed.v1", CO_HANDLER, unit=CO_UNIT),
    ]
    assert pending(judge, co_done, c) == {handling(c, UNIT, DUE)}
    no_answer = [*ASSIGNED, step("ledger.handling.resolution_claimed.v1", answer_due_at=None)]
    assert pending(judge, no_answer, c) == {handling(c, CO_UNIT, DUE)}


def test_an_elapsed_deadline_ends_only_itself(judge: Judge) -> None:
    c = new_case()
    assert pending(judge, [*ASSIGNED, elapsed()], c) == {handling(c, CO_UNIT, DUE)}
    both = [*ASSIGNED, elapsed(), elapsed(CO_UNIT)]
    assert pending(judge, both, c) == set()
    answered = [*CLAIMED, elapsed(None, ANSWER_DUE, "answer")]
    assert pending(judge, answered, c) == {handling(c, CO_UNIT, DUE)}


def test_deemed_done_closure_and_a_granted_return_end_deadlines(judge: Judge) -> None:
    c = new_case()
    deemed = [
        *ASSIGNED,
        elapsed(CO_UNIT),
        step("ledger.dispatch.deemed_done.v1", unit=CO_UNIT),
    ]
    assert pending(judge, deemed, c) == {handling(c, UNIT, DUE)}
    closed = [
        *CLAIMED,
        step("ledger.complainant.confirmed.v1"),
        step("ledger.handling.closed.v1"),
    ]
    assert pending(judge, closed, c) == set()
    returned = [
        *ASSIGNED,
        step("ledger.handling.return_requested.v1", CO_HANDLER, unit=CO_UNIT),
        step("ledger.dispatch.return_ruled.v1", unit=CO_UNIT, granted=True),
    ]
    assert pending(judge, returned, c) == {handling(c, UNIT, DUE)}
    withdrawn = [*ASSIGNED, step("ledger.complaint.withdrawn.v1")]
    assert pending(judge, withdrawn, c) == set()


def test_a_reopen_gives_every_unit_a_fresh_deadline(judge: Judge) -> None:
    c = new_case()
    reopened = [
        *CLAIMED,
        step("ledger.complainant.disputed.v1"),
        step("ledger.handling.reopened.v1"),
    ]
    assert pending(judge, reopened, c) == {handling(c, UNIT, LATER), handling(c, CO_UNIT, LATER)}


def test_a_conference_holds_its_opinion_deadline_until_the_decision(judge: Judge) -> None:
    opinions = Deadline(CONF, "opinions", None, micros(DUE))
    convened = [step("ledger.conference.convened.v1")]
    assert pending(judge, convened, CONF) == {opinions}
    fired = [*convened, elapsed(None, DUE, "opinions")]
    assert pending(judge, fired, "conf-00000000-0000-4000-8000-00000000000a") == set()
    decided = [
        *convened,
        step("ledger.conference.opinion_given.v1"),
        step(
            "ledger.conference.opinion_given.v1",
            "petitions-office/P001",
            "petitions",
            member="petitions-office",
        ),
        step(
            "ledger.conference.decided.v1",
            absent_deemed_consent=[],
            tally={"consent": 2, "object": 0, "abstain": 0, "deemed_consent": 0},
        ),
    ]
    assert pending(judge, decided, "conf-00000000-0000-4000-8000-00000000000b") == set()


def test_firing_writes_the_elapsed_event_the_rule_book_accepts_once(judge: Judge) -> None:
    c = new_case()
    _, fold = judge.judge(c, ASSIGNED)
    state = fold.streams[c]
    d = handling(c, UNIT, DUE)
    [draft] = fire([d])(state)
    assert draft.actor == TIMER_ACTOR and draft.id == d.event_id
    assert draft.data == {"deadline": "handling", "unit": UNIT, "due_at": d.due_at}
    assert micros(draft.data["due_at"]) == micros(DUE)  # the same instant, as +08:00
    judge.accepted([*ASSIGNED, step(ELAPSED, **draft.data)], c)
    # Once elapsed, it is no longer pending: the decision writes nothing.
    _, after = judge.judge(c, [*ASSIGNED, step(ELAPSED, **draft.data)])
    assert fire([d])(after.streams[c]) == []
    assert fire([handling(c, UNIT, LATER)])(state) == []  # not this unit's due time


def test_the_id_is_derived_from_stream_unit_and_due_time() -> None:
    a = Deadline("case-x", "handling", UNIT, 5)
    assert a.event_id == Deadline("case-x", "handling", UNIT, 5).event_id
    others = {
        Deadline("case-y", "handling", UNIT, 5),
        Deadline("case-x", "handling", CO_UNIT, 5),
        Deadline("case-x", "handling", UNIT, 6),
        Deadline("case-x", "answer", None, 5),
    }
    assert a.event_id not in {d.event_id for d in others}
    assert timestamp(micros("2026-09-01T10:00:00.5Z")) == "2026-09-01T18:00:00.500000+08:00"


def test_the_pending_set_orders_by_due_time_and_follows_changes(judge: Judge) -> None:
    c1, c2 = new_case(), new_case()
    s1 = judge.accepted(ASSIGNED, c1)
    s2 = judge.accepted([*ASSIGNED, step("ledger.handling.extension_requested.v1")], c2)
    moved = judge.accepted(
        [
            *ASSIGNED,
            step("ledger.handling.extension_requested.v1"),
            step("ledger.handling.extension_ruled.v1", due_at=LATER),
        ],
        c2,
    )
    ps = PendingSet()
    ps.observe(c1, s1)
    ps.observe(c2, s2)
    assert len(ps) == 4
    ps.observe(c2, moved)  # c2's lead moved to LATER
    assert len(ps) == 4 and handling(c2, UNIT, LATER) in ps and handling(c2, UNIT, DUE) not in ps
    now = micros(DUE)
    ripe = ps.ripe(now, 10)
    assert set(ripe) == {
        handling(c1, UNIT, DUE),
        handling(c1, CO_UNIT, DUE),
        handling(c2, CO_UNIT, DUE),
    }
    assert ps.ripe(now, 10) == []  # taken: in flight until the log says or a retry
    assert ps.next_due() == micros(LATER)
    ps.retry_at(ripe[0], now + 1)
    assert ps.ripe(now, 10) == [] and ps.ripe(now + 1, 10) == [ripe[0]]
    assert ps.ripe(micros(LATER) - 1, 10) == []
    assert ps.ripe(micros(LATER), 10) == [handling(c2, UNIT, LATER)]
    ps.observe(c1, judge.accepted([*ASSIGNED, step("ledger.complaint.withdrawn.v1")], c1))
    assert len(ps) == 2
    ps.retry_at(handling(c1, UNIT, DUE), now)  # no longer pending: not queued again
    assert ps.ripe(micros(LATER), 10) == []


def _cause(judge: Judge, c: str, unit: str) -> tuple[dict[str, Any], Any]:
    _, fold = judge.judge(c, [*ASSIGNED, elapsed(unit)])
    env = {
        "id": "cause-1",
        "type": ELAPSED,
        "data": {"deadline": "handling", "unit": unit, "due_at": DUE},
    }
    return env, fold.streams[c]


def test_a_co_units_lapse_is_deemed_done(judge: Judge) -> None:
    c = new_case()
    cause, state = _cause(judge, c, CO_UNIT)
    [draft] = deemed_done.react(cause)(state)
    assert draft.type == "ledger.dispatch.deemed_done.v1"
    assert draft.data == {"unit": CO_UNIT, "due_at": DUE, "cause": "cause-1"}
    assert draft.id == deemed_done.derived_id(cause)
    after = judge.accepted([*ASSIGNED, elapsed(CO_UNIT), step(draft.type, **draft.data)], c)
    assert after.clock(CO_UNIT).deemed_done
    lead_cause, lead_state = _cause(judge, new_case(), UNIT)
    assert deemed_done.react(lead_cause)(lead_state) == []  # the lead is never deemed done
    # Deemed done before its deadline elapsed: the rule book refuses it as too early.
    judge.refused([*ASSIGNED, step(draft.type, **draft.data)], Reason.too_early)
