"""The command path, end to end.

* ``http``: intake's complaint command through HTTP (sign-in check, idempotency claim, decide,
  rule-book check, sign, durable append, read-back, answer) under N concurrent connections,
  beside a bare FastAPI endpoint of the same server validating the same body (same client,
  same run, alternating rounds).
* ``long_vs_new``: a command on a case that already holds 200 events beside one on a new case
  (the writer's live fold keeps the state warm: the fold must not grow with the stream).
* ``restart``: the first command of a freshly started writer over a large log beside its
  hundredth, on SQLite and on Kafka (whose persistent stream index spares the partition scan).
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, NamedTuple

import httpx

from shared.events.partitioner import partition_for
from shared.ledger import keystore
from shared.ledger.bootstrap import init_ledger
from shared.ledger.deployments import spec
from shared.ledger.signer import Draft, Signer
from shared.ledger.snapshots import StreamSnapshots
from shared.ledger.writer import EventWriter
from shared.log.factory import open_log
from shared.log.port import EventLog
from shared.settings import LedgerSettings
from shared.web.command_path import SNAPSHOT_SECRET_PURPOSE, SNAPSHOTS_FILE
from tests.bench.common import REPO, Workspace

BODY: dict[str, Any] = {
    "channel": "web_form",
    "unit": "unit:housing-bureau",
    "category": "窗口纪律",
    "text": "投诉人反映：[日期1]上午在[单位1]办事窗口办理业务，窗口工作人员[姓名1]长时间玩手机，"
    "对群众询问置之不理，往返三次仍未办结，请求督办。",
}
ACTOR = "efficiency-office/bench-clerk"


def _pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


# -- HTTP ----------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _round(
    c: httpx.AsyncClient,
    path: str,
    headers: dict[str, str],
    workers: int,
    per: int,
    tag: str,
    body: Callable[[int], dict[str, Any]] = lambda _: BODY,
) -> tuple[float, list[float]]:
    """``workers`` connections each posting ``per`` bodies (``body(n)`` for the n-th in all)."""
    latencies: list[float] = []

    async def worker(w: int) -> None:
        for i in range(per):
            h = {**headers, "Idempotency-Key": f"{tag}-{w}-{i}-{uuid.uuid4().hex[:8]}"}
            t = time.perf_counter()
            r = await c.post(path, json=body(w * per + i), headers=h)
            latencies.append(time.perf_counter() - t)
            if r.status_code != 201:
                raise RuntimeError(f"{path}: {r.status_code} {r.text[:200]}")

    started = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(workers)))
    return workers * per / (time.perf_counter() - started), latencies


class Served(NamedTuple):
    client: httpx.AsyncClient
    headers: dict[str, str]  # signed in as the demo intake clerk
    var: Path
    pid: int  # the server process


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@asynccontextmanager
async def serving(ws: Workspace, name: str, workers: int) -> AsyncIterator[Served]:
    """A fresh ledger under ``ws``, the benchmark server (``command_server``: intake as
    ``make run`` serves it, and the bare endpoint) in its own process on a free port, and a
    client of ``workers`` connections signed in as the demo intake clerk; the server is
    stopped on leaving."""
    var = ws.root / name
    settings = LedgerSettings(var_dir=var)
    log = await open_log(settings)
    try:
        await init_ledger(log, settings)
    finally:
        await log.close()
    port = _free_port()
    env = {**os.environ, "LEDGER_VAR_DIR": str(var)}
    server_log = open(var / "server.log", "wb")  # noqa: SIM115 - closed with the server
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.command_server", str(var), str(port)],
        cwd=REPO,
        env=env,
        stdout=server_log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as c:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if (await c.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the benchmark server did not become ready")
                await asyncio.sleep(0.2)
            passwords = (var / "intake" / "demo-operators.txt").read_text().splitlines()
            row = next(line.split("\t") for line in passwords if line.startswith("demo-intake"))
            r = await c.post("/auth/token", json={"staff_id": row[0], "password": row[1]})
            headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
            yield Served(c, headers, var, server.pid)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        server_log.close()


async def http(ws: Workspace, workers: int = 32, per: int = 15, repeat: int = 3) -> dict[str, Any]:
    async with serving(ws, "command-http", workers) as (c, headers, _, _):
        await _round(c, "/complaints", headers, workers, 2, "warm")
        await _round(c, "/bench/bare", headers, workers, 2, "warm")
        ours_rates, bare_rates, ours_lat, bare_lat = [], [], [], []
        for k in range(repeat):
            rate, lat = await _round(c, "/bench/bare", headers, workers, per, f"b{k}")
            bare_rates.append(rate)
            bare_lat += lat
            rate, lat = await _round(c, "/complaints", headers, workers, per, f"o{k}")
            ours_rates.append(rate)
            ours_lat += lat
    return {
        "ours": statistics.median(ours_rates),
        "bare": statistics.median(bare_rates),
        "ours_p50_ms": _pct(ours_lat, 0.5) * 1000,
        "ours_p99_ms": _pct(ours_lat, 0.99) * 1000,
        "bare_p50_ms": _pct(bare_lat, 0.5) * 1000,
        "bare_p99_ms": _pct(bare_lat, 0.99) * 1000,
        "commands": len(ours_lat),
        "workers": workers,
    }


# -- long case vs new case --------------------------------------------------------------------


def _received(stream: str) -> Draft:
    data = {
        "complaint_no": "TS" + stream[5:17].replace("-", ""),
        "channel": "web_form",
        "received_by": "efficiency-office",
        "unit": "unit:housing-bureau",
        "category": "窗口纪律",
        "text": BODY["text"],
        "tracking_code_hash": "0" * 64,
    }
    return Draft("ledger.complaint.received.v1", data, ACTOR)


def _flag(i: int) -> Draft:
    data = {
        "from_level": f"district-{i}",
        "to_level": "city",
        "other_body": f"district-{i}-efficiency-office",
        "other_case": f"QX2026-{i:04d}",
        "basis": "越级投诉",
    }
    return Draft("ledger.complaint.flagged_cross_level.v1", data, ACTOR)


def new_case() -> str:
    return f"case-{uuid.uuid4()}"


async def _long_case(log: EventLog, signer: Signer, writer: EventWriter, events: int) -> str:
    """A case holding ``events`` accepted events, appended as one signed chain."""
    case = new_case()
    reg = (await writer.registry()).registry
    drafts = [_received(case), *(_flag(i) for i in range(events - 1))]
    signed = signer.sign_chain(
        case, drafts, head=None, regseq=reg.version, reghash=reg.hash_at(reg.version)
    )
    await log.append([(case, s.record) for s in signed])
    return case


async def _timed(writer: EventWriter, stream: str, draft: Draft) -> float:
    t = time.perf_counter()
    result = await writer.submit(stream, lambda state: [draft])
    elapsed = time.perf_counter() - t
    if not result.accepted:
        raise RuntimeError(f"bench command refused: {result.refused}")
    return elapsed


async def long_vs_new(ws: Workspace, events: int = 200, commands: int = 100) -> dict[str, Any]:
    settings = LedgerSettings(var_dir=ws.root / "command-long")
    log = await open_log(settings)
    try:
        await init_ledger(log, settings)
        signer = Signer(spec("intake").deployment, keystore.load(settings, "intake"))
        writer = EventWriter(log, signer, keystore.genesis_public(settings))
        case = await _long_case(log, signer, writer, events)
        cold = await _timed(writer, case, _flag(events))  # first: folds the 200 events once
        await _timed(writer, new_case(), _received(new_case()))
        long_t, new_t = [], []
        for i in range(commands):
            long_t.append(await _timed(writer, case, _flag(events + 1 + i)))
            fresh = new_case()
            new_t.append(await _timed(writer, fresh, _received(fresh)))
    finally:
        await log.close()
    return {
        "ours": statistics.median(long_t) * 1000,
        "new": statistics.median(new_t) * 1000,
        "first_on_long_ms": cold * 1000,
        "long_events": events,
        "commands": commands,
    }


# -- restart over a large log -----------------------------------------------------------------


async def build_large_log(settings: LedgerSettings, total: int, events: int = 200) -> str:
    """A log of ``total`` records: the registry, one case of ``events`` events, and filler
    records of other streams (opaque to a writer, which never reads them), in batches."""
    log = await open_log(settings)
    try:
        await init_ledger(log, settings)
        signer = Signer(spec("intake").deployment, keystore.load(settings, "intake"))
        writer = EventWriter(log, signer, keystore.genesis_public(settings))
        case = await _long_case(log, signer, writer, events)
        filler = total - sum((await log.head()).values())
        streams = [new_case() for _ in range(997)]
        batch = 5000
        for start in range(0, filler, batch):
            n = min(batch, filler - start)
            await log.append(
                [
                    (streams[(start + i) % len(streams)], b'{"filler":%d}' % (start + i))
                    for i in range(n)
                ]
            )
    finally:
        await log.close()
    return case


async def first_and_hundredth(settings: LedgerSettings, case: str, next_flag: int) -> dict:
    """A writer as a restarted service has it (fresh log client, empty memory, the stream
    snapshots its previous run kept, warmed up as the service starts: ServiceWriter.start):
    its first command on the case, then 99 more; the hundredth is the median of the
    91st–100th."""
    t0 = time.perf_counter()
    log = await open_log(settings)
    key = keystore.load(settings, "intake")
    snapshots = StreamSnapshots(
        settings.var_dir / "intake" / SNAPSHOTS_FILE, key.derived_secret(SNAPSHOT_SECRET_PURPOSE)
    )
    try:
        signer = Signer(spec("intake").deployment, key)
        writer = EventWriter(log, signer, keystore.genesis_public(settings), snapshots=snapshots)
        await writer.warm_up()
        opened = time.perf_counter() - t0
        times = [await _timed(writer, case, _flag(next_flag + i)) for i in range(100)]
    finally:
        await log.close()
        snapshots.close()
    return {
        "first_ms": times[0] * 1000,
        "hundredth_ms": statistics.median(times[90:]) * 1000,
        "start_up_ms": opened * 1000,
        "partition": partition_for(case, settings.log_partitions),
    }


async def restart(ws: Workspace, total: int, kafka_bootstrap: str | None = None) -> dict[str, Any]:
    var = ws.root / ("restart-kafka" if kafka_bootstrap else "restart-sqlite")
    values: dict[str, Any] = {"var_dir": var, "log_partitions": 3}
    if kafka_bootstrap:
        values |= {
            "log_backend": "kafka",
            "kafka_bootstrap": kafka_bootstrap,
            "kafka_topic": f"bench-restart-{uuid.uuid4().hex[:10]}",
        }
    settings = LedgerSettings(**values)
    t = time.perf_counter()
    case = await build_large_log(settings, total)
    built = time.perf_counter() - t
    out: dict[str, Any] = {"records": total, "build_seconds": built}
    # The very first start: no snapshot yet (the case is folded from the log) and, on Kafka,
    # no stream index yet (one scan of the partition builds it).
    for f in (var / "kafka-index").glob("*"):
        f.unlink()
    first_ever = await first_and_hundredth(settings, case, 1000)
    out["first_ever_ms"] = first_ever["first_ms"]
    out["first_ever_start_up_ms"] = first_ever["start_up_ms"]
    # Then a restart of that service: its snapshots and index checked against the log.
    r = await first_and_hundredth(settings, case, 2000)
    out |= r
    out["ours"], out["hundredth"] = r["first_ms"], r["hundredth_ms"]
    return out
