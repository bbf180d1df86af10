"""Oversight's decisions, each as a pair: the workbench's acts for the unit and the
supervisor's closure, accepted (and the rule book agrees) or refused with the reason."""

from __future__ import annotations

import pytest

from services.oversight import commands
from shared.rules.case import ASSIGNED, CLAIMED, RECEIVED, RESOLVED, CaseState
from shared.web.command_path import Refusal
from tests.unit.service_decide_support import DUE, PSEUDONYM, UNIT, judged, lead, stream

HANDLER = f"{UNIT}/H001"
SUPERVISOR = "efficiency-office/S001"
WORKING = CaseState(status=ASSIGNED, unit="x", clocks=(lead(),), complaints=(("TS1", PSEUDONYM),))
CLOSE = commands.CloseCase(
    basis="complainant_confirmed", finding="substantiated", confidential=False
)


def test_the_unit_signs_for_replies_and_claims() -> None:
    for drafts in (
        commands.acknowledge(stream(WORKING), UNIT, HANDLER),
        commands.reply(stream(WORKING), UNIT, commands.Reply(text="已处理。"), HANDLER),
        commands.claim_resolution(
            stream(WORKING), UNIT, commands.ClaimResolution(summary="已解决。"), HANDLER, DUE
        ),
    ):
        [draft] = drafts
        assert draft.data["unit"] == UNIT and draft.actor == HANDLER
        assert judged(WORKING, draft) is None


def test_a_lead_claim_with_a_complainant_names_the_answer_deadline() -> None:
    cmd = commands.ClaimResolution(summary="已解决。")
    [asked] = commands.claim_resolution(stream(WORKING), UNIT, cmd, HANDLER, DUE)
    assert asked.data["answer_due_at"] == DUE
    anonymous = WORKING._replace(complaints=(("TS1", None),))
    [decided] = commands.claim_resolution(stream(anonymous), UNIT, cmd, HANDLER, DUE)
    assert "answer_due_at" not in decided.data


@pytest.mark.parametrize(
    ("case", "unit", "reason"),
    [
        (WORKING, "unit:other", "not_assigned"),
        (WORKING._replace(status=RECEIVED, clocks=()), UNIT, "not_assigned"),
        (WORKING._replace(status=RESOLVED), UNIT, "wrong_state"),
    ],
)
def test_workbench_acts_refuse(case: CaseState, unit: str, reason: str) -> None:
    with pytest.raises(Refusal) as refused:
        commands.acknowledge(stream(case), unit, f"{unit}/H001")
    assert refused.value.reason == reason


def test_claim_refuses_a_second_claim() -> None:
    claimed = WORKING._replace(status=CLAIMED, clocks=(lead(completed=True),))
    with pytest.raises(Refusal) as refused:
        commands.claim_resolution(
            stream(claimed), UNIT, commands.ClaimResolution(summary="再报。"), HANDLER, DUE
        )
    assert refused.value.reason == "part_done"


def test_the_supervisor_closes_a_confirmed_case_with_a_finding() -> None:
    resolved = WORKING._replace(status=RESOLVED)
    [draft] = commands.close(stream(resolved), CLOSE, SUPERVISOR)
    assert draft.data["finding"] == "substantiated" and judged(resolved, draft) is None


def test_the_supervisor_decides_an_anonymous_claimed_case() -> None:
    anonymous = WORKING._replace(status=CLAIMED, complaints=(("TS1", None),))
    cmd = CLOSE.model_copy(update={"basis": "anonymous", "finding": "unsubstantiated"})
    [draft] = commands.close(stream(anonymous), cmd, SUPERVISOR)
    assert judged(anonymous, draft) is None


@pytest.mark.parametrize(
    ("case", "basis", "reason"),
    [
        (WORKING._replace(status=CLAIMED), "complainant_confirmed", "not_confirmed"),
        (WORKING, "anonymous", "wrong_state"),
        (WORKING._replace(status=CLAIMED), "no_answer_in_time", "complainant_askable"),
        (
            WORKING._replace(status=CLAIMED, answer_elapsed=True),
            "anonymous",
            "has_complainant",
        ),
        (
            WORKING._replace(status=CLAIMED, complaints=(("TS1", None),)),
            "inspection_opened",
            "not_inspection",
        ),
    ],
)
def test_close_refuses(case: CaseState, basis: str, reason: str) -> None:
    with pytest.raises(Refusal) as refused:
        commands.close(stream(case), CLOSE.model_copy(update={"basis": basis}), SUPERVISOR)
    assert refused.value.reason == reason
