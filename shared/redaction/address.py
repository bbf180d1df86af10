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


def _cjk_except(chars: str) -> str:
    """The CJK range without ``chars``, as the ranges of a character class (one class is far
    faster to match than a class behind a negative lookahead)."""
    out, start = [], 0x4E00
    for c in sorted({ord(c) for c in chars}):
        if start < c:
            out.append(f"{chr(start)}-{chr(c - 1)}" if start < c - 1 else chr(start))
        start = c + 1
    out.append(f"{chr(start)}-\u9fff")
    return "".join(out)


# Numbers are written in digits or in Chinese (十八号, 三栋二单元); components may be apart by
# a space or a line break (people break an address where the line ends).
_D = "[0-9零〇一二三四五六七八九十百两]"
# Characters that end a place name going backwards: the verbs and particles in front of it.
_STOP_CHARS = "住在是的于到去对我址从往向把被给与及叫说离靠近位为系"
# 们 ends one only as a pronoun's plural (我们, 他们): 图们市 is a city.
_PLURAL = "[我你他她它咱人]们"
_ADMIN = "省市区县"
# A character that may stand in a name (of an estate, a building): not a stop.
_NAME_CHAR = f"(?:[{_cjk_except(_STOP_CHARS + '们')}]|们(?<!{_PLURAL}))"
# 市 inside a place's own name (沙市区, 米市巷, 竹笆市十七号): after a character of that name
# and right before a unit's word, a road's word or the house number. Elsewhere it ends a city
# (城市胜利路: the road begins after it; 凯里市三棵树镇: a place's name may open with a numeral).
# (Each special character is matched first and its context checked after: fast to fail.)
_INNER_SHI = (
    rf"市(?<=[{_CJK}]市)(?<![{_STOP_CHARS}{_ADMIN}]市)(?<!{_PLURAL}市)"
    rf"(?=区|县|街道|镇|乡|[路街巷弄]|[ \t\n]?{_D}{{1,5}}(?:-\d{{1,4}})?(?:号|弄|巷|门))"
)
# 县 inside a sub-district's or township's own name (旧县街道, 新县镇): after a character of
# that name, not after a word pointing at a county (本县, 全县), and right before 街道/镇/乡.
_NOT_A_COUNTY_NAME = "本该全我外此各两邻这那哪某每一小大老家"
_INNER_XIAN = (
    rf"县(?<=[{_CJK}]县)(?<![{_STOP_CHARS}{_ADMIN}{_NOT_A_COUNTY_NAME}]县)(?<!{_PLURAL}县)"
    r"(?=街道|镇|乡)"
)
_PLACE_CHAR = (
    f"(?:[{_cjk_except(_STOP_CHARS + _ADMIN + '们')}]|们(?<!{_PLURAL})|{_INNER_SHI}|{_INNER_XIAN})"
)
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
_ESTATE_NAME = f"(?:{_NAME_CHAR}|[A-Za-z0-9]){{1,12}}?"
_ESTATE = (
    rf"{_ESTATE_NAME}(?:小区|花园|公寓|大厦|广场|中心|国际|新村|家园|花苑|山庄|苑|城|院|宿舍|"
    r"商厦|百货|酒店|公馆|大楼|生态园|科技园|工业园|产业园|园|大学|学院|医院|家属院|社区|"
    r"[东西南北]区|府|湾|后院|名居|华居|居|阁|华庭|庭|邸)"
)
# A building's kind standing on its own after an estate's name that ends in another such word
# (齐鲁国际|大厦, 万达|广场), or after the house number of a works or a shop (51号厂房,
# 18号门面, 108号底商): part of the address.
_BARE_ESTATE = "(?:大厦|大楼|广场|公寓|花园|小区|中心|厂房|库房|仓库|门面|商铺|底商)"
_RESIDENTIAL = (
    rf"{_PLACE_CHAR}{{1,12}}?(?:小区|花园|公寓|新村|家园|花苑|山庄|苑|宿舍|社区|大厦|大楼|"
    # (Bonded zones and export processing zones let their works by number: 综合保税区七号厂房.)
    r"工业园区|工业园|工业区|产业园|科技园|开发区|厂区|保税区|保税港区|加工区)"
)
# A village's group (村民小组) or a hamlet's (屯): a handful of households, precise enough
# without a number.
# In the south a village's group is its 社 (生产合作社: 凤和村十一社), numbered; written in
# full it is 第三村民小组 or 三小组, and where the old production teams stay, 三队.
_GROUP_NUMBER = rf"第?{_D}{{1,3}}(?:村民小组|小组|[组社队])"
_VILLAGE_GROUP = rf"{_PLACE_CHAR}{{1,8}}[村屯]{_W}{_GROUP_NUMBER}"
# A village or hamlet named with its township (…镇东孙庄村, …乡靠山屯), or a village or
# residents' community with its sub-district (…街道古岸头村, …街道冲赛康社区): how homes are
# written, most without a number; its group (named or numbered, 下湾组, 十一社) and number are
# taken too.
# A village's name may hold a hamlet's 屯 (吾屯下庄村): the village is the part after it.
_RURAL = (
    rf"{_PLACE_CHAR}{{2,8}}?(?:[镇乡]|街道){_W}(?:{_PLACE_CHAR}{{1,4}}?屯)?"
    rf"{_PLACE_CHAR}{{1,8}}?(?:[村屯]|社区)"
    rf"(?:{_PLACE_CHAR}{{1,4}}?屯)?(?:{_W}(?:{_GROUP_NUMBER}|{_PLACE_CHAR}{{1,3}}?组))?"
    rf"(?:{_W}{_D}{{1,4}}号)?"
)
# A natural village under its administrative village's committee (保港村委会港门村, 北门村委会
# 官塘村): as precise as a village with its township; 村委会 alone is an office, and the village
# after it is a name, not the villagers or the village's offices (村委会村民, 村委会村里); or
# a production team of it, named by its village and numbered (曼达村委会曼达三队).
_VILLAGE_OF_COMMITTEE = (
    rf"{_PLACE_CHAR}{{1,8}}?村委会{_W}{_PLACE_CHAR}{{1,8}}?"
    rf"(?:[村屯](?![民里委干口头])|{_D}{{1,3}}队)"
    rf"(?:{_W}(?:{_GROUP_NUMBER}|{_PLACE_CHAR}{{1,3}}?组))?(?:{_W}{_D}{{1,4}}号)?"
)
# A flat on its floor is also named by its side (4楼西户, 东边户).
# A building's number may be a code of letters and digits (R3-B栋, A-2座, 5-C栋).
_BUILDING_CODE = (
    rf"(?:(?:[A-Z]{{1,2}}-?)?{_D}{{1,4}}(?:-[A-Z0-9]{{1,3}})?|[A-Z]{{1,2}}(?:-[A-Z0-9]{{1,3}})?)"
)
_BUILDING = (
    rf"(?:{_BUILDING_CODE}(?:号楼|号厂房|厂房|车间|栋|幢|座|塔|号|楼|门|单元|层|室|户|排)"
    r"|\d{1,4}(?:-\d{1,4}){1,2}(?:室|号)?|[东西南北中]边?户)"
)
# A room number standing alone (1803, 九零三, 1204房), not a year or an amount.
_ROOM = rf"{_ROOM_D}{{2,5}}(?:室|户|房)?(?![0-9年月日元块个次天%])"
# Words of position inside an address (…百货旁鸿恩公寓, …大厦楼下, 二期, A区): part of it.
_POSITION = (
    r"(?:楼下|楼上|旁边|旁|对面|后面的|后面|[东西南北]侧|[东西南北中][塔座]|"
    rf"[A-Z东西南北]?{_D}{{0,2}}区|第?{_D}{{1,2}}期)"
)
# Any name right before a building number is the estate's or the building's (嘉和城温莎堡5栋,
# 青秀万达东七栋), whatever word it ends in.
# The name may hold 市 or 区 (都市之门C座, 城市花园3栋): only the words that introduce an
# address end it.
# A Latin name is a building's too (IFS二号楼, SOHO3号楼).
_NAMED_BUILDING = rf"(?:{_NAME_CHAR}|[A-Za-z]){{1,10}}?{_W}{_BUILDING}"
_TAIL = (
    rf"(?:{_W}(?:{_BUILDING}|{_ESTATE}|{_BARE_ESTATE}|{_POSITION}|{_NAMED_BUILDING}))*"
    rf"(?:{_W}(?:{_BUILDING}|{_ROOM}))?"
)

# A block of flats by its number (4号楼, 十栋, C座): with a road before it, an address even
# without a house number.
_BLOCK = rf"{_BUILDING_CODE}(?:号楼|栋|幢|座|单元)"
_NAMED_BLOCK = rf"{_NAME_CHAR}{{1,10}}?{_W}{_BLOCK}"
# The lowest administrative unit (街道, 镇, 乡): whatever follows it with a house number is a
# street address, whatever the street's name ends in (什刹海街道前海北沿18号).
_SUBDISTRICT = rf"{_PLACE_CHAR}{{1,8}}?(?:街道|镇|乡)"
# A road named right after its sub-district, itself right after its district or county
# (宝力根街道额尔敦路): the chain of units down to the street is precise, even without a
# number; a road's name has two characters or more (镇马路, 街道路面 are no road).
_STREET_OF_SUBDISTRICT = (
    rf"(?<=[市区县旗]){_SUBDISTRICT}{_W}{_PLACE_CHAR}{{2,10}}?(?:大道|大街|路|街|巷|弄|胡同)"
    rf"(?![{_CJK}])"
)
# A rural township named right after its county or banner (昭觉县城北乡): where a village is
# not given the township is the address; not the words for towns in general (县城镇, 县里各乡,
# 全县乡镇) nor a township's offices and people (乡政府, 镇干部, 乡里).
_TOWNSHIP_OF_COUNTY = (
    rf"(?<=[县旗])(?![里各每全本]|城镇|城乡)(?:(?![乡镇]){_PLACE_CHAR}){{2,6}}?[乡镇]"
    r"(?![乡镇村里上下政党府干长级区中内外])"
)
# Where two roads cross (珠江道与友谊路交口东侧, 三新南路与文昌一路交汇处): a place as precise as
# a house number.
_CROSSING_ROAD = rf"{_PLACE_CHAR}{{1,12}}?(?:大道|大街|路|街|巷|道)"
_CROSSING = (
    rf"{_CROSSING_ROAD}[与和]{_CROSSING_ROAD}(?:十字路口|交叉口|交叉路口|交汇处|交界处|交口|路口)"
    r"(?:[东西南北]{1,2}(?:侧|角|面|方向))?"
)
_CORE = re.compile(
    rf"{_ROAD}{_W}{_SEGMENT}{_W}{_HOUSE}{_TAIL}"
    # A road, then a building without a house number (花家地西里三区4号楼, 开元东路华润置地
    # 二期十栋).
    rf"|{_ROAD}(?:{_POSITION})*{_W}{_BLOCK}{_TAIL}"
    rf"|{_ROAD}{_W}{_NAMED_BLOCK}{_TAIL}"
    rf"|{_SUBDISTRICT}{_W}{_PLACE_CHAR}{{1,10}}?{_W}{_HOUSE}{_TAIL}"
    # An estate's block of flats right after its sub-district (西宾街道银亿阳光城三期B区11号楼).
    rf"|{_SUBDISTRICT}{_W}{_PLACE_CHAR}{{2,10}}?(?:{_POSITION})*{_W}{_BLOCK}{_TAIL}"
    # Any place's name before a block of flats (望京西园三区312号楼1505), beginning where a
    # word does and holding no other building (2号楼和3号楼).
    rf"|(?:(?<![{_CJK}])|(?<=[{_STOP_CHARS}们]))(?:(?![号楼栋幢座和与及])"
    rf"{_PLACE_CHAR}){{2,10}}?(?:{_POSITION})*{_W}{_BLOCK}{_TAIL}"
    rf"|{_RESIDENTIAL}(?:{_POSITION})*(?:{_W}{_BUILDING})+(?:{_ROOM})?"
    rf"|{_VILLAGE_OF_COMMITTEE}"
    rf"|{_VILLAGE_GROUP}"
    rf"|{_RURAL}{_TAIL}"
    rf"|{_STREET_OF_SUBDISTRICT}"
    rf"|{_TOWNSHIP_OF_COUNTY}"
    rf"|{_CROSSING}"
)

_PROVINCE_NAMES = (
    "北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|"
    "湖南|广东|海南|四川|贵州|云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门"
)
# One administrative unit ending exactly where the address so far begins; the name has two or
# more characters and does not start with 家 (家住…, 我家…).
# Districts whose own name holds 市 (Qingdao's 市南区, Jinan's 市中区…).
_ODD_UNITS = "市南区|市北区|市中区"
# A district named by a direction alone, right after its city (攀枝花市东区, 鞍山市西区).
_DIRECTION_DISTRICT = "(?<=市)[东西南北中]区"
# Counties whose name is one character (藤县, 滑县, 歙县), not the words that point at a county
# (本县, 全县, 邻县…).
_ONE_CHARACTER_COUNTY = rf"(?![本该全我外此各两邻这那哪某每一小大老家]){_PLACE_CHAR}县"
# The verbs a complaint opens with, right before the place it is about (反映杭州市…): a
# unit's name begins after them.
_COMPLAINT_VERBS = ("反映", "投诉", "举报", "来自")
# Nor is a demonstrative (这个城市, 那座县城): it points at a place without naming it.
_DEMONSTRATIVES = ("这个", "那个", "这座", "那座", "整个")
_NOT_A_UNIT_START = "|".join(_COMPLAINT_VERBS + _DEMONSTRATIVES)
_UNIT_BEFORE = re.compile(
    rf"(?:{_ODD_UNITS}|{_DIRECTION_DISTRICT}|{_ONE_CHARACTER_COUNTY}|(?!家|{_NOT_A_UNIT_START})"
    rf"{_PLACE_CHAR}{_PLACE_CHAR}{{1,7}}"
    # (A shop or a market is no city: 联华超市, 夜市, 集市.)
    r"(?:省|自治区|特别行政区|自治州|地区|(?<![超夜集股早菜])市|州|盟|区|县|旗|镇|乡|街道)"
    rf"|(?:{_PROVINCE_NAMES})){_W}$"
)


_PLACE = re.compile(_PLACE_CHAR)
# The last character of an administrative unit's word.
_UNIT_END = "省市区县州旗盟镇乡道"


def _unit_before(folded: str, start: int) -> int | None:
    """Where the administrative unit ending at ``start`` begins. A unit begins where a word
    does: after a unit, a word that introduces an address, punctuation or the text's start (so
    恩施土家族苗族自治州 is one unit, not …族苗族自治州 cut from its own name)."""
    for p in range(max(0, start - 14), start):
        before = folded[p - 1] if p else ""
        if (
            p
            and _PLACE.match(folded, p - 1)
            and before not in _UNIT_END
            and not folded.endswith(_COMPLAINT_VERBS, 0, p)
        ):
            continue
        if _UNIT_BEFORE.match(folded, p, start):
            return p
    # Else the first unit that does not begin inside one of those words (个城市 of 这个城市).
    for p in range(max(0, start - 14), start):
        inside = p and folded[p - 1 : p + 1] in _COMPLAINT_VERBS + _DEMONSTRATIVES
        if not inside and _UNIT_BEFORE.match(folded, p, start):
            return p
    return None


# A sub-district or township whose name starts with a character that otherwise stops a place
# name (向阳街道, 于河街道: 向…反映, 位于), when it follows a city, district or county; or a
# road whose name starts so, right after its sub-district or township (炉城镇向阳街七十二号).
_TOWARD_UNIT = re.compile(
    rf"(?<=[市区县旗])[向于](?={_PLACE_CHAR}{{1,6}}(?:街道|镇|乡))"
    rf"|(?:(?<=[镇乡])|(?<=街道))[向于](?={_PLACE_CHAR}{{1,6}}(?:大道|大街|路|街|巷))"
)


# A whole unit whose name starts so (向阳区, 于洪区), right before the address so far, when it
# follows a unit or the words that introduce an address (我家在向阳区西林街道…).
_TOWARD_UNIT_BEFORE = re.compile(
    r"(?:(?<=[市区县旗])|(?<=[家住]在)|(?<=家住)|(?<=[址所][:：]))"
    rf"[向于]{_PLACE_CHAR}{{1,6}}(?:区|县|旗|街道|镇|乡){_W}"
)


def _toward_unit_before(folded: str, start: int) -> int | None:
    for p in range(max(0, start - 10), start - 2):
        if _TOWARD_UNIT_BEFORE.fullmatch(folded, p, start):
            return p
    return None


def _extend_left(folded: str, start: int) -> int:
    if start and _TOWARD_UNIT.match(folded, start - 1):
        start -= 1
    # A match beginning with a unit's last character (…街道|穿山村委会…) begins after it.
    if folded[start : start + 1] in set(_UNIT_END) and (p := _unit_before(folded, start + 1)):
        start = p
    while True:
        p = _unit_before(folded, start)
        if p is None:
            p = _toward_unit_before(folded, start)
        if p is None or p == start:
            return start
        start = p


# A line break between two characters of words or numbers (not after punctuation): people
# break an address where their line ends, anywhere in it (成都市武侯区人民\n南路, 318\n号); not
# before a line that opens with a label and its colon (…二十号\n诉求：…): a new field begins.
_INNER_BREAK = re.compile(
    rf"(?<=[{_CJK}0-9A-Za-z])[\r\n]+(?=[{_CJK}0-9A-Za-z])(?![{_CJK}]{{1,6}}[:：])"
)


def _joined(folded: str) -> tuple[str, list[int]]:
    """The text without its inner line breaks, and each kept character's index in ``folded``."""
    kept = [True] * len(folded)
    for m in _INNER_BREAK.finditer(folded):
        for i in range(m.start(), m.end()):
            kept[i] = False
    index = [i for i, k in enumerate(kept) if k]
    return "".join(folded[i] for i in index), index


# Where the writer says an address follows (家住, 住在, 地址：): the place run after it up to
# punctuation is one, if it holds a word of addresses (a road, a village, an estate, a unit, a
# number's 号…), whatever else it holds (302国道旁边王家屯, 建设路与人民路交叉口东北角).
_CUED = re.compile(
    r"(?:家住|住在|家在|现住|居住在|住于|住址|地址|住所|户籍地|户籍所在地|家庭住址)"
    r"(?:是|为|在)?[:：]?[ \t]?"
    # (与 stays: 建设路与人民路交叉口 is one place.)
    rf"(?P<a>(?:(?![住在是的我们从往向把被给及叫说为])[{_CJK}A-Za-z0-9\-#]){{2,40}})"
)
# (A district alone, 住在琼山区, is not precise enough to find anyone; nor is 楼道, nor a
# building's number without a place: 住在3栋二十多户的楼里.)
_ADDRESS_WORD = re.compile(
    r"路|街|巷|弄|胡同|村|屯|组|寨|小区|花园|苑|家园|新村|公寓|大厦|镇|乡|交叉口|国道|省道"
)
# What ends a cued run: the complaint itself starting (家住…反映, 住在…的).
_RUN_END = re.compile(r"反映|投诉|举报|请求|希望|要求|附近|一带|门口|楼下|对面|旁的|今年|去年")


# Kinds of place, not places (租住在城中村, 住在村里, 家在农村).
_GENERIC = re.compile(
    # (… or one pointed at: 家在这个村.)
    r"(?:这个|那个|这|那|本|我们|咱们)?"
    r"(?:城中村|农村|乡村|乡下|村|村里|镇|镇上|乡里|小区|老小区|小区里|街上|公寓|新村)"
    r"(?:里|上|中|内)?"
)


def _cued(folded: str) -> list[tuple[int, int]]:
    found = []
    for m in _CUED.finditer(folded):
        start, end = m.span("a")
        if cut := _RUN_END.search(folded, start, end):
            end = cut.start()
        if _GENERIC.fullmatch(folded, start, end):
            continue
        if end - start >= 2 and _ADDRESS_WORD.search(folded, start, end):
            found.append((start, end))
    return found


def find_addresses(folded: str) -> list[Span]:
    text, index = _joined(folded)
    spans = [
        Span(
            kind=Kind.ADDRESS,
            start=index[_extend_left(text, m.start())],
            end=index[m.end() - 1] + 1,
        )
        for m in _CORE.finditer(text)
        if m.end() > m.start()
    ]
    for s, e in _cued(text):
        cued = Span(kind=Kind.ADDRESS, start=index[s], end=index[e - 1] + 1)
        hits = [t for t in spans if t.start < cued.end and cued.start < t.end]
        spans = [t for t in spans if t not in hits] + [
            cued.model_copy(
                update={
                    "start": min([cued.start, *(t.start for t in hits)]),
                    "end": max([cued.end, *(t.end for t in hits)]),
                }
            )
        ]
    return sorted(spans, key=lambda t: t.start)
