"""Person names: known names always, the offline recogniser's judged, name-like words not."""

from __future__ import annotations

import pytest

from shared.redaction.names import default_recogniser, find_names, is_brand_use, is_reference
from shared.redaction.width import fold_width


def names(text: str, known: tuple[str, ...] = (), *, recognise: bool = True) -> list[str]:
    folded = fold_width(text)
    spans = find_names(folded, known, default_recogniser() if recognise else None)
    return sorted({text[s.start : s.end] for s in spans})


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("窗口的覃丽华态度很差。", "覃丽华"),
        ("我叫禤海燕，来办退休。", "禤海燕"),
        ("隗建国科长一直推诿。", "隗建国"),
        ("找仉志强主任也没用。", "仉志强"),
        ("请联系欧阳明月。", "欧阳明月"),
        ("摆摊的老人麻桂芝，被推倒了。", "麻桂芝"),
        ("执勤交警闪国强说不行。", "闪国强"),
        ("经办人包海军电话一直占线。", "包海军"),
    ],
)
def test_recognised(text: str, name: str) -> None:
    assert names(text) == [name]


@pytest.mark.parametrize(
    "text",
    [
        "周先生说材料不全。",
        "某女士来电反映。",
        "接访的刘某某只说回去等。",
        "街道办的小李说归住建局。",
        "王科长一直推诿。",
        "黄金周期间王府井大街人很多。",
        "高新区社保分局窗口只开一个。",
        "王府井大街的李宁专卖店门口。",
        "穿着李宁运动服的工作人员。",
        "建议检查李宁、安踏等品牌专卖店。",
        "区卫健委说诊所有资质。",
        "货车在国道被路政扣了三天。",
    ],
)
def test_name_like_words_are_not_names(text: str) -> None:
    assert names(text) == []


def test_a_person_called_like_a_brand_is_a_person() -> None:
    assert names("工作人员李宁让我提供十年前的证明。") == ["李宁"]


def test_known_names_are_found_without_the_recogniser() -> None:
    assert names("本人禤海燕，电话略。", ("禤海燕",), recognise=False) == ["禤海燕"]


def test_known_names_win_over_every_rule() -> None:
    # A known person called 李宁, even where the words around would make it the brand.
    assert names("李宁专卖店的店员", ("李宁",)) == ["李宁"]


def test_known_names_across_spaces_and_lines() -> None:
    assert names("投诉人禤 海\n燕。", ("禤海燕",), recognise=False) == ["禤 海\n燕"]


def test_every_occurrence_of_a_found_name() -> None:
    text = "工作人员王建军拒绝受理。我第二天又去，王建军还是不在。"
    spans = find_names(fold_width(text), (), default_recogniser())
    assert [text[s.start : s.end] for s in spans] == ["王建军", "王建军"]


def test_rules() -> None:
    assert is_reference("周先生") and is_reference("小王") and is_reference("张某")
    assert not is_reference("周建国")
    assert is_brand_use("李宁专卖店", 0, 2) and not is_brand_use("李宁让我", 0, 2)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        # Transliterated names across their dot; names without a Han surname after 我叫.
        ("他叫努尔艾力·吐尔逊，是这里的管理员。", "努尔艾力·吐尔逊"),
        ("我叫格桑卓玛，在拉萨做生意。", "格桑卓玛"),
        # A relative named right before what befell them; a name after a filer's role word.
        ("我外公闭光明去年住院，报销被拒。", "闭光明"),
        ("反映人：郇丽萍，电话略。", "郇丽萍"),
        # A noun-read name between a role and what the person said.
        ("执法人员高峰说这不归他们管。", "高峰"),
    ],
)
def test_recognised_by_the_rules(text: str, name: str) -> None:
    assert name in names(text)


def test_a_name_run_into_the_next_word_is_cut_back() -> None:
    assert "覃春兰" in names("我的邻居覃春兰家在楼顶搭了鸽棚。")
    assert not any(n.endswith("家") for n in names("我的邻居覃春兰家在楼顶搭了鸽棚。"))


@pytest.mark.parametrize(
    "text",
    ["城管队员马上说要走。", "社区的练阿婆八十多岁了。", "工作人员周末不上班。"],
)
def test_words_after_roles_are_not_names(text: str) -> None:
    assert names(text) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        # A name signing off before the filer's number; one listed after a name found.
        ("请尽快处理。甯秀英，139 0771 2233。", "甯秀英"),
        ("区住建局覃美玲、乜国华在验收时收了红包。", "乜国华"),
        # A compound surname the recogniser cut from its given name.
        ("令狐建国投诉：物业乱收费。", "令狐建国"),
        # A three-character name after a role, read by the recogniser as another word.
        ("城管执法队员闭玉兰和同事把摊子掀了。", "闭玉兰"),
    ],
)
def test_recognised_by_context(text: str, name: str) -> None:
    assert name in names(text)


@pytest.mark.parametrize(
    "text",
    ["退回三次。公司联系电话一直占线。", "我叫不出名字。家里电话没人接。", "，共3次，于10月提交。"],
)
def test_words_before_numbers_are_not_names(text: str) -> None:
    assert names(text) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        # The forms of address: a full name before a title, after 叫, beside 我, before 说,
        # heading a clerk's note, after a role or an office.
        ("张建国先生反映楼上漏水。", "张建国"),
        ("王德福大爷家门口堆满了垃圾。", "王德福"),
        ("有个同事叫唐小军，泄露了信息。", "唐小军"),
        ("我向春燕，家住城东。", "向春燕"),
        ("吴刚说他是街道办的。", "吴刚"),
        ("其其格，身份证号码另附。", "其其格"),
        ("物业经理钱多多，根本不接电话。", "钱多多"),
        ("审批科的车明让我再等等。", "车明"),
        ("执法人员喻长河暴力执法。", "喻长河"),
        ("楼上住户施建国在楼道充电。", "施建国"),
        ("邻居金英花家的狗咬了人。", "金英花"),
        # A name cut after the first character of its compound surname.
        ("我长孙一鸣，住在城西。", "长孙一鸣"),
        ("承包商上官伟是校长亲戚。", "上官伟"),
    ],
)
def test_recognised_by_forms_of_address(text: str, name: str) -> None:
    assert name in names(text)


@pytest.mark.parametrize(
    "text",
    [
        "一位姓周的大姐帮了我。",
        "窗口说办不了，却不说明哪条规定。",
        "公司推给仲裁，仲裁又说属于监察。",
        "社区说要街道盖章，居委会说必须有房东到场。",
        "社区说要街道盖章，街道说要区里批。",
        "我找了王局长，他说会处理。",
        "本人，男，四十岁，在工地打工。",
        "他们叫我明天再来。",
    ],
)
def test_forms_of_address_without_a_name(text: str) -> None:
    assert names(text) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        # A full name right after a title, which the recogniser cut after its second character
        # (and whose surname must not take the title's last character: 主任|冼…).
        ("反映村委会主任冼国成优亲厚友。", "冼国成"),
        ("村主任庹德成包庇亲戚。", "庹德成"),
        ("小区物业经理晏春来不退押金。", "晏春来"),
        # A name-like name (a common noun) after a role, before a deed that is not speech.
        ("社区工作人员高峰不给盖章。", "高峰"),
        ("窗口工作人员林涛不给办。", "林涛"),
        # A Mongolian or Tibetan given name after a title or a role.
        ("草场的事嘎查长宝音说了算。", "宝音"),
        ("嘎查达巴雅尔不让我们放牧。", "巴雅尔"),
        ("村支书扎西顿珠拒绝签字。", "扎西顿珠"),
        ("村主任扎西不同意。", "扎西"),
    ],
)
def test_names_after_titles_and_roles(text: str, name: str) -> None:
    assert names(text) == [name]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        # The title's own characters stay; what follows a two-character name is no part of it.
        ("主任王伟说不行。", ["王伟"]),
        ("主任张华同志很负责。", ["张华"]),
        ("主任任建国不管。", ["任建国"]),
        ("经理张强不同意。", ["张强"]),
        ("经理张强来了以后。", ["张强"]),
        ("主任王伟收红包。", ["王伟"]),
        # Common nouns after a role: a time, a season, a level, a title.
        ("工作人员高峰期不在岗。", []),
        ("早高峰时段工作人员不在。", []),
        ("保安黄金周不上班。", []),
        ("司机师傅不让下车。", []),
        ("工作人员水平不够。", []),
        # Non-Han given names are names only after a title or a role.
        ("乌兰察布市的嘎查长说了算。", []),
        ("去丹巴县的路上。", []),
    ],
)
def test_title_and_role_near_misses(text: str, found: list[str]) -> None:
    assert names(text) == found


@pytest.mark.parametrize(
    ("text", "name"),
    [
        # A rare surname that is also a word's first character, after a role, before what the
        # person did to the complainant.
        ("社区卫生服务站的医生门立新开药只开三天量。", "门立新"),
        ("干部门永强没来过。", "门永强"),
        ("窗口的工作人员门建华只给我一张表。", "门建华"),
        # A name after a record's label for a person's part in it.
        ("诉求：整改要求前后矛盾。接访人：何建。", "何建"),
        ("承办人：门建国。", "门建国"),
        ("记录人：覃丽，核对无误。", "覃丽"),
    ],
)
def test_names_after_roles_before_deeds_and_after_labels(text: str, name: str) -> None:
    assert names(text) == [name]


@pytest.mark.parametrize(
    "text",
    [
        # 门 as the word it starts: a gate, a gatekeeper, a clinic.
        "物业公司的门卫说不让进。",
        "小区保安门口不让停车。",
        "医生门诊只开三天药。",
        "保安在门口叫我走开。",
        # A conjunction after a role joins another role.
        "城管和水务都说归对方管。",
        "交警与路政又推来推去。",
        # A label before a word for people, not a name.
        "当事人：双方。",
        "联系人：本人。",
        "负责人：无。",
    ],
)
def test_role_deed_and_label_near_misses(text: str) -> None:
    assert names(text) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        # A surname that is also a preposition, right after staff named by what they do.
        ("受理人员向春燕说要本人到场。", "向春燕"),
        # A given name of the 1960s and 70s after a rare surname, after an office.
        ("区水务局党卫红在现场只看了一眼。", "党卫红"),
        # A full name's shape between an office and a post, read as a noun elsewhere.
        ("交通局的高峰科长说再等等。", "高峰"),
        # Uyghur and Kazakh names opening with 阿不都 / 努尔 / 买买提, after a township's people.
        ("乡里的阿不都克里木说县里还没批。", "阿不都克里木"),
        ("村里的努尔别克要我们自己去交。", "努尔别克"),
        ("乡里的买买提江说没收到。", "买买提江"),
        # A Yi name of syllables after 阿 / 吉, a Tibetan one ending in 措 after a kinsman.
        ("镇里的阿依拉则说要先交钱。", "阿依拉则"),
        ("其子拉毛措的车被扣了。", "拉毛措"),
    ],
)
def test_prepositions_offices_posts_and_shaped_names(text: str, name: str) -> None:
    assert names(text) == [name]


def test_a_name_run_into_what_they_said_ends_before_it() -> None:
    assert names("经办人黄志坚称“材料在局领导那里”。") == ["黄志坚"]


def test_a_name_found_is_not_taken_from_a_longer_word() -> None:
    text = "交通局的高峰科长说“高峰期人手不够”。"
    spans = find_names(fold_width(text), (), default_recogniser())
    assert [(s.start, s.end) for s in spans] == [(text.index("高峰"), text.index("高峰") + 2)]


@pytest.mark.parametrize(
    "text",
    [
        # 向 as 'to' after staff, and a preposition alone before a given name.
        "工作人员向我解释了半天。",
        # A post after a word that is no person (a time, a department).
        "高峰期科长都不在。",
        "高峰期人手不够。",
        "我们找了房管局的科长说明情况。",
        # Shaped names without a role or a kinsman before them: places and words.
        "我去阿克苏出差。",
        "吉克村的路没修。",
        "青海湖边的尖措湖很美。",
        # A township's people doing something, without a name.
        "乡里的干部说没收到。",
        "窗口人员边玩手机边说话。",
    ],
)
def test_prepositions_posts_and_shapes_that_are_no_names(text: str) -> None:
    assert names(text) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        # Two transliterated parts joined by a middle dot, after an office's role.
        ("市场监管局的买买提·艾力说我的许可证地址写错了。", "买买提·艾力"),
        ("城管局的约翰·史密斯说不行。", "约翰·史密斯"),
        ("主任努尔兰•别克不同意。", "努尔兰•别克"),
        ("其子阿依江．吐尔逊，在外地打工。", "阿依江．吐尔逊"),
        # A Yi name of clan and given name after a township's people.
        ("乡里的沙马拉哈说是施工队的事。", "沙马拉哈"),
    ],
)
def test_dotted_and_yi_names_after_a_role(text: str, name: str) -> None:
    assert names(text) == [name]


@pytest.mark.parametrize(
    "text",
    [
        # A dot joining places or titles, with no role before it.
        "12345热线（凉山·西昌）",
        "12345热线通话记录（黑龙江·佳木斯）",
        "我们看了《三国·蜀书》。",
        # 沙 opening a word after a township's people.
        "乡里的沙发厂说不收。",
    ],
)
def test_dots_and_shapes_that_are_no_names(text: str) -> None:
    assert names(text) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        # A record's label saying what the official did, without 人.
        ("信访接待记录\n接访：郑伟\n来访人：", "郑伟"),
        ("受理：邱海燕\n", "邱海燕"),
        # A group chat's speaker after the building of their flat.
        ("【5栋 谷春雨】我打了12345，说转给街道", "谷春雨"),
        ("【12号楼 邱海燕】物业不管", "邱海燕"),
        # A name broken by a line where a letter's line ended.
        ("医保局的汪\n建说超过了时限", "汪\n建"),
    ],
)
def test_labels_chat_speakers_and_broken_names(text: str, name: str) -> None:
    assert names(text) == [name]


@pytest.mark.parametrize(
    "text",
    [
        "接待：市信访局\n",
        "记录：无\n",
        # A speaker referred to, not named.
        "【3栋 老钱】物业又把消防通道租给卖菜的了",
        "【3栋 业主】每次都是反映给领导",
        # A role before a line break and what follows it.
        "医保局的\n说明材料",
        "村委会说不管，社区医院门口，门卫说",
    ],
)
def test_labels_chats_and_breaks_without_a_name(text: str) -> None:
    assert names(text) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        # 楼 as a surname, after a post and before a deed (the recogniser tags 楼 alone).
        ("举报税务所所长楼志新在检查中吃拿卡要。", "楼志新"),
        # A relative's or neighbour's full name before a verb and its 了, read as words.
        ("我家的菜地被邻居牛建设占了，", "牛建设"),
        ("去年丈夫马国庆病了，", "马国庆"),
        # A full name right after an office, before what was said or refused.
        ("整改报告交了，消防大队成立新一直说排期。", "成立新"),
        ("补偿款的事，土地所柏林森拒绝签字。", "柏林森"),
        # A name after a role with the person's particulars in brackets.
        ("举报区民政局工作人员富强（满族）办证时索要好处。", "富强"),
        ("村主任文明（男，52岁）多次威胁我。", "文明"),
    ],
)
def test_names_read_as_words_in_a_person_context(text: str, name: str) -> None:
    assert names(text) == [name]


@pytest.mark.parametrize(
    "text",
    [
        "派出所有人说过这事。",
        "母亲高血压犯了，住院一周。",
        "邻居家装修了三个月。",
        "交警大队领导说再等等。",
        "医保中心回复说不行。",
        "楼道里堆满杂物，楼下电话打不通。",
        "我们楼下的邻居楼上漏水。",
        "工作人员（女）说材料不全。",
    ],
)
def test_words_in_those_contexts_stay(text: str) -> None:
    assert names(text) == []
