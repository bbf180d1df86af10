"""Whether a matter is within efficiency supervision: litigation and criminal matters are not,
and are declined (``complaint.declined``) naming the channel that handles them.

:func:`flag` reads the text for the signs of each out-of-scope kind and returns the first kind
it finds (a hint on the clerk's pages, computed by the projection from the logged text); the
clerk declines with that kind's code, and the event's reason names the proper channel. Nothing
is declined automatically: a complaint may mention a court and still be about a slow office.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class OutOfScope:
    code: str
    label: str
    channel: str  # the proper channel, named in the decline (zh-CN)
    signs: tuple[str, ...]

    @property
    def reason(self) -> str:
        return f"不属于效能投诉受理范围（{self.label}），请{self.channel}"


KINDS: Mapping[str, OutOfScope] = {
    k.code: k
    for k in (
        OutOfScope(
            "litigation",
            "涉诉事项",
            "依法向人民法院起诉或申请再审，已进入诉讼程序的按诉讼程序办理",
            ("起诉", "诉讼", "法院", "判决", "裁定", "上诉", "再审", "立案庭"),
        ),
        OutOfScope(
            "criminal",
            "刑事案件",
            "向公安机关报案（110）或向检察机关控告",
            ("诈骗", "盗窃", "抢劫", "报警", "犯罪", "刑事", "杀人", "伤害罪"),
        ),
        OutOfScope(
            "arbitration",
            "劳动人事争议",
            "向劳动人事争议仲裁委员会申请仲裁",
            ("劳动仲裁", "仲裁", "拖欠工资", "劳动合同纠纷"),
        ),
        OutOfScope(
            "discipline_violation",
            "违纪违法问题检举",
            "向纪检监察机关信访室检举控告（12388）",
            ("贪污", "受贿", "行贿", "索贿"),
        ),
    )
}


def flag(text: str) -> str | None:
    """The first out-of-scope kind whose signs the text shows, or None (pure)."""
    for kind in KINDS.values():
        if any(sign in text for sign in kind.signs):
            return kind.code
    return None
