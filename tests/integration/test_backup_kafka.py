"""Backup and restore beside a Kafka log: the log stays the brokers' (not in the archive), the
manifest records its position at backup time, a restored var dir verifies against the same
topic, and a topic behind the archive (another one, or one that lost records) is refused."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from shared.durable import open_durable
from shared.ledger import keystore
from shared.ledger.backup import BackupSettings, RestoreRefused, restore_backup, take_backup
from shared.ledger.bootstrap import init_ledger
from shared.ledger.verify import verify_log
from shared.log.factory import open_log
from tests.conftest import require_env

pytestmark = pytest.mark.kafka


def kafka_settings(var: Path, topic: str) -> BackupSettings:
    return BackupSettings(
        var_dir=var,
        log_backend="kafka",
        log_partitions=3,
        kafka_bootstrap=require_env("LEDGER_TEST_KAFKA_BOOTSTRAP", "kafka"),
        kafka_topic=topic,
    )


async def test_backup_beside_kafka_records_the_position_and_restores_the_state(
    tmp_path: Path,
) -> None:
    topic = f"ledger-test-{uuid.uuid4().hex[:12]}"
    source = kafka_settings(tmp_path / "var", topic)
    log = await open_log(source)
    try:
        await init_ledger(log, source)
        store = await open_durable(source, "intake")
        await store.put("vault", "person-1", {"name": "张三"})
        digest = await store.digest()
        await store.close()
        head = await log.head()
        manifest = await take_backup(source, tmp_path / "backup.tar")
        assert manifest.log.backend == "kafka" and manifest.log.position == head
        assert not any(p.kind == "log" for p in manifest.parts)
        assert any(f"Kafka topic {topic}" in why for why in manifest.excluded)

        fresh = kafka_settings(tmp_path / "fresh", topic)
        await restore_backup(fresh, tmp_path / "backup.tar")
        restored = await open_durable(fresh, "intake")
        try:
            assert await restored.digest() == digest
        finally:
            await restored.close()
        report = await verify_log(log, keystore.genesis_public(fresh), workers=1)
        assert report.ok

        empty_topic = kafka_settings(tmp_path / "other", f"ledger-test-{uuid.uuid4().hex[:12]}")
        with pytest.raises(RestoreRefused, match="is behind the archive: partition "):
            await restore_backup(empty_topic, tmp_path / "backup.tar")
        assert not (tmp_path / "other").exists() or not any((tmp_path / "other").iterdir())
    finally:
        await log.close()
