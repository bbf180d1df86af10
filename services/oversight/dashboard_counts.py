"""The dashboard's counts per read-model position: the tabs' counts, the cases by state and the
units with overdue cases, counted once per position of the service's projector and reused by
every page until the projector moves (as the gauges on ``/metrics`` recount only then).

Read-your-writes holds: the position is read before counting and a page that waited for a
command's position (:data:`~shared.web.read_your_writes.FreshRead`) reads it after the wait,
so its counts are at least as new as the command; the projector writes a batch's documents
before it moves its position, so counts taken at a position never miss what it names. A
service without its own projector (no position to know) counts on every page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from fastapi import Request

from shared.web.context import get_context

MAX_ENTRIES = 512  # counts kept for one position (filter combinations asked); then start over

Position = tuple[int, tuple[tuple[int, int], ...]]  # the projector's identity, its vector


class CountsAtPosition:
    """Counts kept for one projector position; a new position drops them."""

    def __init__(self) -> None:
        self.position: Position | None = None
        self.values: dict[Hashable, Any] = {}

    async def get(
        self, position: Position | None, key: Hashable, count: Callable[[], Awaitable[Any]]
    ) -> Any:
        if position is None:
            return await count()
        if position != self.position:
            self.position, self.values = position, {}
        if key in self.values:
            return self.values[key]
        value = await count()
        if position == self.position:  # the projector may have moved meanwhile: keep it newer
            if len(self.values) >= MAX_ENTRIES:
                self.values = {}
            self.values[key] = value
        return value


def position_of(request: Request) -> Position | None:
    """The service's projector position now, or None without a projector of its own."""
    served = get_context(request).served
    projector = served.projector if served is not None else None
    if projector is None:
        return None
    return id(projector), tuple(sorted(projector.position.items()))


def counts_of(request: Request) -> CountsAtPosition:
    """The app's one keeper of dashboard counts."""
    state = request.app.state
    kept = getattr(state, "oversight_dashboard_counts", None)
    if kept is None:
        kept = state.oversight_dashboard_counts = CountsAtPosition()
    return kept
