"""Replay for rebuilds: read, decode, chain and evolve the whole log quickly.

Signatures below the last seal are trusted (the auditor verified them) only while the content
holds: the rolling partition digest is recomputed as the records are read and compared with the
seal's at the sealed position; on a mismatch the trust is refused, the replay starts again
checking every signature, and the divergence is named. Records the seal lists as rejected —
normal conflicts and bad records the auditor acknowledged — are skipped (and counted).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from shared.crypto.signing import PublicKey
from shared.ledger.reader import registry_fold
from shared.ledger.seal import (
    SealDigests,
    SealTrust,
    acknowledged_skips,
    seal_trust,
    sealed_digests,
)
from shared.log.port import EventLog, Positions, StoredRecord
from shared.rules.fold import LedgerFold, without_cyclic_gc
from shared.rules.stream import AUDIT_STREAM, REGISTRY_STREAM
from shared.rules.verdict import Verdict

Observer = Callable[[StoredRecord, dict[str, Any] | None, Verdict], None]
"""Sees every record of the replay but the registry's, with its verdict (and the record
decoded, where the replay decoded it anyway: below the seal)."""


@dataclass
class Replayed:
    fold: LedgerFold
    trusted: bool  # signatures below the seal were trusted (its content matched)
    divergence: str | None = None  # why a seal was refused
    acknowledged_skipped: int = 0  # acknowledged bad records skipped below the seal


async def rebuild_fold(log: EventLog, genesis: PublicKey, *, trust_seal: bool = True) -> LedgerFold:
    return (await rebuild_replay(log, genesis, trust_seal=trust_seal)).fold


async def rebuild_replay(
    log: EventLog,
    genesis: PublicKey,
    *,
    trust_seal: bool = True,
    observer: Callable[[], Observer] | None = None,
    head: dict[int, int] | None = None,
) -> Replayed:
    """The replay; ``observer`` makes a fresh observer for each pass (a seal refused midway
    starts the replay again, checking every signature). ``head``: up to there (default: the
    log's head now)."""
    head = head if head is not None else await log.head()
    trust = SealTrust()
    if trust_seal:
        probe = await registry_fold(log, genesis, until=head)
        trust = await seal_trust(log, probe, check=False)
    if trust.positions:
        fold, why = await _replay(log, genesis, head, trust, observer)
        if why is None:
            return Replayed(fold, True, None, acknowledged_skips(trust.rejected))
        fold, _ = await _replay(log, genesis, head, SealTrust(), observer)
        return Replayed(fold, False, why)
    fold, _ = await _replay(log, genesis, head, trust, observer)
    return Replayed(fold, False)


async def _replay(
    log: EventLog,
    genesis: PublicKey,
    head: dict[int, int],
    trust: SealTrust,
    observer: Callable[[], Observer] | None = None,
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
    sealed_at = sealed.get
    rejected_at = rejected.get
    apply_sealed, apply = fold.apply_sealed, fold.apply
    observe = observer() if observer is not None else None
    loads = orjson.loads
    with without_cyclic_gc():
        async with contextlib.aclosing(_batches(log, head, 5000)) as batches:
            async for batch in batches:
                for rec in batch:
                    raw = sha(rec.record).digest()
                    h = raw.hex()
                    below = rec.offset < sealed_at(rec.partition, 0)
                    if check is not None and below:
                        why = check.add(rec, raw)
                        if why is not None:
                            return fold, why
                    if rec.stream == REGISTRY_STREAM:
                        continue
                    if observe is None:
                        if below:
                            apply_sealed(rec, h, rejected_at((rec.partition, rec.offset)))
                        else:
                            apply(rec, record_hash=h)
                    elif below:
                        env = loads(rec.record)
                        observe(
                            rec,
                            env,
                            apply_sealed(rec, h, rejected_at((rec.partition, rec.offset)), env),
                        )
                    else:
                        observe(rec, None, apply(rec, record_hash=h))
    if check is not None:
        why = check.unreached()
        if why is not None:
            return fold, why
    return fold, None


async def _batches(
    log: EventLog, until: Mapping[int, int], chunk: int
) -> AsyncGenerator[list[StoredRecord], None]:
    """Every record up to ``until`` in log order, a chunk at a time; the next chunk is read
    (in the log's reader thread) while the caller folds this one."""
    pos: Positions = {p: 0 for p in range(log.partitions)}
    end = dict(until)
    pending = asyncio.ensure_future(log.read(dict(pos), limit=chunk, until=end))
    try:
        while True:
            batch = await pending
            if not batch:
                return
            for rec in batch:
                pos[rec.partition] = rec.offset + 1
            pending = asyncio.ensure_future(log.read(dict(pos), limit=chunk, until=end))
            yield batch
    finally:  # a replay that stops early leaves no read behind it, nor its error unread
        if not pending.cancel() and not pending.cancelled():
            pending.exception()
