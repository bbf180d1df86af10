"""The EventLog contract: one suite, every adapter (SQLite with 1 and 3 partitions, Kafka with 3).

Positions, per-stream order, log time, resume from a checkpoint, a consumer killed between read
and checkpoint, batches of 10,000, concurrent appends, and two real writer processes racing on
the same streams.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from shared.events.partitioner import partition_for
from shared.ledger import keystore
from shared.ledger.reader import fold_log
from shared.ledger.writer import EventWriter
from shared.log.port import EventLog, StoredRecord, read_all
from shared.rules.verdict import Outcome, Reason
from shared.settings import LedgerSettings
from tests.conftest import settings_env
from tests.samples import LIFECYCLE, draft, new_case, sign_steps, signers

REPO = Path(__file__).resolve().parents[2]


async def everything(log: EventLog) -> list[StoredRecord]:
    return [r async for r in read_all(log)]


async def test_positions_are_dense_per_partition_and_streams_keep_their_order(
    log: EventLog,
) -> None:
    streams = [new_case() for _ in range(12)]
    sent: dict[str, list[bytes]] = {s: [] for s in streams}
    for round_ in range(5):
        batch = []
        for i, s in enumerate(streams):
            rec = f"{s}:{round_}:{i}".encode()
            batch.append((s, rec))
            sent[s].append(rec)
        acks = await log.append(batch)
        assert [a.partition for a in acks] == [partition_for(s, log.partitions) for s, _ in batch]
    head = await log.head()
    assert sum(head.values()) == 60
    records = await everything(log)
    for p in range(log.partitions):
        offsets = [r.offset for r in records if r.partition == p]
        assert offsets == list(range(head.get(p, 0)))
    for s in streams:
        got = [r.record async for r in log.read_stream(s)]
        assert got == sent[s]
        assert {r.partition for r in records if r.stream == s} == {partition_for(s, log.partitions)}


async def test_the_log_stamps_its_own_time_monotonic_per_partition(log: EventLog) -> None:
    before = time.time_ns() // 1000
    await log.append([(new_case(), b"x") for _ in range(30)])
    after = time.time_ns() // 1000
    records = await everything(log)
    for p in range(log.partitions):
        times = [r.appended_at for r in records if r.partition == p]
        assert times == sorted(times)
    assert all(before - 2_000_000 <= r.appended_at <= after + 2_000_000 for r in records)


async def test_resume_from_a_checkpoint_reads_exactly_the_rest(log: EventLog) -> None:
    await log.append([(new_case(), f"r{i}".encode()) for i in range(200)])
    first = await log.read({}, limit=77)
    assert len(first) == 77
    checkpoint = {p: 0 for p in range(log.partitions)}
    for r in first:
        checkpoint[r.partition] = r.offset + 1
    rest = [r async for r in read_all(log, checkpoint)]
    assert len(first) + len(rest) == 200
    assert {(r.partition, r.offset) for r in first}.isdisjoint(
        {(r.partition, r.offset) for r in rest}
    )


async def test_a_batch_of_ten_thousand(log: EventLog) -> None:
    streams = [new_case() for _ in range(100)]
    batch = [(streams[i % 100], f"{i:05d}".encode() * 20) for i in range(10_000)]
    acks = await log.append(batch)
    assert len(acks) == 10_000
    assert len({(a.partition, a.offset) for a in acks}) == 10_000
    records = await everything(log)
    assert len(records) == 10_000
    by_stream: dict[str, list[bytes]] = {}
    for r in records:
        by_stream.setdefault(r.stream, []).append(r.record)
    for s in streams:
        assert by_stream[s] == [rec for st, rec in batch if st == s]


async def test_concurrent_appends_are_each_acknowledged_once(log: EventLog) -> None:
    streams = [new_case() for _ in range(8)]

    async def one(i: int) -> tuple[int, int]:
        ack = (await log.append([(streams[i % 8], f"c{i}".encode())]))[0]
        return ack.partition, ack.offset

    acks = await asyncio.gather(*(one(i) for i in range(64)))
    assert len(set(acks)) == 64
    assert len(await everything(log)) == 64


async def test_a_retry_of_identical_bytes_is_a_neutralised_replay(
    ledger: EventLog, log_settings: LedgerSettings
) -> None:
    s = signers(log_settings)
    writer = EventWriter(ledger, s["intake"], keystore.genesis_public(log_settings))
    fold = await writer.registry()
    case = new_case()
    signed = sign_steps(
        s,
        case,
        LIFECYCLE[:1],
        head=None,
        regseq=fold.registry.version,
        reghash=fold.registry.hash_at(fold.registry.version),
    )
    first = await writer.submit_signed(case, signed)
    again = await writer.submit_signed(case, signed)
    assert first[0].verdict.reason is Reason.ok
    assert again[0].verdict.reason is Reason.replayed_id


async def test_a_writer_that_loses_a_race_re_decides(
    ledger: EventLog, log_settings: LedgerSettings
) -> None:
    s = signers(log_settings)
    genesis = keystore.genesis_public(log_settings)
    case = new_case()
    opened = [draft(t)[1] for t in LIFECYCLE[:2]]  # received and screened: assignable
    assert (
        await EventWriter(ledger, s["intake"], genesis).submit(case, lambda st: opened)
    ).accepted
    seen: dict[str, list[str]] = {"a": [], "b": []}

    def decider(name: str, unit: str):  # type: ignore[no-untyped-def]
        _, assign = draft("ledger.dispatch.assigned.v1", lead_unit=unit, co_units=[])

        def decide(state):  # type: ignore[no-untyped-def]
            seen[name].append(state.domain.status)
            return [assign] if state.domain.status == "received" else []

        return decide

    a, b = await asyncio.gather(
        EventWriter(ledger, s["dispatch"], genesis).submit(case, decider("a", "unit:a")),
        EventWriter(ledger, s["dispatch"], genesis).submit(case, decider("b", "unit:b")),
    )
    winner, loser = (a, b) if a.accepted else (b, a)
    assert winner.accepted and winner.attempts == 1
    assert loser.written == []  # it re-decided against the new state and wrote nothing
    loser_seen = seen["b" if winner is a else "a"]
    assert loser_seen[-1] == "assigned"
    assert loser.attempts == len(loser_seen)


def _spawn(module: str, args: list[str], settings: LedgerSettings) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=REPO,
        env=settings_env(settings),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


async def _write_cases(
    log: EventLog, settings: LedgerSettings, n: int, steps: list[str]
) -> list[str]:
    s = signers(settings)
    writer = EventWriter(log, s["intake"], keystore.genesis_public(settings))
    fold = await writer.registry()
    reg = fold.registry
    cases = [new_case() for _ in range(n)]
    pairs = []
    for c in cases:
        for signed in sign_steps(
            s, c, steps, head=None, regseq=reg.version, reghash=reg.hash_at(reg.version)
        ):
            pairs.append((c, signed.record))
    await log.append(pairs)
    return cases


@pytest.mark.slow
async def test_two_writer_processes_racing_on_the_same_streams(
    ledger: EventLog, log_settings: LedgerSettings
) -> None:
    cases = await _write_cases(ledger, log_settings, 40, LIFECYCLE[:2])
    procs = [
        _spawn("tests.contract.racer", [unit, ",".join(cases)], log_settings)
        for unit in ("unit:health-bureau", "unit:civil-affairs")
    ]
    for p in procs:  # both have read their heads before either writes
        assert p.stdout is not None
        assert p.stdout.readline() == b"ready\n", p.communicate(timeout=60)[1].decode()[-2000:]
    for p in procs:  # then both are let go at once
        assert p.stdin is not None
        p.stdin.write(b"go\n")
        p.stdin.flush()
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err.decode()[-2000:]
        outs.append([orjson.loads(line) for line in out.splitlines()])
    told = {}
    for lines in outs:
        assert len(lines) == len(cases)
        for line in lines:
            told.setdefault(line["stream"], []).append(line)
    fold = await fold_log(ledger, keystore.genesis_public(log_settings))
    for c in cases:
        pair = told[c]
        winners = [x for x in pair if x["verdict"] == "ok"]
        losers = [x for x in pair if x["verdict"] != "ok"]
        assert len(winners) == 1 and len(losers) == 1, pair
        assert losers[0]["verdict"] == "stale_prev"
        # Every reader agrees with what each writer was told.
        assert winners[0]["id"] in fold.streams[c].seen_ids
        assert losers[0]["id"] not in fold.streams[c].seen_ids
    assert fold.counts[Outcome.tamper] == 0
    assert fold.counts[Outcome.conflict] == len(cases)


@pytest.mark.slow
async def test_a_consumer_killed_between_read_and_checkpoint_loses_nothing_and_repeats_no_effect(
    ledger: EventLog, log_settings: LedgerSettings, tmp_path: Path
) -> None:
    cases = await _write_cases(ledger, log_settings, 60, LIFECYCLE[:2])
    expected = {orjson.loads(r.record)["id"] for r in await everything(ledger)}
    effects = str(tmp_path / "effects.sqlite3")
    victim = _spawn(
        "tests.contract.consumer",
        ["--effects", effects, "--hang-before-checkpoint", "2"],
        log_settings,
    )
    marker = Path(effects + ".hanging")
    deadline = time.time() + 120
    while not marker.exists():
        assert victim.poll() is None, victim.communicate()[1].decode()[-2000:]
        assert time.time() < deadline, "consumer never reached the kill point"
        await asyncio.sleep(0.05)
    os.kill(victim.pid, signal.SIGKILL)  # a real kill: effects written, checkpoint not
    victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL
    again = _spawn("tests.contract.consumer", ["--effects", effects], log_settings)
    _, err = again.communicate(timeout=240)
    assert again.returncode == 0, err.decode()[-2000:]
    import sqlite3

    db = sqlite3.connect(effects)
    applied = {row[0] for row in db.execute("SELECT event_id FROM effects")}
    deliveries = db.execute("SELECT count(*) FROM deliveries").fetchone()[0]
    assert applied == expected  # nothing lost
    assert db.execute("SELECT count(*) FROM effects").fetchone()[0] == len(expected)  # once each
    assert deliveries > len(expected)  # the killed batch was redelivered
    assert len(cases) == 60
