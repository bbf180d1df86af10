"""The duplicate matcher, cross-level rule and the clerk's link and split decisions, pure."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from services.intake import commands
from services.intake.cross_level import flag, lower_first
from services.intake.duplicates import (
    Directory,
    Relation,
    Thresholds,
    best_match,
    confirm,
    is_candidate,
    normalised,
    profile,
)
from shared.events.catalog import ComplaintFlaggedCrossLevel, ComplaintLinkedAsDuplicate
from shared.rules.case import MERGED, RECEIVED, CaseState
from shared.web.command_path import Refusal
from tests.unit.service_decide_support import STREAM, judged, stream

DAY = 86_400_000_000
DIRECTORY = Directory(
    parents={"unit:street": "unit:district"},
    levels={"district-office": "district", "city-office": "municipal"},
)
T = Thresholds()
TEXT = "江北云山西路旁的小区北门，路灯坏了三个多月，晚上一片漆黑，街道办说会报修，一直没人来。"
OTHER = "小区北门外道路照明长期损坏，我母亲晚上散步摔伤了膝盖，街道说已经上报，三个月灯还是不亮。"
UNRELATED = "给孩子报的校外培训机构突然关门跑路，预付的学费退不回来，向教育局投诉一个月没有进展。"


def complaint(case: str, text: str, at: int, unit: str = "unit:street", body: str = "city-office"):  # type: ignore[no-untyped-def]
    data = {
        "text": text,
        "complaint_no": f"TS{case[-4:]}",
        "received_by": body,
        "unit": unit,
        "category": "基础设施",
        "channel": "web_form",
    }
    return profile(f"case-00000000-0000-4000-8000-00000000{case}", data, at)


def test_normalised_drops_placeholders_punctuation_and_width() -> None:
    assert normalised("【姓名1】反映：ＡＢ１２，路灯。") == "反映ab12路灯"


def test_the_keyword_cosine_uses_each_profiles_norm_as_made() -> None:
    a, b = complaint("0001", TEXT, 0), complaint("0002", OTHER, DAY)
    assert a.keywords_norm == math.sqrt(sum(w * w for w in a.keywords.values()))
    dot = sum(w * b.keywords.get(ch, 0) for ch, w in a.keywords.items())
    expected = dot / (a.keywords_norm * b.keywords_norm)
    assert confirm(b, a, DIRECTORY, T).keywords_permille == round(1000 * expected) > 0
    empty = replace(a, case="case-empty", keywords={})
    assert empty.keywords_norm == 0 and confirm(empty, a, DIRECTORY, T).keywords_permille == 0


def test_a_copy_shares_every_band_and_scores_the_top() -> None:
    a, b = complaint("0001", TEXT, 0), complaint("0002", "【姓名1】" + TEXT, DAY)
    assert a.bands == b.bands  # placeholders are not text
    edited = complaint("0003", "转来：" + TEXT, DAY)
    assert set(a.bands) & set(edited.bands)  # a forwarded copy is still a candidate
    f = confirm(b, a, DIRECTORY, T)
    assert f.similarity_permille >= 900 and f.unit_relation == "same" and f.days_apart == 1
    assert all(isinstance(v, int) for v in (f.keywords_permille, f.fuzz_permille))


def test_a_paraphrase_matches_an_unrelated_matter_does_not() -> None:
    first = complaint("0001", TEXT, 0)
    again = complaint("0002", OTHER, 3 * DAY, unit="unit:district")
    other = complaint("0003", UNRELATED, 2 * DAY)
    m = best_match(again, [first, other], DIRECTORY, T)
    assert m is not None and m.other is first
    assert m.figures.unit_relation == Relation.related.value and "unit" in m.figures.signals
    assert best_match(complaint("0004", UNRELATED, 4 * DAY), [first], DIRECTORY, T) is None


def test_time_and_an_unrelated_unit_cost_similarity() -> None:
    first = complaint("0001", TEXT, 0)
    near = confirm(complaint("0002", OTHER, DAY), first, DIRECTORY, T)
    late = confirm(complaint("0003", OTHER, 30 * DAY), first, DIRECTORY, T)
    away = confirm(complaint("0004", OTHER, DAY, unit="unit:elsewhere"), first, DIRECTORY, T)
    assert near.similarity_permille - late.similarity_permille == 29 * T.per_day_penalty
    assert near.similarity_permille - away.similarity_permille == T.unrelated_penalty


def test_candidates_by_band_anywhere_or_by_related_unit_within_the_window() -> None:
    first = complaint("0001", TEXT, 0, unit="unit:elsewhere")
    assert is_candidate(complaint("0002", TEXT, 400 * DAY), first, DIRECTORY, T)
    near = complaint("0003", UNRELATED, 0)
    assert is_candidate(complaint("0004", OTHER, T.window_days * DAY), near, DIRECTORY, T)
    assert not is_candidate(complaint("0005", OTHER, (T.window_days + 1) * DAY), near, DIRECTORY, T)


def test_cross_level_only_when_the_lower_body_came_first() -> None:
    lower = complaint("0001", TEXT, 0, body="district-office")
    higher = complaint("0002", OTHER, DAY, body="city-office")
    assert lower_first(higher, [lower], DIRECTORY) is lower
    assert lower_first(lower, [higher], DIRECTORY) is None  # the reverse: a plain duplicate
    f = confirm(higher, lower, DIRECTORY, T)
    payload = ComplaintFlaggedCrossLevel.model_validate(flag(higher, lower, DIRECTORY, f, "x"))
    assert payload.other_body == "district-office" and payload.from_level == "district"
    assert payload.figures is not None and payload.figures.matched_complaint == lower.complaint_no


TARGET = "case-00000000-0000-4000-8000-00000000aaaa"
CLERK = "efficiency-office/C001"
RECEIVED_CASE = CaseState(status=RECEIVED, unit="unit:street", complaints=(("TS1", None),))


def test_a_clerk_links_by_hand_with_its_screening_and_the_rule_book_agrees() -> None:
    cmd = commands.LinkDuplicate.model_validate({"target": TARGET, "reason": "同一事项"})
    screened, link = commands.link_by_hand(stream(RECEIVED_CASE), cmd, CLERK)
    assert screened.data["method"] == "manual" and screened.data["related_case"] == TARGET
    assert ComplaintLinkedAsDuplicate.model_validate(link.data).method == "manual"
    assert judged(RECEIVED_CASE, screened) is None
    with pytest.raises(Refusal) as self_link:
        bad = commands.LinkDuplicate.model_validate({"target": STREAM, "reason": "x"})
        commands.link_by_hand(stream(RECEIVED_CASE), bad, CLERK)
    assert self_link.value.reason == "self_related"


def test_a_clerk_splits_only_a_linked_complaint() -> None:
    merged = CaseState(status=MERGED, unit="unit:street", merged_into=TARGET)
    [split] = commands.split_link(stream(merged), commands.SplitLink(reason="不同事项"), CLERK)
    assert split.data == {"other": TARGET, "reason": "不同事项"}
    assert judged(merged, split) is None
    with pytest.raises(Refusal) as alone:
        commands.split_link(stream(RECEIVED_CASE), commands.SplitLink(reason="x"), CLERK)
    assert alone.value.reason == "not_linked"
