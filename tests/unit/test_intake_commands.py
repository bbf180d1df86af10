"""Intake's decisions, each as a pair: accepted (and the rule book agrees), refused with its
reason; plus the tracking code and the pseudonym they rely on."""

from __future__ import annotations

import pytest

from services.intake import commands, tracking_code
from services.intake.pseudonym import pseudonym
from shared.rules.case import ASSIGNED, CLAIMED, NEW, RECEIVED, CaseState
from shared.web.command_path import Refusal
from shared.web.service_secret import ServiceSecret
from tests.unit.service_decide_support import PSEUDONYM, STREAM, judged, lead, stream

COMPLAINT = commands.ReceiveComplaint(
    channel="web_form", unit="city-housing-bureau", category="窗口服务", text="窗口无人。"
)
CLERK = "efficiency-office/C001"
RECEIVED_CASE = CaseState(status=RECEIVED, unit="city-housing-bureau")
CLAIMED_CASE = CaseState(
    status=CLAIMED, unit="x", clocks=(lead(completed=True),), complaints=(("TS1", PSEUDONYM),)
)


def test_receive_opens_a_case_with_the_pseudonym_and_the_code_hash_only() -> None:
    [draft] = commands.receive(stream(CaseState(), 0), COMPLAINT, CLERK, "f" * 64, PSEUDONYM)
    assert draft.data["complaint_no"] == commands.complaint_no(STREAM)
    assert draft.data["complainant"] == PSEUDONYM and draft.data["tracking_code_hash"] == "f" * 64
    assert judged(CaseState(), draft) is None


def test_receive_refuses_a_second_receipt_and_an_unnamed_platform() -> None:
    with pytest.raises(Refusal) as again:
        commands.receive(stream(RECEIVED_CASE), COMPLAINT, CLERK, "f" * 64)
    assert again.value.reason == "already_received"
    online = COMPLAINT.model_copy(update={"channel": "online_platform"})
    with pytest.raises(Refusal) as unnamed:
        commands.receive(stream(CaseState(), 0), online, CLERK, "f" * 64)
    assert unnamed.value.reason == "platform_mismatch"


def test_screen_by_hand_makes_the_case_assignable() -> None:
    [draft] = commands.screen(stream(RECEIVED_CASE), commands.ScreenComplaint(outcome="new"), CLERK)
    assert draft.data["method"] == "manual"
    assert judged(RECEIVED_CASE, draft) is None


@pytest.mark.parametrize(
    ("case", "cmd", "reason"),
    [
        (CaseState(status=NEW), {"outcome": "new"}, "unknown_case"),
        (RECEIVED_CASE._replace(screened=True), {"outcome": "new"}, "already_screened"),
        (CaseState(status=ASSIGNED), {"outcome": "new"}, "wrong_state"),
        (RECEIVED_CASE, {"outcome": "duplicate"}, "related_case_mismatch"),
        (RECEIVED_CASE, {"outcome": "new", "related_case": STREAM}, "related_case_mismatch"),
        (RECEIVED_CASE, {"outcome": "duplicate", "related_case": STREAM}, "self_related"),
    ],
)
def test_screen_refuses(case: CaseState, cmd: dict[str, str], reason: str) -> None:
    with pytest.raises(Refusal) as refused:
        commands.screen(stream(case), commands.ScreenComplaint.model_validate(cmd), CLERK)
    assert refused.value.reason == reason


def test_the_complainant_confirms_or_disputes_a_claimed_resolution() -> None:
    [ok] = commands.confirm(stream(CLAIMED_CASE), "TS1", PSEUDONYM)
    assert ok.actor == f"complainant/{PSEUDONYM}" and judged(CLAIMED_CASE, ok) is None
    [no] = commands.dispute(
        stream(CLAIMED_CASE), "TS1", PSEUDONYM, commands.DisputeReason.no_contact
    )
    assert no.data["reason"] == "承办单位未与我联系" and judged(CLAIMED_CASE, no) is None


@pytest.mark.parametrize(
    ("case", "number", "who", "reason"),
    [
        (CLAIMED_CASE, "TS1", "cd" * 32, "not_complainant"),
        (CLAIMED_CASE, "TS2", PSEUDONYM, "not_complainant"),
        (CLAIMED_CASE._replace(complaints=(("TS1", None),)), "TS1", PSEUDONYM, "not_complainant"),
        (CLAIMED_CASE._replace(status=ASSIGNED), "TS1", PSEUDONYM, "not_claimed"),
    ],
)
def test_confirm_refuses(case: CaseState, number: str, who: str, reason: str) -> None:
    with pytest.raises(Refusal) as refused:
        commands.confirm(stream(case), number, who)
    assert refused.value.reason == reason


def test_a_tracking_code_reads_forgivingly_and_only_its_hash_is_kept() -> None:
    code = tracking_code.from_seed("seed-1")
    assert code == tracking_code.from_seed("seed-1") != tracking_code.from_seed("seed-2")
    shown = tracking_code.display(code)
    assert tracking_code.normalize(shown.lower()) == code
    assert tracking_code.normalize(shown.replace("-", " ")) == code
    assert tracking_code.normalize(code[:-1]) is None and tracking_code.normalize("U" * 16) is None
    assert tracking_code.normalize("O" * 16) == "0" * 16
    assert tracking_code.code_hash(code) != tracking_code.code_hash(tracking_code.from_seed("x"))


def test_a_pseudonym_is_keyed_and_stable_across_how_a_number_is_written() -> None:
    one, two = ServiceSecret(b"1" * 32), ServiceSecret(b"2" * 32)
    assert pseudonym(one, "138-1234 5678") == pseudonym(one, "13812345678")
    assert pseudonym(one, "13812345678") != pseudonym(two, "13812345678")
    assert "13812345678" not in pseudonym(one, "13812345678")
