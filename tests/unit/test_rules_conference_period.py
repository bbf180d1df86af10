"""The conference and period streams' rules, each as an accepted and a refused act."""

from __future__ import annotations

from shared.rules.verdict import Reason
from tests.samples import ANSWER_DUE, DUE, HANDLER, LATER, SUPERVISOR, Judge, MemoryLedger, step

L = MemoryLedger(partitions=3)
J = Judge(L)
CONF = "conf-00000000-0000-4000-8000-0000000000aa"
PETITIONS = "petitions-office/P001"
CONVENED = step("ledger.conference.convened.v1")
OURS = step("ledger.conference.opinion_given.v1")
THEIRS = step(
    "ledger.conference.opinion_given.v1", PETITIONS, "petitions", member="petitions-office"
)
ELAPSED = step("ledger.deadline.elapsed.v1", deadline="opinions", unit=None, due_at=DUE)
DECIDED = step("ledger.conference.decided.v1")
ALL_IN = step(
    "ledger.conference.decided.v1",
    absent_deemed_consent=[],
    tally={"consent": 2, "object": 0, "abstain": 0, "deemed_consent": 0},
)


def test_absent_members_are_deemed_to_consent_once_the_deadline_passed() -> None:
    st = J.accepted([CONVENED, OURS, ELAPSED, DECIDED], CONF)
    assert st.status == "decided" and st.deemed_consent == ("petitions-office",)
    J.refused([CONVENED, OURS, DECIDED], Reason.too_early, CONF)


def test_with_every_opinion_in_the_decision_need_not_wait() -> None:
    J.accepted([CONVENED, OURS, THEIRS, ALL_IN], CONF)
    J.refused([CONVENED, OURS, THEIRS, DECIDED], Reason.wrong_state, CONF)  # absent listed wrongly


def test_the_decision_carries_the_true_tally() -> None:
    wrong = step(
        "ledger.conference.decided.v1",
        tally={"consent": 0, "object": 1, "abstain": 0, "deemed_consent": 1},
    )
    J.refused([CONVENED, OURS, ELAPSED, wrong], Reason.wrong_state, CONF)
    J.refused(
        [CONVENED, OURS, ELAPSED, step("ledger.conference.decided.v1", tally=None)],
        Reason.invalid_data,
        CONF,
    )


def test_a_member_gives_only_its_own_opinion() -> None:
    J.accepted([CONVENED, THEIRS], CONF)
    forged = step("ledger.conference.opinion_given.v1", member="petitions-office")
    J.refused([CONVENED, forged], Reason.acts_for_other, CONF)  # dispatch's officer for them
    J.refused([CONVENED, OURS, OURS], Reason.wrong_state, CONF)
    stranger = step("ledger.conference.opinion_given.v1", member="audit-office")
    J.refused([CONVENED, stranger], Reason.wrong_state, CONF)


def test_no_opinion_after_the_decision() -> None:
    J.accepted([CONVENED, OURS, ELAPSED, THEIRS], CONF)  # late, but before the decision
    J.refused([CONVENED, OURS, ELAPSED, DECIDED, THEIRS], Reason.wrong_state, CONF)


def test_the_opinion_deadline_fires_after_its_due_time_once() -> None:
    J.refused([CONVENED, ELAPSED, ELAPSED], Reason.duplicate_act, CONF)
    late = step("ledger.conference.convened.v1", opinions_due_at=LATER)
    timer = step("ledger.deadline.elapsed.v1", deadline="opinions", unit=None, due_at=LATER)
    J.refused([late, timer], Reason.too_early, CONF)
    other = step("ledger.deadline.elapsed.v1", deadline="opinions", unit=None, due_at=ANSWER_DUE)
    J.refused([CONVENED, other], Reason.wrong_state, CONF)
    J.refused([CONVENED, step("ledger.deadline.elapsed.v1")], Reason.wrong_state, CONF)
    J.refused([CONVENED, ELAPSED._replace(actor=HANDLER)], Reason.wrong_actor, CONF)


def test_a_conference_is_convened_once_with_distinct_members() -> None:
    J.refused([CONVENED, CONVENED], Reason.wrong_state, CONF)
    twice = step("ledger.conference.convened.v1", members=["efficiency-office"] * 2)
    J.refused([twice], Reason.wrong_state, CONF)
    J.refused([OURS], Reason.wrong_state, CONF)


# ---- period figures --------------------------------------------------------------------------

MONTH = "period-2026-11"
FIRST = step("ledger.period.figures_published.v1")
CORRECTION = step(
    "ledger.period.figures_published.v1", version=2, replaces=1, reason="更正：漏计2件"
)


def test_a_period_publishes_version_one_and_corrections_that_name_what_they_replace() -> None:
    st = J.accepted([FIRST, CORRECTION], MONTH)
    assert st.version == 2 and st.units == ("unit:health-bureau",)
    J.refused([FIRST, FIRST], Reason.wrong_state, MONTH)
    J.refused(
        [FIRST, CORRECTION._replace(data={**CORRECTION.data, "reason": ""})],
        Reason.wrong_state,
        MONTH,
    )
    J.refused(
        [FIRST, CORRECTION._replace(data={**CORRECTION.data, "replaces": None})],
        Reason.wrong_state,
        MONTH,
    )
    J.refused(
        [FIRST, CORRECTION._replace(data={**CORRECTION.data, "version": 3})],
        Reason.wrong_state,
        MONTH,
    )
    J.refused([step("ledger.period.figures_published.v1", replaces=1)], Reason.wrong_state, MONTH)


def test_a_period_stream_holds_only_its_own_period_months_and_quarters() -> None:
    J.accepted([step("ledger.period.figures_published.v1", period="2026-Q4")], "period-2026-Q4")
    J.refused(
        [step("ledger.period.figures_published.v1", period="2026-10")], Reason.wrong_state, MONTH
    )


def test_figures_carry_every_numerator_and_denominator() -> None:
    bad = [{"unit": "unit:x", "figures": {"reply": {"numerator": 3, "denominator": 2}}}]
    J.refused([step("ledger.period.figures_published.v1", units=bad)], Reason.invalid_data, MONTH)
    J.refused([FIRST._replace(actor=HANDLER)], Reason.wrong_actor, MONTH)
    J.accepted([FIRST._replace(actor=SUPERVISOR)], MONTH)
