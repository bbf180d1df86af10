"""Dispatch (group ``dispatch``; no corpus needed).

* ``http``: assignments per second through dispatch's API (sign-in check, idempotency claim,
  the routing, time limits and calendar in force, the case's category from the read model,
  route proposal, due times, decide, rule-book check, sign, durable append, read-back, answer)
  under N concurrent connections, each on its own screened case, beside a bare FastAPI endpoint
  of the same server validating the same path and body (same client, same run, alternating
  rounds). Target ≥ 0.5.
* ``route``: the time to route one case against the shipped catalogue (``deploy/config/
  routing.json``, over 300 entries; the index built once per version) beside the raw limit of
  one dictionary look-up of the case's exact key in the same entries; a linear scan of the
  catalogue per case is reported beside them.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from typing import Any

import httpx

from services.dispatch.routing import RouteIndex, unit_id
from shared.events.catalog import Routing, UnitDirectory
from shared.ledger import keystore
from shared.ledger.bootstrap import init_ledger
from shared.ledger.configuration import default_contents, publish_defaults
from shared.ledger.deployments import spec
from shared.ledger.signer import Draft, Signer
from shared.ledger.writer import EventWriter
from shared.log.factory import open_log
from shared.settings import LedgerSettings
from tests.bench.commands import _free_port, _pct
from tests.bench.common import REPO, Workspace

CLERK = "efficiency-office/bench-clerk"
CATEGORIES = ["不动产登记", "劳动欠薪", "窗口纪律", "食品安全", "住房保障", "户籍办理"]
RESPONDENTS = ["government-services", "huicheng-district", "housing-bureau", "public-security"]


# -- HTTP: assignments through the API beside a bare endpoint ------------------------------------


async def _screened_cases(settings: LedgerSettings, n: int) -> list[str]:
    """``n`` cases received and screened, signed by intake and appended in batches."""
    log = await open_log(settings)
    try:
        await init_ledger(log, settings)
        await publish_defaults(log, settings)
        signer = Signer(spec("intake").deployment, keystore.load(settings, "intake"))
        writer = EventWriter(log, signer, keystore.genesis_public(settings))
        reg = (await writer.registry()).registry
        cases, batch = [], []
        for i in range(n):
            case = f"case-{uuid.uuid4()}"
            received = {
                "complaint_no": f"TS{i:012d}",
                "channel": "web_form",
                "received_by": "efficiency-office",
                "unit": RESPONDENTS[i % len(RESPONDENTS)],
                "category": CATEGORIES[i % len(CATEGORIES)],
                "text": "窗口多次要求补交材料，一个月仍未办结。",
                "tracking_code_hash": "0" * 64,
            }
            screened = {"outcome": "new", "method": "automatic", "note": ""}
            drafts = [
                Draft("ledger.complaint.received.v1", received, CLERK),
                Draft("ledger.complaint.screened.v1", screened, CLERK),
            ]
            signed = signer.sign_chain(
                case, drafts, head=None, regseq=reg.version, reghash=reg.hash_at(reg.version)
            )
            batch += [(case, s.record) for s in signed]
            cases.append(case)
            if len(batch) >= 1000:
                await log.append(batch)
                batch = []
        if batch:
            await log.append(batch)
    finally:
        await log.close()
    return cases


async def _round(
    c: httpx.AsyncClient,
    paths: list[str],
    headers: dict[str, str],
    workers: int,
    tag: str,
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue = list(paths)

    async def worker(w: int) -> None:
        i = 0
        while queue:
            path = queue.pop()
            h = {**headers, "Idempotency-Key": f"{tag}-{w}-{i}"}
            i += 1
            t = time.perf_counter()
            r = await c.post(path, json={}, headers=h)
            latencies.append(time.perf_counter() - t)
            if r.status_code != 201:
                raise RuntimeError(f"{path}: {r.status_code} {r.text[:300]}")

    started = time.perf_counter()
    n = len(paths)
    await asyncio.gather(*(worker(w) for w in range(workers)))
    return n / (time.perf_counter() - started), latencies


async def http(ws: Workspace, workers: int = 32, per: int = 15, repeat: int = 3) -> dict[str, Any]:
    var = ws.root / "dispatch-http"
    settings = LedgerSettings(var_dir=var)
    per_round = workers * per
    cases = await _screened_cases(settings, per_round * repeat + workers * 2)
    port = _free_port()
    env = {**os.environ, "LEDGER_VAR_DIR": str(var)}
    server_log = open(var / "server.log", "wb")  # noqa: SIM115 - closed with the server
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.dispatch_server", str(var), str(port)],
        cwd=REPO,
        env=env,
        stdout=server_log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as c:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if (await c.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the benchmark server did not become ready")
                await asyncio.sleep(0.2)
            passwords = (var / "dispatch" / "demo-operators.txt").read_text().splitlines()
            row = next(line.split("\t") for line in passwords if line.startswith("demo-dispatch"))
            r = await c.post("/auth/token", json={"staff_id": row[0], "password": row[1]})
            headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
            warm, rest = cases[: workers * 2], cases[workers * 2 :]
            await _round(c, [f"/cases/{x}/assignment" for x in warm], headers, workers, "warm")
            bare_paths = [f"/bench/bare/{x}/assignment" for x in warm]
            await _round(c, bare_paths, headers, workers, "warm-bare")
            ours_rates, bare_rates, ours_lat, bare_lat = [], [], [], []
            for k in range(repeat):
                chunk = rest[k * per_round : (k + 1) * per_round]
                rate, lat = await _round(
                    c, [f"/bench/bare/{x}/assignment" for x in chunk], headers, workers, f"b{k}"
                )
                bare_rates.append(rate)
                bare_lat += lat
                rate, lat = await _round(
                    c, [f"/cases/{x}/assignment" for x in chunk], headers, workers, f"o{k}"
                )
                ours_rates.append(rate)
                ours_lat += lat
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        server_log.close()
    return {
        "ours": statistics.median(ours_rates),
        "bare": statistics.median(bare_rates),
        "ours_p50_ms": _pct(ours_lat, 0.5) * 1000,
        "ours_p99_ms": _pct(ours_lat, 0.99) * 1000,
        "bare_p50_ms": _pct(bare_lat, 0.5) * 1000,
        "bare_p99_ms": _pct(bare_lat, 0.99) * 1000,
        "assignments": len(ours_lat),
        "workers": workers,
    }


# -- routing one case against the catalogue -----------------------------------------------------


def route(cases: int = 20_000, repeat: int = 3) -> dict[str, Any]:
    contents = default_contents()
    routing = Routing.model_validate(contents["routing"])
    units = UnitDirectory.model_validate(contents["unit_directory"])
    t = time.perf_counter()
    index = RouteIndex(routing, units)
    built_ms = (time.perf_counter() - t) * 1000
    rng = random.Random(19)
    known_units = [*(u.id for u in units.units), "unit:not-in-directory"]
    categories = [*sorted({e.category for e in routing.entries}), "未列类别"]
    sample = [(rng.choice(categories), rng.choice(known_units)) for _ in range(cases)]
    exact = {(e.category, e.unit, e.level): e for e in routing.entries}
    keys = [(c, unit_id(u), None) for c, u in sample]

    def ours() -> float:
        t = time.perf_counter()
        for c, u in sample:
            index.propose(c, u)
        return time.perf_counter() - t

    def raw() -> float:
        t = time.perf_counter()
        for k in keys:
            exact.get(k)
        return time.perf_counter() - t

    def scan() -> float:
        few = sample[: max(1, cases // 20)]
        t = time.perf_counter()
        for c, u in few:
            uid = unit_id(u)
            next(
                (e for e in routing.entries if e.category in (c, "*") and e.unit in (uid, None)),
                None,
            )
        return (time.perf_counter() - t) * (cases / len(few))

    ours_s, raw_s, scan_s = [], [], []
    for _ in range(repeat):
        raw_s.append(raw())
        ours_s.append(ours())
        scan_s.append(scan())
    per = 1e6 / cases
    return {
        "ours": statistics.median(ours_s) * per,
        "raw": statistics.median(raw_s) * per,
        "scan_us": statistics.median(scan_s) * per,
        "entries": len(routing.entries),
        "index_build_ms": built_ms,
        "cases": cases,
    }
