"""Closing the loop: how long the complainant is asked (回访), and who may close a case.

A unit's claim of resolution is not resolution. When the lead unit claims, the complainant is
asked until the answer deadline — ``revisit_within`` of the time limits in force, counted on
the calendar in force from the claim's instant (both published configuration; nothing here is
a constant). The lead's claim records that due time (``answer_due_at``) and the scheduler
fires the ``answer`` deadline when it passes (``deadline.py``). The complainant confirms or
disputes through intake; where nobody can be asked — an anonymous complaint, a case opened by
an inspection, no answer by the deadline — a supervisor closes it, and the closure records the
basis (``commands.close``, the rule book's ``handling.closed``). A supervisor's closure while a
complainant can still be asked is refused (``complainant_askable``).

``answer_due`` is pure; ``answer_due_in_force`` reads the configuration for a request.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import Request

from shared.calendar import Due, WorkingCalendar, due_at
from shared.events.catalog import ConfigKind, TimeLimits
from shared.time_limits import as_time_limit
from shared.web.calendar_in_force import calendar_in_force
from shared.web.config_in_force import InForce, in_force


def answer_due(claimed_at: datetime, limits: TimeLimits, calendar: WorkingCalendar) -> Due:
    """Until when the complainant is asked after a claim at ``claimed_at`` (回访)."""
    return due_at(claimed_at, as_time_limit(limits.revisit_within), calendar)


async def answer_due_in_force(request: Request, claimed_at: datetime) -> Due:
    """:func:`answer_due` with the time limits and calendar in force (503 if unpublished)."""
    limits: InForce[TimeLimits] = await in_force(request, ConfigKind.time_limits)
    return answer_due(claimed_at, limits.content, await calendar_in_force(request))
