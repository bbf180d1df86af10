"""Resident identity numbers: the GB 11643 checksum decides, in every way people write them."""

from __future__ import annotations

import pytest

from shared.redaction.id_number import check_character, find_id_numbers, is_valid_id_number
from shared.redaction.span import Kind
from shared.redaction.width import fold_width

VALID = "420106196407210499"
VALID_X = "11010119911013050X"


def found(text: str) -> list[str]:
    folded = fold_width(text)
    return [text[s.start : s.end] for s in find_id_numbers(folded)]


def test_check_character_is_mod_11_2() -> None:
    assert check_character(VALID[:17]) == "9"
    assert check_character(VALID_X[:17]) == "X"


def test_every_wrong_check_character_is_refused() -> None:
    for c in "0123456789X":
        assert is_valid_id_number(VALID[:17] + c) is (c == "9")


@pytest.mark.parametrize(
    "number",
    [
        "990106196407210499",  # no such province
        "420106196402300499",  # 30 February
        "420106180407210499",  # born before 1900
        "42010619640721049",  # 17 characters
    ],
)
def test_region_date_and_length_are_checked(number: str) -> None:
    assert not is_valid_id_number(number)


@pytest.mark.parametrize(
    "written",
    [
        VALID,
        "4201 0619 6407 2104 99",
        "420106 19640721 0499",
        "420106-19640721-0499",
        "４２０１０６１９６４０７２１０４９９",
        "420106196407\n210499",
        VALID_X.lower(),
        "１１０１０１１９９１１０１３０５０Ｘ",
    ],
)
def test_variants_are_found_whole(written: str) -> None:
    assert found(f"身份证号：{written}，请核实。") == [written]


def test_a_work_order_number_failing_the_checksum_is_left_alone() -> None:
    assert found("工单号202311150930001234，身份证号" + VALID) == [VALID]


def test_not_part_of_a_longer_number() -> None:
    assert found("流水号1" + VALID + "7") == []


def test_kind() -> None:
    assert {s.kind for s in find_id_numbers(VALID)} == {Kind.ID_NUMBER}


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("身份证430104，不方便都写。", "430104"),
        ("身份证号码：4301 0419 9301", "4301 0419 9301"),
        ("证件号是11010119900307123X（写错了一位）", "11010119900307123X"),
    ],
)
def test_numbers_after_the_words_for_one_are_taken_whatever_their_checksum(
    text: str, number: str
) -> None:
    assert found(text) == [number]
