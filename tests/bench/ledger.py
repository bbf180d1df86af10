"""``ledger verify`` and replay for rebuilds, on a ledger log holding the corpus.

verify: ``verify_log`` over the whole log (signatures in its process pool), per core used,
beside the bare ``Ed25519PublicKey.verify`` rate of one core on the same messages. The pool's
size is observed (not assumed) and the children's CPU time is read once the pool is shut down.

replay: ``rebuild_fold`` after a clean verify and ``record_seal`` — read + decode + chain +
evolve, signatures trusted below the seal — per core (events over the larger of wall and CPU
time, so a reader thread working beside the fold counts as the core it uses).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any, ClassVar

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

import shared.ledger.verify as verify_mod
from shared.crypto.signing import unb64u
from shared.events.codec import signed_part
from shared.ledger.rebuild import rebuild_fold
from shared.ledger.seal import record_seal
from shared.ledger.verify import VerifyReport, verify_log
from shared.log.port import read_all
from shared.log.sqlite import SqliteLog
from shared.rules.verdict import Outcome
from tests.bench.common import Stopwatch, Workspace, median
from tests.bench.corpus import Corpus
from tests.bench.peer import Reads


class _CountingPool(ProcessPoolExecutor):
    sizes: ClassVar[list[int]] = []

    def __init__(self, max_workers: int | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(max_workers, *args, **kwargs)
        _CountingPool.sizes.append(getattr(self, "_max_workers", max_workers or 0))


@contextlib.contextmanager
def _observed_pool() -> Iterator[list[int]]:
    _CountingPool.sizes = []
    original = verify_mod.ProcessPoolExecutor
    verify_mod.ProcessPoolExecutor = _CountingPool  # type: ignore[misc]
    try:
        yield _CountingPool.sizes
    finally:
        verify_mod.ProcessPoolExecutor = original  # type: ignore[misc]


async def fill(log: SqliteLog, c: Corpus) -> int:
    records = c.records
    for i in range(0, len(records), 1000):
        await log.append(records[i : i + 1000])
    return sum((await log.head()).values())


async def verify(log: SqliteLog, c: Corpus, repeat: int) -> tuple[dict, VerifyReport]:
    """Alternating rounds of ``verify_log`` and the bare verify loop on the same messages."""
    jobs: list[tuple[Ed25519PublicKey, bytes, bytes]] = []
    ours, bare, runs, bare_cpu = [], [], [], []
    report: VerifyReport | None = None
    for _ in range(repeat):
        with _observed_pool() as sizes, Stopwatch() as sw:
            report = await verify_log(log, c.genesis)
        t = sw.timing
        if not report.ok:
            first = report.tampered[0] if report.tampered else report.digest_failures[0]
            raise RuntimeError(f"verify failed on the bench corpus: {first}")
        pool = sizes[0] if sizes else 1
        n = report.records
        ours.append(n / t.wall / pool)
        runs.append(
            {
                "records": n,
                "wall_s": t.wall,
                "parent_cpu_s": t.cpu,
                "children_cpu_s": t.children_cpu,
                "pool": pool,
                "cores_busy": (t.cpu + t.children_cpu) / t.wall,
                "records_per_cpu_s": n / (t.cpu + t.children_cpu),
            }
        )
        if not jobs:
            jobs = _verify_jobs([r for _, r in c.records], report)
        rate, per_cpu = bare_verify(jobs)
        bare.append(rate)
        bare_cpu.append(per_cpu)
    assert report is not None
    return (
        {
            "ours": median(ours),
            "bare": median(bare),
            "ours_rounds": ours,
            "bare_rounds": bare,
            "pool": max(r["pool"] for r in runs),
            # Robust to other tenants of the machine: records per CPU-second of the whole
            # verify (parent and pool) over the bare rate per CPU-second.
            "cpu_time_ratio": median([r["records_per_cpu_s"] for r in runs]) / median(bare_cpu),
            "runs": runs,
            "conflicts": len(report.conflicts),
        },
        report,
    )


def _verify_jobs(
    records: list[bytes], report: VerifyReport
) -> list[tuple[Ed25519PublicKey, bytes, bytes]]:
    """(key, signature, signed bytes) of every record, exactly as the log holds them."""
    pub = {
        kid: Ed25519PublicKey.from_public_bytes(e.public.public_bytes_raw())
        for kid, e in report.fold.registry.keys.items()
    }
    jobs = []
    for stored in records:
        env = orjson.loads(stored)
        jobs.append((pub[env["kid"]], unb64u(env["sig"]), signed_part(stored, env["sig"])))
    return jobs


def bare_verify(jobs: list[tuple[Ed25519PublicKey, bytes, bytes]]) -> tuple[float, float]:
    """The bare Ed25519 verify rate of one core: (per core, per CPU-second)."""
    with Stopwatch() as sw:
        for key, sig, message in jobs:
            key.verify(sig, message)
    return sw.timing.per_core(len(jobs)), len(jobs) / max(sw.timing.cpu, 1e-9)


async def seal(log: SqliteLog, c: Corpus, report: VerifyReport, ws: Workspace) -> None:
    await record_seal(log, c.signers["auditor"], c.genesis, report, ws.root / "seals")


async def replay(
    log: SqliteLog, c: Corpus, repeat: int, peer: Reads | None = None, *, trust_seal: bool = True
) -> dict:
    """``rebuild_fold`` per core; alternating with the peer's decoded reads where given."""
    ours, walls, theirs = [], [], []
    n = sum((await log.head()).values())
    peer_events = 0
    for _ in range(repeat):
        if peer is not None:
            rate, peer_events = peer.rate()
            theirs.append(rate)
        with Stopwatch() as sw:
            fold = await rebuild_fold(log, c.genesis, trust_seal=trust_seal)
        if fold.rejections:
            raise RuntimeError(f"replay rejected bench events: {fold.rejections[:3]}")
        accepted = fold.counts[Outcome.accepted]
        if accepted < len(c.signed):
            raise RuntimeError(f"replay accepted {accepted} of {len(c.signed)} events")
        ours.append(sw.timing.per_core(n))
        walls.append(n / sw.timing.wall)
    return {
        "ours": median(ours),
        "peer": median(theirs),
        "ours_rounds": ours,
        "peer_rounds": theirs,
        "ours_wall_rate": median(walls),
        "records": n,
        "peer_events": peer_events,
        "state_digest": fold.state_digest(),
    }


async def decoded_reads(log: SqliteLog, repeat: int, peer: Reads) -> dict:
    """Ours beside the peer's decoded notification reads: read in chunks + decode each record."""
    rates, theirs = [], []
    for _ in range(repeat):
        theirs.append(peer.rate()[0])
        n = 0
        with Stopwatch() as sw:
            async for rec in read_all(log, chunk=5000):
                orjson.loads(rec.record)
                n += 1
        rates.append(sw.timing.per_core(n))
    return {
        "ours": median(rates),
        "peer": median(theirs),
        "ours_rounds": rates,
        "peer_rounds": theirs,
    }
