"""Replay for rebuilds: read, decode, chain and evolve the whole log quickly.

Signatures below the last seal are trusted (the auditor verified them); everything else —
chains, rights, states, and every signature beyond the seal — is checked as always.
"""

from __future__ import annotations

import hashlib

from shared.crypto.signing import PublicKey
from shared.ledger.reader import fold_stream, registry_fold
from shared.ledger.seal import last_seal
from shared.log.port import EventLog, read_all
from shared.rules.fold import LedgerFold
from shared.rules.stream import AUDIT_STREAM, REGISTRY_STREAM


async def rebuild_fold(log: EventLog, genesis: PublicKey, *, trust_seal: bool = True) -> LedgerFold:
    head = await log.head()
    fold = await registry_fold(log, genesis, until=head)
    sealed: dict[int, int] = {}
    rejected: dict[tuple[int, int], str] = {}
    if trust_seal:
        # The audit stream is small: fold it first, fully checked, to find the last seal — in a
        # fold of its own that shares the registry, so the main pass counts it once.
        probe = LedgerFold(
            registry=fold.registry,
            partitions=fold.partitions,
            genesis=genesis,
            streams={REGISTRY_STREAM: fold.streams[REGISTRY_STREAM]},
        )
        await fold_stream(log, probe, AUDIT_STREAM, until=head)
        sealed, rejected = last_seal(probe) or ({}, {})
    sha = hashlib.sha256
    async for rec in read_all(log, until=head, chunk=5000):
        if rec.stream == REGISTRY_STREAM:
            continue
        h = sha(rec.record).hexdigest()
        if rec.offset < sealed.get(rec.partition, 0):
            fold.apply_sealed(rec, h, rejected.get((rec.partition, rec.offset)))
        else:
            fold.apply(rec, record_hash=h)
    return fold
