"""Seals: "verified up to these positions", signed by the auditor after a clean verify.

Rebuilds may trust signatures below the last seal (they still check chains, rights and states,
and every signature beyond it); live consumers check every signature themselves. A seal is
trusted only for the content it pins: its rolling partition digests are recomputed from the
records and compared at the sealed positions; a mismatch refuses the trust (every signature is
then checked) and names the partition.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from shared.crypto.chain import PartitionDigest
from shared.crypto.signing import PublicKey
from shared.ledger.deployments import AUDITOR_ACTOR
from shared.ledger.signer import Draft, Signer
from shared.ledger.verify import VerifyReport
from shared.ledger.writer import EventWriter
from shared.log.port import EventLog, StoredRecord, read_all
from shared.rules.audit import AuditState
from shared.rules.fold import LedgerFold
from shared.rules.stream import AUDIT_STREAM, REGISTRY_STREAM
from shared.rules.verdict import TAMPER_REASONS


async def record_seal(
    log: EventLog, auditor: Signer, genesis: PublicKey, report: VerifyReport, outside_dir: Path
) -> Path:
    if not report.ok:
        raise ValueError("only a clean verification is sealed")
    draft = Draft(
        "ledger.audit.seal_recorded.v1",
        {
            "positions": {str(p): n for p, n in sorted(report.positions.items())},
            "partitions": log.partitions,
            "digests": {str(p): d.digest for p, d in sorted(report.digests.items())},
            "tampered": len(report.all_tampered) + len(report.findings),
            "conflicts": len(report.conflicts),
            "rejected": report.sealed_rejections(),
        },
        AUDITOR_ACTOR,
    )
    result = await EventWriter(log, auditor, genesis).submit(AUDIT_STREAM, lambda s: [draft])
    if not result.accepted:
        raise RuntimeError(f"seal not accepted: {result.written[0].verdict}")
    outside_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = outside_dir / f"seal-{stamp}.json"
    path.write_bytes(result.written[0].record + b"\n")
    return path


def last_seal(fold: LedgerFold) -> tuple[dict[int, int], dict[tuple[int, int], str]] | None:
    """Positions of the last seal and the (partition, offset) -> reason of its rejections."""
    st = fold.streams.get(AUDIT_STREAM)
    if st is None or not isinstance(st.domain, AuditState) or st.domain.last_seal is None:
        return None
    rejected = {(p, o): r for p, o, r in st.domain.last_rejected}
    return st.domain.last_seal, rejected


def sealed_digests(fold: LedgerFold) -> dict[int, str]:
    """The rolling partition digest the last seal pins at each sealed position."""
    st = fold.streams.get(AUDIT_STREAM)
    if st is None or not isinstance(st.domain, AuditState):
        return {}
    return dict(st.domain.last_sealed_digests)


def acknowledged_skips(rejected: dict[tuple[int, int], str]) -> int:
    """How many of a seal's rejections are acknowledged bad records (tampering, not conflicts)."""
    return sum(1 for r in rejected.values() if r in TAMPER_REASONS)


@dataclass
class SealTrust:
    """What a rebuild may trust: the last seal's positions and rejections, if its content holds."""

    positions: dict[int, int] = field(default_factory=dict)
    rejected: dict[tuple[int, int], str] = field(default_factory=dict)
    divergence: str | None = None  # why the seal was refused, naming the partition

    @property
    def trusted(self) -> bool:
        return bool(self.positions) and self.divergence is None


class SealDigests:
    """The rolling digest of each partition as a replay reads it, compared with the seal's at
    the sealed position (``add`` returns the divergence the moment it is known)."""

    def __init__(self, positions: dict[int, int], digests: dict[int, str], partitions: int) -> None:
        self.positions = positions
        self.digests = digests
        self.running = {p: PartitionDigest(p) for p in range(partitions)}

    def add(self, rec: StoredRecord, record_digest: bytes) -> str | None:
        """Fold in a record (its raw SHA-256 digest); the divergence, once it is known."""
        d = self.running[rec.partition]
        if rec.offset != d.count:
            return f"partition {rec.partition}: records missing before offset {rec.offset}"
        d.add_raw(rec.offset, rec.appended_at, record_digest)
        if d.count == self.positions.get(rec.partition, 0):
            return self._compare(rec.partition)
        return None

    def _compare(self, p: int) -> str | None:
        if self.running[p].digest != self.digests.get(p):
            return (
                f"partition {p}: content up to the sealed position {self.positions[p]} "
                "differs from the seal's digest"
            )
        return None

    def unreached(self) -> str | None:
        """After the whole log: a sealed position the records never reached (a cut-off tail)."""
        for p, n in sorted(self.positions.items()):
            if n > 0 and self.running[p].count < n:
                return f"partition {p}: holds {self.running[p].count} records, the seal {n}"
        return None


async def checked_seal(log: EventLog, genesis: PublicKey) -> SealTrust:
    """The last seal, its content compared with the records it pins: what a projector that
    trusts seals may trust (``trusted`` false: check every signature)."""
    from shared.ledger.reader import registry_fold

    return await seal_trust(log, await registry_fold(log, genesis))


async def seal_trust(log: EventLog, fold: LedgerFold, *, check: bool = True) -> SealTrust:
    """The last seal (audit stream folded afresh, sharing ``fold``'s registry) and, where
    ``check``, its content compared with the records it pins (one read of the sealed range)."""
    from shared.ledger.reader import fold_stream

    audit = LedgerFold(
        registry=fold.registry,
        partitions=fold.partitions,
        genesis=fold.genesis,
        streams={REGISTRY_STREAM: fold.streams[REGISTRY_STREAM]},
    )
    await fold_stream(log, audit, AUDIT_STREAM)
    found = last_seal(audit)
    if found is None:
        return SealTrust()
    trust = SealTrust(found[0], found[1])
    if not check:
        return trust
    digests = SealDigests(trust.positions, sealed_digests(audit), log.partitions)
    start = {p: 0 for p in range(log.partitions)}
    until = {p: trust.positions.get(p, 0) for p in range(log.partitions)}
    async for rec in read_all(log, start, chunk=5000, until=until):
        why = digests.add(rec, hashlib.sha256(rec.record).digest())
        if why is not None:
            trust.divergence = why
            return trust
    trust.divergence = digests.unreached()
    return trust
