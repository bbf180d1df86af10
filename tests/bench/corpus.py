"""A realistic signed corpus: many case streams, each a few events of the reform's lifecycle.

complaint.received → complaint.screened (intake) → dispatch.assigned (dispatch) →
handling.acknowledged → handling.resolution_claimed (oversight, signing for the unit) →
complainant.confirmed (intake, for the complainant) → handling.closed (oversight, a
supervisor). Anonymous complaints skip the confirmation and close on the supervisor's decision;
some cases are still open (a prefix of the lifecycle). Streams interleave in the log as they
would in a live system. Each deployment signs with its own key; chains are built with
``Signer.sign_chain`` per run of one signer.

:func:`sealed_ledger` builds the same corpus straight into a ledger log without holding it in
memory (cases signed in a process pool, in case order; records appended in log order in
batches), verifies and seals it, and keeps the result under ``var/bench/cache/``, keyed by
the corpus's parameters and the code that decides its bytes and their acceptance.
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import os
import random
import shutil
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from shared.crypto.signing import PublicKey
from shared.ledger import keystore
from shared.ledger.bootstrap import init_ledger
from shared.ledger.deployments import spec
from shared.ledger.reader import registry_fold
from shared.ledger.seal import record_seal
from shared.ledger.signer import Draft, Signed, Signer
from shared.ledger.verify import verify_log
from shared.log.sqlite import SqliteLog
from shared.settings import LedgerSettings
from tests.bench.common import BENCH_DIR, REPO, cores

PARTITIONS = 3

UNITS = (
    "unit:health-bureau",
    "unit:housing-bureau",
    "unit:market-regulation",
    "unit:social-security",
    "unit:transport-bureau",
    "unit:district-3.street-office",
)
CATEGORIES = ("态度", "拖延", "推诿", "不作为", "乱作为", "窗口纪律")
CHANNELS = ("web_form", "hotline_12345", "letter", "visit", "email")
TEXT = (
    "投诉人反映：[日期1]上午在[单位1]办事窗口办理业务，窗口工作人员[姓名1]长时间玩手机，"
    "对群众询问置之不理，要求补交的材料前后说法不一，往返三次仍未办结。另称该窗口"
    "“只收件不答复”，电话[电话1]无人接听，请求督办并答复办理时限。"
)
SUMMARY = (
    "经核查，反映情况基本属实。已对窗口工作人员[姓名1]进行批评教育并调离窗口岗位，"
    "投诉人所办事项已于[日期2]办结，并电话告知办理结果；窗口已公示一次性告知清单。"
)


@dataclass
class Step:
    signer: str  # deployment key name
    type: str
    data: dict[str, Any]
    actor: str


@dataclass
class Corpus:
    settings: LedgerSettings
    genesis: PublicKey
    signers: dict[str, Signer]
    regseq: int
    reghash: str | None
    cases: dict[str, list[Step]]  # stream -> lifecycle (the peer stores the same payloads)
    signed: list[Signed] = field(default_factory=list)  # every event, in log order

    @property
    def records(self) -> list[tuple[str, bytes]]:
        return [(s.stream, s.record) for s in self.signed]


def lifecycle(rng: random.Random, n: int) -> list[Step]:
    unit = rng.choice(UNITS)
    anonymous = rng.random() < 0.2
    pseudonym = None if anonymous else hashlib.sha256(f"complainant-{n}".encode()).hexdigest()
    complaint_no = f"XF2026{n:07d}"
    steps = [
        Step(
            "intake",
            "ledger.complaint.received.v1",
            {
                "complaint_no": complaint_no,
                "channel": rng.choice(CHANNELS),
                "complainant": pseudonym,
                "received_by": "efficiency-office",
                "unit": unit,
                "category": rng.choice(CATEGORIES),
                "text": TEXT,
                "tracking_code_hash": hashlib.sha256(f"track-{n}".encode()).hexdigest(),
            },
            "efficiency-office/S001",
        ),
        Step(
            "intake",
            "ledger.complaint.screened.v1",
            {"outcome": "new", "method": "automatic", "note": ""},
            "efficiency-office/S001",
        ),
        Step(
            "dispatch",
            "ledger.dispatch.assigned.v1",
            {
                "lead_unit": unit,
                "co_units": [],
                "due_at": "2026-12-10T17:00:00+08:00",
                "calendar_version": "2026-v1",
                "urgency": rng.choice(("normal", "normal", "high", "urgent")),
                "direct": rng.random() < 0.5,
                "instructions": "请于限期内办结并答复投诉人，逾期按超时默认处理。",
            },
            "efficiency-office/D017",
        ),
        Step("oversight", "ledger.handling.acknowledged.v1", {"unit": unit}, f"{unit}/S123"),
        Step(
            "oversight",
            "ledger.handling.resolution_claimed.v1",
            {"unit": unit, "summary": SUMMARY},
            f"{unit}/S123",
        ),
    ]
    if pseudonym is not None:
        steps.append(
            Step(
                "intake",
                "ledger.complainant.confirmed.v1",
                {"complaint_no": complaint_no},
                f"complainant/{pseudonym}",
            )
        )
        basis = "complainant_confirmed"
    else:
        basis = "anonymous"
    steps.append(
        Step(
            "oversight",
            "ledger.handling.closed.v1",
            {
                "basis": basis,
                "finding": "substantiated",
                "confidential": False,
                "note": "已回访，群众满意。" if pseudonym else "匿名件，督查室审核。",
            },
            "efficiency-office/S200",
        )
    )
    # About a quarter of the cases are still under way: a prefix of their lifecycle.
    if rng.random() < 0.25:
        steps = steps[: rng.randint(1, len(steps) - 1)]
    return steps


def plan_cases(total: int, seed: int = 7) -> dict[str, list[Step]]:
    rng = random.Random(seed)
    cases: dict[str, list[Step]] = {}
    n = 0
    while n < total:
        steps = lifecycle(rng, len(cases))[: total - n]
        cases[f"case-{uuid.UUID(int=rng.getrandbits(128), version=4)}"] = steps
        n += len(steps)
    return cases


def interleave(cases: dict[str, list[Step]], seed: int = 11) -> list[tuple[str, int]]:
    """(stream, step index) in a live-looking log order: cases overlap in time."""
    rng = random.Random(seed)
    timeline = []
    for i, (stream, steps) in enumerate(cases.items()):
        t = float(i)
        for k in range(len(steps)):
            timeline.append((t, i, k, stream))
            t += rng.uniform(5, 400)
    timeline.sort()
    return [(stream, k) for _, _, k, stream in timeline]


def sign_case(c: Corpus, stream: str, steps: list[Step]) -> list[Signed]:
    """Chain a case's events across signers: one ``sign_chain`` per run of one signer."""
    return _sign_steps(c.signers, c.regseq, c.reghash, stream, steps)


def _sign_steps(
    signers: dict[str, Signer], regseq: int, reghash: str | None, stream: str, steps: list[Step]
) -> list[Signed]:
    out: list[Signed] = []
    head = None
    i = 0
    while i < len(steps):
        j = i
        while j < len(steps) and steps[j].signer == steps[i].signer:
            j += 1
        drafts = [Draft(s.type, s.data, s.actor) for s in steps[i:j]]
        chain = signers[steps[i].signer].sign_chain(
            stream, drafts, head=head, regseq=regseq, reghash=reghash
        )
        out.extend(chain)
        head = chain[-1].hash
        i = j
    return out


SIGNERS = ("intake", "dispatch", "oversight", "auditor")


async def _open_ledger(root: Path) -> tuple[LedgerSettings, SqliteLog, PublicKey, Any]:
    """A fresh ledger under ``root``: keys, registry; its open log, genesis and registry."""
    settings = LedgerSettings(
        var_dir=root, log_partitions=PARTITIONS, sqlite_log_path=None, genesis_public_key=None
    )
    log = await SqliteLog.open(settings.sqlite_log_file, PARTITIONS)
    await init_ledger(log, settings)
    genesis = keystore.genesis_public(settings)
    reg = (await registry_fold(log, genesis)).registry
    return settings, log, genesis, reg


def _signers(settings: LedgerSettings) -> dict[str, Signer]:
    return {name: Signer(spec(name).deployment, keystore.load(settings, name)) for name in SIGNERS}


async def build(root: Path, events: int) -> tuple[Corpus, SqliteLog]:
    """Keys and registry in a fresh ledger under ``root``, and ``events`` signed case events.

    Returns the corpus and the ledger's (open) log, which holds only the registry so far.
    """
    settings, log, genesis, reg = await _open_ledger(root)
    c = Corpus(
        settings,
        genesis,
        _signers(settings),
        reg.version,
        reg.hash_at(reg.version),
        plan_cases(events),
    )
    by_stream = {stream: sign_case(c, stream, steps) for stream, steps in c.cases.items()}
    c.signed = [by_stream[stream][k] for stream, k in interleave(c.cases)]
    return c, log


# -- the corpus straight into a sealed ledger log, cached ----------------------------------------

CACHE_DIR = BENCH_DIR / "cache"
FORMAT = 1  # bump when the cached layout changes
BATCH = 2000  # records per append (one transaction)
CASES_PER_TASK = 200
# What decides the corpus's bytes and whether the rule book accepts them: a change to any of
# these makes a new cache entry.
SOURCES = ("shared/events", "shared/crypto", "shared/rules", "shared/log", "shared/ledger")

_worker: tuple[dict[str, Signer], int, str | None] | None = None


def _init_signer(var_dir: str, regseq: int, reghash: str | None) -> None:
    global _worker
    settings = LedgerSettings(
        var_dir=Path(var_dir), log_partitions=PARTITIONS, sqlite_log_path=None
    )
    _worker = (_signers(settings), regseq, reghash)


def _sign_cases(cases: list[tuple[str, list[Step]]]) -> list[tuple[str, list[bytes]]]:
    """In a pool worker: each case's stream and records, in its order."""
    assert _worker is not None
    signers, regseq, reghash = _worker
    return [
        (stream, [s.record for s in _sign_steps(signers, regseq, reghash, stream, steps)])
        for stream, steps in cases
    ]


@dataclass(frozen=True)
class Sealed:
    """A verified and sealed ledger holding the corpus (a copy of the cache entry)."""

    settings: LedgerSettings
    genesis: PublicKey
    meta: dict[str, Any]

    async def open(self) -> SqliteLog:
        return await SqliteLog.open(self.settings.sqlite_log_file, PARTITIONS)


def cache_key(events: int) -> str:
    h = hashlib.sha256(orjson.dumps({"events": events, "partitions": PARTITIONS, "v": FORMAT}))
    files = sorted(
        f for d in SOURCES for f in (REPO / d).rglob("*.py") if "__pycache__" not in f.parts
    )
    files.append(Path(__file__))
    for f in files:
        h.update(str(f.relative_to(REPO)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


async def sealed_ledger(
    dest: Path, events: int, say: Callable[[str], Any] = print, workers: int | None = None
) -> Sealed:
    """The corpus of ``events`` events in a verified, sealed ledger copied to ``dest`` from the
    cache (built there first if it holds none for these parameters and this code)."""
    key = cache_key(events)
    entry = CACHE_DIR / f"sealed-{events}-{key}"
    if not (entry / "corpus.json").exists():
        say(f"building the sealed corpus of {events:,} events (cached as {entry.name})")
        tmp = CACHE_DIR / f".building-{os.getpid()}-{entry.name}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        try:
            meta = await _build_sealed(tmp, events, say, workers or cores())
            meta["key"] = key
            (tmp / "corpus.json").write_bytes(orjson.dumps(meta, option=orjson.OPT_INDENT_2))
            for old in CACHE_DIR.glob(f"sealed-{events}-*"):  # one entry per size
                shutil.rmtree(old, ignore_errors=True)
            os.replace(tmp, entry)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    else:
        say(f"sealed corpus of {events:,} events from the cache ({entry.name})")
    shutil.copytree(entry, dest)
    settings = LedgerSettings(var_dir=dest, log_partitions=PARTITIONS, sqlite_log_path=None)
    return Sealed(
        settings,
        keystore.genesis_public(settings),
        orjson.loads((dest / "corpus.json").read_bytes()),
    )


async def _build_sealed(
    root: Path, events: int, say: Callable[[str], Any], workers: int
) -> dict[str, Any]:
    started = time.perf_counter()
    settings, log, genesis, reg = await _open_ledger(root)
    try:
        cases = plan_cases(events)
        order = interleave(cases)
        regseq, reghash = reg.version, reg.hash_at(reg.version)
        await _append_signed(log, cases, order, settings, regseq, reghash, workers)
        built = time.perf_counter()
        n_cases = len(cases)
        say(
            f"{len(order):,} events of {n_cases:,} cases signed and appended "
            f"in {built - started:.0f} s; verifying and sealing"
        )
        del cases, order  # the verify's fold needs the room
        report = await verify_log(log, genesis)
        if not report.ok:
            raise RuntimeError("verify failed on the bench corpus")
        await record_seal(log, _signers(settings)["auditor"], genesis, report, root / "seals")
        n = sum((await log.head()).values())
    finally:
        await log.close()
    return {
        "events": events,
        "cases": n_cases,
        "records": n,
        "build_s": built - started,
        "verify_seal_s": time.perf_counter() - built,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "appended_us": int(time.time() * 1_000_000),
    }


async def _append_signed(
    log: SqliteLog,
    cases: dict[str, list[Step]],
    order: list[tuple[str, int]],
    settings: LedgerSettings,
    regseq: int,
    reghash: str | None,
    workers: int,
) -> None:
    """Sign the cases in a process pool, in case order, a bounded number of tasks ahead, and
    append their records in ``order`` (a case's first event comes in case order, so only the
    cases under way are held)."""
    loop = asyncio.get_running_loop()
    items = list(cases.items())
    tasks = iter(range(0, len(items), CASES_PER_TASK))
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers, ctx, initializer=_init_signer, initargs=(str(settings.var_dir), regseq, reghash)
    ) as pool:
        ahead: deque[asyncio.Future[list[tuple[str, list[bytes]]]]] = deque()

        def submit() -> None:
            while len(ahead) < 4 * workers:
                i = next(tasks, None)
                if i is None:
                    return
                chunk = items[i : i + CASES_PER_TASK]
                ahead.append(loop.run_in_executor(pool, _sign_cases, chunk))

        ready: deque[tuple[str, list[bytes]]] = deque()  # signed, not yet begun in the log
        live: dict[str, list[bytes]] = {}
        batch: list[tuple[str, bytes]] = []
        submit()
        for stream, k in order:
            if k == 0:
                if not ready:
                    ready.extend(await ahead.popleft())
                    submit()
                signed, live[stream] = ready.popleft()
                if signed != stream:
                    raise RuntimeError(f"{signed} signed where {stream} begins in the log")
            records = live[stream]
            batch.append((stream, records[k]))
            if k == len(records) - 1:
                del live[stream]
            if len(batch) >= BATCH:
                await log.append(batch)
                batch = []
        if batch:
            await log.append(batch)
        assert not live and not ready and not ahead
