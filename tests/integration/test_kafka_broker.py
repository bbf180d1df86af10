"""The Kafka log against the real broker: a restart under load, and the auditor's CLI.

A broker restart under load: writers keep submitting and a consumer keeps reading while the
broker stops and starts again. Producers and consumers recover, nothing acknowledged is lost,
and nothing is applied twice (a resent record is a replayed id every reader ignores).
"""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import orjson
import pytest

from shared.ledger import keystore
from shared.ledger.bootstrap import init_ledger
from shared.ledger.reader import fold_log
from shared.ledger.writer import EventWriter
from shared.log.factory import open_log
from shared.log.port import read_all
from shared.rules.verdict import Outcome, Reason
from shared.settings import LedgerSettings
from tests.conftest import ledger_cli, require_env, settings_for
from tests.samples import LIFECYCLE, draft, new_case, signers

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


@pytest.fixture
def kafka_settings(tmp_path: Path) -> LedgerSettings:
    return settings_for("kafka", 3, tmp_path / "var")


async def test_broker_restart_under_load(kafka_settings: LedgerSettings) -> None:
    script = require_env("LEDGER_TEST_KAFKA_SCRIPT", "kafka")
    log = await open_log(kafka_settings)
    await init_ledger(log, kafka_settings)
    s = signers(kafka_settings)
    genesis = keystore.genesis_public(kafka_settings)
    writer = EventWriter(log, s["intake"], genesis, retry_seconds=180)
    acknowledged: list[tuple[str, str]] = []  # (case, event id) told accepted
    applied: dict[str, int] = {}  # consumer effects by event id
    stop = asyncio.Event()

    async def write(n: int) -> None:
        for _ in range(n):
            case = new_case()
            _, d = draft(LIFECYCLE[0])
            result = await writer.submit(case, lambda st, d=d: [d])
            assert result.accepted, result
            acknowledged.append((case, result.written[0].event_id))
            await asyncio.sleep(0.01)

    async def consume() -> None:
        reader = await open_log(kafka_settings)
        pos = {p: 0 for p in range(reader.partitions)}
        try:
            while not stop.is_set():
                batch = await reader.read(pos, limit=200)
                for rec in batch:
                    pos[rec.partition] = rec.offset + 1
                    event_id = orjson.loads(rec.record)["id"]
                    applied[event_id] = applied.get(event_id, 0) + 1
                if not batch:
                    await asyncio.sleep(0.1)
        finally:
            await reader.close()

    consumer = asyncio.create_task(consume())
    writers = asyncio.gather(write(60), write(60))
    while len(acknowledged) < 5:  # restart once the load is flowing
        await asyncio.sleep(0.05)
    before_restart = len(acknowledged)
    restart = await asyncio.create_subprocess_exec(
        "bash", script, "restart", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, err = await restart.communicate()
    assert restart.returncode == 0, err.decode()[-1000:]
    assert 0 < before_restart < 120, "the restart must happen under load"
    await asyncio.wait_for(writers, timeout=300)
    # Let the consumer catch up to the head, then stop it.
    head = await log.head()
    for _ in range(600):
        if sum(head.values()) <= len(applied) + sum(1 for v in applied.values() if v > 1):
            break
        await asyncio.sleep(0.1)
    stop.set()
    await consumer
    fold = await fold_log(log, genesis)
    await log.close()
    assert len(acknowledged) == 120
    for case, event_id in acknowledged:  # nothing acknowledged is lost
        assert event_id in fold.streams[case].seen_ids
        assert fold.streams[case].accepted == 1  # nothing applied twice
    assert fold.counts[Outcome.tamper] == 0
    # Resent copies, if any, are neutralised replays; the consumer saw each record once.
    assert all(j.verdict.reason is Reason.replayed_id for j in fold.rejections)
    assert all(n == 1 for n in applied.values())
    assert {e for _, e in acknowledged} <= set(applied)


def test_the_cli_audits_the_kafka_log(kafka_settings: LedgerSettings) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return ledger_cli(kafka_settings, *args)

    assert cli("init").returncode == 0
    case = new_case()

    async def write() -> None:
        log = await open_log(kafka_settings)
        s = signers(kafka_settings)
        w = {n: EventWriter(log, s[n], keystore.genesis_public(kafka_settings)) for n in s}
        for t in LIFECYCLE:
            name, d = draft(t)
            assert (await w[name].submit(case, lambda st, d=d: [d])).accepted
        await log.close()

    asyncio.run(write())
    digest = cli("digest")
    assert digest.returncode == 0, digest.stderr
    verify = cli("verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "OK the log is intact" in verify.stdout
    # one digest per partition, in the log and in the copy kept outside it
    assert "6 digest claims checked" in verify.stdout
    replay = cli("replay", case)
    assert replay.returncode == 0 and '"status": "closed"' in replay.stdout


async def test_all_records_read_back_with_log_append_time(kafka_settings: LedgerSettings) -> None:
    log = await open_log(kafka_settings)
    acks = await log.append([(new_case(), b"x")])
    got = [r async for r in read_all(log)]
    await log.close()
    assert got[0].appended_at == acks[0].appended_at > 0
