"""A case's timeline in words (zh-CN): one row per event type — its sentence and the payload
fields the sentence names. Only those fields are kept in the read model (``facts_of``), so no
free text (complaint, replies, reasons) and never the complainant's identity reach the
timeline. A new event type is one row; a type without a row is shown by its name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from shared.web.pages import cn_log_time


class Wording(NamedTuple):
    text: str  # str.format template over ``fields``
    fields: tuple[str, ...] = ()


E = "ledger."
WORDS: dict[str, Wording] = {
    E + "complaint.received.v1": Wording(
        "受理投诉 {complaint_no}：被投诉单位 {unit}，类别「{category}」",
        ("complaint_no", "unit", "category"),
    ),
    E + "complaint.screened.v1": Wording("甄别：{outcome}", ("outcome",)),
    E + "complaint.delivered.v1": Wording("已告知投诉人（{what}）", ("what",)),
    E + "inspection.finding_recorded.v1": Wording(
        "暗访发现：{unit}「{post}」{finding}", ("unit", "post", "finding")
    ),
    E + "complaint.linked_as_duplicate.v1": Wording("作为重复投诉并入 {target}", ("target",)),
    E + "complaint.gathered.v1": Wording("并入重复投诉 {complaint_no}", ("complaint_no",)),
    E + "complaint.link_split.v1": Wording("撤销并案（{other}）", ("other",)),
    E + "complaint.flagged_cross_level.v1": Wording(
        "跨层级：{from_level} → {to_level}", ("from_level", "to_level")
    ),
    E + "complaint.withdrawn.v1": Wording("投诉人撤回投诉"),
    E + "complaint.declined.v1": Wording("不予受理（{reason_code}）", ("reason_code",)),
    E + "complaint.unit_resolved.v1": Wording("被投诉单位确定为 {unit}", ("unit",)),
    E + "complaint.recategorised.v1": Wording("类别改为「{category}」", ("category",)),
    E + "complaint.vault_erased.v1": Wording("投诉人个人信息已依法删除"),
    E + "complainant.confirmed.v1": Wording("投诉人确认问题已解决"),
    E + "complainant.disputed.v1": Wording("投诉人不认可办理结果"),
    E + "complainant.satisfaction_rated.v1": Wording("投诉人评价：{rating} 分", ("rating",)),
    E + "dispatch.assigned.v1": Wording(
        "交办：牵头单位 {lead_unit}，时限 {due_at}；协办单位 {co_units}",
        ("lead_unit", "due_at", "co_units"),
    ),
    E + "dispatch.return_ruled.v1": Wording("退单裁定（{unit}）：{granted}", ("unit", "granted")),
    E + "dispatch.deemed_done.v1": Wording(
        "{unit} 超时默认办结（时限 {due_at}），计为超时", ("unit", "due_at")
    ),
    E + "dispatch.due_confirmed.v1": Wording(
        "{unit} 时限按新日历确认为 {due_at}", ("unit", "due_at")
    ),
    E + "dispatch.conference_ruled.v1": Wording("联席会议裁定：{outcome}", ("outcome",)),
    E + "dispatch.buck_passing_flagged.v1": Wording(
        "发现推诿（{pattern}）：{units}", ("pattern", "units")
    ),
    E + "handling.acknowledged.v1": Wording("{unit} 签收", ("unit",)),
    E + "handling.replied.v1": Wording("{unit} 答复投诉人", ("unit",)),
    E + "handling.progress.v1": Wording("{unit} 报告办理进展", ("unit",)),
    E + "handling.resolution_claimed.v1": Wording(
        "{unit} 报办结，请投诉人于 {answer_due_at} 前确认", ("unit", "answer_due_at")
    ),
    E + "handling.return_requested.v1": Wording("{unit} 申请退单", ("unit",)),
    E + "handling.extension_requested.v1": Wording("{unit} 申请延期至 {until}", ("unit", "until")),
    E + "handling.extension_ruled.v1": Wording(
        "延期申请（{unit}）：{granted}，时限 {due_at}", ("unit", "granted", "due_at")
    ),
    E + "handling.reopened.v1": Wording("重办：{units}", ("units",)),
    E + "handling.closed.v1": Wording("办结：{finding}（依据：{basis}）", ("finding", "basis")),
    E + "deadline.elapsed.v1": Wording(
        "{unit} {deadline}时限已到（{due_at}）", ("unit", "deadline", "due_at")
    ),
    E + "supervision.reminded.v1": Wording(
        "督办提醒 {unit}：时限 {due_at} 将到", ("unit", "due_at")
    ),
    E + "supervision.escalated.v1": Wording("督办升级：第 {level} 级{step}", ("level", "step")),
    E + "handling.first_shown.v1": Wording("{unit} 首次查看", ("unit",)),
    E + "penalty.proposed.v1": Wording("建议对 {unit} 问责（{cause}）", ("unit", "cause")),
    E + "penalty.proposal_dismissed.v1": Wording("问责建议不予采纳"),
    E + "penalty.imposed.v1": Wording("对 {unit} 问责：{penalty}", ("unit", "penalty")),
    E + "penalty.revoked.v1": Wording("撤销问责 {penalty_id}", ("penalty_id",)),
    E + "publication.drafted.v1": Wording("起草公开通报"),
    E + "publication.published.v1": Wording("通报已公开"),
    E + "publication.withheld.v1": Wording("通报不予公开"),
    E + "publication.withdrawn.v1": Wording("通报已撤回"),
    E + "publication.corrected.v1": Wording("通报已更正"),
    E + "appeal.filed.v1": Wording("{unit} 就{target}提出申诉", ("unit", "target")),
    E + "appeal.ruled.v1": Wording("申诉已复核（结果见申诉复核页）"),
}

ENUMS: dict[str, dict[Any, str]] = {
    "step": {None: "", "order": "（督办单）", "listed": "（挂牌督办）"},
    "cause": {
        "deemed_done": "超时默认",
        "disputed": "投诉人不认可",
        "inspection": "暗访发现",
        "leadership": "领导责任",
    },
    "granted": {True: "同意", False: "不同意"},
    "target": {
        "penalty": "处分",
        "deemed_done": "超时默认",
        "reopen": "重办",
        "buck_passing": "踢皮球认定",
    },
    "finding": {
        "substantiated": "属实",
        "partly_substantiated": "部分属实",
        "unsubstantiated": "不属实",
    },
    "basis": {
        "complainant_confirmed": "投诉人已确认",
        "anonymous": "匿名投诉，无人可问",
        "no_answer_in_time": "回访期满未答复",
        "inspection_opened": "暗访发现，无投诉人",
    },
    "deadline": {"handling": "办理", "answer": "回访答复", "opinions": "会议意见"},
    "what": {
        "receipt": "受理回执",
        "reply": "答复",
        "closure": "办结",
        "notice": "通知",
        "follow_up": "回访",
    },
}
TIMES = frozenset({"due_at", "until", "answer_due_at"})


def facts_of(event_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The payload fields the event's wording names (nothing else is kept)."""
    wording = WORDS.get(event_type)
    return {f: data.get(f) for f in wording.fields} if wording else {}


def _units(value: Any) -> str:
    items = [
        f"{u['unit']}（时限 {cn_log_time(u.get('due_at'))}）" if isinstance(u, Mapping) else str(u)
        for u in value
    ]
    return "、".join(items) or "无"


def _shown(field: str, value: Any) -> str:
    if field in ENUMS:
        return ENUMS[field].get(value, str(value))
    if value is None:
        return "不变" if field in TIMES else ""
    if field in TIMES:
        return cn_log_time(value)
    if isinstance(value, list):
        return _units(value)
    return str(value)


def in_words(event_type: str, facts: Mapping[str, Any]) -> str:
    """The event as one zh-CN sentence."""
    wording = WORDS.get(event_type)
    if wording is None:
        return f"事件 {event_type}"
    return wording.text.format(**{f: _shown(f, facts.get(f)) for f in wording.fields})
