"""Replay for rebuilds: read, decode, chain and evolve the whole log quickly.

Signatures below the last seal are trusted (the auditor verified them) only while the content
holds: the rolling partition digest is recomputed as the records are read and compared with the
seal's at the sealed position; on a mismatch the trust is refused, the replay starts again
checking every signature, and the divergence is named. Records the seal lists as rejected —
normal conflicts and bad records the auditor acknowledged — are skipped (and counted).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from shared.crypto.signing import PublicKey
from shared.ledger.reader import registry_fold
from shared.ledger.seal import (
    SealDigests,
    SealTrust,
    acknowledged_skips,
    seal_trust,
    sealed_digests,
)
from shared.log.port import EventLog, read_all
from shared.rules.fold import LedgerFold
from shared.rules.stream import AUDIT_STREAM, REGISTRY_STREAM


@dataclass
class Replayed:
    fold: LedgerFold
    trusted: bool  # signatures below the seal were trusted (its content matched)
    divergence: str | None = None  # why a seal was refused
    acknowledged_skipped: int = 0  # acknowledged bad records skipped below the seal


async def rebuild_fold(log: EventLog, genesis: PublicKey, *, trust_seal: bool = True) -> LedgerFold:
    return (await rebuild_replay(log, genesis, trust_seal=trust_seal)).fold


async def rebuild_replay(log: EventLog, genesis: PublicKey, *, trust_seal: bool = True) -> Replayed:
    head = await log.head()
    trust = SealTrust()
    if trust_seal:
        probe = await registry_fold(log, genesis, until=head)
        trust = await seal_trust(log, probe, check=False)
    if trust.positions:
        fold, why = await _replay(log, genesis, head, trust)
        if why is None:
            return Replayed(fold, True, None, acknowledged_skips(trust.rejected))
        fold, _ = await _replay(log, genesis, head, SealTrust())
        return Replayed(fold, False, why)
    fold, _ = await _replay(log, genesis, head, trust)
    return Replayed(fold, False)


async def _replay(
    log: EventLog, genesis: PublicKey, head: dict[int, int], trust: SealTrust
) -> tuple[LedgerFold, str | None]:
    """One replay; with a seal, stops at the first divergence from its digests and says so."""
    fold = await registry_fold(log, genesis, until=head)
    sealed, rejected = trust.positions, trust.rejected
    check: SealDigests | None = None
    if sealed:
        audit = LedgerFold(
            registry=fold.registry,
            partitions=fold.partitions,
            genesis=genesis,
            streams={REGISTRY_STREAM: fold.streams[REGISTRY_STREAM]},
        )
        from shared.ledger.reader import fold_stream

        await fold_stream(log, audit, AUDIT_STREAM, until=head)
        check = SealDigests(sealed, sealed_digests(audit), log.partitions)
    sha = hashlib.sha256
    async for rec in read_all(log, until=head, chunk=5000):
        raw = sha(rec.record).digest()
        h = raw.hex()
        below = rec.offset < sealed.get(rec.partition, 0)
        if check is not None and below:
            why = check.add(rec, raw)
            if why is not None:
                return fold, why
        if rec.stream == REGISTRY_STREAM:
            continue
        if below:
            fold.apply_sealed(rec, h, rejected.get((rec.partition, rec.offset)))
        else:
            fold.apply(rec, record_hash=h)
    if check is not None:
        why = check.unreached()
        if why is not None:
            return fold, why
    return fold, None
