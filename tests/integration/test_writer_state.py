"""A writer's stream states: shared with the projector's live fold (no second fold), kept as
snapshots that a restarted writer takes — after checking them against the log — instead of
folding the stream again; and the Kafka stream index, kept across restarts."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from shared.events.partitioner import partition_for
from shared.ledger import keystore
from shared.ledger.bootstrap import init_ledger
from shared.ledger.signer import Draft, Signer
from shared.ledger.snapshots import StreamSnapshots
from shared.ledger.writer import EventWriter
from shared.log.factory import open_log
from shared.log.port import EventLog
from shared.settings import LedgerSettings
from tests.bench.commands import _flag, _received
from tests.conftest import settings_for

SECRET = b"s" * 32


def _writer(log: EventLog, settings: LedgerSettings, snapshots: StreamSnapshots) -> EventWriter:
    key = keystore.load(settings, "intake")
    signer = Signer("/bodies/efficiency-office/intake", key)
    return EventWriter(log, signer, keystore.genesis_public(settings), snapshots=snapshots)


async def _submit(writer: EventWriter, case: str, draft: Draft) -> None:
    result = await writer.submit(case, lambda state: [draft])
    assert result.accepted, result.refused


async def test_a_restarted_writer_takes_the_snapshot_checked_against_the_log(
    tmp_path: Path,
) -> None:
    settings = LedgerSettings(var_dir=tmp_path / "a", log_partitions=3)
    case = f"case-{uuid.uuid4()}"
    log = await open_log(settings)
    try:
        await init_ledger(log, settings)
        snaps = StreamSnapshots(tmp_path / "a" / "snapshots.sqlite3", SECRET)
        w = _writer(log, settings, snaps)
        await _submit(w, case, _received(case))
        for i in range(5):
            await _submit(w, case, _flag(i))
        assert w.live.cold_folds == 1  # folded once, then kept warm
        snaps.close()

        snaps = StreamSnapshots(tmp_path / "a" / "snapshots.sqlite3", SECRET)
        restarted = _writer(log, settings, snaps)
        await _submit(restarted, case, _flag(99))
        assert restarted.live.snapshot_hits == 1 and restarted.live.cold_folds == 0
        state = (await restarted.live.tracked(case)).state
        assert state.accepted == 7
        snaps.close()

        # Another key cannot forge one: the snapshot is ignored, the stream folded.
        forged = StreamSnapshots(tmp_path / "a" / "snapshots.sqlite3", b"x" * 32)
        other = _writer(log, settings, forged)
        await _submit(other, case, _flag(100))
        assert other.live.snapshot_hits == 0 and other.live.cold_folds == 1
        forged.close()
    finally:
        await log.close()

    # A snapshot taken from another log (same stream name) fails the check against this one.
    b = LedgerSettings(var_dir=tmp_path / "b", log_partitions=3)
    shutil.copytree(tmp_path / "a" / "keys", tmp_path / "b" / "keys")
    shutil.copy(tmp_path / "a" / "snapshots.sqlite3", tmp_path / "b" / "snapshots.sqlite3")
    log = await open_log(b)
    try:
        await init_ledger(log, b)
        snaps = StreamSnapshots(tmp_path / "b" / "snapshots.sqlite3", SECRET)
        w = _writer(log, b, snaps)
        await _submit(w, case, _received(case))  # a new case here: the snapshot is not it
        assert w.live.snapshot_hits == 0
        snaps.close()
    finally:
        await log.close()


@pytest.mark.kafka
async def test_the_kafka_stream_index_survives_a_restart_and_is_checked(tmp_path: Path) -> None:
    settings = settings_for("kafka", 3, tmp_path / "var")
    log = await open_log(settings)
    try:
        await init_ledger(log, settings)
        snaps = StreamSnapshots(tmp_path / "snapshots.sqlite3", SECRET)
        w = _writer(log, settings, snaps)
        case = f"case-{uuid.uuid4()}"
        await _submit(w, case, _received(case))
        await _submit(w, case, _flag(1))
        snaps.close()
        assert len([r async for r in log.read_stream(case)]) == 2  # indexed to the head
    finally:
        await log.close()
    log = await open_log(settings)
    try:
        p = partition_for(case, settings.log_partitions)
        index = log._index  # type: ignore[attr-defined]
        upto, _ = index.indexed(p)  # kept from the first run: nothing to scan
        assert upto == (await log.head())[p] and len(index.offsets(case, p, upto)) == 2
        assert len([r async for r in log.read_stream(case)]) == 2
        # As if built from another log with this name: its last record hashes otherwise.
        index._db.execute("UPDATE indexed SET last_hash=? WHERE partition=?", (b"\0" * 32, p))
        log._checked.clear()  # type: ignore[attr-defined]
        again = [r.offset async for r in log.read_stream(case)]
        assert len(again) == 2  # re-indexed from the log itself
        assert index.indexed(p)[1] != b"\0" * 32
    finally:
        await log.close()
