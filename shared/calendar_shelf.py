"""Which working calendar a published ``calendar`` version names.

The configuration kind ``calendar`` holds only a version label (``chinesecalendar-1.11.0``):
the calendar itself is code — the installed ``chinesecalendar`` package, or a table laid over
it (``shared.calendar.OverlayCalendar``) for a State Council notice the package has not shipped
yet. The shelf knows the calendars this process can count on, by version; the assignment uses
the one the version in force names, and a version the process does not have is refused (503
``calendar-unavailable``), never replaced by another calendar silently. ``add`` is the seam a
deployment (or a test) uses to put a table on the shelf.
"""

from __future__ import annotations

from functools import cache

from shared.calendar import StatutoryCalendar, WorkingCalendar


class CalendarShelf:
    def __init__(self, *calendars: WorkingCalendar) -> None:
        self._by_version: dict[str, WorkingCalendar] = {c.version: c for c in calendars}

    def add(self, calendar: WorkingCalendar) -> None:
        self._by_version[calendar.version] = calendar

    def remove(self, version: str) -> None:
        self._by_version.pop(version, None)

    def named(self, version: str) -> WorkingCalendar | None:
        return self._by_version.get(version)

    def versions(self) -> list[str]:
        return sorted(self._by_version)


@cache
def shelf() -> CalendarShelf:
    """This process's shelf: the installed package's calendar, and whatever was added."""
    return CalendarShelf(StatutoryCalendar())
