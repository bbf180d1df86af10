"""Kafka rows: our KafkaLog beside a bare aiokafka producer and consumer with the same settings,
on the same signed bytes, against the same real broker, in the same run.

batched append: ``KafkaLog.append`` of 1,000 records per call vs a bare ``AIOKafkaProducer``
(acks=all, idempotent, same linger and batch size, same key and partition) sending the same
1,000 and awaiting their acknowledgements. replay: ``rebuild_fold`` over the topic (read,
decode, chain, evolve; every signature checked, no seal) vs a bare manual-assignment consumer
reading every record of the same topic. Our replay is the rebuild path: after a clean
``verify_log`` and a seal, signatures below the seal are trusted.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from shared.crypto.signing import PublicKey
from shared.events.partitioner import partition_for
from shared.ledger.rebuild import rebuild_fold
from shared.ledger.seal import record_seal
from shared.ledger.signer import Signer
from shared.ledger.verify import verify_log
from shared.log.kafka import KafkaLog
from shared.settings import LedgerSettings
from tests.bench.common import Stopwatch, median


def _settings(bootstrap: str, partitions: int) -> LedgerSettings:
    return LedgerSettings(
        log_backend="kafka",
        kafka_bootstrap=bootstrap,
        kafka_topic=f"bench-{uuid.uuid4().hex[:10]}",
        log_partitions=partitions,
    )


async def _bare_producer_rate(
    bootstrap: str, topic: str, records: list[tuple[str, bytes]], partitions: int
) -> float:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=2,
        max_batch_size=1 << 20,
        max_request_size=4 << 20,
    )
    await producer.start()
    try:
        with Stopwatch() as sw:
            for i in range(0, len(records), 1000):
                futures = [
                    await producer.send(
                        topic, r, key=s.encode(), partition=partition_for(s, partitions)
                    )
                    for s, r in records[i : i + 1000]
                ]
                await asyncio.gather(*futures)
        return len(records) / sw.timing.wall
    finally:
        await producer.stop()


async def batched(
    bootstrap: str, records: list[tuple[str, bytes]], repeat: int, partitions: int
) -> dict[str, Any]:
    ours, bare = [], []
    for _ in range(repeat):
        log = await KafkaLog.open(_settings(bootstrap, partitions))
        try:
            with Stopwatch() as sw:
                for i in range(0, len(records), 1000):
                    await log.append(records[i : i + 1000])
            ours.append(len(records) / sw.timing.wall)
            # The bare producer writes to a topic of its own, created the same way.
            other = await KafkaLog.open(_settings(bootstrap, partitions))
            await other.close()
            bare.append(await _bare_producer_rate(bootstrap, other.topic, records, partitions))
        finally:
            await log.close()
    return {"ours": median(ours), "raw": median(bare), "runs": {"ours": ours, "bare": bare}}


async def _bare_consumer_rate(bootstrap: str, topic: str, partitions: int, total: int) -> float:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        fetch_max_bytes=16 << 20,
        max_partition_fetch_bytes=4 << 20,
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        seen = 0
        with Stopwatch() as sw:
            while seen < total:
                batch = await consumer.getmany(timeout_ms=1000, max_records=5000)
                seen += sum(len(v) for v in batch.values())
        return total / max(sw.timing.wall, sw.timing.cpu)
    finally:
        await consumer.stop()


async def replay(
    bootstrap: str,
    records: list[tuple[str, bytes]],
    registry: list[tuple[str, bytes]],
    genesis: PublicKey,
    auditor: Signer,
    seals_dir: Path,
    repeat: int,
    partitions: int,
) -> dict[str, Any]:
    log = await KafkaLog.open(_settings(bootstrap, partitions))
    try:
        for batch in (registry, records):
            for i in range(0, len(batch), 1000):
                await log.append(batch[i : i + 1000])
        # Replay for rebuilds, as on SQLite: after a clean verify, trusting the seal.
        report = await verify_log(log, genesis)
        await record_seal(log, auditor, genesis, report, seals_dir)
        total = sum((await log.head()).values())
        ours, bare = [], []
        for _ in range(repeat):
            with Stopwatch() as sw:
                fold = await rebuild_fold(log, genesis)
            ours.append(total / max(sw.timing.wall, sw.timing.cpu))
            bare.append(await _bare_consumer_rate(bootstrap, log.topic, partitions, total))
        return {
            "ours": median(ours),
            "raw": median(bare),
            "accepted": sum(st.accepted for st in fold.streams.values()),
            "runs": {"ours": ours, "bare": bare},
        }
    finally:
        await log.close()
