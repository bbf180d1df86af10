"""The assessment ranking page (group ``ranking``; no corpus needed).

``page``: ``GET /ranking/{period}`` of a signed-in supervisor through the oversight app (session,
the weights version in force at the period's end from the registry stream, the period's figures,
the ranking, the template) with N cases in the SQLite read store, over the three months and the
quarter the cases are due in (the last quarter that has ended), beside the raw limit measured in
the same run on the same file. Target: p99 ≤ 200 ms.

Three rows:

* ``ranking.page``: the periods' figures signed (``period.figures_published``, as oversight's
  publisher signs them once a period ends): the page reads one ``signed_figures`` document.
  Raw limit: the bare SQLite read of that document by id.
* ``ranking.page_live``: before the figures are signed, the live totals (``live_totals.py``)
  after the projector moved: before each request one batch on one partition rewrites the shares
  of 100 cases at its next offset, and the page reads only those. The projector as the page
  sees it is a stand-in whose position the bench moves (``ranking_api._projector``); the real
  one keeps running. Raw limit: the bare indexed read of the shares written since. The first
  page of each period (every share read, as after a restart) is in the notes, beside the bare
  read of all the period's shares.
* ``ranking.page_live_at_rest``: the same, the projector not moved.

The read model is written in bulk: N synthetic case documents of ``rate_items`` (one lead item
each, some with a co-unit, over 40 units, one of them with four cases: not ranked) and the
shares the rates projection derives from each (its own ``shares_of``). The log is made with its
clock set before the quarter, so the shipped weights are in force at each period's end; the
app's own figures publisher is off (the log holds no cases), the bench signs the figures the
shares add up to.
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import shared.log.sqlite as sqlite_log
from services.oversight.rates_projection import (
    RATE_ITEMS,
    RATE_PERIODS,
    Figures,
    RateItems,
    shares_of,
    totals_of,
)
from services.oversight.signed_figures import SIGNED_FIGURES, signed
from shared.reports.periods import period, quarter_of
from shared.reports.signed import period_stream
from shared.store.port import Doc, DocumentStore
from shared.store.sqlite import SqliteStore
from tests.bench.commands import _pct
from tests.bench.common import Row, Workspace

DAY = 86_400_000_000
UNITS = [f"unit:bench-unit-{n:02d}" for n in range(40)]
RARE = UNITS[-1]  # four cases: below the shipped minimum, never ranked


def _last_quarter(now: int) -> list[str]:
    """The last quarter that has ended, and its months."""
    q = quarter_of(period(quarter_of(now)).start - 1)
    year, n = int(q[:4]), int(q[6])
    return [*(f"{year}-{m:02d}" for m in range(3 * n - 2, 3 * n + 1)), q]


PUBLISHER_ENV = "LEDGER_PERIOD_FIGURES_ENABLED"
PARTITIONS = 3
MOVED_CASES = 100  # cases a projector batch touches, per move
PERIODS = _last_quarter(int(time.time() * 1_000_000))
QUARTER = period(PERIODS[-1])


def _fact(rng: random.Random, p: float, t: int, event: str) -> dict[str, Any] | None:
    return {"t": t, "event": event} if rng.random() < p else None


def _item(rng: random.Random, i: int, unit: str, due: int) -> dict[str, Any]:
    start = due - 10 * DAY
    return {
        "unit": unit,
        "round": 1,
        "dues": [{"t": start, "due": due, "event": f"e{i}-a"}],
        "released": None,
        "reply": _fact(rng, 0.85, start + rng.randint(1, 12) * DAY, f"e{i}-r"),
        "claim": _fact(rng, 0.8, start + rng.randint(1, 12) * DAY, f"e{i}-c"),
        "resolved": _fact(rng, 0.6, due + rng.randint(1, 5) * DAY, f"e{i}-s"),
        "deemed": _fact(rng, 0.05, due + DAY, f"e{i}-d"),
        "reopened": _fact(rng, 0.07, due + 2 * DAY, f"e{i}-o"),
        "flagged": _fact(rng, 0.03, start + DAY, f"e{i}-f"),
    }


def case_document(i: int, rng: random.Random) -> Doc:
    lead = RARE if i < 4 else UNITS[rng.randrange(len(UNITS) - 1)]
    due = QUARTER.start + rng.randrange(QUARTER.end - QUARTER.start - 6 * DAY)
    items = [_item(rng, i, lead, due)]
    if rng.random() < 0.2:
        co = UNITS[rng.randrange(len(UNITS) - 1)]
        if co != lead:
            items.append(_item(rng, i, co, due))
    scores = []
    if rng.random() < 0.6:
        rating = rng.choice([1, 2, 3, 4, 5, 5, 5, 4])
        units = [it["unit"] for it in items]
        scores.append({"t": due + 3 * DAY, "rating": rating, "units": units, "event": f"e{i}-v"})
    return {"lead": lead, "round": 1, "items": items, "scores": scores}


async def seed(store: DocumentStore, n: int) -> tuple[int, dict[str, Figures]]:
    """N case documents and their shares; how many shares, and each period's totals."""
    await RateItems().setup(store)
    rng = random.Random(23)
    shares = 0
    by_period: dict[str, list[Doc]] = {p: [] for p in PERIODS}
    batch = 10_000
    for first in range(0, n, batch):
        cases, parts = [], []
        for i in range(first, min(n, first + batch)):
            stream = f"case-{i:08d}-0000-4000-8000-000000000000"
            doc = case_document(i, rng)
            cases.append({"_id": stream, **doc, "_pos": 1})
            for p, share in shares_of(doc):
                part = i % PARTITIONS
                parts.append({"_id": f"{stream}|{p}", **share, "partition": part, "_pos": 1})
                by_period[p].append(share)
        await store.bulk_upsert(RATE_ITEMS, cases)
        await store.bulk_upsert(RATE_PERIODS, parts)
        shares += len(parts)
    return shares, {p: totals_of(docs) for p, docs in by_period.items()}


class Moving:
    """Stands in for the projector as the ranking page sees it (``ranking_api._projector``):
    its position only, moved by :meth:`move` as a projector's batch moves it."""

    def __init__(self) -> None:
        self.position = {p: 2 for p in range(PARTITIONS)}  # past the seeded shares (_pos 1)
        self.moves = 0

    async def move(self, store: DocumentStore, n: int, k: int, rng: random.Random) -> None:
        """One batch on one partition: ``k`` of its cases' shares rewritten (as re-applying an
        event that changes no figure writes them) at the partition's next offset."""
        p = self.moves % PARTITIONS
        self.moves += 1
        offset = self.position[p]
        cases = [rng.randrange(p, n, PARTITIONS) for _ in range(k)]
        ids = [f"case-{i:08d}-0000-4000-8000-000000000000|{q}" for i in cases for q in PERIODS]
        found = await store.get_many(RATE_PERIODS, ids)
        await store.bulk_upsert(RATE_PERIODS, [{**d, "_pos": offset} for d in found.values()])
        self.position[p] = offset + 1


def _log_clock_at(us: int) -> Any:
    """Set the SQLite log's clock to ``us`` (µs); returns what puts it back."""
    real = sqlite_log.time
    sqlite_log.time = SimpleNamespace(time_ns=lambda: us * 1000)  # type: ignore[assignment]
    return lambda: setattr(sqlite_log, "time", real)


async def _signed(store: DocumentStore, timeout: float = 60.0) -> None:
    """Wait until the projector has read every period's signed figures."""
    deadline = time.monotonic() + timeout
    while any([await signed(store, p) is None for p in PERIODS]):
        assert time.monotonic() < deadline, "the signed figures were not projected"
        await asyncio.sleep(0.05)


def _raw(path: Path, rounds: int, sql: str, key: Any) -> list[float]:
    """The bare read of each period's documents, fetched."""
    conn = sqlite3.connect(path)
    try:
        out = []
        for r in range(rounds):
            t = time.perf_counter()
            rows = conn.execute(sql, (key(PERIODS[r % len(PERIODS)]),)).fetchall()
            out.append(time.perf_counter() - t)
            assert rows
        return out
    finally:
        conn.close()


def _raw_moved(path: Path, rounds: int) -> list[float]:
    """The bare read of one move's shares: a period's shares of one partition at one offset,
    by the index the live totals read them by."""
    conn = sqlite3.connect(path)
    try:
        out = []
        for r in range(rounds):
            t = time.perf_counter()
            conn.execute(MOVED_SQL, (PERIODS[r % len(PERIODS)], r % PARTITIONS, 2)).fetchall()
            out.append(time.perf_counter() - t)
        return out
    finally:
        conn.close()


MOVED_SQL = (
    f"SELECT id, doc FROM \"doc_{RATE_PERIODS}\" WHERE json_extract(doc, '$.period') = ? "
    "AND json_extract(doc, '$.partition') = ? AND json_extract(doc, '$._pos') >= ?"
)
LIVE_SQL = f"SELECT id, doc FROM \"doc_{RATE_PERIODS}\" WHERE json_extract(doc, '$.period') = ?"
SIGNED_SQL = f'SELECT id, doc FROM "doc_{SIGNED_FIGURES}" WHERE id = ?'


async def page(ws: Workspace, n: int, rounds: int = 10) -> dict[str, Any]:

    from services.oversight.app import create
    from shared.ledger.bootstrap import init_ledger
    from shared.ledger.configuration import publish_defaults
    from shared.log.factory import open_log
    from shared.web import WebSettings

    var = ws.root / "ranking"
    settings = WebSettings(var_dir=var)
    put_back = _log_clock_at(period(PERIODS[-1]).start - 10 * DAY)
    log = await open_log(settings)
    try:
        await init_ledger(log, settings)
        await publish_defaults(log, settings)
    finally:
        await log.close()
        put_back()
    publisher = os.environ.get(PUBLISHER_ENV)
    os.environ[PUBLISHER_ENV] = "false"  # read when the app starts its workers
    try:
        app = create(settings)
        found = await _measure(app, n, rounds)
    finally:
        if publisher is None:
            os.environ.pop(PUBLISHER_ENV)
        else:
            os.environ[PUBLISHER_ENV] = publisher
    store_path, shares, seeded_s, live, at_rest, ours, cold = found
    rounds_raw = 3 * rounds * len(PERIODS)
    raw = await asyncio.to_thread(_raw, store_path, rounds_raw, SIGNED_SQL, period_stream)
    raw_live = await asyncio.to_thread(_raw, store_path, rounds * len(PERIODS), LIVE_SQL, str)
    raw_moved = await asyncio.to_thread(_raw_moved, store_path, rounds * len(PERIODS))
    return {
        "ours": _pct(ours, 0.99) * 1000,
        "raw": _pct(raw, 0.99) * 1000,
        "ours_p50_ms": _pct(ours, 0.5) * 1000,
        "raw_p50_ms": _pct(raw, 0.5) * 1000,
        "live_p99_ms": _pct(live, 0.99) * 1000,
        "live_p50_ms": _pct(live, 0.5) * 1000,
        "raw_live_p99_ms": _pct(raw_live, 0.99) * 1000,
        "raw_live_p50_ms": _pct(raw_live, 0.5) * 1000,
        "raw_moved_p99_ms": _pct(raw_moved, 0.99) * 1000,
        "raw_moved_p50_ms": _pct(raw_moved, 0.5) * 1000,
        "at_rest_p99_ms": _pct(at_rest, 0.99) * 1000,
        "at_rest_p50_ms": _pct(at_rest, 0.5) * 1000,
        "requests": len(ours) + len(live) + len(at_rest),
        "cases": n,
        "shares": shares,
        "periods": PERIODS,
        "seed_s": seeded_s,
        "live_cold_ms_by_period": cold,
        "moved_cases": MOVED_CASES,
    }


async def _measure(app: Any, n: int, rounds: int) -> tuple[Any, ...]:
    import httpx

    from shared.ledger.period_publish import publish
    from shared.web import Role
    from shared.web.demo_operators import demo_staff_id
    from tests.web_fixtures import sign_in_page

    started = time.perf_counter()
    async with app.router.lifespan_context(app):
        store = await app.state.ledger.read_model.store()
        assert isinstance(store, SqliteStore)
        store_path = Path(store._path)
        shares, totals = await seed(store, n)
        seeded_s = time.perf_counter() - started
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as c:
            await sign_in_page(c, app, demo_staff_id(Role.SUPERVISOR))
            html = {"Accept": "text/html"}

            async def get(p: str, source: str) -> float:
                t = time.perf_counter()
                resp = await c.get(f"/ranking/{p}", headers=html)
                took = time.perf_counter() - t
                assert resp.status_code == 200, resp.text
                assert f'data-source="{source}"' in resp.text
                if p == PERIODS[-1]:
                    assert 'class="not-ranked" data-unit="' + RARE in resp.text
                return took

            from services.oversight import ranking_api

            moving = Moving()
            real_projector = ranking_api._projector
            ranking_api._projector = lambda request: moving
            try:
                cold = {p: await get(p, "live") * 1000 for p in PERIODS}  # every share read
                live: list[float] = []
                rng = random.Random(5)
                for _ in range(rounds):
                    for p in PERIODS:
                        await moving.move(store, n, MOVED_CASES, rng)
                        live.append(await get(p, "live"))
                at_rest = [await get(p, "live") for _ in range(rounds) for p in PERIODS]
            finally:
                ranking_api._projector = real_projector

            writer = await app.state.ledger.writer.writer()
            for p in PERIODS:
                sub = await publish(writer, p, totals[p], "efficiency-office/period-figures")
                assert sub.accepted, sub.refused
            await _signed(store)
            for p in PERIODS:
                await get(p, "signed")
            ours = [await get(p, "signed") for _ in range(3 * rounds) for p in PERIODS]
    return store_path, shares, seeded_s, live, at_rest, ours, cold


TARGET_P99_MS = 200.0


def rows(m: dict[str, Any]) -> list[Row]:
    cases = f"{m['cases']:,} cases on SQLite"
    return [
        Row(
            "ranking.page",
            f"GET /ranking/{{period}} p99, signed figures, {cases} (bare read of the document)",
            m["ours"],
            m["raw"],
            "ms",
            lower_is_better=True,
            target_max=TARGET_P99_MS,
            target_note=f"p99 ≤ {TARGET_P99_MS:.0f} ms; p50 {m['ours_p50_ms']:,.1f} ms "
            f"(bare {m['raw_p50_ms']:,.2f} ms); periods {', '.join(m['periods'])}",
            notes=m,
        ),
        Row(
            "ranking.page_live",
            f"GET /ranking/{{period}} p99, live totals after a move of {m['moved_cases']} cases, "
            f"{cases} (bare read of the shares written since)",
            m["live_p99_ms"],
            m["raw_moved_p99_ms"],
            "ms",
            lower_is_better=True,
            target_max=TARGET_P99_MS,
            target_note=f"p99 ≤ {TARGET_P99_MS:.0f} ms; p50 {m['live_p50_ms']:,.1f} ms "
            f"(bare {m['raw_moved_p50_ms']:,.2f} ms); {m['shares']:,} shares; first page of a "
            "period (every share read, bare "
            f"{m['raw_live_p50_ms']:,.0f} ms p50): "
            + ", ".join(f"{p} {v:,.0f} ms" for p, v in m["live_cold_ms_by_period"].items()),
            notes=m,
        ),
        Row(
            "ranking.page_live_at_rest",
            f"GET /ranking/{{period}} p99, live totals kept for the position, {cases} (bare "
            "read of the period's shares)",
            m["at_rest_p99_ms"],
            m["raw_live_p99_ms"],
            "ms",
            lower_is_better=True,
            target_max=TARGET_P99_MS,
            target_note=f"p99 ≤ {TARGET_P99_MS:.0f} ms; p50 {m['at_rest_p50_ms']:,.1f} ms",
            notes=m,
        ),
    ]
