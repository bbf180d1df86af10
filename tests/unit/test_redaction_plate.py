"""Licence plates, ordinary and new-energy."""

from __future__ import annotations

import pytest

from shared.redaction.plate import find_plates
from shared.redaction.width import fold_width


def plates(text: str) -> list[str]:
    return [text[s.start : s.end] for s in find_plates(fold_width(text))]


@pytest.mark.parametrize(
    "written",
    [
        "川A·3J5K7",
        "川A12345",
        "粤B D12345",
        "京A·D12345",
        "粤B12345D",
        "桂B·ＤＦ２２３８",
        "豫A 88K29",
        "川A1234学",
        "滇A·T3625",
        "苏e 7k2m9",
        "粤Z·H326港",
        "粤Z 8W21澳",
        "京 A12345",
        "鲁A 8K 3J2",
        "粤 B·D12345",
    ],
)
def test_found(written: str) -> None:
    assert plates(f"车牌{written}的车") == [written]


@pytest.mark.parametrize("text", ["川AB", "川ABCDE", "四川A股", "川A1234567", "川A 1 2"])
def test_not_plates(text: str) -> None:
    assert plates(text) == []
