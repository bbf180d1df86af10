"""A consumer process for the kill-between-read-and-checkpoint contract test.

It applies each event's effect (keyed by event id, so a redelivery is no second effect) and
records every delivery, then checkpoints its positions in a separate transaction — the window a
crash can hit. With ``--hang-before-checkpoint K`` it signals and waits before the K-th
checkpoint, for the test to kill it with SIGKILL.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import time
from pathlib import Path

import orjson

from shared.log.factory import open_log
from shared.settings import LedgerSettings


def open_effects(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE IF NOT EXISTS effects(event_id TEXT PRIMARY KEY, stream TEXT)")
    db.execute("CREATE TABLE IF NOT EXISTS deliveries(event_id TEXT)")
    db.execute("CREATE TABLE IF NOT EXISTS checkpoint(partition INTEGER PRIMARY KEY, next INTEGER)")
    return db


async def main(args: argparse.Namespace) -> None:
    db = open_effects(Path(args.effects))
    log = await open_log(LedgerSettings())
    try:
        pos = {p: 0 for p in range(log.partitions)}
        pos.update(dict(db.execute("SELECT partition, next FROM checkpoint")))
        end = await log.head()
        checkpoints = 0
        while True:
            batch = await log.read(pos, limit=args.batch, until=end)
            if not batch:
                break
            for rec in batch:
                event_id = orjson.loads(rec.record)["id"]
                db.execute("INSERT INTO deliveries VALUES(?)", (event_id,))
                db.execute("INSERT OR IGNORE INTO effects VALUES(?, ?)", (event_id, rec.stream))
                pos[rec.partition] = rec.offset + 1
            checkpoints += 1
            if checkpoints == args.hang_before_checkpoint:
                Path(args.effects + ".hanging").write_text("1")
                time.sleep(120)  # the test kills us here: effects written, checkpoint not
            db.execute("BEGIN")
            db.executemany("INSERT OR REPLACE INTO checkpoint VALUES(?, ?)", list(pos.items()))
            db.execute("COMMIT")
    finally:
        await log.close()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--effects", required=True)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--hang-before-checkpoint", type=int, default=0)
    asyncio.run(main(ap.parse_args()))
