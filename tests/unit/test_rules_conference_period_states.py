"""The conference and period streams' states, checked through their own rule tables (pure
functions of state, payload and act): what each accepted act leaves, and each refusal's reason."""

from __future__ import annotations

from typing import Any

from shared.rules import conference, period
from shared.rules.act import Act, micros
from shared.rules.conference import ConferenceState
from shared.rules.period import PeriodState
from shared.rules.verdict import Reason
from tests.samples import DUE, LATER, SAMPLES

AT = micros(LATER) + 1  # a log time after every due time here


def act(actor: str, stream: str = "conf-x", at: int = AT) -> Act:
    org, person = actor.split("/", 1)
    return Act(actor, org, person, "/bodies/x/dispatch", at, 0, None, stream)  # type: ignore[arg-type]


OFFICE = act("efficiency-office/D001")
PETITIONS = act("petitions-office/P001")


def why(state: Any, module: Any, t: str, data: dict[str, Any], a: Act) -> Reason | None:
    v = module.check(state, f"ledger.{t}.v1", data, a)
    return None if v is None else v.reason


def convened() -> ConferenceState:
    d = SAMPLES["ledger.conference.convened.v1"]
    assert why(ConferenceState(), conference, "conference.convened", d, OFFICE) is None
    s: ConferenceState = conference.evolve(ConferenceState(), "ledger.conference.convened.v1", d)
    return s


def test_convening_opens_the_conference_with_its_cases_members_and_deadline() -> None:
    s = convened()
    assert (s.status, s.cases, s.members, s.opinions_due) == (
        "open",
        tuple(SAMPLES["ledger.conference.convened.v1"]["cases"]),
        ("efficiency-office", "petitions-office"),
        micros(DUE),
    )
    twice = {**SAMPLES["ledger.conference.convened.v1"], "members": ["a", "a"]}
    assert why(ConferenceState(), conference, "conference.convened", twice, OFFICE) is (
        Reason.wrong_state
    )
    d = SAMPLES["ledger.conference.convened.v1"]
    assert why(s, conference, "conference.convened", d, OFFICE) is Reason.wrong_state


def test_opinions_tally_and_absence() -> None:
    s = convened()
    assert s.absent() == ["efficiency-office", "petitions-office"]
    assert s.tally() == {"consent": 0, "object": 0, "abstain": 0, "deemed_consent": 2}
    op = "ledger.conference.opinion_given.v1"
    s = conference.evolve(s, op, {"member": "efficiency-office", "opinion": "object"})
    assert s.opinions == (("efficiency-office", "object"),)
    assert s.absent() == ["petitions-office"]
    assert s.tally() == {"consent": 0, "object": 1, "abstain": 0, "deemed_consent": 1}
    s2 = conference.evolve(s, op, {"member": "petitions-office", "opinion": "abstain"})
    assert s2.absent() == []
    assert s2.tally() == {"consent": 0, "object": 1, "abstain": 1, "deemed_consent": 0}
    assert s2.summary()["opinions"] == [
        ["efficiency-office", "object"],
        ["petitions-office", "abstain"],
    ]


def test_an_opinion_is_a_members_own_once_while_open() -> None:
    s = convened()
    mine = {"member": "efficiency-office", "opinion": "consent"}
    assert why(s, conference, "conference.opinion_given", mine, OFFICE) is None
    assert why(s, conference, "conference.opinion_given", mine, PETITIONS) is (
        Reason.acts_for_other
    )
    stranger = {"member": "housing-office", "opinion": "consent"}
    assert why(s, conference, "conference.opinion_given", stranger, act("housing-office/X")) is (
        Reason.wrong_state
    )
    given = conference.evolve(s, "ledger.conference.opinion_given.v1", mine)
    assert why(given, conference, "conference.opinion_given", mine, OFFICE) is Reason.wrong_state
    assert why(ConferenceState(), conference, "conference.opinion_given", mine, OFFICE) is (
        Reason.wrong_state
    )


def test_the_opinion_deadline_is_this_conferences_once_before_the_decision() -> None:
    s = convened()
    t = "deadline.elapsed"
    d = {"deadline": "opinions", "unit": None, "due_at": DUE}
    assert why(s, conference, t, d, OFFICE) is None
    assert why(s, conference, t, d, act("efficiency-office/D001", at=micros(DUE) - 1)) is (
        Reason.too_early
    )
    assert why(s, conference, t, d, act("efficiency-office/D001", at=micros(DUE))) is None
    assert why(s, conference, t, {**d, "due_at": "2026-08-01T00:00:00+08:00"}, OFFICE) is (
        Reason.wrong_state
    )
    assert why(s, conference, t, {**d, "deadline": "answer"}, OFFICE) is Reason.wrong_state
    assert why(ConferenceState(), conference, t, d, OFFICE) is Reason.wrong_state
    assert why(s, conference, t, d, act("unit:health-bureau/H1")) is Reason.wrong_actor
    e = conference.evolve(s, "ledger.deadline.elapsed.v1", d)
    assert e.opinions_elapsed and e.timers == (("", micros(DUE)),)
    assert why(e, conference, t, d, OFFICE) is Reason.duplicate_act


def test_a_decision_names_the_absent_and_the_true_tally() -> None:
    s = conference.evolve(
        convened(),
        "ledger.conference.opinion_given.v1",
        {"member": "efficiency-office", "opinion": "consent"},
    )
    d = SAMPLES["ledger.conference.decided.v1"]
    t = "conference.decided"
    assert why(s, conference, t, d, OFFICE) is Reason.too_early
    e = conference.evolve(
        s, "ledger.deadline.elapsed.v1", {"deadline": "opinions", "unit": None, "due_at": DUE}
    )
    assert why(e, conference, t, d, OFFICE) is None
    assert why(e, conference, t, {**d, "absent_deemed_consent": []}, OFFICE) is Reason.wrong_state
    bad = {**d, "tally": {"consent": 2, "object": 0, "abstain": 0, "deemed_consent": 1}}
    assert why(e, conference, t, bad, OFFICE) is Reason.wrong_state
    done = conference.evolve(e, "ledger.conference.decided.v1", d)
    assert done.status == "decided" and done.deemed_consent == ("petitions-office",)
    assert why(done, conference, t, d, OFFICE) is Reason.wrong_state
    assert done.summary() == {
        "status": "decided",
        "cases": list(done.cases),
        "members": ["efficiency-office", "petitions-office"],
        "opinions": [["efficiency-office", "consent"]],
        "opinions_due": micros(DUE),
        "opinions_elapsed": True,
        "timers": [["", micros(DUE)]],
        "deemed_consent": ["petitions-office"],
        "convener": "efficiency-office",
        "rule": "majority",
    }


# ---- period -------------------------------------------------------------------------------


def test_a_period_publishes_versions_in_order() -> None:
    t = "period.figures_published"
    a = act("efficiency-office/V001", "period-2026-11")
    first = SAMPLES["ledger.period.figures_published.v1"]
    s0 = PeriodState()
    assert why(s0, period, t, first, a) is None
    assert why(s0, period, t, {**first, "period": "2026-10"}, a) is Reason.wrong_state
    assert why(s0, period, t, {**first, "version": 2}, a) is Reason.wrong_state
    assert why(s0, period, t, {**first, "replaces": 1}, a) is Reason.wrong_state
    assert why(s0, period, t, first, act("unit:u/H1", "period-2026-11")) is Reason.wrong_actor
    s1 = period.evolve(s0, "ledger.period.figures_published.v1", first)
    assert s1.version == 1 and s1.units == ("unit:health-bureau",)
    assert s1.figures_sha256 is not None and len(s1.figures_sha256) == 64
    fix = {**first, "version": 2, "replaces": 1, "reason": "更正"}
    assert why(s1, period, t, fix, a) is None
    assert why(s1, period, t, {**fix, "reason": ""}, a) is Reason.wrong_state
    assert why(s1, period, t, {**fix, "replaces": None}, a) is Reason.wrong_state
    assert why(s1, period, t, {**fix, "replaces": 2}, a) is Reason.wrong_state
    assert why(s1, period, t, first, a) is Reason.wrong_state
    units = [*fix["units"], {**fix["units"][0], "unit": "unit:a-bureau"}]
    s2 = period.evolve(s1, "ledger.period.figures_published.v1", {**fix, "units": units})
    assert s2.version == 2 and s2.units == ("unit:a-bureau", "unit:health-bureau")
    assert s2.figures_sha256 != s1.figures_sha256
    assert s2.summary() == {
        "version": 2,
        "units": ["unit:a-bureau", "unit:health-bureau"],
        "figures": s2.figures_sha256,
    }
    same = period.evolve(s0, "ledger.period.figures_published.v1", first)
    assert same == s1  # the digest is of the figures alone
