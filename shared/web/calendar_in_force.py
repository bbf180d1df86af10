"""The working calendar the published ``calendar`` version names, for a request: the one the
process's shelf (``shared/calendar_shelf.py``) holds under that version, or a 503
``calendar-unavailable`` — never another calendar silently. Dispatch counts assignments with
it, oversight its extensions, reopens and 回访 deadlines."""

from __future__ import annotations

from fastapi import Request

from shared.calendar import WorkingCalendar
from shared.calendar_shelf import shelf
from shared.events.catalog import CalendarVersion, ConfigKind
from shared.web.config_in_force import InForce, in_force
from shared.web.problems import CALENDAR_UNAVAILABLE, ProblemError


async def calendar_in_force(request: Request) -> WorkingCalendar:
    """The calendar the version in force names, or 503 ``calendar-unavailable``."""
    named: InForce[CalendarVersion] = await in_force(request, ConfigKind.calendar)
    calendar = shelf().named(named.content.version)
    if calendar is None:
        raise ProblemError(
            CALENDAR_UNAVAILABLE,
            "现行节假日日历版本未在本服务中安装，暂不能计算办结时限",
            extensions={"kind": ConfigKind.calendar.value},
        )
    return calendar
