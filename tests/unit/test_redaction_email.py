"""E-mail addresses, including full-width ＠ and upper case."""

from __future__ import annotations

import pytest

from shared.redaction.email import find_emails
from shared.redaction.width import fold_width


def emails(text: str) -> list[str]:
    return [text[s.start : s.end] for s in find_emails(fold_width(text))]


@pytest.mark.parametrize(
    "written",
    [
        "oymingyue@163.com",
        "WANG.Zihao@Gmail.com",
        "tuo_chunmei@qq.com",
        "a+b@law-firm.cn",
        "bao.wenting@stu.nju.edu.cn",
        "xuanlizhen＠163.com",
        "ｚｈａｎｇ＠１６３．ｃｏｍ",
    ],
)
def test_found(written: str) -> None:
    assert emails(f"邮箱{written}，") == [written]


@pytest.mark.parametrize("text", ["发@了", "user@localhost", "价格@3.5元"])
def test_not_emails(text: str) -> None:
    assert emails(text) == []


@pytest.mark.parametrize(
    "written",
    [
        "liu_hui(at)126.com",
        "zhao.min (at) qq.com",
        "wangfang[at]163[dot]com",
        "chen_li{AT}sina.com.cn",
        "li.na＜at＞foxmail.com",
        "hu_jun（at）139.com",
    ],
)
def test_the_at_spelled_out_in_brackets(written: str) -> None:
    assert emails(f"邮箱：{written}，请回复") == [written]


@pytest.mark.parametrize(
    "text",
    [
        "Please look at 126.com for details",
        "meet me at qq.com tomorrow",
        "the office (at the corner) of main.street",
        "an email at sign is missing",
    ],
)
def test_at_in_plain_english_is_no_email(text: str) -> None:
    assert emails(text) == []
