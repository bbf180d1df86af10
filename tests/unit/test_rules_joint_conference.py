"""The joint conference's rule book, scenario by scenario, on signed histories: 缺席默认 named,
a non-member's and a second opinion refused, a decision before the deadline refused unless all
have spoken, a tally or an outcome that contradicts the stream refused, only the convener
decides, notes explain an opinion without changing it, and the ruling on a case concerned."""

from __future__ import annotations

from typing import Any

from shared.rules import case, conference
from shared.rules.conference import ConferenceState, outcome
from shared.rules.verdict import Reason
from tests.samples import DUE, HANDLER, OPENED, SAMPLES, Judge, MemoryLedger, step
from tests.unit.test_rules_conference_period_states import OFFICE, PETITIONS, act, convened, why

L = MemoryLedger(partitions=3)
J = Judge(L)
CONF = "conf-00000000-0000-4000-8000-0000000000ab"
THEIRS_ACTOR = "petitions-office/P001"
CONVENED = step("ledger.conference.convened.v1")
OURS = step("ledger.conference.opinion_given.v1", note="同意并联办理")
THEIRS = step(
    "ledger.conference.opinion_given.v1",
    THEIRS_ACTOR,
    "petitions",
    member="petitions-office",
    opinion="object",
    note="应由区级先行处理",
)
ELAPSED = step("ledger.deadline.elapsed.v1", deadline="opinions", unit=None, due_at=DUE)
DECIDED = step("ledger.conference.decided.v1")  # petitions-office absent, deemed consenting


def decided(**data: Any) -> Any:
    return step("ledger.conference.decided.v1", **data)


def test_an_absent_member_is_deemed_consenting_and_named() -> None:
    st = J.accepted([CONVENED, OURS, ELAPSED, DECIDED], CONF)
    assert st.status == "decided" and st.deemed_consent == ("petitions-office",)
    # the absent member left out of the names, or a present one named, is refused
    J.refused(
        [CONVENED, OURS, ELAPSED, decided(absent_deemed_consent=[])], Reason.wrong_state, CONF
    )
    named_wrongly = decided(absent_deemed_consent=["efficiency-office"])
    J.refused([CONVENED, OURS, ELAPSED, named_wrongly], Reason.wrong_state, CONF)


def test_a_non_members_opinion_is_refused() -> None:
    stranger = step(
        "ledger.conference.opinion_given.v1", THEIRS_ACTOR, "petitions", member="petitions-office"
    )
    alone = step("ledger.conference.convened.v1", members=["efficiency-office"])
    J.refused([alone, stranger], Reason.wrong_state, CONF)
    # a member's opinion given by another body's officer is refused too
    forged = step("ledger.conference.opinion_given.v1", member="petitions-office")
    J.refused([CONVENED, forged], Reason.acts_for_other, CONF)


def test_a_second_opinion_by_the_same_member_is_refused_and_a_note_explains_it() -> None:
    changed = step("ledger.conference.opinion_given.v1", opinion="object")
    J.refused([CONVENED, OURS, changed], Reason.wrong_state, CONF)
    note = step("ledger.conference.opinion_noted.v1", note="同意意见以区级先行核实为前提")
    st = J.accepted([CONVENED, OURS, note, note._replace(data={"note": "再补充"})], CONF)
    assert st.opinions == (("efficiency-office", "consent"),)  # a note changes nothing
    J.refused([CONVENED, note], Reason.wrong_state, CONF)  # nothing to explain yet
    theirs_noted = step("ledger.conference.opinion_noted.v1", member="petitions-office")
    J.refused([CONVENED, OURS, THEIRS, theirs_noted], Reason.acts_for_other, CONF)
    J.accepted([CONVENED, OURS, ELAPSED, DECIDED, note], CONF)  # explained after the decision


def test_a_decision_before_the_deadline_is_refused_unless_all_have_spoken() -> None:
    J.refused([CONVENED, OURS, DECIDED], Reason.too_early, CONF)
    all_in = decided(
        absent_deemed_consent=[],
        tally={"consent": 1, "object": 1, "abstain": 0, "deemed_consent": 0},
        outcome="rejected",  # 1 of 2 is not more than half
    )
    st = J.accepted([CONVENED, OURS, THEIRS, all_in], CONF)
    assert st.status == "decided" and st.deemed_consent == ()
    J.refused([CONVENED, OURS, THEIRS, all_in, THEIRS], Reason.wrong_state, CONF)


def test_a_tally_or_outcome_that_contradicts_the_stream_is_refused() -> None:
    wrong_tally = decided(tally={"consent": 2, "object": 0, "abstain": 0, "deemed_consent": 0})
    J.refused([CONVENED, OURS, ELAPSED, wrong_tally], Reason.wrong_state, CONF)
    wrong_outcome = decided(outcome="rejected")  # 1 consent + 1 deemed of 2 is a majority
    J.refused([CONVENED, OURS, ELAPSED, wrong_outcome], Reason.wrong_state, CONF)
    unanimous = step("ledger.conference.convened.v1", rule="unanimous")
    J.accepted([unanimous, OURS, ELAPSED, DECIDED], CONF)  # deemed consent counts
    objected = decided(
        absent_deemed_consent=[],
        tally={"consent": 1, "object": 1, "abstain": 0, "deemed_consent": 0},
        outcome="adopted",
    )
    J.refused([unanimous, OURS, THEIRS, objected], Reason.wrong_state, CONF)


def test_only_the_convening_body_convenes_in_its_name_and_decides() -> None:
    J.refused(
        [step("ledger.conference.convened.v1", convener="petitions-office")],
        Reason.acts_for_other,
        CONF,
    )
    unit = act(HANDLER)
    convening = SAMPLES["ledger.conference.convened.v1"]
    assert why(ConferenceState(), conference, "conference.convened", convening, unit) is (
        Reason.wrong_actor
    )
    # a member body's deployment has no right to decide; its officer is not the convener
    by_member = DECIDED._replace(actor=THEIRS_ACTOR, signer="petitions")
    J.refused([CONVENED, OURS, ELAPSED, by_member], Reason.no_right, CONF)
    s = conference.evolve(
        convened(),
        "ledger.deadline.elapsed.v1",
        {"deadline": "opinions", "unit": None, "due_at": DUE},
    )
    d = {
        **SAMPLES["ledger.conference.decided.v1"],
        "absent_deemed_consent": ["efficiency-office", "petitions-office"],
    }
    d["tally"] = {"consent": 0, "object": 0, "abstain": 0, "deemed_consent": 2}
    assert why(s, conference, "conference.decided", d, PETITIONS) is Reason.wrong_actor
    assert why(s, conference, "conference.decided", d, OFFICE) is None


def test_outcomes_under_each_rule() -> None:
    def t(consent: int, obj: int, abstain: int, deemed: int) -> dict[str, int]:
        return {"consent": consent, "object": obj, "abstain": abstain, "deemed_consent": deemed}

    assert outcome("majority", t(2, 2, 0, 0), 4) == "rejected"  # half is not a majority
    assert outcome("majority", t(2, 1, 0, 1), 4) == "adopted"
    assert outcome("two_thirds", t(1, 1, 0, 1), 3) == "adopted"
    assert outcome("two_thirds", t(1, 1, 1, 0), 3) == "rejected"
    assert outcome("unanimous", t(2, 0, 0, 1), 3) == "adopted"
    assert outcome("unanimous", t(2, 0, 1, 0), 3) == "rejected"  # an abstention is no consent
    assert ConferenceState().rule == "majority"


def test_the_ruling_on_a_case_concerned_needs_the_case_and_a_bodys_staff() -> None:
    ruled = step("ledger.dispatch.conference_ruled.v1")
    st = J.accepted([*OPENED, ruled])
    assert st.status == "received"  # it moves no clock
    J.refused([ruled], Reason.wrong_state)
    received = SAMPLES["ledger.complaint.received.v1"]
    opened = case.evolve(case.CaseState(), "ledger.complaint.received.v1", received)
    d = SAMPLES["ledger.dispatch.conference_ruled.v1"]
    t = "dispatch.conference_ruled"
    assert why(opened, case, t, d, act(HANDLER, "case-x")) is Reason.wrong_actor
    assert why(opened, case, t, d, OFFICE) is None
