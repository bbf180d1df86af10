"""The ``eventsourcing`` library (PyPI) on SQLite, as a peer.

The same case lifecycles as the ledger's corpus (same payloads, one aggregate per case),
stored by its ``Application`` with ``PERSISTENCE_MODULE=eventsourcing.sqlite`` and
``SQLITE_DBNAME`` a file beside ours. Its SQLite connections run in WAL mode with SQLite's
default ``synchronous=FULL``, the same durability as ours (checked and reported).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from shared.log.sqlite import SqliteLog
from tests.bench.common import Stopwatch, Workspace, remove_db
from tests.bench.corpus import Step

Records = list[tuple[str, bytes]]


class Case(Aggregate):
    @event("Received")
    def __init__(self, actor: str, data: dict[str, Any]) -> None:
        self.status = "received"
        self.unit = data["unit"]

    @event("Screened")
    def screen(self, actor: str, data: dict[str, Any]) -> None:
        self.screened = True

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
    "ledger.complaint.screened.v1": "screen",
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


class Reads:
    """The corpus stored by the peer (100 aggregates a save); decoded notification reads."""

    def __init__(self, path: Path, cases: dict[str, list[Step]]) -> None:
        self.app = _app(path)
        batch: list[Case] = []
        for steps in cases.values():
            batch.append(_aggregate(steps))
            if len(batch) == 100:
                self.app.save(*batch)
                batch = []
        if batch:
            self.app.save(*batch)
        self.pragmas = _pragmas(self.app)

    def rate(self) -> tuple[float, int]:
        """Decoded notification reads per core, in chunks of 5,000: (rate, events)."""
        rec = self.app.recorder
        n = 0
        start = 1
        with Stopwatch() as sw:
            while True:
                notes = rec.select_notifications(start, 5000)
                if not notes:
                    break
                for note in notes:
                    self.app.mapper.to_domain_event(note)
                n += len(notes)
                start = notes[-1].id + 1
        return sw.timing.per_core(n), n

    def close(self) -> None:
        self.app.close()


async def saves_vs_ours(
    ws: Workspace, records: Records, steps: list[Step], *, saves: int, per_save: int,
    partitions: int,
) -> dict:  # fmt: skip
    """Saves/s of the peer (an aggregate with ``per_save`` pending events saved at once) and of
    ours (one ``append`` of ``per_save`` signed events), alternating every 10 saves."""
    app = _app(ws.db(f"eventsourcing-{per_save}"))
    our_path = ws.db(f"ours-{per_save}")
    log = await SqliteLog.open(our_path, partitions)
    note = {"unit": steps[0].data["unit"], "note": "已电话联系投诉人，正在核查。"}
    aggs = []
    for _ in range(saves):  # built beforehand, as our events are signed beforehand
        agg = Case(steps[0].actor, steps[0].data)
        for _ in range(per_save - 1):
            agg.progress(steps[0].actor, note)
        aggs.append(agg)
    recs = (records * (1 + per_save * saves // max(1, len(records))))[: per_save * saves]
    t_peer = t_ours = 0.0
    try:
        for k in range(0, saves, 10):
            for which in ("peer", "ours") if (k // 10) % 2 == 0 else ("ours", "peer"):
                t0 = time.perf_counter()
                if which == "peer":
                    for agg in aggs[k : k + 10]:
                        app.save(agg)
                    t_peer += time.perf_counter() - t0
                else:
                    for j in range(k, min(k + 10, saves)):
                        await log.append(recs[j * per_save : (j + 1) * per_save])
                    t_ours += time.perf_counter() - t0
        pragmas = _pragmas(app)
    finally:
        app.close()
        await log.close()
        remove_db(our_path)
    return {"ours": saves / t_ours, "peer": saves / t_peer, "pragmas": pragmas}
