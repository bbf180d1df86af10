"""Street addresses down to the room; districts, bare roads and office names are not."""

from __future__ import annotations

import pytest

from shared.redaction.address import find_addresses
from shared.redaction.width import fold_width


def addresses(text: str) -> list[str]:
    return [text[s.start : s.end] for s in find_addresses(fold_width(text))]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        (
            "我家住四川省成都市武侯区人民南路四段27号商鼎国际2栋1单元905室，",
            "四川省成都市武侯区人民南路四段27号商鼎国际2栋1单元905室",
        ),
        ("住在北京市东城区东四十条甲22号院3号楼502。", "北京市东城区东四十条甲22号院3号楼502"),
        ("地址是广西玉林市玉州区城北街道金港大道318号，", "广西玉林市玉州区城北街道金港大道318号"),
        ("家在湖南省湘西州凤凰县沱江镇老洞村3组15号。", "湖南省湘西州凤凰县沱江镇老洞村3组15号"),
        (
            "我家西安市雁塔区小寨东路126号百隆广场2号楼1单元1502的水表",
            "西安市雁塔区小寨东路126号百隆广场2号楼1单元1502",
        ),
        (
            "住石家庄市长安区中山东路508号东胜广场C座1106。",
            "石家庄市长安区中山东路508号东胜广场C座1106",
        ),
        ("在一环路北三段128号的停车场", "一环路北三段128号"),
        ("住幸福里小区5栋2单元301，", "幸福里小区5栋2单元301"),
    ],
)
def test_found_whole(text: str, address: str) -> None:
    assert addresses(text) == [address]


@pytest.mark.parametrize(
    "text",
    [
        "高新区政务服务中心3号窗口",
        "王府井大街的李宁专卖店",
        "家住高新区，",
        "黄金周期间天府三街堵车",
        "市民中心二楼5号窗口",
    ],
)
def test_not_addresses(text: str) -> None:
    assert addresses(text) == []
