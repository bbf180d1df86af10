"""What of oversight's handling reaches the complainant, and how it is worded.

Intake's delivery worker fans case events out to complainants as ``complaint.delivered``
(``what``: receipt | reply | closure | notice | follow_up). This table is oversight's part of
that list's wording: the list (event type -> what) is shared/events/reaches_complainant.py. The
wording is decided here, once, when oversight writes the event: the event carries it in
``complainant_notice`` (zh-CN, from the event's structured fields only — never a supervisor's
free text, never a staff name), so the delivery worker sends what the log holds and never
words anything itself.

Pure: no I/O.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.calendar import SHANGHAI
from shared.events.reaches_complainant import (
    EXTENSION_RULED,
    NOTICE_FIELD,
    REACHES_COMPLAINANT,
    REOPENED,
)

__all__ = [
    "EXTENSION_RULED",
    "NOTICE_FIELD",
    "REACHES_COMPLAINANT",
    "REOPENED",
    "cn_time",
    "extension_notice",
    "reopen_notice",
]


def cn_time(at: str) -> str:
    """A due time (its first late instant, RFC 3339) as a complainant reads it, in Asia/Shanghai:
    midnight is the end of the day before (2026年12月15日24时), others to the minute."""
    t = datetime.fromisoformat(at).astimezone(SHANGHAI)
    if (t.hour, t.minute, t.second, t.microsecond) == (0, 0, 0, 0):
        d = t - timedelta(days=1)
        return f"{d.year}年{d.month}月{d.day}日24时"
    return f"{t.year}年{t.month}月{t.day}日{t.hour}时{t.minute:02d}分"


def extension_notice(granted: bool, due_at: str) -> str:
    """The complainant's sentence for a ruled extension: ``due_at`` is the new due time when
    granted, the unchanged one when refused."""
    if granted:
        return f"承办单位申请延长办理期限，经督办机构审核同意，办理期限延长至{cn_time(due_at)}。"
    return (
        "承办单位申请延长办理期限，经督办机构审核未予同意，"
        f"承办单位须在原定期限{cn_time(due_at)}前办结。"
    )


def reopen_notice(due_at: str) -> str:
    """The complainant's sentence for a reopen (重办) after their dispute."""
    return (
        "您对办理结果提出的异议已受理，本件已交承办单位重新办理，"
        f"重新办理的期限为{cn_time(due_at)}。"
    )
