"""``ledger backup``'s copy of a live SQLite file, beside the raw limit.

Ours: what the backup does for each SQLite part — SQLite's online backup API inside one read
transaction on the source, 256 pages a step with progress, the copy made self-contained
(rollback journal), fsynced, then its SHA-256 for the manifest. Raw: ``sqlite3``'s own backup
of the same file in one step, fsynced, nothing else. Same file, same disk, same run.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from shared.ledger.backup import file_sha256, sqlite_online_copy
from shared.log.sqlite import SqliteLog
from tests.bench.common import Stopwatch, median

RECORD_BYTES = 600


async def _fill(path: Path, records: int) -> None:
    log = await SqliteLog.open(path, 3)
    try:
        for start in range(0, records, 2000):
            batch = [
                (f"case-{i % 5000}", os.urandom(RECORD_BYTES))
                for i in range(start, min(records, start + 2000))
            ]
            await log.append(batch)
    finally:
        await log.close()


def _raw_copy(source: Path, target: Path) -> None:
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    fd = os.open(target, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


async def run(root: Path, records: int, repeat: int) -> dict[str, float | int]:
    root.mkdir(parents=True, exist_ok=True)
    source = root / "log.sqlite3"
    await _fill(source, records)
    size = source.stat().st_size
    ours, raw = [], []
    for i in range(repeat):
        target = root / f"ours-{i}.sqlite3"
        with Stopwatch() as sw:
            sqlite_online_copy(source, target)
            file_sha256(target)
        ours.append(target.stat().st_size / 1e6 / sw.timing.wall)
        copy = root / f"raw-{i}.sqlite3"
        with Stopwatch() as sw:
            _raw_copy(source, copy)
        raw.append(copy.stat().st_size / 1e6 / sw.timing.wall)
        target.unlink()
        copy.unlink()
    return {"ours": median(ours), "raw": median(raw), "records": records, "bytes": size}
