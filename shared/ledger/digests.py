"""Signed partition digests: written into the log's audit stream and kept outside it.

A digest pins (partition, record count, rolling digest). The copy outside the log is the same
signed record bytes, one per line, in ``<var>/digests/``; anchoring those in the public
transparency log is publication's job.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from shared.crypto.chain import PartitionDigest
from shared.crypto.signing import PublicKey
from shared.events.catalog import DigestRecorded
from shared.ledger.deployments import AUDITOR_ACTOR
from shared.ledger.signer import Draft, Signer
from shared.ledger.writer import EventWriter
from shared.log.port import EventLog, read_all
from shared.rules.audit import AuditState
from shared.rules.fold import LedgerFold
from shared.rules.stream import AUDIT_STREAM, check_signature, parse, resolve_key
from shared.rules.verdict import Verdict


@dataclass(frozen=True)
class DigestClaim:
    partition: int
    count: int
    digest: str
    source: str  # where the claim came from: "log" or a file name


def claims_in_fold(fold: LedgerFold) -> list[DigestClaim]:
    st = fold.streams.get(AUDIT_STREAM)
    if st is None or not isinstance(st.domain, AuditState):
        return []
    return [DigestClaim(p, n, d, "log") for p, n, d in st.domain.digests]


def claims_in_dir(directory: Path, fold: LedgerFold) -> tuple[list[DigestClaim], list[str]]:
    """Digest copies kept outside the log, and the problems found with them: a copy that does
    not parse, fails its signature or is not a digest claims nothing and is an alarm."""
    claims: list[DigestClaim] = []
    problems: list[str] = []
    if not directory.is_dir():
        return claims, problems
    for path in sorted(directory.glob("*.jsonl")):
        for n, line in enumerate(path.read_bytes().splitlines(), 1):
            if not line.strip():
                continue
            why = _copy_problem(line, fold)
            if isinstance(why, str):
                problems.append(f"{path}: line {n}: {why}")
                continue
            claims.append(DigestClaim(*why, path.name))
    return claims, problems


def _copy_problem(line: bytes, fold: LedgerFold) -> tuple[int, int, str] | str:
    """(partition, count, digest) of a valid signed digest copy, or what is wrong with it."""
    parsed = parse(line, hashlib.sha256(line).hexdigest())
    if isinstance(parsed, Verdict):
        return f"does not parse ({parsed.detail})"
    key = resolve_key(parsed, fold.registry)
    if isinstance(key, Verdict):
        return f"signed with no valid key ({key.reason})"
    if not check_signature(parsed, key):
        return "signature does not verify"
    if parsed.env["type"] != "ledger.audit.digest_recorded.v1":
        return "not a digest record"
    d = parsed.env["data"]
    try:
        DigestRecorded.model_validate(d)
    except ValidationError:
        return "digest payload fails its schema"
    return int(d["partition"]), int(d["count"]), str(d["digest"])


async def partition_digests(log: EventLog) -> dict[int, PartitionDigest]:
    digests = {p: PartitionDigest(p) for p in range(log.partitions)}
    async for rec in read_all(log, chunk=5000):
        digests[rec.partition].add(
            rec.offset, rec.appended_at, hashlib.sha256(rec.record).hexdigest()
        )
    return digests


async def record_digests(
    log: EventLog, auditor: Signer, genesis: PublicKey, outside_dir: Path
) -> list[DigestClaim]:
    """Compute every partition's digest now, write it into the log and a copy outside it."""
    digests = await partition_digests(log)
    drafts = [
        Draft(
            "ledger.audit.digest_recorded.v1",
            {"partition": p, "count": d.count, "digest": d.digest, "partitions": log.partitions},
            AUDITOR_ACTOR,
        )
        for p, d in sorted(digests.items())
    ]
    writer = EventWriter(log, auditor, genesis)
    result = await writer.submit(AUDIT_STREAM, lambda state: drafts)
    if not result.accepted:
        raise RuntimeError(f"digest not accepted: {result.written[0].verdict}")
    signed_records = [w.record for w in result.written]
    outside_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    (outside_dir / f"digest-{stamp}.jsonl").write_bytes(b"\n".join(signed_records) + b"\n")
    return [DigestClaim(p, d.count, d.digest, "log") for p, d in sorted(digests.items())]
