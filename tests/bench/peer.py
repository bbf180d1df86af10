"""The ``eventsourcing`` library (PyPI) on SQLite, as a peer.

The same case lifecycles as the ledger's corpus (same payloads, one aggregate per case),
stored by its ``Application`` with ``PERSISTENCE_MODULE=eventsourcing.sqlite`` and
``SQLITE_DBNAME`` a file beside ours. Its SQLite connections run in WAL mode with SQLite's
default ``synchronous=FULL``, the same durability as ours (checked and reported).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import eventsourcing
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from tests.bench.common import Stopwatch, median
from tests.bench.corpus import Step


class Case(Aggregate):
    @event("Received")
    def __init__(self, actor: str, data: dict[str, Any]) -> None:
        self.status = "received"
        self.unit = data["unit"]

    @event("Assigned")
    def assign(self, actor: str, data: dict[str, Any]) -> None:
        self.status = "assigned"

    @event("Acknowledged")
    def acknowledge(self, actor: str, data: dict[str, Any]) -> None:
        pass

    @event("ResolutionClaimed")
    def claim(self, actor: str, data: dict[str, Any]) -> None:
        self.status = "claimed"

    @event("Confirmed")
    def confirm(self, actor: str, data: dict[str, Any]) -> None:
        self.status = "resolved"

    @event("Closed")
    def close(self, actor: str, data: dict[str, Any]) -> None:
        self.status = "closed"

    @event("Progress")
    def progress(self, actor: str, data: dict[str, Any]) -> None:
        pass


_METHOD = {
    "ledger.dispatch.assigned.v1": "assign",
    "ledger.handling.acknowledged.v1": "acknowledge",
    "ledger.handling.resolution_claimed.v1": "claim",
    "ledger.complainant.confirmed.v1": "confirm",
    "ledger.handling.closed.v1": "close",
}


def _app(path: Path) -> Application:
    return Application(
        env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}
    )


def _pragmas(app: Application) -> dict[str, Any]:
    with app.recorder.datastore.transaction(commit=False) as cur:  # type: ignore[attr-defined]
        cur.execute("PRAGMA journal_mode")
        jm = cur.fetchone()[0]
        cur.execute("PRAGMA synchronous")
        sync = cur.fetchone()[0]
    return {"journal_mode": jm, "synchronous": {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[sync]}


def _aggregate(steps: list[Step]) -> Case:
    first, *rest = steps
    agg = Case(first.actor, first.data)
    for s in rest:
        getattr(agg, _METHOD[s.type])(s.actor, s.data)
    return agg


def reads(path: Path, cases: dict[str, list[Step]], repeat: int) -> dict:
    """Store the corpus (100 aggregates a save), then decoded notification reads per core."""
    app = _app(path)
    try:
        batch: list[Case] = []
        for steps in cases.values():
            batch.append(_aggregate(steps))
            if len(batch) == 100:
                app.save(*batch)
                batch = []
        if batch:
            app.save(*batch)
        rec = app.recorder
        rates = []
        n = 0
        for _ in range(repeat):
            n = 0
            start = 1
            with Stopwatch() as sw:
                while True:
                    notes = rec.select_notifications(start, 5000)  # type: ignore[attr-defined]
                    if not notes:
                        break
                    for note in notes:
                        app.mapper.to_domain_event(note)
                    n += len(notes)
                    start = notes[-1].id + 1
            rates.append(sw.timing.per_core(n))
        return {"peer": median(rates), "events": n, "pragmas": _pragmas(app)}
    finally:
        app.close()


def single_saves(path: Path, count: int, steps: list[Step]) -> dict:
    """One event per save, sequential (each save its own transaction)."""
    app = _app(path)
    try:
        agg = _aggregate(steps[:1])
        app.save(agg)
        data = {"unit": steps[0].data["unit"], "note": "已电话联系投诉人，正在核查。"}
        with Stopwatch() as sw:
            for _ in range(count):
                agg.progress(steps[0].actor, data)
                app.save(agg)
        return {"peer": count / sw.timing.wall}
    finally:
        app.close()


def hundred_saves(path: Path, saves: int, steps: list[Step]) -> dict:
    """An aggregate with 100 pending events saved at once, sequential."""
    app = _app(path)
    try:
        data = {"unit": steps[0].data["unit"], "note": "已电话联系投诉人，正在核查。"}
        aggs = []
        for _ in range(saves):
            agg = Case(steps[0].actor, steps[0].data)
            for _ in range(99):
                agg.progress(steps[0].actor, data)
            aggs.append(agg)
        with Stopwatch() as sw:
            for agg in aggs:
                app.save(agg)
        return {"peer": saves / sw.timing.wall}
    finally:
        app.close()


VERSION = eventsourcing.__version__ if hasattr(eventsourcing, "__version__") else "9.5.6"
