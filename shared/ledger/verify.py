"""``ledger verify``: prove the log intact, or name the first bad event.

Signatures are checked in worker processes (every core), chunk by chunk; the fold — chains,
rights, states — runs in order in the calling process. Partition digests are recomputed and
compared with every digest recorded in the log's audit stream and every copy kept outside it,
which is what reveals a cut-off tail or a whole deleted stream.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from shared.crypto.chain import ZERO, PartitionDigest
from shared.crypto.signing import PublicKey, unb64u
from shared.events.codec import signed_part
from shared.events.upcast import upcast
from shared.ledger.digests import DigestClaim, claims_in_dir, claims_in_fold
from shared.ledger.reader import registry_fold
from shared.log.port import EventLog, StoredRecord
from shared.rules.fold import Judged, LedgerFold
from shared.rules.stream import REGISTRY_STREAM, check_payload
from shared.rules.verdict import Outcome, Reason

# ---- worker side ----------------------------------------------------------------------------

_KEYS: dict[str, Ed25519PublicKey] = {}


def _init_worker(keys: dict[str, bytes]) -> None:
    _KEYS.clear()
    _KEYS.update({kid: Ed25519PublicKey.from_public_bytes(raw) for kid, raw in keys.items()})


Checked = tuple[str, bool, bool | None]


def _check_chunk(records: list[bytes]) -> list[Checked]:
    """The stateless checks of each record, made in parallel: (hash, signature verifies with
    the key its kid names, payload passes its schema — None if it could not be read)."""
    out: list[Checked] = []
    for stored in records:
        h = hashlib.sha256(stored).hexdigest()
        ok = False
        data_ok: bool | None = None
        try:
            env = orjson.loads(stored)
            key = _KEYS.get(env["kid"])
            if key is not None:
                key.verify(unb64u(env["sig"]), signed_part(stored, env["sig"]))
                ok = True
            data_ok = check_payload(*upcast(env["type"], env["data"])) is Reason.ok
        except Exception:  # malformed or forged: the fold names the reason
            pass
        out.append((h, ok, data_ok))
    return out


# ---- calling side ---------------------------------------------------------------------------


@dataclass
class DigestFailure:
    partition: int
    count: int
    source: str
    reason: str  # "tail cut off" | "content differs"


@dataclass
class VerifyReport:
    fold: LedgerFold
    positions: dict[int, int]
    digests: dict[int, PartitionDigest]
    digest_failures: list[DigestFailure] = field(default_factory=list)
    claims_checked: int = 0

    @property
    def tampered(self) -> list[Judged]:
        return [j for j in self.fold.rejections if j.verdict.outcome is Outcome.tamper]

    @property
    def conflicts(self) -> list[Judged]:
        return [j for j in self.fold.rejections if j.verdict.outcome is Outcome.conflict]

    @property
    def ok(self) -> bool:
        return not self.tampered and not self.digest_failures

    @property
    def records(self) -> int:
        return sum(self.positions.values())


Progress = Callable[[int], None]


async def verify_log(
    log: EventLog,
    genesis: PublicKey,
    *,
    digest_dirs: list[Path] | None = None,
    workers: int | None = None,
    chunk: int = 2000,
    progress: Progress | None = None,
) -> VerifyReport:
    head = await log.head()
    fold = await registry_fold(log, genesis, until=head)
    keys = {kid: e.public.public_bytes_raw() for kid, e in fold.registry.keys.items()}
    digests = {p: PartitionDigest(p) for p in range(log.partitions)}
    gaps: list[DigestFailure] = []
    nworkers = workers or len(os.sched_getaffinity(0)) or 1
    pool = ProcessPoolExecutor(nworkers, initializer=_init_worker, initargs=(keys,))
    try:
        pos = {p: 0 for p in range(log.partitions)}
        pending = None
        # Read chunk n+1 while the workers check chunk n, and fold chunk n when it returns.
        batch = await log.read(pos, limit=chunk, until=head)
        while batch:
            for rec in batch:
                pos[rec.partition] = rec.offset + 1
            parts = _split(batch, nworkers)
            futures = [pool.submit(_check_chunk, [r.record for r in part]) for part in parts]
            nxt = await log.read(pos, limit=chunk, until=head)
            if pending is not None:
                _fold_checked(fold, digests, gaps, *pending)
                if progress:
                    progress(len(pending[0]))
            pending = (batch, parts, futures)
            batch = nxt
        if pending is not None:
            _fold_checked(fold, digests, gaps, *pending)
            if progress:
                progress(len(pending[0]))
    finally:
        pool.shutdown()
    report = VerifyReport(fold, dict(head), digests)
    claims = claims_in_fold(fold)
    for d in digest_dirs or []:
        claims.extend(claims_in_dir(d, fold))
    report.claims_checked = len(claims)
    report.digest_failures = gaps + await _check_claims(log, head, digests, claims)
    return report


def _split(batch: list[StoredRecord], n: int) -> list[list[StoredRecord]]:
    size = max(1, -(-len(batch) // n))
    return [batch[i : i + size] for i in range(0, len(batch), size)]


def _fold_checked(
    fold: LedgerFold,
    digests: dict[int, PartitionDigest],
    gaps: list[DigestFailure],
    batch: list[StoredRecord],
    parts: list[list[StoredRecord]],
    futures: list[Future[list[Checked]]],
) -> None:
    for part, fut in zip(parts, futures, strict=True):
        for rec, (h, ok, data_ok) in zip(part, fut.result(), strict=True):
            d = digests[rec.partition]
            if rec.offset != d.count:  # a hole in the partition: records were removed
                gaps.append(DigestFailure(rec.partition, d.count, "log", "records missing"))
            d.add(rec.offset, rec.appended_at, h)
            if rec.stream == REGISTRY_STREAM:
                continue  # folded first, in order, with its own signature checks
            fold.apply(rec, record_hash=h, signature_ok=ok, data_ok=data_ok)


async def _check_claims(
    log: EventLog,
    head: dict[int, int],
    digests: dict[int, PartitionDigest],
    claims: list[DigestClaim],
) -> list[DigestFailure]:
    """Compare each claimed (partition, count, digest) with the log's own content."""
    failures: list[DigestFailure] = []
    wanted: dict[int, dict[int, list[DigestClaim]]] = {}
    for c in claims:
        if c.partition not in head or c.count > head[c.partition]:
            failures.append(DigestFailure(c.partition, c.count, c.source, "tail cut off"))
        else:
            wanted.setdefault(c.partition, {}).setdefault(c.count, []).append(c)
    for p, by_count in wanted.items():
        # Recompute the rolling digest of partition p, stopping at each claimed count.
        running = PartitionDigest(p)
        counts = sorted(by_count)
        if counts and counts[-1] == digests[p].count:
            for c in by_count.pop(counts[-1]):
                if c.digest != digests[p].digest:
                    failures.append(DigestFailure(p, c.count, c.source, "content differs"))
            counts = counts[:-1]
        if counts and counts[0] == 0:  # a digest of no records: the zero digest
            for c in by_count[0]:
                if c.digest != ZERO:
                    failures.append(DigestFailure(p, 0, c.source, "content differs"))
            counts = counts[1:]
        if not counts:
            continue
        start = {q: (0 if q == p else head[q]) for q in head}
        end = dict(head)
        end[p] = counts[-1]
        i = 0
        while i < len(counts):
            batch = await log.read(start, limit=5000, until=end)
            if not batch:
                break
            for rec in batch:
                start[p] = rec.offset + 1
                running.add(rec.offset, rec.appended_at, hashlib.sha256(rec.record).hexdigest())
                while i < len(counts) and running.count == counts[i]:
                    for c in by_count[counts[i]]:
                        if c.digest != running.digest:
                            failures.append(DigestFailure(p, c.count, c.source, "content differs"))
                    i += 1
    return failures
