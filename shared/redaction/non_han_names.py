"""Given names of peoples who name without a surname, as they are written in Chinese.

Mongolian and Tibetan people are usually called by a given name alone (宝音, 巴特尔, 扎西),
which has no Han surname for the rules of ``names.py`` to anchor on and which the recogniser
often reads as an ordinary noun (宝音/n). These are the given names those peoples' naming
customs describe as common: for Mongolian names the words for heroes, metals, flowers, the
sun and moon (巴特尔 hero, 阿拉坦 gold, 其其格 flower, 娜仁 sun, 萨仁 moon…), for Tibetan
names the days of the week and the words of blessing (尼玛, 达瓦, 米玛, 拉巴, 普布, 巴桑, 边巴;
扎西, 次仁, 卓玛…) — as set out in the Chinese encyclopaedias' articles 蒙古族人名 and
藏族人名 (Wikipedia, Baike).

They are common words in neither language's Chinese spelling, but several are place names or
parts of them (乌兰察布, 丹巴县, 格桑花): they are taken as names only where a role or a title
stands right before them (嘎查长宝音说…, 村支书扎西不…), never on their own.
"""

from __future__ import annotations

MONGOLIAN = (
    "巴特尔 宝音 白音 巴图 巴雅尔 布和 朝鲁 乌力吉 吉日格拉 阿拉坦 孟恩 必勒格 莫日根 额尔敦 "  # noqa: SIM905
    "那顺 德力格尔 敖登 娜仁 萨仁 其其格 其木格 塔娜 哈斯 高娃 乌云 斯琴 托娅 图雅 苏和 "
    "孟和 特木尔 阿古拉 朝格图 那日苏 宝力道 乌兰 满都拉 毕力格 青格勒".split()
)
TIBETAN = (
    "扎西 卓玛 次仁 多吉 顿珠 旺堆 巴桑 尼玛 达瓦 米玛 拉巴 普布 边巴 白玛 梅朵 罗布 "  # noqa: SIM905
    "嘉措 洛桑 格桑 平措 土登 丹巴 强巴 丹增 拉姆 旺姆 卓嘎 央金 桑姆 曲珍 拉珍 贡布 "
    "晋美 次旦 德吉 仁钦 桑杰 央宗 嘎玛 占堆".split()
)
GIVEN_NAMES = tuple(sorted(set(MONGOLIAN + TIBETAN), key=lambda n: (-len(n), n)))

# Names told by their shape rather than listed. Chinese writes the names of these peoples
# by sound, with characters that carry no sense in them:
# - Uyghur and Kazakh given names often open with the Chinese spelling of an Arabic-derived
#   element: 阿不都 / 阿布都 / 阿卜杜 ('abd, servant of…), 买买提 (Muhammad), 努尔 (Nur,
#   light), 吐尔 (Tur…) or 艾 (艾力 Ali, 艾则孜 Aziz), followed here by sound characters only
#   (阿不都热合曼, 努尔兰, 吐尔逊);
# - Yi given names are syllables written 阿 / 吉 / 沙 + two or three more (阿苏拉则, 吉克阿依,
#   沙马拉哈);
# - Tibetan given names of Amdo often end in 措 (mtsho, lake: 尖措, 周措, 拉毛措) after one or
#   two sound characters.
# The character sets below were put together by hand from such spellings; they are not copied
# from a published table. Like the listed names, these are taken only after a role, a title or
# a kinsman's word, before a deed or punctuation.
TURKIC_CHARS = (
    "阿艾买提吐尔逊努兰曼热合依古丽木拉江汗克孜别巴哈尼亚斯坦乌则苏凯玛麦夏甫吾力沙亥衣都不卜杜布里"
)
YI_CHARS = "苏拉则依古莫克日哈伍尔果洛布史约达惹尼子作呷铁木色格支曲比俄阿马"
TIBETAN_CHARS = "尖仁青周拉卓才让多杰完加桑旦吉本贡卡南德索却央宗扎西次毛昂华先"
_TURKIC = f"(?:阿不都|阿布都|阿卜杜|买买提|吐尔|努尔|艾)[{TURKIC_CHARS}]{{1,4}}"
_YI = f"[阿吉沙][{YI_CHARS}]{{2,3}}"
_TIBETAN_MTSHO = f"[{TIBETAN_CHARS}]{{1,2}}措"
SHAPED_NAME = f"(?:{_TURKIC}|{_YI}|{_TIBETAN_MTSHO})"

# One given name or two run together (次仁多吉, 斯琴高娃), longest first, or a name of one of
# the shapes above; the lookahead on their first characters lets a search skip every other
# position at once.
_FIRSTS = {n[0] for n in GIVEN_NAMES} | set("阿买吐努艾吉沙") | set(TIBETAN_CHARS)
GIVEN_NAME = (
    "(?=[" + "".join(sorted(_FIRSTS)) + "])"
    "(?:(?:" + "|".join(GIVEN_NAMES) + "){1,2}|" + SHAPED_NAME + ")"
)
