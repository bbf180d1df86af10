"""Street addresses: a road and house number (or an estate and building), with the
administrative units before it and the estate, building, unit and room after it.

Anchored on what makes an address precise enough to find a person (门牌号 or 栋/单元): a
district alone (高新区), a road without a number (王府井大街) or an office's name is not an
address. The units in front (省/市/区/县/镇/街道) are taken one by one backwards; a place name
never contains the words that introduce an address (住在, 家住, 地址是, 位于, 我们…).
"""

from __future__ import annotations

import re

from shared.redaction.span import Kind, Span

_CJK = "\u4e00-\u9fff"
# Characters that end a place name going backwards: the verbs and particles in front of it.
_STOP = "住在是的于到去对我们址从往向把被给与及叫说离靠近位为系"
_ADMIN = "省市区县"
_PLACE_CHAR = f"(?:(?![{_STOP}{_ADMIN}])[{_CJK}])"

# Numbers are written in digits or in Chinese (十八号, 三栋二单元); components may be apart by
# a space or a line break (people break an address where the line ends).
_D = "[0-9零〇一二三四五六七八九十百两]"
_ROOM_D = "[0-9零〇一二三四五六七八九]"
_W = r"[ \t\n]?"
# 门 ends the old gate names streets keep (端履门, 朝阳门): 东大街端履门88号院.
_ROAD = rf"{_PLACE_CHAR}{{1,12}}(?:大道|大街|路|街|巷|弄|胡同|条|里|村委会|居委会|村|屯|道|门)"
_SEGMENT = (
    rf"(?:[东西南北中]?{_D}{{1,3}}段|[东西南北中]段|[东西南北中](?={_W}[甲乙丙丁{_D[1:-1]}]))?"
)
_HOUSE = (
    rf"(?:{_D}{{1,3}}组)?[甲乙丙丁]?{_D}{{1,5}}(?:-\d{{1,4}})?(?:号院|号|弄|门|巷)"
    rf"(?:之{_D}{{1,2}}|附{_D}{{1,3}}号)?"
)
_ESTATE_NAME = f"(?:(?![{_STOP}])[{_CJK}A-Za-z0-9]){{1,12}}?"
_ESTATE = (
    rf"{_ESTATE_NAME}(?:小区|花园|公寓|大厦|广场|中心|国际|新村|家园|花苑|山庄|苑|城|院|宿舍|"
    r"商厦|百货|酒店|公馆|大楼|生态园|科技园|工业园|产业园|园|大学|学院|医院|家属院|社区|"
    r"[东西南北]区|府|湾|后院|名居|华居|居|阁|华庭|庭|邸)"
)
# A building's kind standing on its own after an estate's name that ends in another such word
# (齐鲁国际|大厦, 万达|广场): part of the address.
_BARE_ESTATE = "(?:大厦|大楼|广场|公寓|花园|小区|中心)"
_RESIDENTIAL = (
    rf"{_PLACE_CHAR}{{1,12}}?(?:小区|花园|公寓|新村|家园|花苑|山庄|苑|宿舍|社区|大厦|大楼|"
    r"工业园区|工业园|工业区|产业园|科技园|开发区|厂区)"
)
# A village's group (村民小组) or a hamlet's (屯): a handful of households, precise enough
# without a number.
_VILLAGE_GROUP = rf"{_PLACE_CHAR}{{1,8}}[村屯]{_W}{_D}{{1,3}}组"
# A village or hamlet named with its township (…镇东孙庄村, …乡靠山屯): how rural homes are
# written, most without a number; its group and number are taken too.
_RURAL = (
    rf"{_PLACE_CHAR}{{2,8}}?[镇乡]{_W}{_PLACE_CHAR}{{1,8}}?[村屯]"
    rf"(?:{_PLACE_CHAR}{{1,4}}?屯)?(?:{_W}{_D}{{1,3}}组)?(?:{_W}{_D}{{1,4}}号)?"
)
# A flat on its floor is also named by its side (4楼西户, 东边户).
_BUILDING = (
    rf"(?:(?:[A-Z]?{_D}{{1,4}}|[A-Z])(?:号楼|号厂房|厂房|车间|栋|幢|座|塔|号|楼|门|单元|层|室|户|排)"
    r"|\d{1,4}(?:-\d{1,4}){1,2}(?:室|号)?|[东西南北中]边?户)"
)
# A room number standing alone (1803, 九零三, 1204房), not a year or an amount.
_ROOM = rf"{_ROOM_D}{{2,5}}(?:室|户|房)?(?![0-9年月日元块个次天%])"
# Words of position inside an address (…百货旁鸿恩公寓, …大厦楼下, 二期, A区): part of it.
_POSITION = (
    r"(?:楼下|楼上|旁边|旁|对面|后面的|后面|[东西南北]侧|[东西南北中][塔座]|"
    rf"[A-Z东西南北]?{_D}{{0,2}}区|{_D}{{1,2}}期)"
)
# Any name right before a building number is the estate's or the building's (嘉和城温莎堡5栋,
# 青秀万达东七栋), whatever word it ends in.
_NAMED_BUILDING = rf"{_PLACE_CHAR}{{1,10}}?{_W}{_BUILDING}"
_TAIL = (
    rf"(?:{_W}(?:{_BUILDING}|{_ESTATE}|{_BARE_ESTATE}|{_POSITION}|{_NAMED_BUILDING}))*"
    rf"(?:{_W}(?:{_BUILDING}|{_ROOM}))?"
)

_CORE = re.compile(
    rf"{_ROAD}{_W}{_SEGMENT}{_W}{_HOUSE}{_TAIL}"
    rf"|{_RESIDENTIAL}(?:{_POSITION})*(?:{_W}{_BUILDING})+(?:{_ROOM})?"
    rf"|{_VILLAGE_GROUP}"
    rf"|{_RURAL}"
)

_PROVINCE_NAMES = (
    "北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|"
    "湖南|广东|海南|四川|贵州|云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门"
)
# One administrative unit ending exactly where the address so far begins; the name has two or
# more characters and does not start with 家 (家住…, 我家…).
# Districts whose own name holds 市 (Qingdao's 市南区, Jinan's 市中区…).
_ODD_UNITS = "市南区|市北区|市中区"
_UNIT_BEFORE = re.compile(
    rf"(?:{_ODD_UNITS}|(?!家){_PLACE_CHAR}{_PLACE_CHAR}{{1,7}}"
    r"(?:省|自治区|特别行政区|自治州|地区|市|州|盟|区|县|旗|镇|乡|街道)"
    rf"|(?:{_PROVINCE_NAMES})){_W}$"
)


def _extend_left(folded: str, start: int) -> int:
    while True:
        m = _UNIT_BEFORE.search(folded, max(0, start - 14), start)
        if m is None or m.start() == start:
            return start
        start = m.start()


# A line break between two characters of words or numbers (not after punctuation): people
# break an address where their line ends, anywhere in it (成都市武侯区人民\n南路, 318\n号).
_INNER_BREAK = re.compile(rf"(?<=[{_CJK}0-9A-Za-z])[\r\n]+(?=[{_CJK}0-9A-Za-z])")


def _joined(folded: str) -> tuple[str, list[int]]:
    """The text without its inner line breaks, and each kept character's index in ``folded``."""
    kept = [True] * len(folded)
    for m in _INNER_BREAK.finditer(folded):
        for i in range(m.start(), m.end()):
            kept[i] = False
    index = [i for i, k in enumerate(kept) if k]
    return "".join(folded[i] for i in index), index


def find_addresses(folded: str) -> list[Span]:
    text, index = _joined(folded)
    return [
        Span(
            kind=Kind.ADDRESS,
            start=index[_extend_left(text, m.start())],
            end=index[m.end() - 1] + 1,
        )
        for m in _CORE.finditer(text)
        if m.end() > m.start()
    ]
