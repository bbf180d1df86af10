"""The live totals kept in memory (``live_totals.py``) on real stores (SQLite and the
MongoDB-protocol server): the hand-worked history projected in two halves over two partitions,
every write guarded by its event's offset as the projector writes it. After each half the kept
totals equal the figures read from the case documents; the second page reads only the shares
written since the first; a new projector or store copy starts afresh, and a later share read
early is read again."""

from __future__ import annotations

from typing import Any

import pytest

from services.oversight.live_totals import LiveTotals
from services.oversight.rates_projection import RATE_ITEMS, RATE_PERIODS, RateItems, figures_of
from shared.readside.projection import Accepted
from shared.reports.periods import period
from shared.reports.rates import Fact
from shared.store.port import DocumentStore
from tests.contract.conftest_store import store
from tests.unit.test_rates_fixture import HISTORY

__all__ = ["store"]  # the fixture, re-exported so pytest finds it here


class MiniProjector:
    """What the projector does to the store: each event's writes guarded by its offset, the
    position (next offset per partition) moved after them."""

    def __init__(self, store: DocumentStore) -> None:
        self.store = store
        self.projection = RateItems()
        self.position = {0: 0, 1: 0}

    async def feed(self, facts: list[Fact]) -> None:
        for f in facts:
            p = int(f.stream[-1], 16) % 2
            offset = self.position[p]
            e = Accepted(f.stream, p, offset, f.log_time, f.id, f.type, "u", "/s", f.data, {})
            current = await self.store.get(RATE_ITEMS, f.stream)
            for w in self.projection.apply(current, e):
                await self.store.upsert(w.coll, w.id, {**w.doc, "_pos": offset})
            self.position[p] = offset + 1

    async def figures(self, period_id: str) -> Any:
        p = period(period_id)
        return figures_of(await self.store.find(RATE_ITEMS), p.start, p.end)


@pytest.fixture
async def rates(store: DocumentStore) -> DocumentStore:
    await RateItems().setup(store)
    return store


@pytest.mark.parametrize("period_id", ["2026-11", "2026-12", "2026-Q4"])
async def test_the_kept_totals_follow_the_projector(rates: DocumentStore, period_id: str) -> None:
    store = rates
    projector, live = MiniProjector(store), LiveTotals()
    half = len(HISTORY) // 2
    await projector.feed(HISTORY[:half])
    first = await live.totals(store, "p1", projector.position, period_id)
    assert first == await projector.figures(period_id)
    read_first = live.shares_read
    seen = dict(projector.position)

    await projector.feed(HISTORY[half:])
    second = await live.totals(store, "p1", projector.position, period_id)
    assert second == await projector.figures(period_id)
    all_shares = [s for s in await store.find(RATE_PERIODS) if s["period"] == period_id]
    since = [s for s in all_shares if s["_pos"] >= seen[s["partition"]]]
    if period_id != "2026-12":  # December's shares are all written in the second half
        assert 0 < len(since) < len(all_shares)
    assert live.shares_read - read_first == len(since)  # only those written since

    # At rest: nothing read again.
    before = live.shares_read
    assert await live.totals(store, "p1", projector.position, period_id) == second
    assert live.shares_read == before
    # Another projector (or store copy): read in full again.
    assert await live.totals(store, "p2", projector.position, period_id) == second
    assert live.shares_read == before + len(all_shares)
    # Without a projector: every share, every time.
    assert await live.totals(store, "p2", None, period_id) == second


async def test_a_share_read_early_is_read_again_at_the_next_move(rates: DocumentStore) -> None:
    store = rates
    projector, live = MiniProjector(store), LiveTotals()
    half = len(HISTORY) // 2
    await projector.feed(HISTORY[:half])
    stale = dict(projector.position)
    await projector.feed(HISTORY[half:])  # written, but the position asked is the older one
    early = await live.totals(store, "p", stale, "2026-Q4")
    assert early == await projector.figures("2026-Q4")  # every share written was read
    assert await live.totals(store, "p", projector.position, "2026-Q4") == early
