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
        ("住上海市静安区长乐路123弄4号502室，", "上海市静安区长乐路123弄4号502室"),
        ("住渝中区民族路188号附1号，", "渝中区民族路188号附1号"),
        ("住西城区西四北三条15号院2排3号，", "西城区西四北三条15号院2排3号"),
        ("住成都市武侯区\n人民南路四段27号，", "成都市武侯区\n人民南路四段27号"),
        ("住成都市 武侯区 人民南路四段 27号，", "成都市 武侯区 人民南路四段 27号"),
        ("家住中山路十八号三栋二单元，", "中山路十八号三栋二单元"),
        ("住武昌区中北路108号东湖名居3栋2单元602，", "武昌区中北路108号东湖名居3栋2单元602"),
        ("住泉城路180号齐鲁国际大厦B座906，", "泉城路180号齐鲁国际大厦B座906"),
        ("独居在碑林区东大街端履门88号院3号楼1单元202，", "碑林区东大街端履门88号院3号楼1单元202"),
        ("住在阳光花园A区5栋2单元301，", "阳光花园A区5栋2单元301"),
        ("住在绿城小区二期3栋，", "绿城小区二期3栋"),
        (
            "住址为绵阳市涪城区城厢街道高水社区长虹大道北段59号，",
            "绵阳市涪城区城厢街道高水社区长虹大道北段59号",
        ),
        ("住在幸福镇红星村委会5组32号，", "幸福镇红星村委会5组32号"),
        ("家在凤凰县沱江镇老洞村3组。", "凤凰县沱江镇老洞村3组"),
        ("住青岛市市南区香港中路76号，", "青岛市市南区香港中路76号"),
        ("住在花园社区3栋2单元，", "花园社区3栋2单元"),
        ("住在国贸大厦1802室，", "国贸大厦1802室"),
        ("住在天河区体育西路103号维多利广场A塔3201，", "天河区体育西路103号维多利广场A塔3201"),
        ("住广州市越秀区东风中路300号之一，", "广州市越秀区东风中路300号之一"),
        ("住珞喻路1037号华中科技大学西二区22栋，", "珞喻路1037号华中科技大学西二区22栋"),
        ("住建国路88号SOHO现代城5号楼1506，", "建国路88号SOHO现代城5号楼1506"),
        ("住观音桥步行街9号新世界百货旁鸿恩公寓12-3。", "观音桥步行街9号新世界百货旁鸿恩公寓12-3"),
        # A name of any ending before a building number; rooms after a line break.
        ("家住滨江路66号\n御景湾翡翠苑三期9栋\n2201，", "滨江路66号\n御景湾翡翠苑三期9栋\n2201"),
        ("住长江路8号丽晶港7号楼，", "长江路8号丽晶港7号楼"),
        ("住和平路12号东塔1708，", "和平路12号东塔1708"),
        ("住解放路9号院2号楼5楼东户，", "解放路9号院2号楼5楼东户"),
        ("住光明路三段十号\n3栋802房，", "光明路三段十号\n3栋802房"),
        ("住在金色家园东区9-2-301，", "金色家园东区9-2-301"),
        # Villages and hamlets by their township; industrial parks down to the workshop.
        ("家在吉林省榆树市大岗乡前进村。", "吉林省榆树市大岗乡前进村"),
        ("住在双城区韩甸镇杨家屯，", "双城区韩甸镇杨家屯"),
        ("住桦南县土龙山镇东兴村西屯2组，", "桦南县土龙山镇东兴村西屯2组"),
        ("在嘉兴经济开发区B3厂房上班，", "嘉兴经济开发区B3厂房"),
        ("在滨海工业园区2号厂房打工，", "滨海工业园区2号厂房"),
        ("住西岗屯18号，", "西岗屯18号"),
        # A county whose name is one character, not a word pointing at a county (全县).
        ("店在广西梧州市藤县解放路3号。", "广西梧州市藤县解放路3号"),
        ("店在歙县徽州路8号。", "歙县徽州路8号"),
        ("全县人民路3号有问题", "人民路3号"),
        # A sub-district named 向… after its district; 向 as "towards" stays out.
        ("本人住烟台市芝罘区向阳街道北马路90号，", "烟台市芝罘区向阳街道北马路90号"),
        ("他向阳光小区12号楼的人借钱", "阳光小区12号楼"),
        # A line break anywhere inside a word or a number of the address.
        (
            "住成都市武侯区人民\n南路四段27号商鼎国际2\n栋，",
            "成都市武侯区人民\n南路四段27号商鼎国际2\n栋",
        ),
        ("家住苏\n州市姑苏区人民路1580号3幢401室。", "苏\n州市姑苏区人民路1580号3幢401室"),
    ],
)
def test_found_whole(text: str, address: str) -> None:
    assert addresses(text) == [address]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        # A road, then a block without a house number.
        ("住朝阳区望京街道花家地西里三区4号楼1门602。", "朝阳区望京街道花家地西里三区4号楼1门602"),
        (
            "家住长沙县星沙街道开元东路华润置地二期十栋一单元八〇二，",
            "长沙县星沙街道开元东路华润置地二期十栋一单元八〇二",
        ),
        # Any street after a sub-district, with its number.
        ("我是北京市西城区什刹海街道前海北沿18号的住户。", "北京市西城区什刹海街道前海北沿18号"),
        # A unit begins where a word does (not inside 恩施土家族苗族自治州, not after 街|道).
        (
            "家住湖北省恩施土家族苗族自治州恩施市舞阳坝街道金桂大道18号。",
            "湖北省恩施土家族苗族自治州恩施市舞阳坝街道金桂大道18号",
        ),
        (
            "住在桂林市七星区穿山街道穿山村委会毛家村五组，",
            "桂林市七星区穿山街道穿山村委会毛家村五组",
        ),
        # A village with its part and number; a hamlet's group by name.
        ("住丰台区卢沟桥乡小瓦窑村西区17号，", "丰台区卢沟桥乡小瓦窑村西区17号"),
        ("住永安乡大坪村下湾组。", "永安乡大坪村下湾组"),
        # A building's name holding 市; a place's name before a block of flats.
        ("在西安高新区锦业路1号都市之门C座门口", "西安高新区锦业路1号都市之门C座"),
        ("望京西园三区312号楼1505的房子漏水", "望京西园三区312号楼1505"),
        # After the words that introduce an address, whatever it holds.
        ("家住302国道旁边王家屯，", "302国道旁边王家屯"),
        ("地址：建设路与人民路交叉口东北角新华书店", "建设路与人民路交叉口东北角新华书店"),
    ],
)
def test_found_whole_by_the_grammar(text: str, address: str) -> None:
    assert addresses(text) == [address]


@pytest.mark.parametrize(
    "text",
    [
        "高新区政务服务中心3号窗口",
        "王府井大街的李宁专卖店",
        "家住高新区，",
        "黄金周期间天府三街堵车",
        "市民中心二楼5号窗口",
        "10月十八号去了人民路",
        "我住在3栋二十多户的楼里",
        "市民中心3楼的窗口",
        "社区服务中心3号窗口",
        "市民中心B座3楼办事大厅",
        "2号楼和3号楼之间的空地",
        "我是外地人，租住在城中村。",
        "家在农村，住在村里。",
        "住在琼山区，楼道里养狗。",
    ],
)
def test_not_addresses(text: str) -> None:
    assert addresses(text) == []


@pytest.mark.parametrize(
    ("text", "address"),
    [
        # 们 inside a city's name, not a pronoun's plural.
        ("家在图们市月晴镇白龙村2组，", "图们市月晴镇白龙村2组"),
        ("我是图们市光明街道人民路8号的住户", "图们市光明街道人民路8号"),
        # 市 inside a unit's or a road's own name, the units before it taken too.
        ("我是湖北省荆州市沙市区解放街道红光村三组的", "湖北省荆州市沙市区解放街道红光村三组"),
        ("现在沙市区北京路街道红门路22号住", "沙市区北京路街道红门路22号"),
        ("投诉杭州市上城区米市巷街道中河路9号的商铺", "杭州市上城区米市巷街道中河路9号"),
        # A street named …市 after its sub-district, its number in Chinese numerals or digits.
        ("住碑林区南院门街道骡马市二十三号，", "碑林区南院门街道骡马市二十三号"),
        ("住南院门街道竹笆市6号，", "南院门街道竹笆市6号"),
        # A Latin building name after the house number.
        ("住红星路三段1号IFS一号楼2503，", "红星路三段1号IFS一号楼2503"),
        ("在东三环中路7号CBD二号楼上班", "东三环中路7号CBD二号楼"),
        # A works' or shop's kind standing alone after its number.
        ("在第五大街12号厂房上夜班", "第五大街12号厂房"),
        ("在解放路18号门面卖水果", "解放路18号门面"),
    ],
)
def test_units_and_buildings_with_their_own_words(text: str, address: str) -> None:
    assert addresses(text) == [address]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        # A pronoun's plural still ends a place name.
        ("我们市胜利路12号的路灯坏了", "胜利路12号"),
        ("他们小区胜利路12号停车难", "胜利路12号"),
        # 城市, 超市, 市场 and the like are no unit: the road begins after them.
        ("这个城市胜利路12号的路灯坏了", "胜利路12号"),
        ("城市管理局在胜利路12号", "胜利路12号"),
        ("联华超市胜利路12号店卖过期食品", "胜利路12号"),
        ("夜市胜利路12号摊位太吵", "胜利路12号"),
        # The complaint's verb is not part of the city's name.
        ("反映杭州市上城区中河路9号的噪音", "杭州市上城区中河路9号"),
        ("举报成都市武侯区人民南路4号的黑诊所", "成都市武侯区人民南路4号"),
    ],
)
def test_words_with_unit_characters_stay_outside(text: str, address: str) -> None:
    assert addresses(text) == [address]


@pytest.mark.parametrize(
    "text",
    ["我们市的超市太少", "城市管理局不作为", "市场监管局说超市归他们管", "人们在市场门口排队"],
)
def test_unit_characters_alone_are_no_address(text: str) -> None:
    assert addresses(text) == []


@pytest.mark.parametrize(
    ("text", "address"),
    [
        # A village's group named, not numbered, under a sub-district whose name holds 县.
        ("住福建省龙岩市上杭县旧县镇河坊村上屋组，", "福建省龙岩市上杭县旧县镇河坊村上屋组"),
        ("反映衢州市江山市旧县街道石门村大塘组的路灯", "衢州市江山市旧县街道石门村大塘组"),
        # A village's numbered 社, as in the south.
        ("住佛山市南海区狮山镇罗村十二社，", "佛山市南海区狮山镇罗村十二社"),
        ("投诉成都市郫都区团结镇宝华村3社的养猪场", "成都市郫都区团结镇宝华村3社"),
        # A sub-district whose name starts with 于 after its district.
        ("住淄博市张店区于家街道王庄村5组，", "淄博市张店区于家街道王庄村5组"),
        # A village or a residents' community with its sub-district, across a line break.
        ("今天到台州市黄岩区\n东城街道新前村走访", "台州市黄岩区\n东城街道新前村"),
        ("住昆明市五华区护国街道\n文庙社区，", "昆明市五华区护国街道\n文庙社区"),
        # A road right after its sub-district and district, without a number.
        (
            "住呼和浩特市新城区海拉尔东路街道\n锡林南路。",
            "呼和浩特市新城区海拉尔东路街道\n锡林南路",
        ),
        ("住鄂尔多斯市东胜区交通街道伊煤路，", "鄂尔多斯市东胜区交通街道伊煤路"),
        # A rural township right after its county.
        ("住云南省红河州元阳县新街镇。", "云南省红河州元阳县新街镇"),
        ("住甘肃省临夏州东乡县那勒寺镇，", "甘肃省临夏州东乡县那勒寺镇"),
        # A building numbered by a code of letters and digits.
        ("在苏州工业园区星湖街A2-C栋厂房上班", "苏州工业园区星湖街A2-C栋厂房"),
        ("在科技园高新北五道R2-A栋", "科技园高新北五道R2-A栋"),
    ],
)
def test_villages_townships_and_coded_buildings(text: str, address: str) -> None:
    assert addresses(text) == [address]


@pytest.mark.parametrize(
    "text",
    [
        # A community's clinic as an institution, a sub-district's roads in general.
        "社区医院的医生态度很差",
        "街道社区卫生服务中心不给开药",
        "朝阳区和平街道路面坑洼",
        "我们镇马路上都是垃圾",
        # Towns in general, a township's offices and people after the county.
        "全县乡镇干部都下去了",
        "本县城乡居民医保涨价",
        "昭觉县乡政府不作为",
        "县里各乡镇都没有公交",
        "我们县城镇居民很多",
        # The words for a county are no sub-district's name; 向 and 于 still stop one.
        "本县街道卫生很差",
        "我向街道反映过",
        "问题位于街道办门口",
        # A code alone, a group's kind in general.
        "A2-C栋厂房着火了",
        "驻村工作组没来过",
        "村里的合作社倒闭了",
    ],
)
def test_institutions_and_words_for_places_stay(text: str) -> None:
    assert addresses(text) == []


@pytest.mark.parametrize(
    ("text", "address"),
    [
        # A shop on the ground floor after the house number.
        ("店在和平区南京路九十六号底商。", "和平区南京路九十六号底商"),
        # An estate's block of flats right after its sub-district, across a line break.
        (
            "住南岗区花园街道\n金地名京二期C区5号楼3单元801。",
            "南岗区花园街道\n金地名京二期C区5号楼3单元801",
        ),
        # A district named by a direction alone after its city.
        ("我住鞍山市西区胜利街道\n建国路二十号附二号。", "鞍山市西区胜利街道\n建国路二十号附二号"),
        # A natural village under its village committee, after a district or a town.
        ("群众：张某，三亚市天涯区\n红塘村委会白沙村\n反映", "三亚市天涯区\n红塘村委会白沙村"),
        ("住文昌市会文镇冠南村委会湖丰村三组。", "文昌市会文镇冠南村委会湖丰村三组"),
        # A hamlet's 屯 inside a village's name.
        ("是贵德县河阴镇下屯新庄村的", "贵德县河阴镇下屯新庄村"),
    ],
)
def test_shops_estates_directions_and_villages_under_committees(text: str, address: str) -> None:
    assert addresses(text) == [address]


@pytest.mark.parametrize(
    "text",
    [
        # 村委会 alone is an office; the villagers and the village's offices after it are no
        # village.
        "我去村委会反映过三次",
        "村委会村民代表大会没开",
        "找了村委会主任也没用",
        "镇里的村委会村干部都不管",
        # A direction's district as a government, a sub-district's block without its estate.
        "攀枝花市东区人民政府",
        "西宾街道的3号楼",
        "社区医院门口",
        "小区门卫不让进",
    ],
)
def test_committees_governments_and_gates_stay(text: str) -> None:
    assert addresses(text) == []


@pytest.mark.parametrize(
    ("text", "address"),
    [
        # A line opening with a label and its colon is a new field, not the address's rest.
        (
            "地址：芗城区东铺头街道\n胜利东路二十号\n诉求：反映小区的事",
            "芗城区东铺头街道\n胜利东路二十号",
        ),
        (
            "住址：武昌区中华路街道粮道街一百一十九号\n联系电话：",
            "武昌区中华路街道粮道街一百一十九号",
        ),
        # A line break inside the address is still read through.
        ("地址：芗城区东铺头街道\n胜利东路二十号，诉求如下", "芗城区东铺头街道\n胜利东路二十号"),
    ],
)
def test_an_address_ends_before_the_next_labelled_line(text: str, address: str) -> None:
    assert addresses(text) == [address]


def test_a_village_pointed_at_is_no_address() -> None:
    assert addresses("可我家在这个村住了三代。") == []


@pytest.mark.parametrize(
    ("text", "address"),
    [
        # A district whose name opens with 向/于, after the words that introduce an address.
        (
            "我家在向阳区西林街道长安东路188号金色家园7栋3单元502室，暖气不热",
            "向阳区西林街道长安东路188号金色家园7栋3单元502室",
        ),
        ("住址：于洪区北陵街道黄河北大街五十号，诉求如下", "于洪区北陵街道黄河北大街五十号"),
        # …or after its city.
        ("佳木斯市向阳区西林街道长安东路188号", "佳木斯市向阳区西林街道长安东路188号"),
    ],
)
def test_a_unit_opening_with_toward_after_an_address_word(text: str, address: str) -> None:
    assert addresses(text) == [address]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        # 向 as 'to' before a district stays outside the address.
        ("我们向阳区西林街道长安东路188号的物业反映", "西林街道长安东路188号"),
        ("正在向阳区西林街道长安东路188号的物业反映", "西林街道长安东路188号"),
    ],
)
def test_toward_as_a_preposition_stays_outside(text: str, address: str) -> None:
    assert addresses(text) == [address]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        # A village's group written in full, or numbered with 第.
        (
            "我们洋浦镇新英村委会那大村第五村民小组三十户没领到",
            "洋浦镇新英村委会那大村第五村民小组",
        ),
        ("住在石门乡白岩村第二小组，", "石门乡白岩村第二小组"),
        ("我家在大桥镇河湾村七小组，", "大桥镇河湾村七小组"),
        # A production team numbered after its committee or its village.
        ("住勐罕镇曼景村委会曼听二队，", "勐罕镇曼景村委会曼听二队"),
        ("住清水镇红旗村四队，", "清水镇红旗村四队"),
    ],
)
def test_village_groups_in_full_and_production_teams(text: str, address: str) -> None:
    assert addresses(text) == [address]


def test_a_place_after_a_city_may_open_with_a_numeral() -> None:
    # 市 before 三 ends the city: the township's name opens with a numeral.
    text = "住云南省红河哈尼族彝族自治州蒙自市三道河乡红旗村二组，"
    assert addresses(text) == ["云南省红河哈尼族彝族自治州蒙自市三道河乡红旗村二组"]
    # …while 市 before a house number stays inside the place's name.
    assert addresses("住南院门街道竹笆市十七号，") == ["南院门街道竹笆市十七号"]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("住址：巴塘县夏邛镇向阳路十五号\n", "巴塘县夏邛镇向阳路十五号"),
        ("家住泸定县泸桥镇于家巷8号，", "泸定县泸桥镇于家巷8号"),
    ],
)
def test_a_road_opening_with_toward_after_its_township(text: str, address: str) -> None:
    assert addresses(text) == [address]


def test_a_works_numbered_in_a_bonded_zone() -> None:
    text = "我厂位于苏州工业园区星华街北侧综合保税区第三期十二号厂房，"
    assert addresses(text) == ["苏州工业园区星华街北侧综合保税区第三期十二号厂房"]
    assert addresses("综合保税区的政策很好。") == []


@pytest.mark.parametrize(
    ("text", "address"),
    [
        (
            "事发在河西区友谊路街道珠江道与友谊路交口东侧，",
            "河西区友谊路街道珠江道与友谊路交口东侧",
        ),
        ("在江北街道三新南路与文昌一路交汇处摆摊", "江北街道三新南路与文昌一路交汇处"),
        ("人民路和解放大街十字路口的红绿灯坏了", "人民路和解放大街十字路口"),
        ("正北下街与华阳大道交叉口西北角有人占道", "正北下街与华阳大道交叉口西北角"),
    ],
)
def test_where_two_roads_cross(text: str, address: str) -> None:
    assert addresses(text) == [address]


@pytest.mark.parametrize(
    "text", ["这条路和那条街的交叉口", "我和路人交口称赞", "他们在路口等我", "路与路的交汇处"]
)
def test_crossings_of_no_named_road_are_none(text: str) -> None:
    assert addresses(text) == []
