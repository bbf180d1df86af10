"""Seals: "verified up to these positions", signed by the auditor after a clean verify.

Rebuilds may trust signatures below the last seal (they still check chains, rights and states,
and every signature beyond it); live consumers check every signature themselves.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from shared.crypto.signing import PublicKey
from shared.ledger.deployments import AUDITOR_ACTOR
from shared.ledger.signer import Draft, Signer
from shared.ledger.verify import VerifyReport
from shared.ledger.writer import EventWriter
from shared.log.port import EventLog
from shared.rules.audit import AuditState
from shared.rules.fold import LedgerFold
from shared.rules.stream import AUDIT_STREAM


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
            "tampered": 0,
            "conflicts": len(report.conflicts),
            "rejected": [[j.partition, j.offset, str(j.verdict.reason)] for j in report.conflicts],
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
