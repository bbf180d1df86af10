"""Intake's normalisation rules, pure: the respondent unit resolved against the unit directory
(ids, names, aliases, a clear fuzzy match; anything else unresolved, never guessed), the
category suggested by keywords, out-of-scope matters flagged with the channel to name, the
receiving body checked against the directory and the deployment; and the rule book's own
checks of the events they lead to, each accepted where its condition holds and refused where
it does not."""

from __future__ import annotations

import dataclasses
import json

import pytest

from services.intake import category, commands, respondent, scope
from services.intake.receiving import NotOurBody, receiving_body
from shared.events.catalog import BodyDirectory, UnitDirectory
from shared.rules.case import RECEIVED, CaseState
from shared.rules.case.complaint import UNRESOLVED_UNIT
from shared.web.command_path import Refusal
from tests.conftest import REPO
from tests.unit.service_decide_support import judged, stream

UNITS = UnitDirectory.model_validate(
    json.loads((REPO / "deploy/config/unit_directory.json").read_text(encoding="utf-8"))
)
BODIES = BodyDirectory.model_validate(
    json.loads((REPO / "deploy/config/body_directory.json").read_text(encoding="utf-8"))
)
CLERK = "efficiency-office/C001"


@pytest.mark.parametrize(
    ("stated", "unit", "how"),
    [
        ("unit:education-bureau", "unit:education-bureau", "id"),
        ("education-bureau", "unit:education-bureau", "id"),
        ("市卫生健康局", "unit:health-bureau", "name"),
        ("卫生健康局", "unit:health-bureau", "name"),  # without 市
        (" 市 卫生 健康局。", "unit:health-bureau", "name"),  # spaces and punctuation
        ("市卫健委！", "unit:health-bureau", "alias"),
        ("ｕｎｉｔ：ｅｄｕｃａｔｉｏｎ－ｂｕｒｅａｕ", None, "unresolved"),  # ids are typed as ids
        ("市卫健委", "unit:health-bureau", "alias"),
        ("市卫生建康局", "unit:health-bureau", "fuzzy"),  # a misspelling
        ("市住房和城乡建投局", "unit:housing-bureau", "fuzzy"),
        ("那个管停车的办公室", None, "unresolved"),
        ("市局", None, "unresolved"),  # too many alike: never a guess
        ("", None, "unresolved"),
    ],
)
def test_units_resolve_only_when_sure(stated: str, unit: str | None, how: str) -> None:
    found = respondent.resolve(stated, UNITS)
    assert found.how == how
    assert found.unit == (unit or UNRESOLVED_UNIT)
    assert found.resolved == (unit is not None)
    if unit is None and stated:
        assert len(found.candidates) == respondent.CANDIDATES
        scores = [c.score for c in found.candidates]
        assert scores == sorted(scores, reverse=True)


def test_a_fuzzy_match_needs_a_margin_over_the_next_unit() -> None:
    twins = UnitDirectory.model_validate(
        {
            "units": [
                {
                    "id": "unit:a",
                    "name": "市一号服务中心",
                    "level": "municipal",
                    "supervised_by": "x",
                },
                {
                    "id": "unit:b",
                    "name": "市二号服务中心",
                    "level": "municipal",
                    "supervised_by": "x",
                },
            ]
        }
    )
    assert not respondent.resolve("市三号服务中心", twins).resolved


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("办证审批拖延了三个月", "approval_delay"),
        ("窗口人员上班时间玩手机", "work_discipline"),
        ("工作人员态度恶劣", "service_attitude"),
        ("反映多次没人管", "inaction"),
        ("违规收费乱罚款", "arbitrary_action"),
        ("几个部门踢皮球，推来推去", "buck_passing"),
        ("答复敷衍，答非所问", "perfunctory_reply"),
        ("今天天气很好", "other"),
    ],
)
def test_categories_are_suggested_from_keywords(text: str, code: str) -> None:
    assert category.suggest(text) == code
    assert category.label(code) == category.CATEGORIES[code]


def test_the_most_keywords_win_and_unknown_categories_show_as_written() -> None:
    assert category.suggest("审批拖延，窗口推诿扯皮踢皮球") == "buck_passing"
    assert category.label("窗口服务") == "窗口服务"


def test_out_of_scope_matters_are_flagged_with_the_channel_to_name() -> None:
    assert scope.flag("我已向法院起诉") == "litigation"
    assert scope.flag("被人诈骗了") == "criminal"
    assert scope.flag("窗口办事慢") is None
    assert "人民法院" in scope.KINDS["litigation"].reason
    assert "公安机关" in scope.KINDS["criminal"].reason


def test_the_receiving_body_is_ours_and_in_the_directory() -> None:
    ours = {"efficiency-office"}.__contains__
    assert receiving_body("efficiency-office", BODIES, ours) == "XNB"
    assert receiving_body("efficiency-office", None, ours) is None
    with pytest.raises(NotOurBody) as refused:
        receiving_body("petitions-office", BODIES, ours)
    assert refused.value.code == "not_acted_for"
    for body in ("complainant", "unit:health-bureau"):  # never a body, whatever acts_for says
        with pytest.raises(NotOurBody) as refused:
            receiving_body(body, BODIES, lambda b: True)
        assert refused.value.code == "not_acted_for"
    with pytest.raises(NotOurBody) as unknown:
        receiving_body("ghost-office", BODIES, lambda b: True)
    assert unknown.value.code == "unknown_body"


def test_body_codes_are_unique_in_the_directory() -> None:
    doubled = BODIES.model_dump()
    doubled["bodies"][1]["code"] = doubled["bodies"][0]["code"]
    with pytest.raises(ValueError):
        BodyDirectory.model_validate(doubled)


def test_complaint_numbers_carry_the_body_code() -> None:
    s = "case-0192f0c4-7a1b-7c2d-8e3f-405162738495"
    assert commands.complaint_no(s, "XNB") == "TSXNB-0192F0C47A1B"
    assert commands.complaint_no(s) == "TS0192F0C47A1B"


RECEIPT = commands.ReceiveComplaint(
    channel="visit",
    unit=UNRESOLVED_UNIT,
    category="other",
    text="窗口无人。",
    received_by="efficiency-office",
    body_code="XNB",
    stated_received_at="2026-12-01T09:00:00+08:00",
)


def test_receipt_names_the_body_and_the_stated_time_and_the_rule_book_agrees() -> None:
    [draft] = commands.receive(stream(CaseState(), 0), RECEIPT, CLERK, "f" * 64)
    assert draft.data["received_by"] == "efficiency-office"
    assert draft.data["stated_received_at"] == "2026-12-01T09:00:00+08:00"
    assert draft.data["complaint_no"].startswith("TSXNB-")
    assert judged(CaseState(), draft) is None


def test_the_rule_book_refuses_a_receipt_for_a_body_the_deployment_does_not_act_for() -> None:
    for other in ("petitions-office", "complainant", "unit:health-bureau"):
        body = RECEIPT.model_copy(update={"received_by": other})
        [draft] = commands.receive(stream(CaseState(), 0), body, CLERK, "f" * 64)
        assert judged(CaseState(), draft) == "acts_for_other"


def test_an_unresolved_unit_is_resolved_once_by_a_body() -> None:
    waiting = CaseState(status=RECEIVED, unit=UNRESOLVED_UNIT)
    [draft] = commands.resolve_unit(stream(waiting), "unit:health-bureau", CLERK)
    assert judged(waiting, draft) is None
    done = waiting._replace(unit="unit:health-bureau")
    with pytest.raises(Refusal) as again:
        commands.resolve_unit(stream(done), "unit:civil-affairs", CLERK)
    assert again.value.reason == "unit_already_resolved"
    assert judged(done, draft) == "wrong_state"  # the rule book too
    draft_by_unit = dataclasses.replace(draft, actor="unit:health-bureau/U1")
    assert judged(waiting, draft_by_unit) == "wrong_actor"


def test_recategorise_decline_and_withdraw_follow_the_case_state() -> None:
    open_case = CaseState(status=RECEIVED, unit="unit:x", complaints=(("TS1", None),))
    [recat] = commands.recategorise(stream(open_case), "buck_passing", CLERK)
    assert judged(open_case, recat) is None
    assert judged(open_case._replace(status="closed"), recat) == "wrong_state"
    [declined] = commands.decline(stream(open_case), "litigation", "r", CLERK)
    assert judged(open_case, declined) is None
    with pytest.raises(Refusal):
        commands.decline(stream(open_case._replace(status="assigned")), "litigation", "r", CLERK)
    reason = commands.WithdrawReason.solved_otherwise
    [withdrawn] = commands.withdraw(stream(open_case), "TS1", reason, CLERK)
    assert judged(open_case, withdrawn) is None
    with pytest.raises(Refusal) as stranger:
        commands.withdraw(stream(open_case), "TS2", reason, CLERK)
    assert stranger.value.reason == "not_complainant"
    with pytest.raises(Refusal) as ended:
        commands.withdraw(stream(open_case._replace(status="withdrawn")), "TS1", reason, CLERK)
    assert ended.value.reason == "not_open"
