"""Appeals (申诉复核), pure: the rule book's rows for ``appeal.filed`` and ``appeal.ruled`` on
signed histories (each refusal with its reason, beside the same act accepted), and the
oversight decisions that refuse earlier in words a page shows, whose drafts the rule book
accepts."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from services.oversight import appeals
from shared.events.catalog import AppealOutcome, AppealTarget
from shared.rules.case import CaseState
from shared.rules.verdict import Reason
from shared.web.command_path import Refusal
from tests.samples import (
    ASSIGNED,
    CLAIMED,
    CO_UNIT,
    HANDLER,
    SUPERVISOR,
    UNIT,
    Judge,
    MemoryLedger,
    Signed,
    Step,
    new_case,
    step,
)
from tests.unit.service_decide_support import judged, lead, stream

L = MemoryLedger(partitions=3)
J = Judge(L)
CO_HANDLER = f"{CO_UNIT}/H002"
APPEAL = "00000000-0000-4000-8000-0000000000a1"


def S(event_type: str, actor: str | None = None, **data):  # type: ignore[no-untyped-def]
    return step(f"ledger.{event_type}.v1", actor, **data)


class History:
    """A case signed step by step, so that an appeal can name an event's own id."""

    def __init__(self, steps: list[Step]) -> None:
        self.stream = new_case()
        self.signed: list[Signed] = []
        self.keep(*steps)

    def _sign(self, steps: list[Step]) -> list[Signed]:
        head = self.signed[-1].hash if self.signed else None
        return J.sign(self.stream, steps, head=head)

    def _judge(self, signed: list[Signed]) -> tuple[list[Reason], CaseState]:
        verdicts, fold = J.run([(self.stream, s.record) for s in signed])
        return [v.reason for v in verdicts], fold.streams[self.stream].domain

    def keep(self, *steps: Step) -> str:
        """Sign and keep the steps (each accepted); the last one's event id."""
        signed = self.signed + self._sign(list(steps))
        reasons, _ = self._judge(signed)
        assert reasons == [Reason.ok] * len(signed), reasons
        self.signed = signed
        return signed[-1].id

    def verdict(self, one: Step) -> Reason:
        """The rule book's reason for one more step, which is not kept."""
        reasons, _ = self._judge(self.signed + self._sign([one]))
        return reasons[-1]

    @property
    def state(self) -> CaseState:
        return self._judge(self.signed)[1]


def filed(target: str, event: str, actor: str = HANDLER, unit: str = UNIT, **more: str) -> Step:
    data = {"appeal_id": APPEAL, "target": target, "target_event": event, "unit": unit}
    return S("appeal.filed", actor, **(data | more))


def ruled(
    target: str, event: str, outcome: str = "upheld", actor: str = SUPERVISOR, **more: str
) -> Step:
    data = {"appeal_id": APPEAL, "target": target, "target_event": event, "unit": UNIT}
    return S("appeal.ruled", actor, outcome=outcome, **(data | more))


def with_penalty() -> tuple[History, str]:
    h = History(ASSIGNED)
    return h, h.keep(S("penalty.imposed"))


def with_deemed_done() -> tuple[History, str]:
    h = History(ASSIGNED)
    h.keep(S("deadline.elapsed", unit=CO_UNIT))
    return h, h.keep(S("dispatch.deemed_done", unit=CO_UNIT))


def with_reopen() -> tuple[History, str]:
    h = History(CLAIMED)
    return h, h.keep(S("complainant.disputed"), S("handling.reopened"))


def with_flag() -> tuple[History, str]:
    h = History(ASSIGNED)
    return h, h.keep(S("dispatch.buck_passing_flagged", pattern="returned_twice"))


# ---- the rule book ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "history", "appellant", "unit"),
    [
        ("penalty", with_penalty, HANDLER, UNIT),
        ("deemed_done", with_deemed_done, CO_HANDLER, CO_UNIT),
        ("reopen", with_reopen, CO_HANDLER, CO_UNIT),
        ("buck_passing", with_flag, HANDLER, UNIT),
    ],
)
def test_the_affected_unit_appeals_once_and_a_supervisor_rules(
    kind: str, history: Callable[[], tuple[History, str]], appellant: str, unit: str
) -> None:
    h, target = history()
    h.keep(filed(kind, target, appellant, unit))
    assert h.state.appeals == ((APPEAL, target, unit, "pending"),)
    again = filed(kind, target, appellant, unit, appeal_id="00000000-0000-4000-8000-0000000000a2")
    assert h.verdict(again) is Reason.duplicate_act  # once per event and unit
    assert h.verdict(ruled(kind, target, unit=unit, actor=HANDLER)) is Reason.wrong_actor
    h.keep(ruled(kind, target, unit=unit))
    assert h.state.appeals == ((APPEAL, target, unit, "upheld"),)
    assert h.verdict(ruled(kind, target, "rejected", unit=unit)) is Reason.wrong_state  # ruled
    assert h.verdict(again) is Reason.duplicate_act  # not again after the ruling either


def test_only_the_unit_it_counts_against_files_in_its_own_name() -> None:
    h, deemed = with_deemed_done()  # the co-unit's
    assert h.verdict(filed("deemed_done", deemed)) is Reason.acts_for_other  # not the lead's
    as_other = filed("deemed_done", deemed, HANDLER, CO_UNIT)  # unit A in unit B's name
    assert h.verdict(as_other) is Reason.acts_for_other
    by_body = filed("deemed_done", deemed, SUPERVISOR, CO_UNIT)
    assert h.verdict(by_body) is Reason.wrong_actor
    assert h.verdict(filed("deemed_done", deemed, CO_HANDLER, CO_UNIT)) is Reason.ok


def test_the_target_exists_on_the_case_as_the_kind_named() -> None:
    h, penalty = with_penalty()
    assert h.verdict(filed("deemed_done", penalty)) is Reason.wrong_state  # not that kind
    unknown = "00000000-0000-4000-8000-00000000dead"
    assert h.verdict(filed("penalty", unknown)) is Reason.wrong_state
    _, other = with_penalty()  # another case's penalty
    assert h.verdict(filed("penalty", other)) is Reason.wrong_state
    first = h.signed[0].id  # an event of the case no unit may appeal
    assert h.verdict(filed("penalty", first)) is Reason.wrong_state


def test_a_revoked_penalty_is_not_appealed() -> None:
    h, penalty = with_penalty()
    h.keep(S("penalty.revoked"))
    assert h.verdict(filed("penalty", penalty)) is Reason.wrong_state


def test_a_ruling_names_a_pending_appeal_repeats_it_and_gives_a_reason() -> None:
    h, flag = with_flag()
    assert h.verdict(ruled("buck_passing", flag)) is Reason.wrong_state  # nothing filed
    h.keep(filed("buck_passing", flag))
    assert h.verdict(ruled("buck_passing", flag, reason="  ")) is Reason.wrong_state
    assert h.verdict(ruled("buck_passing", flag, unit=CO_UNIT)) is Reason.wrong_state
    assert h.verdict(ruled("reopen", flag)) is Reason.wrong_state
    other = "00000000-0000-4000-8000-0000000000ff"
    assert h.verdict(ruled("buck_passing", flag, appeal_id=other)) is Reason.wrong_state
    h.keep(ruled("buck_passing", flag, "rejected"))
    assert h.state.appeals[0][3] == "rejected"


def test_the_events_a_unit_may_appeal_are_remembered_with_their_units() -> None:
    h, reopen = with_reopen()
    (entry,) = h.state.contestable
    assert entry == (reopen, "reopen", (UNIT, CO_UNIT), "")
    h = History(ASSIGNED)
    flag = h.keep(
        S("dispatch.buck_passing_flagged", pattern="returned_twice", units=[UNIT, CO_UNIT, UNIT])
    )
    assert h.state.contestable == ((flag, "buck_passing", (UNIT, CO_UNIT), ""),)


# ---- oversight's decisions -------------------------------------------------------------------

PENALTY_EVENT = "00000000-0000-4000-8000-0000000000e1"
FLAG_EVENT = "00000000-0000-4000-8000-0000000000e2"
CASE = CaseState(
    status="assigned",
    unit=UNIT,
    clocks=(lead(),),
    penalties=("P1",),
    contestable=(
        (PENALTY_EVENT, "penalty", (UNIT,), "P1"),
        (FLAG_EVENT, "buck_passing", ("unit:other",), ""),
    ),
)
UNIT_ACTOR = f"{UNIT}/H001"


def file_cmd(target: str = "penalty", event: str = PENALTY_EVENT) -> appeals.FileAppeal:
    return appeals.FileAppeal(target=AppealTarget(target), target_event=event, reasons=" 系统故障 ")


def test_filing_refuses_what_the_rule_book_would() -> None:
    (draft,) = appeals.file(stream(CASE), UNIT, file_cmd(), APPEAL, UNIT_ACTOR)
    assert judged(CASE, draft) is None
    assert draft.data["reasons"] == "系统故障" and draft.data["unit"] == UNIT
    refusals = [
        (CASE, file_cmd("deemed_done"), "no_such_target"),
        (CASE, file_cmd(event="00000000-0000-4000-8000-000000000000"), "no_such_target"),
        (CASE, file_cmd("buck_passing", FLAG_EVENT), "not_against_unit"),
        (CASE._replace(penalties=()), file_cmd(), "penalty_revoked"),
        (
            CASE._replace(appeals=((APPEAL, PENALTY_EVENT, UNIT, "rejected"),)),
            file_cmd(),
            "already_appealed",
        ),
        (CaseState(), file_cmd(), "unknown_case"),
    ]
    for case, cmd, reason in refusals:
        with pytest.raises(Refusal) as refused:
            appeals.file(stream(case), UNIT, cmd, APPEAL, UNIT_ACTOR)
        assert refused.value.reason == reason


def test_blank_reasons_are_bad_input() -> None:
    with pytest.raises(ValueError):
        appeals.FileAppeal(target=AppealTarget.penalty, target_event=PENALTY_EVENT, reasons="  ")
    with pytest.raises(ValueError):
        appeals.RuleAppeal(outcome=AppealOutcome.rejected, reason="\n")


def test_upholding_a_penalty_appeal_revokes_the_penalty_with_the_ruling() -> None:
    pending = CASE._replace(appeals=((APPEAL, PENALTY_EVENT, UNIT, "pending"),))
    upheld = appeals.RuleAppeal(outcome=AppealOutcome.upheld, reason="经核实属系统故障")
    ruling, revoked = appeals.rule(stream(pending), APPEAL, upheld, SUPERVISOR)
    assert judged(pending, ruling) is None
    assert ruling.data == {
        "appeal_id": APPEAL,
        "outcome": "upheld",
        "reason": "经核实属系统故障",
        "target": "penalty",
        "target_event": PENALTY_EVENT,
        "unit": UNIT,
    }
    assert revoked.type == appeals.REVOKED and revoked.data["penalty_id"] == "P1"
    assert judged(pending, revoked) is None
    rejected = appeals.RuleAppeal(outcome=AppealOutcome.rejected, reason="理由不成立")
    (only,) = appeals.rule(stream(pending), APPEAL, rejected, SUPERVISOR)
    assert only.type == appeals.RULED


def test_a_ruling_needs_a_pending_appeal() -> None:
    cmd = appeals.RuleAppeal(outcome=AppealOutcome.upheld, reason="x")
    done = CASE._replace(appeals=((APPEAL, PENALTY_EVENT, UNIT, "upheld"),))
    for case in (CASE, done):
        with pytest.raises(Refusal) as refused:
            appeals.rule(stream(case), APPEAL, cmd, SUPERVISOR)
        assert refused.value.reason == "no_such_appeal"


def test_what_the_unit_may_appeal_leaves_out_others_and_revoked_penalties() -> None:
    assert [a.target_event for a in appeals.appealable(CASE, UNIT)] == [PENALTY_EVENT]
    assert appeals.appealable(CASE._replace(penalties=()), UNIT) == []
    assert [a.target for a in appeals.appealable(CASE, "unit:other")] == ["buck_passing"]


def test_the_register_keeps_each_appeal_and_its_ruling() -> None:
    from shared.readside.projection import Accepted

    reg = appeals.AppealRegister()
    data = {"appeal_id": APPEAL, "target": "penalty", "target_event": PENALTY_EVENT, "unit": UNIT}
    f = Accepted(
        "case-x", 0, 1, 10, "e", appeals.FILED, UNIT_ACTOR, "/s", data | {"reasons": "r"}, {}
    )
    writes = reg.apply(None, f)
    assert writes[0].doc["status"] == "pending" and writes[0].doc["filed_by"] == UNIT_ACTOR
    r = Accepted(
        "case-x",
        0,
        2,
        20,
        "e2",
        appeals.RULED,
        SUPERVISOR,
        "/s",
        data | {"outcome": "rejected", "reason": "不成立"},
        {},
    )
    (appeal, per_case) = reg.apply(dict(writes[1].doc), r)
    assert appeal.doc["status"] == "rejected" and appeal.doc["ruled_by"] == SUPERVISOR
    assert appeal.doc["reasons"] == "r" and per_case.doc["appeals"][APPEAL] == appeal.doc
    assert reg.apply(None, r) == []  # a ruling without its filing: nothing to rewrite
