"""The ladder's notices (督办提醒, 督办单, 挂牌督办): their text, and the table of notices issued.

:func:`notice_text` is pure: the text a ladder step's event carries, naming the case (its
complaint number and stream), the unit, the due time and the step. The event is the notice's
record: the pages print the text it carries, never a text composed again, so what a unit was
told is what the log holds. :class:`LadderNotices` keeps each case's notices (one document per
case, folded from the accepted steps) for the printable pages (``notice_pages.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.events.catalog import LadderStep, LimitSpec
from shared.readside.case_table import CaseTable, Rule
from shared.readside.projection import Accepted
from shared.store.port import Doc
from shared.web.pages import cn_log_time

REMINDED = "ledger.supervision.reminded.v1"
ESCALATED = "ledger.supervision.escalated.v1"
LADDER_NOTICES = "oversight_notices"

TITLES: dict[str, str] = {
    LadderStep.reminder: "督办提醒",
    LadderStep.order: "督办单",
    LadderStep.listed: "挂牌督办通知书",
}
PRINTABLE = frozenset({LadderStep.order, LadderStep.listed})  # the documents a unit receives


def limit_words(limit: LimitSpec) -> str:
    """3个工作日, 12小时."""
    return f"{limit.amount}{'个工作日' if limit.unit == 'working_days' else '小时'}"


def case_words(case_no: str | None, stream: str) -> str:
    return f"投诉件（编号：{case_no}；案件：{stream}）" if case_no else f"案件（{stream}）"


def notice_text(
    step: LadderStep,
    *,
    case_no: str | None,
    stream: str,
    unit_name: str,
    due_at: str,
    threshold: LimitSpec | None = None,
) -> str:
    """The notice of one ladder step (zh-CN). ``threshold`` is the reminder's lead time or the
    挂牌督办's lateness, as the thresholds in force give it."""
    case, due = case_words(case_no, stream), cn_log_time(due_at)
    if step == LadderStep.reminder:
        ahead = f"距办理时限已不足{limit_words(threshold)}，" if threshold else ""
        return (
            f"{TITLES[step]}\n{unit_name}：\n你单位牵头办理的{case}，办理时限至{due}。"
            f"{ahead}请抓紧办理，按时办结并答复投诉人。逾期未办结的，将发出督办单。"
        )
    if step == LadderStep.order:
        return (
            f"{TITLES[step]}\n{unit_name}：\n你单位牵头办理的{case}，办理时限至{due}，"
            "现已超过办理时限仍未办结。请接本督办单后立即办理，尽快答复投诉人，"
            "并将办理情况及超时原因书面报送督办机构。逾期仍未办结的，将予挂牌督办。"
        )
    late = f"已满{limit_words(threshold)}" if threshold else ""
    return (
        f"{TITLES[step]}\n{unit_name}：\n你单位牵头办理的{case}，办理时限至{due}，"
        f"督办单发出后超过办理时限{late}仍未办结，现予挂牌督办。请单位主要负责人亲自督促，"
        "限期办结并答复投诉人，办理结果书面报送督办机构。挂牌督办情况纳入效能考核，"
        "并依照问责处理标准追究相关责任。"
    )


# ---- the table of notices issued ------------------------------------------------------------


def _step(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    step = d.get("step") or LadderStep.reminder
    if e.type == ESCALATED and d.get("step") is None:
        return  # a supervisor's own escalation carries no notice
    doc["notices"] = [
        *doc["notices"],
        {
            "id": e.id,
            "step": str(step),
            "unit": d["unit"],
            "due_at": d["due_at"],
            "threshold_at": d["threshold_at"],
            "thresholds": d.get("thresholds"),
            "level": d.get("level"),
            "text": d["notice"],
            "issued_at": e.log_time,
        },
    ]


def _received(doc: Doc, d: Mapping[str, Any], e: Accepted) -> None:
    doc["complaint_no"] = d["complaint_no"]


RULES: dict[str, Rule] = {
    "ledger.complaint.received.v1": _received,
    REMINDED: _step,
    ESCALATED: _step,
}


class LadderNotices(CaseTable):
    """The Projection for ``oversight_notices`` (see the module docstring)."""

    name = "oversight_notices"
    collection = LADDER_NOTICES
    rules = RULES

    def fresh(self) -> Doc:
        return {"complaint_no": None, "notices": []}
