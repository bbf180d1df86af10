"""Two oversight scheduler processes on one log holding 1,000 cases already past due; one is
killed with SIGKILL mid-run and restarted. Every deadline gets exactly one accepted
``deadline.elapsed`` (and every lead's lapse one escalation), ``ledger verify`` exits 0, and
the copies that raced in are listed as normal conflicts. On SQLite and on Kafka (3
partitions)."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from shared.ledger.bootstrap import init_ledger
from shared.log.factory import open_log
from shared.log.port import read_all
from shared.rules.act import micros
from shared.rules.verdict import Outcome
from shared.settings import LedgerSettings
from tests.conftest import ledger_cli, settings_env, settings_for
from tests.samples import DUE
from tests.timer_logs import ELAPSED, ESCALATED, judged, of_type, past_due_cases

REPO = Path(__file__).resolve().parents[2]
CASES = 1_000
CO_UNIT_EVERY = 10  # every tenth case also has a co-unit: 1,100 deadlines
pytestmark = pytest.mark.slow


def scheduler(settings: LedgerSettings) -> subprocess.Popen[bytes]:
    env = settings_env(settings)
    env.update({"LEDGER_SCHEDULER_POLL_SECONDS": "0.05", "LEDGER_SCHEDULER_RETRY_SECONDS": "0.5"})
    return subprocess.Popen(
        [sys.executable, "-m", "services.oversight.scheduler"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def started(p: subprocess.Popen[bytes]) -> dict[str, float]:
    """The process's line once it has rebuilt its pending set from the log and runs."""
    assert p.stdout is not None
    line = p.stdout.readline()
    assert line, p.stderr.read() if p.stderr else "the scheduler ended"
    status: dict[str, float] = json.loads(line)
    return status


async def count(settings: LedgerSettings, event_type: str) -> int:
    """Records of a type in the log (accepted or not): cheap, no verdicts."""
    mark = f'"type":"{event_type}"'.encode()
    log = await open_log(settings)
    try:
        return len([1 async for r in read_all(log) if mark in r.record])
    finally:
        await log.close()


async def wait_for(
    settings: LedgerSettings, event_type: str, at_least: int, seconds: float
) -> None:
    deadline = time.monotonic() + seconds
    while await count(settings, event_type) < at_least:
        assert time.monotonic() < deadline, f"fewer than {at_least} {event_type} in {seconds} s"
        await asyncio.sleep(0.2)


async def all_accepted(settings: LedgerSettings, deadlines: int, seconds: float) -> None:
    """Until every deadline's timer and every lead's escalation is accepted (the counts above
    include the copies that were not)."""
    deadline = time.monotonic() + seconds
    while True:
        log = await open_log(settings)
        try:
            records = await judged(log, settings)
        finally:
            await log.close()
        elapsed, escalated = of_type(records, ELAPSED)[0], of_type(records, ESCALATED)[0]
        if len(elapsed) >= deadlines and len(escalated) >= CASES:
            return
        assert time.monotonic() < deadline, f"{len(elapsed)} of {deadlines} timers accepted"
        await asyncio.sleep(0.5)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("kafka", marks=pytest.mark.kafka)], ids=["sqlite", "kafka"]
)
async def test_two_schedulers_one_killed_each_deadline_fires_once(
    backend: str, tmp_path: Path
) -> None:
    settings = settings_for(backend, 3, tmp_path / "var")
    log = await open_log(settings)
    try:
        await init_ledger(log, settings)
        cases = [f"case-{uuid.uuid4()}" for _ in range(CASES)]
        deadlines = await past_due_cases(log, settings, cases, co_unit_every=CO_UNIT_EVERY)
    finally:
        await log.close()
    assert deadlines == CASES + CASES // CO_UNIT_EVERY

    a, b = scheduler(settings), scheduler(settings)
    restarted = None
    try:
        for p in (a, b):  # the other may have begun firing already
            assert 0 < (await asyncio.to_thread(started, p))["pending"] <= deadlines
        await wait_for(settings, ELAPSED, deadlines // 5, 60)
        a.send_signal(signal.SIGKILL)  # mid-run: a fifth of the timers are in
        assert a.wait(10) == -signal.SIGKILL
        restarted = scheduler(settings)
        rebuilt = await asyncio.to_thread(started, restarted)
        assert rebuilt["pending"] < deadlines  # what was left, from the log alone
        await wait_for(settings, ELAPSED, deadlines, 60)
        await wait_for(settings, ESCALATED, CASES, 60)
        await all_accepted(settings, deadlines, 60)
        await asyncio.sleep(1.0)  # time for a late extra copy to land
    finally:
        running = [q for q in (a, b, restarted) if q is not None and q.poll() is None]
        for q in running:
            q.send_signal(signal.SIGTERM)
        stopped = []
        for q in running:
            try:
                stopped.append(q.wait(30))
            except subprocess.TimeoutExpired:
                q.kill()  # never leave a scheduler behind
                q.wait(10)
                stopped.append(None)
        assert stopped == [0] * len(running), "a scheduler did not stop on SIGTERM"

    log = await open_log(settings)
    try:
        records = await judged(log, settings)
    finally:
        await log.close()
    elapsed, extra = of_type(records, ELAPSED)
    fired = Counter((r.stream, e["data"]["unit"], micros(e["data"]["due_at"])) for r, e in elapsed)
    expected = {(c, "unit:health-bureau", micros(DUE)) for c in cases} | {
        (c, "unit:civil-affairs", micros(DUE)) for c in cases[::CO_UNIT_EVERY]
    }
    assert set(fired) == expected and set(fired.values()) == {1}  # each once, none missing
    escalated, _ = of_type(records, ESCALATED)
    assert Counter(r.stream for r, _ in escalated) == Counter(cases)
    # Whatever raced in beside them is a normal conflict, never tampering.
    refused = [(e.get("type"), v) for _, e, v in records if not v.accepted]
    assert all(v.outcome is Outcome.conflict for _, v in refused)
    assert {t for t, _ in refused} <= {ELAPSED, ESCALATED}
    assert extra == sum(1 for t, _ in refused if t == ELAPSED)

    out = ledger_cli(settings, "verify")
    assert out.returncode == 0, out.stdout + out.stderr
    listed = re.search(r"(\d+) normal conflicts, 0 tampered", out.stdout)
    assert listed is not None and int(listed.group(1)) == len(refused), out.stdout
    if refused:
        assert "normal conflicts (not alarms)" in out.stdout
    print(f"{backend}: {len(refused)} extra copies listed as conflicts")
