"""Time limits (限时办结): each unit's absolute due time, from the time limits in force.

Pure. The limit of a case is its category's, for its urgency, where the time limits in force
name one (``by_category``), else its urgency's (``by_urgency``): hours for the urgent, working
days otherwise (``deploy/config/time_limits.json``). Every unit on the case — the lead and each
co-unit — gets its own absolute due time, counted once from the assignment's instant on the
calendar in force (``shared/calendar.py``) and recorded with the calendar's version; replay
reads what was recorded and never counts again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from shared.calendar import Due, TimeLimit, WorkingCalendar, due_at
from shared.events.catalog import LimitSpec, TimeLimits, Urgency


def limit_for(limits: TimeLimits, category: str, urgency: Urgency) -> LimitSpec:
    """The handling limit of a case of ``category`` at ``urgency``."""
    own = limits.by_category.get(category, {}).get(urgency)
    if own is not None:
        return own
    by_urgency: LimitSpec = getattr(limits.by_urgency, urgency.value).handle_within
    return by_urgency


def as_time_limit(spec: LimitSpec) -> TimeLimit:
    return TimeLimit(amount=spec.amount, unit=spec.unit)


def dues(
    start: datetime, limit: LimitSpec, calendar: WorkingCalendar, units: Iterable[str]
) -> dict[str, Due]:
    """Each unit's due time for an assignment at ``start`` (the same limit for every unit;
    each unit keeps its own clock from here on: extensions, returns, deemed done)."""
    due = due_at(start, as_time_limit(limit), calendar)
    return {unit: due for unit in units}
