"""The live totals of a period kept in memory and brought up to the projector's position by
reading only the shares written since (``rate_periods``, ``rates_projection.py``).

The first page of a period reads all its shares once; after that, when the projector has moved,
each partition's shares written at or beyond the offset last seen (``_pos``, the offset of the
event that last wrote a document, and ``partition``, the stream's) replace what was kept of
them, and the running sums change by the difference. Read-your-writes holds as for the
dashboard's counts: the projector writes a batch's documents before it moves its position, so
every share written up to a position is read when that position is; a share written beyond it
and read early is read again at the next move (replacing is idempotent).

Kept per projector and store copy (a rebuild or a new projector starts afresh), at most
``MAX_PERIODS`` periods, the least recently asked dropped first. Without a projector of its
own the service reads every share on every page.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from services.oversight.rates_projection import RATE_PERIODS, Figures, period_totals
from shared.readside.projection import GUARD_FIELD
from shared.reports.rates import FIGURES
from shared.store.port import ASC, DocumentStore

MAX_PERIODS = 8
PAGE = 5000
Unit = tuple[str, tuple[int, ...], tuple[int, ...]]  # unit, numerators, denominators
# Tuples of atoms: the collector stops tracking them, so keeping a quarter's shares does not
# lengthen its full collections.


@dataclass
class _Period:
    seen: dict[int, int]  # the projector's position the sums reflect
    shares: dict[str, tuple[Unit, ...]] = field(default_factory=dict)  # share id -> its units
    sums: dict[str, tuple[list[int], list[int]]] = field(default_factory=dict)

    def put(self, share_id: str, units: list[Mapping[str, Any]]) -> None:
        kept = tuple((u["unit"], tuple(u["n"]), tuple(u["d"])) for u in units)
        for u in self.shares.get(share_id, ()):
            self._add(u, -1)
        for u in kept:
            self._add(u, 1)
        self.shares[share_id] = kept

    def _add(self, u: Unit, sign: int) -> None:
        unit, un, ud = u
        n, d = self.sums.setdefault(unit, ([0] * len(FIGURES), [0] * len(FIGURES)))
        for i in range(len(FIGURES)):
            n[i] += sign * un[i]
            d[i] += sign * ud[i]
        if not any(d):
            del self.sums[unit]  # no item and no score left: not in the period

    def figures(self) -> Figures:
        return {
            unit: dict(sorted((f, (n[i], d[i])) for i, f in enumerate(FIGURES)))
            for unit, (n, d) in sorted(self.sums.items())
        }


async def _shares(store: DocumentStore, query: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    last: str | None = None
    while True:
        q = query if last is None else {**query, "_id": {"$gt": last}}
        got = await store.find(RATE_PERIODS, q, sort=[("_id", ASC)], limit=PAGE)
        out.extend(got)
        if len(got) < PAGE:
            return out
        last = got[-1]["_id"]


class LiveTotals:
    """One per app (see the module docstring)."""

    def __init__(self) -> None:
        self.owner: Hashable | None = None
        self.periods: OrderedDict[str, _Period] = OrderedDict()
        self.locks: dict[str, asyncio.Lock] = {}
        self.shares_read = 0  # how many shares were read (what a page cost)

    async def totals(
        self,
        store: DocumentStore,
        owner: Hashable,
        position: Mapping[int, int] | None,
        period_id: str,
    ) -> Figures:
        if position is None:
            return await period_totals(store, period_id)
        if owner != self.owner:
            self.owner, self.periods = owner, OrderedDict()
        async with self.locks.setdefault(period_id, asyncio.Lock()):  # one period at a time
            at = dict(position)
            kept = self.periods.get(period_id)
            if kept is None:
                kept = _Period(at)
                docs = await _shares(store, {"period": period_id})
            else:
                docs = []
                for p, offset in sorted(at.items()):
                    since = kept.seen.get(p, 0)
                    if offset != since:
                        query = {"period": period_id, "partition": p, GUARD_FIELD: {"$gte": since}}
                        docs += await _shares(store, query)
                kept.seen = at
            for doc in docs:
                kept.put(doc["_id"], doc["units"])
            self.shares_read += len(docs)
            if owner == self.owner:  # not replaced meanwhile by a new projector or copy
                self.periods[period_id] = kept
                self.periods.move_to_end(period_id)
                while len(self.periods) > MAX_PERIODS:
                    self.periods.popitem(last=False)
            return kept.figures()
