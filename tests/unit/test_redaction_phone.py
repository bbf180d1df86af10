"""Mobile numbers and landlines in their written forms."""

from __future__ import annotations

import pytest

from shared.redaction.phone import find_landlines, find_mobiles
from shared.redaction.width import fold_width


def mobiles(text: str) -> list[str]:
    return [text[s.start : s.end] for s in find_mobiles(fold_width(text))]


def landlines(text: str) -> list[str]:
    return [text[s.start : s.end] for s in find_landlines(fold_width(text))]


@pytest.mark.parametrize(
    "written",
    [
        "13807715526",
        "138-0771-5526",
        "138 0771 5526",
        "+86 138 0771 5526",
        "+86-13807715526",
        "+8613807715526",
        "0086 13807715526",
        "(+86)13807715526",
        "+86 (0)138 0771 5526",
        "+86(0)13807715526",
        "１３８０７７１５５２６",
        "１３８ ０７７１ ５５２６",
        "（＋８６）１３８０７７１５５２６",
        "138\n0771\n5526",
        "1 3 8 0 7 7 1 5 5 2 6",
        "1 3 8 0 7 7 1 5 5 2 6 2",  # spaced out, one digit too many: still all of it
        "86-138-0771-5526",
        "138.0771.5526",
        "(138)0771-5526",
    ],
)
def test_mobile_variants(written: str) -> None:
    assert mobiles(f"电话{written}，谢谢") == [written]


@pytest.mark.parametrize("text", ["12807715526", "1380771552", "138077155267", "工号0327"])
def test_not_mobiles(text: str) -> None:
    assert mobiles(text) == []


@pytest.mark.parametrize(
    "written",
    [
        "028-85551234",
        "028 8555 1234",
        "(0771)5831026",
        "010-6512 3456",
        "0755-86001234转8023",
        "020-8335 1122 转 306",
        "0311-86693210-8012",
        "０２５－８４５６２２１０",
    ],
)
def test_landline_variants(written: str) -> None:
    assert landlines(f"座机：{written}。") == [written]


def test_a_bare_local_number_only_after_a_telephone_word() -> None:
    assert landlines("家里座机85561234，") == ["85561234"]
    assert landlines("罚款85561234元") == []


def test_a_mobile_is_not_a_landline() -> None:
    assert landlines("13807715526") == []


@pytest.mark.parametrize(
    "written",
    [
        "+86-891-6328045",
        "+86 10 6552 8888",
        "0086-755-8888 6666",
        "(+86)21-6234 5678",
        "+86 (0)891 6328045",
        "+86 0891 6328045",
    ],
)
def test_landline_after_the_country_code(written: str) -> None:
    assert landlines(f"电话{written}。") == [written]


def test_a_mobile_after_the_country_code_is_no_landline() -> None:
    assert landlines("电话+86-138-0771-5526。") == []


@pytest.mark.parametrize(
    "written",
    [
        "一三九 零三七八 二六一五",
        "一八六一二三四五六七八",
        "幺三八-零七七一-五五二六",
        "一五九〇三七八二六一五",
        # The pauses between the groups written as commas.
        "幺三九，七零零二，幺八四六",
        "一八六、二三四五、六七八九",
    ],
)
def test_mobile_read_out_in_chinese_numerals(written: str) -> None:
    assert mobiles(f"联系方式：{written}。") == [written]


@pytest.mark.parametrize(
    "text",
    [
        "坐一三九路公交到站",
        "来了三五个人",
        "二〇二六年三月一日",
        "二〇二六年一月二十三日上午九点",
        "一二三四五六七八九十",
        "编号一三九零三七八二六一五零",
        "一万三千九百零三元",
        # Commas between single numerals, or inside a group, are a list, not pauses.
        "一，三，五，七，九，二，四，六，八，零，一",
        "一三，九七零零二，幺八四六",
    ],
)
def test_chinese_numerals_that_are_no_mobile(text: str) -> None:
    assert mobiles(text) == []


@pytest.mark.parametrize(
    "written", ["0775 — 2833 651", "0775 - 28336510", "(0775) – 2833651", "010 — 8461 2253"]
)
def test_landline_with_a_dash_spaced_on_both_sides(written: str) -> None:
    assert landlines(f"电话：{written}") == [written]


@pytest.mark.parametrize(
    "text",
    [
        # A dash with spaces between two numbers that are no area code and subscriber.
        "第 12 — 2833 651 页",
        "1998 — 2833651",
        "0775 — 1833 651",
        # Three or more characters between the digits of one group stay apart.
        "0775 2  —  833 651",
    ],
)
def test_spaced_dashes_that_join_no_landline(text: str) -> None:
    assert landlines(text) == []
