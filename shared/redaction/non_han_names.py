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

# One given name or two run together (次仁多吉, 斯琴高娃), longest first; the lookahead on
# their first characters lets a search skip every other position at once.
GIVEN_NAME = (
    "(?=[" + "".join(sorted({n[0] for n in GIVEN_NAMES})) + "])"
    "(?:" + "|".join(GIVEN_NAMES) + "){1,2}"
)
