"""The Kafka event log: one topic, streams keyed to partitions, durability configured.

aiokafka's defaults are wrong for a ledger (DESIGN principle 10), so every setting is explicit:
``acks=all`` with an idempotent producer and no transactions; the topic is created here (broker
auto-create off) with ``retention.ms=-1``, ``cleanup.policy=delete``,
``message.timestamp.type=LogAppendTime`` and ``min.insync.replicas``, and its partition count
never changes. Reads use manual assignment and explicit positions — no consumer group, no
committed offsets — so a reader's position lives beside its own state.

A consumer that stops receiving while the log grows (aiokafka issue #1154) is detected — a read
of a range below the high watermark that yields nothing for ``stall_seconds`` — and replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator, Mapping, Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from shared.events.partitioner import partition_for
from shared.log.port import Appended, Positions, StoredRecord
from shared.log.stream_index import StreamIndex, record_hash
from shared.settings import LedgerSettings

LOG_APPEND_TIME = 1  # aiokafka's timestamp_type for LogAppendTime


class LogUnavailable(ConnectionError):
    """The broker did not acknowledge an append; the caller may resend the identical bytes."""


class KafkaMisconfigured(RuntimeError):
    pass


def topic_configs(settings: LedgerSettings) -> dict[str, str]:
    return {
        "retention.ms": "-1",
        "retention.bytes": "-1",
        "cleanup.policy": "delete",
        "message.timestamp.type": "LogAppendTime",
        "min.insync.replicas": str(settings.kafka_min_insync_replicas),
        "unclean.leader.election.enable": "false",
    }


class KafkaLog:
    def __init__(self, settings: LedgerSettings) -> None:
        self.settings = settings
        self.topic = settings.kafka_topic
        self._partitions = settings.log_partitions
        self._producer: AIOKafkaProducer | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._read_lock = asyncio.Lock()
        self.stall_seconds = 10.0
        self.retry_seconds = 120.0  # how long reads wait for an unavailable broker
        self.reconnects = 0  # consumers replaced after a stall
        # Stream index: offsets of each stream's records (Kafka has no key index), persisted
        # beside the service's state and checked against the log before it is trusted.
        where = hashlib.sha256(settings.kafka_bootstrap.encode()).hexdigest()[:12]
        self._index = StreamIndex(
            settings.var_dir / "kafka-index" / f"{self.topic}-{where}.sqlite3"
        )
        self._checked: set[int] = set()

    @classmethod
    async def open(cls, settings: LedgerSettings) -> KafkaLog:
        log = cls(settings)
        await log._ensure_topic()
        log._producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap,
            acks="all",
            enable_idempotence=True,
            linger_ms=2,
            max_batch_size=1 << 20,
            max_request_size=4 << 20,
            request_timeout_ms=30_000,
        )
        await log._producer.start()
        log._consumer = await log._new_consumer()
        return log

    @property
    def partitions(self) -> int:
        return self._partitions

    def _tps(self) -> list[TopicPartition]:
        return [TopicPartition(self.topic, p) for p in range(self._partitions)]

    async def _ensure_topic(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.settings.kafka_bootstrap)
        await admin.start()
        try:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [
                        NewTopic(
                            self.topic,
                            num_partitions=self._partitions,
                            replication_factor=self.settings.kafka_replication_factor,
                            topic_configs=topic_configs(self.settings),
                        )
                    ]
                )
            found = 0
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 30
            while True:  # a new topic's metadata can lag its creation on a busy broker
                meta = await admin.describe_topics([self.topic])
                found = len(meta[0]["partitions"]) if meta and meta[0].get("partitions") else 0
                if found or loop.time() > deadline:
                    break
                await asyncio.sleep(0.2)
            if found != self._partitions:
                raise KafkaMisconfigured(
                    f"topic {self.topic} has {found} partitions, settings say {self._partitions}; "
                    "a log never changes its partition count"
                )
        finally:
            await admin.close()

    async def _new_consumer(self) -> AIOKafkaConsumer:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="none",
            isolation_level="read_committed",
            fetch_max_bytes=16 << 20,
            max_partition_fetch_bytes=4 << 20,
            # Reads are bounded by the watermark: never let the broker hold a fetch open
            # waiting for data past it (the default 500 ms made every stream read slow).
            fetch_max_wait_ms=5,
            consumer_timeout_ms=5,
        )
        await consumer.start()
        return consumer

    async def _replace_consumer(self) -> None:
        if self._consumer is not None:
            with contextlib.suppress(KafkaError):
                await self._consumer.stop()
        self._consumer = await self._new_consumer()
        self.reconnects += 1

    # ---- append ----

    async def append(self, records: Sequence[tuple[str, bytes]]) -> list[Appended]:
        producer = self._producer
        assert producer is not None
        try:
            futures = []
            for stream, record in records:
                p = partition_for(stream, self._partitions)
                futures.append(
                    await producer.send(self.topic, record, key=stream.encode(), partition=p)
                )
            metas = await asyncio.gather(*futures)
        except KafkaError as exc:
            raise LogUnavailable(f"append not acknowledged: {exc.__class__.__name__}") from exc
        out = []
        for m in metas:
            if m.timestamp_type != LOG_APPEND_TIME:
                raise KafkaMisconfigured("the topic must use message.timestamp.type=LogAppendTime")
            out.append(Appended(m.partition, m.offset, m.timestamp * 1000))
        return out

    # ---- reads ----

    async def head(self) -> Positions:
        async with self._read_lock:
            return await self._head()

    async def _head(self) -> Positions:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.retry_seconds
        while True:
            assert self._consumer is not None
            try:
                ends = await self._consumer.end_offsets(self._tps())
                return {tp.partition: off for tp, off in ends.items()}
            except KafkaError:
                # The broker is away (restart, leader change): reconnect until it is back.
                if loop.time() > deadline:
                    raise
                await asyncio.sleep(0.5)
                with contextlib.suppress(KafkaError):
                    await self._replace_consumer()

    async def _head_at_least(self, until: Mapping[int, int] | None) -> Positions:
        """The watermark, waiting briefly for it to reach ``until`` (a writer reading back its
        own acknowledged records may ask just before the watermark moves)."""
        end = await self._head()
        deadline = asyncio.get_running_loop().time() + self.stall_seconds
        while until is not None and any(end[p] < n for p, n in until.items() if p in end):
            if asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.01)
            end = await self._head()
        return end

    async def read(
        self, start: Mapping[int, int], *, limit: int = 1000, until: Mapping[int, int] | None = None
    ) -> list[StoredRecord]:
        async with self._read_lock:
            end = await self._head_at_least(until)
            out: list[StoredRecord] = []
            for p in range(self._partitions):
                hi = min(end[p], until.get(p, 0)) if until is not None else end[p]
                lo = start.get(p, 0)
                if lo >= hi or len(out) >= limit:
                    continue
                out.extend(await self._read_range(p, lo, hi, limit - len(out)))
            return out

    async def _read_range(self, p: int, lo: int, hi: int, limit: int) -> list[StoredRecord]:
        """Records lo..hi-1 (at most ``limit``) of partition p; all exist (hi <= watermark)."""
        tp = TopicPartition(self.topic, p)
        out: list[StoredRecord] = []
        pos = lo
        assert self._consumer is not None
        # Assign only the partition being read: records prefetched for another partition of
        # the same broker would hold this fetch back (aiokafka's prefetch backoff).
        if self._consumer.assignment() != {tp}:
            self._consumer.assign([tp])
        self._consumer.seek(tp, pos)
        idle_since = asyncio.get_running_loop().time()
        while pos < hi and len(out) < limit:
            try:
                batch = await self._consumer.getmany(
                    tp, timeout_ms=500, max_records=limit - len(out)
                )
            except KafkaError:
                batch = {}
            msgs = batch.get(tp, [])
            if not msgs:
                if asyncio.get_running_loop().time() - idle_since > self.stall_seconds:
                    # Stalled while the data exists: reconnect and seek back.
                    with contextlib.suppress(KafkaError):
                        await self._replace_consumer()
                        self._consumer.assign([tp])
                        self._consumer.seek(tp, pos)
                    idle_since = asyncio.get_running_loop().time()
                continue
            idle_since = asyncio.get_running_loop().time()
            for m in msgs:
                if m.offset < pos:
                    continue
                if m.offset >= hi or len(out) >= limit:
                    break
                stream = m.key.decode() if m.key else ""
                out.append(StoredRecord(p, m.offset, stream, m.timestamp * 1000, m.value or b""))
                pos = m.offset + 1
            else:
                continue
            break
        return out

    async def read_stream(
        self, stream: str, *, until: Mapping[int, int] | None = None
    ) -> AsyncIterator[StoredRecord]:
        p = partition_for(stream, self._partitions)
        async with self._read_lock:
            end = await self._head_at_least(until)
            hi = min(end[p], until.get(p, 0)) if until is not None else end[p]
            await self._index_to(p, hi)
            offsets = self._index.offsets(stream, p, hi)
            records: list[StoredRecord] = []
            i = 0
            while i < len(offsets):
                # Read runs of consecutive offsets in one fetch.
                j = i
                while j + 1 < len(offsets) and offsets[j + 1] == offsets[j] + 1:
                    j += 1
                got = await self._read_range(p, offsets[i], offsets[j] + 1, j - i + 1)
                records.extend(r for r in got if r.stream == stream)
                i = j + 1
        for rec in records:
            yield rec

    async def warm_up(self) -> None:
        """What a first command would otherwise pay: the producer's metadata, and every
        partition's stream index checked against the log and extended to the head."""
        assert self._producer is not None
        await self._producer.partitions_for(self.topic)
        async with self._read_lock:
            end = await self._head()
            for p in range(self._partitions):
                await self._index_to(p, end[p])

    async def _index_to(self, p: int, hi: int) -> None:
        """Extend the persistent index of partition ``p`` to ``hi`` (after checking it)."""
        upto, last = self._index.indexed(p)
        if p not in self._checked:
            if upto > 0:
                end = (await self._head())[p]
                got = await self._read_range(p, upto - 1, upto, 1) if upto <= end else []
                if not got or record_hash(got[0].record) != last:
                    self._index.reset(p)  # not the log it was built from: index it again
                    upto = 0
            self._checked.add(p)
        while upto < hi:
            chunk = await self._read_range(p, upto, hi, 5000)
            if not chunk:
                break
            upto = chunk[-1].offset + 1
            entries = [(r.stream, r.offset) for r in chunk]
            self._index.add(p, entries, upto, record_hash(chunk[-1].record))

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
        if self._consumer is not None:
            await self._consumer.stop()
        self._producer = self._consumer = None
        self._index.close()
