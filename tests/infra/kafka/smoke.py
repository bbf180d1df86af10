"""Smoke check of the real Kafka broker from kafka.sh against aiokafka (a plain script, not pytest).

    .venv/bin/python tests/infra/kafka/smoke.py

Starts a fresh broker (kafka.sh start), creates a 3-partition topic with the configs the
project relies on, produces with acks=all + idempotence, consumes from earliest and checks
LogAppendTime timestamps, restarts the broker (kafka.sh restart: same data dir) and checks the
records and the group's committed offsets survived, produces again, then stops the broker.

If LEDGER_TEST_KAFKA_BOOTSTRAP is already set (e.g. under tests/infra/with-infra.sh) that
broker is used and restarted through LEDGER_TEST_KAFKA_SCRIPT, and it is left running.
Exit status 0 = all checks passed.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

SCRIPT = Path(__file__).resolve().with_name("kafka.sh")
PARTITIONS = 3
N = 30
LOG_APPEND_TIME = 1


def step(msg: str, t0: float) -> None:
    print(f"[{time.monotonic() - t0:6.1f}s] {msg}", flush=True)


def run_script(script: str, sub: str) -> dict[str, str]:
    """Run kafka.sh SUB; stderr passes through; return the exported variables."""
    t = time.monotonic()
    out = subprocess.run(["bash", script, sub], stdout=subprocess.PIPE, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"kafka.sh {sub} failed with exit status {out.returncode}")
    env: dict[str, str] = {}
    for line in out.stdout.splitlines():
        assert line.startswith("export "), f"unexpected stdout line from kafka.sh: {line!r}"
        k, _, v = line[len("export ") :].partition("=")
        env[k] = v
    print(f"kafka.sh {sub}: {time.monotonic() - t:.1f}s", flush=True)
    return env


async def consume_all(bootstrap: str, topic: str, group: str | None, expected: int) -> list:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    got: list = []
    try:
        deadline = time.monotonic() + 30
        while len(got) < expected and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=1000)
            for records in batch.values():
                got.extend(records)
        if group is not None:
            await consumer.commit()
    finally:
        await consumer.stop()
    return got


async def produce(bootstrap: str, topic: str, start: int, count: int) -> list:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        futs = [
            await producer.send(topic, key=f"k{i % 7}".encode(), value=f"v{i}".encode())
            for i in range(start, start + count)
        ]
        return [await f for f in futs]
    finally:
        await producer.stop()


def check_records(records: list, want_values: set[str], label: str) -> None:
    values = {r.value.decode() for r in records}
    missing, extra = sorted(want_values - values)[:5], sorted(values - want_values)[:5]
    assert values == want_values, f"{label}: missing {missing}, extra {extra}"
    assert len(records) == len(want_values), f"{label}: duplicates ({len(records)} records)"
    bad = [r for r in records if r.timestamp_type != LOG_APPEND_TIME]
    assert not bad, f"{label}: timestamp_type {bad[0].timestamp_type} != 1 (LogAppendTime)"
    assert len({r.partition for r in records}) > 1, f"{label}: all records in one partition"


async def topic_configs(admin: AIOKafkaAdminClient, topic: str) -> dict[str, str]:
    """describe_configs of a topic. CreateTopics is answered by the controller; the broker that
    answers DescribeConfigs may not have the topic in its metadata yet (UNKNOWN_TOPIC_OR_PARTITION,
    error 3): retry for a while."""
    deadline = time.monotonic() + 15
    while True:
        desc = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        res = desc[0].to_object()["resources"][0]
        if res["error_code"] == 0:
            return {e["config_names"]: e["config_value"] for e in res["config_entries"]}
        if res["error_code"] != 3 or time.monotonic() > deadline:
            raise AssertionError(f"describe_configs: {res}")
        await asyncio.sleep(0.2)


async def main() -> None:
    t0 = time.monotonic()
    external = "LEDGER_TEST_KAFKA_BOOTSTRAP" in os.environ
    if external:
        env = {
            "LEDGER_TEST_KAFKA_BOOTSTRAP": os.environ["LEDGER_TEST_KAFKA_BOOTSTRAP"],
            "LEDGER_TEST_KAFKA_SCRIPT": os.environ.get("LEDGER_TEST_KAFKA_SCRIPT", str(SCRIPT)),
        }
    else:
        env = run_script(str(SCRIPT), "start")
    bootstrap = env["LEDGER_TEST_KAFKA_BOOTSTRAP"]
    script = env["LEDGER_TEST_KAFKA_SCRIPT"]
    step(f"broker at {bootstrap}", t0)
    topic = f"smoke-{uuid.uuid4().hex[:8]}"
    group = f"smoke-group-{uuid.uuid4().hex[:8]}"
    try:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            resp = await admin.create_topics(
                [
                    NewTopic(
                        topic,
                        num_partitions=PARTITIONS,
                        replication_factor=1,
                        topic_configs={
                            "retention.ms": "-1",
                            "message.timestamp.type": "LogAppendTime",
                            "min.insync.replicas": "1",
                        },
                    )
                ]
            )
            errors = [e for e in getattr(resp, "topic_errors", []) if e[1] != 0]
            assert not errors, f"create_topics errors: {errors}"
            step(f"created topic {topic} ({type(resp).__name__})", t0)
            configs = await topic_configs(admin, topic)
            for k, v in {
                "retention.ms": "-1",
                "message.timestamp.type": "LogAppendTime",
                "min.insync.replicas": "1",
            }.items():
                assert configs.get(k) == v, f"topic config {k}={configs.get(k)!r}, want {v!r}"
            step("topic configs verified via describe_configs", t0)
        finally:
            await admin.close()

        metas = await produce(bootstrap, topic, 0, N)
        assert all(m.timestamp != -1 for m in metas), "send() metadata lacks LogAppendTime"
        parts = sorted({m.partition for m in metas})
        step(f"produced {N} (acks=all, idempotent); partitions {parts}", t0)

        recs = await consume_all(bootstrap, topic, group, N)
        check_records(recs, {f"v{i}" for i in range(N)}, "before restart")
        step(f"consumed {len(recs)} from earliest, all timestamp_type=1, offsets committed", t0)

        t = time.monotonic()
        run_script(script, "restart")
        restart_s = time.monotonic() - t
        step(f"restarted in {restart_s:.1f}s", t0)

        recs = await consume_all(bootstrap, topic, None, N)
        check_records(recs, {f"v{i}" for i in range(N)}, "after restart")
        step(f"after restart: all {N} records still there", t0)

        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
        await consumer.start()
        try:
            committed = {
                p: await consumer.committed(TopicPartition(topic, p)) for p in range(PARTITIONS)
            }
        finally:
            await consumer.stop()
        by_part: dict[int, int] = {}
        for r in recs:
            by_part[r.partition] = max(by_part.get(r.partition, -1), r.offset + 1)
        assert all(committed[p] == by_part.get(p, 0) for p in range(PARTITIONS)), (
            f"committed offsets after restart {committed} != {by_part}"
        )
        step(f"group offsets survived restart: {committed}", t0)

        await produce(bootstrap, topic, N, N)
        recs = await consume_all(bootstrap, topic, None, 2 * N)
        check_records(recs, {f"v{i}" for i in range(2 * N)}, "produce after restart")
        step(f"produced {N} more after restart; {2 * N} records total", t0)
    finally:
        if not external:
            subprocess.run(["bash", script, "stop"], check=False)
            step("stopped", t0)
    print("SMOKE OK", flush=True)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except AssertionError as e:
        print(f"SMOKE FAILED: {e}", file=sys.stderr)
        sys.exit(1)
