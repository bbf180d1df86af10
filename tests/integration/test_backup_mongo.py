"""Backup and restore with the durable stores on MongoDB (FerretDB): the store is exported
through the port into the archive and loaded back into a fresh database, or into the SQLite
backend of another machine; a non-empty target database is refused unless forced."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from shared.durable import open_durable
from shared.durable.mongo import MongoDurableStore
from shared.ledger.backup import BackupSettings, RestoreRefused, restore_backup, take_backup
from shared.ledger.bootstrap import init_ledger
from shared.log.factory import open_log
from tests.contract.conftest_store import mongo_url

pytestmark = pytest.mark.mongo


def mongo_settings(var: Path, prefix: str) -> BackupSettings:
    url = mongo_url()
    return BackupSettings(
        var_dir=var,
        log_partitions=3,
        durable_backend="mongo",
        durable_mongo_url=url,
        durable_database_prefix=prefix,
    )


async def drop(s: BackupSettings, deployment: str) -> None:
    store = await open_durable(s, deployment)
    assert isinstance(store, MongoDurableStore)
    await store.drop_database()
    await store.close()


async def test_a_mongo_durable_store_is_exported_and_restored(tmp_path: Path) -> None:
    source = mongo_settings(tmp_path / "var", f"t{uuid.uuid4().hex[:10]}")
    target = mongo_settings(tmp_path / "fresh", f"t{uuid.uuid4().hex[:10]}")
    log = await open_log(source)
    store = await open_durable(source, "intake")
    try:
        await init_ledger(log, source)
        for i in range(120):
            await store.put("vault", f"p-{i:03d}", {"name": f"姓名{i}"})
        await store.put("vault", "p-007", {"name": "改"})  # version 2
        await store.put_blob(bytes(2 * 1024 * 1024 + 5))
        digest = await store.digest()
        manifest = await take_backup(source, tmp_path / "backup")
        [part] = [p for p in manifest.parts if p.kind == "durable"]
        assert part.path == "durable/intake.sqlite3" and manifest.durable_backend == "mongo"

        await restore_backup(target, tmp_path / "backup")
        restored = await open_durable(target, "intake")
        try:
            assert await restored.digest() == digest
            entry = await restored.get("vault", "p-007")
            assert entry is not None and entry.version == 2
            await restored.put("vault", "p-new", {"name": "恢复后"})
        finally:
            await restored.close()

        # The same archive restores onto SQLite durable stores too.
        sqlite = BackupSettings(var_dir=tmp_path / "sqlite", log_partitions=3)
        await restore_backup(sqlite, tmp_path / "backup")
        on_file = await open_durable(sqlite, "intake")
        try:
            assert await on_file.digest() == digest
        finally:
            await on_file.close()

        # A target database that holds entries is not overwritten without --force.
        again = mongo_settings(tmp_path / "again", target.durable_database_prefix)
        with pytest.raises(RestoreRefused, match="the MongoDB durable store of intake"):
            await restore_backup(again, tmp_path / "backup")
        await restore_backup(again, tmp_path / "backup", force=True)
        forced = await open_durable(again, "intake")
        try:
            assert await forced.digest() == digest  # the entry written after restore is gone
        finally:
            await forced.close()
    finally:
        await store.close()
        await log.close()
        await drop(source, "intake")
        await drop(target, "intake")
