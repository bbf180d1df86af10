"""Routing as data (转办规则): the route dispatch proposes for a case, from the catalogue in force.

Pure. The catalogue (``catalog.Routing``, configuration kind ``routing``, after a 12345
派单目录) maps category × respondent unit × unit level to the unit that acts (the lead) and
the co-units. A case is routed by the most specific entry that matches it:

1. its category, its unit and that unit's level; 2. its category and its unit; 3. its category
   and its unit's level; 4. its category alone; then the same four with category ``*``.

The respondent's level comes from the unit directory in force (a unit it does not list has no
level: only entries without one match). An entry whose lead is ``respondent`` sends the case
to the unit complained about itself. No entry at all: no proposal, and the officer names the
units (an override, with its reason).

An index is built once per (routing version, unit directory version) and kept
(:class:`RouteIndexes`), so routing a case is a handful of dictionary look-ups however long the
catalogue is (``make bench``, group ``dispatch``).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from shared.events.catalog import (
    ANY_CATEGORY,
    RESPONDENT,
    RouteEntry,
    Routing,
    UnitDirectory,
    UnitLevel,
)

UNIT_PREFIX = "unit:"
_Key = tuple[str, str | None, UnitLevel | None]


def unit_id(org: str) -> str:
    """A unit as the log names units (``unit:<id>``), from a complaint's ``unit`` either way."""
    return org if org.startswith(UNIT_PREFIX) else f"{UNIT_PREFIX}{org}"


@dataclass(frozen=True)
class Route:
    """A proposed route: the entry that gave it (None: none matched), the lead, the co-units."""

    entry: str | None
    lead: str | None
    co_units: tuple[str, ...] = ()


NO_ROUTE = Route(None, None)


class RouteIndex:
    """One catalogue version, indexed by (category, unit, level), with the units' levels."""

    def __init__(self, routing: Routing, units: UnitDirectory | None = None) -> None:
        self._entries: dict[_Key, RouteEntry] = {
            (e.category, e.unit, e.level): e for e in routing.entries
        }
        self._levels: dict[str, UnitLevel] = (
            {u.id: u.level for u in units.units} if units is not None else {}
        )
        self.size = len(self._entries)

    def level_of(self, unit: str) -> UnitLevel | None:
        return self._levels.get(unit_id(unit))

    def entry_for(self, category: str, unit: str) -> RouteEntry | None:
        """The most specific entry for a case of ``category`` about ``unit`` (module docstring)."""
        uid = unit_id(unit)
        level = self._levels.get(uid)
        for cat in (category, ANY_CATEGORY):
            for key in ((cat, uid, level), (cat, uid, None), (cat, None, level), (cat, None, None)):
                found = self._entries.get(key)
                if found is not None:
                    return found
        return None

    def propose(self, category: str, unit: str) -> Route:
        entry = self.entry_for(category, unit)
        if entry is None:
            return NO_ROUTE
        lead = unit_id(unit) if entry.lead == RESPONDENT else entry.lead
        return Route(entry.code, lead, tuple(u for u in entry.co_units if u != lead))


class RouteIndexes:
    """The indexes of the last few (routing, unit directory) versions, each built once."""

    def __init__(self, keep: int = 4) -> None:
        self._keep = keep
        self._built: OrderedDict[tuple[str, str | None], RouteIndex] = OrderedDict()

    def of(
        self,
        routing_version: str,
        routing: Routing,
        units_version: str | None = None,
        units: UnitDirectory | None = None,
    ) -> RouteIndex:
        """The index of these versions (labels are published once per kind, so they key it)."""
        key = (routing_version, units_version)
        index = self._built.get(key)
        if index is None:
            index = RouteIndex(routing, units)
            self._built[key] = index
            while len(self._built) > self._keep:
                self._built.popitem(last=False)
        else:
            self._built.move_to_end(key)
        return index
