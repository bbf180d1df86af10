"""Crashes, for real: a projector process killed with SIGKILL, restarted until it finishes.

Per log × store pair (SQLite log and Kafka with 3 partitions; SQLite store and FerretDB): at
least 20 rounds, each killing the projector either at an injected point (after a document and
before the position; between two documents of one event; mid-batch) or at a random moment
chosen by this process. Then one run without a crash finishes the job, and the read model's
digests must equal those of a clean replay of the same log (into a fresh SQLite store: the
digest is the same on both adapters for the same content, so this also checks that).

Projector processes are forked from a pre-imported zygote (``projector_proc --zygote``): each
is a real process killed by a real SIGKILL; the fork only saves Python's start-up per round.
"""

from __future__ import annotations

import asyncio
import os
import random
import select
import signal
import subprocess
import sys
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

from shared.ledger.bootstrap import init_ledger
from shared.log.factory import open_log
from shared.readside.projector import CRASH_POINTS
from shared.settings import LedgerSettings
from tests.conftest import require_env, settings_env, settings_for
from tests.projector_support import clean_replay, digests, fresh_store, write_cases

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
CASES = 400
MIN_KILLS = 20
BATCH = 100
WRITE_CHUNK = 10
RANDOM = "random"


class Zygote:
    """The forking projector launcher (see tests/integration/projector_proc.py)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.projector_proc", "--zygote"],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def _line(self, timeout: float | None) -> dict[str, int] | None:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            return None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the projector zygote died")
        out: dict[str, int] = orjson.loads(line)
        return out

    def run(self, args: list[str], env: dict[str, str], kill_after: float | None) -> int:
        """Run one projector to its end; kill it after ``kill_after`` seconds if given.
        Returns its status (negative: the signal that ended it)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(orjson.dumps({"args": args, "env": env}) + b"\n")
        self.proc.stdin.flush()
        started = self._line(60)
        assert started is not None, "the zygote did not fork"
        pid = started["pid"]
        ended = self._line(kill_after) if kill_after is not None else None
        if ended is None and kill_after is not None:
            os.kill(pid, signal.SIGKILL)  # our own child, still unreaped: its pid is its own
        if ended is None:
            ended = self._line(600)
        assert ended is not None and ended["pid"] == pid, "projector did not end in time"
        return ended["status"]

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(30)


@dataclass
class BuiltLog:
    settings: LedgerSettings
    backend: str


def _build(settings: LedgerSettings) -> None:
    async def go() -> None:
        log = await open_log(settings)
        try:
            await init_ledger(log, settings)
            await write_cases(log, settings, CASES)
        finally:
            await log.close()

    asyncio.run(go())


@pytest.fixture(scope="module", params=["sqlite", "kafka"])
def built_log(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BuiltLog]:
    """One log per backend, shared by the store pairs (each round only reads it)."""
    backend = request.param
    settings = settings_for(backend, 3, tmp_path_factory.mktemp(f"log-{backend}") / "var")
    _build(settings)
    yield BuiltLog(settings, backend)


def _plan(seed: int) -> Iterator[tuple[str, float]]:
    """Kill points, spread evenly, with counts that land in the first two batches (so every
    round moves the projector on by about a batch at most). A point is reached after each
    guarded bulk write of ``WRITE_CHUNK`` documents: a batch of ``BATCH`` events makes about
    ``BATCH / WRITE_CHUNK`` timeline writes (before any case document of the batch), then a
    few case-document writes."""
    rng = random.Random(seed)
    while True:
        yield "after_doc_before_position", rng.choice((1, 2))
        yield "between_docs_of_one_event", rng.randint(1, 2 * BATCH // WRITE_CHUNK)
        yield "mid_batch", rng.randint(1, 6)
        yield RANDOM, rng.uniform(0.05, 0.6)


@pytest.mark.parametrize("store_kind", ["sqlite", "mongo"])
async def test_killed_projectors_converge_on_the_clean_replay(
    built_log: BuiltLog, store_kind: str, tmp_path: Path
) -> None:
    settings = built_log.settings
    if store_kind == "mongo":
        url = require_env("LEDGER_TEST_MONGO_URL", "mongo")
        database = f"crash_{uuid.uuid4().hex[:10]}"
        args = ["--store", url, "--database", database]
    else:
        url, database = str(tmp_path), "crash"
        args = ["--store", str(tmp_path / "crash.sqlite3")]
    args += ["--batch", str(BATCH), "--write-chunk", str(WRITE_CHUNK)]
    args += ["--out", str(tmp_path / "stats.jsonl")]
    env = settings_env(settings)
    env.pop("LEDGER_CRASH_AT", None)
    zygote = Zygote(env)
    kills: Counter[str] = Counter()
    t0 = time.monotonic()
    try:
        plan = _plan(seed=zlib.crc32(f"{built_log.backend}-{store_kind}".encode()))
        more = 0
        while sum(kills.values()) < MIN_KILLS or min(kills[p] for p in (*CRASH_POINTS, RANDOM)) < 4:
            point, arg = next(plan)
            crash = {} if point == RANDOM else {"LEDGER_CRASH_AT": f"{point}:{int(arg)}"}
            status = zygote.run(args, crash, arg if point == RANDOM else None)
            if status == -signal.SIGKILL:
                kills[point] += 1
                continue
            assert status == 0, f"projector failed (status {status}) at {point}:{arg}"
            # It finished before enough kills: give it more log to chew on.
            more += 1
            await _append_cases(settings, 50, seed=1000 + more)
        final = zygote.run(args, {}, None)
        assert final == 0
    finally:
        zygote.close()
    elapsed = time.monotonic() - t0

    log = await open_log(settings)
    try:
        async with fresh_store("sqlite", tmp_path, "clean") as clean:
            want = await clean_replay(log, settings, clean)
        async with fresh_store(store_kind, url, database) as store:
            got = await digests(store)
            positions = (await store.get("projector", "projector") or {}).get("positions")
        head = await log.head()
    finally:
        await log.close()
    print(
        f"\n{built_log.backend} log → {store_kind} store: {sum(kills.values())} kills "
        f"{dict(kills)}, {more} top-ups, {elapsed:.1f} s"
    )
    assert positions == {str(p): n for p, n in head.items()}
    assert got == want


async def _append_cases(settings: LedgerSettings, n: int, seed: int) -> None:
    log = await open_log(settings)
    try:
        await write_cases(log, settings, n, seed=seed)
    finally:
        await log.close()
