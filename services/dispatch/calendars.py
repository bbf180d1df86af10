"""Which working calendar a published ``calendar`` version names: ``shared/calendar_shelf.py``,
shared with oversight (its extensions, reopens and 回访 deadlines count on the same shelf)."""

from shared.calendar_shelf import CalendarShelf, shelf

__all__ = ["CalendarShelf", "shelf"]
