"""What the complaint is about: a category from the configured list, suggested by rules and
keywords (the clerk can override, at entry or later by ``complaint.recategorised``).

The list is the review's own: 审批拖延 approval delay, 工作纪律 work discipline, 服务态度 service
attitude, 不作为 inaction, 乱作为 arbitrary action, 推诿扯皮 buck-passing, 敷衍答复 perfunctory
reply, 其他 other. A suggestion counts each category's keywords in the text (a keyword found
once counts once); the most hits win, ties going to the category listed first; none: ``other``.
"""

from __future__ import annotations

from collections.abc import Mapping

CATEGORIES: Mapping[str, str] = {
    "approval_delay": "审批拖延",
    "work_discipline": "工作纪律",
    "service_attitude": "服务态度",
    "inaction": "不作为",
    "arbitrary_action": "乱作为",
    "buck_passing": "推诿扯皮",
    "perfunctory_reply": "敷衍答复",
    "other": "其他",
}
OTHER = "other"

KEYWORDS: Mapping[str, tuple[str, ...]] = {
    "approval_delay": (
        "审批",
        "拖延",
        "迟迟不批",
        "超期",
        "逾期",
        "办证",
        "久拖",
        "一直没批",
        "压件",
    ),
    "work_discipline": (
        "离岗",
        "脱岗",
        "迟到",
        "早退",
        "玩手机",
        "看视频",
        "打游戏",
        "上班时间",
        "睡觉",
    ),
    "service_attitude": ("态度", "恶劣", "冷漠", "刁难", "训斥", "辱骂", "不耐烦", "脸难看"),
    "inaction": ("不作为", "不管", "无人管", "没人管", "不处理", "置之不理", "不予受理"),
    "arbitrary_action": ("乱作为", "乱收费", "乱罚款", "违规收费", "滥用职权", "强制", "乱检查"),
    "buck_passing": ("推诿", "扯皮", "踢皮球", "互相推", "推来推去", "让我去找", "不归我们管"),
    "perfunctory_reply": ("敷衍", "答非所问", "应付", "走过场", "回复不实", "糊弄"),
}


def suggest(text: str) -> str:
    """The suggested category code for a complaint text (pure)."""
    best, hits = OTHER, 0
    for code, words in KEYWORDS.items():
        n = sum(1 for w in words if w in text)
        if n > hits:
            best, hits = code, n
    return best


def label(code: str) -> str:
    """The category's name for pages (a category recorded before the list: as written)."""
    return CATEGORIES.get(code, code)
