"""Reading the log into folds: the registry first, then one stream or everything."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

import orjson

from shared.crypto.signing import PublicKey
from shared.log.port import EventLog, StoredRecord, read_all
from shared.rules.fold import LedgerFold
from shared.rules.stream import REGISTRY_STREAM, StreamState
from shared.rules.verdict import Verdict


async def registry_fold(
    log: EventLog, genesis: PublicKey, *, until: Mapping[int, int] | None = None
) -> LedgerFold:
    """A fold holding the registry read to ``until`` (default: its end)."""
    fold = LedgerFold.rooted_in(genesis, log.partitions)
    await _fold_records(log, fold, REGISTRY_STREAM, until, None, None)
    return fold


async def fold_stream(
    log: EventLog,
    fold: LedgerFold,
    stream: str,
    *,
    until: Mapping[int, int] | None = None,
    as_of: int | None = None,
    observe: dict[tuple[int, int], Verdict] | None = None,
) -> StreamState:
    """Fold one stream afresh (the registry already in ``fold``), optionally up to a log time.

    ``observe`` collects each record's verdict by (partition, offset).
    """
    if stream == REGISTRY_STREAM:
        fresh = LedgerFold.rooted_in(fold.genesis, log.partitions)
        await _fold_records(log, fresh, stream, until, as_of, observe)
        fold.registry = fresh.registry
        fold.streams[REGISTRY_STREAM] = fresh.streams[REGISTRY_STREAM]
        return fold.streams[REGISTRY_STREAM]
    records = [r async for r in _records(log, stream, until, as_of)]
    if highest_regseq(records) > fold.registry.version:
        # Another writer signed under a registry version this reader has not read yet: it is
        # in the log (it was appended before that event), so catch up before judging.
        await fold_stream(log, fold, REGISTRY_STREAM)
    fold.streams.pop(stream, None)
    for rec in records:
        verdict = fold.apply(rec)
        if observe is not None:
            observe[(rec.partition, rec.offset)] = verdict
    return fold.stream(stream)


async def _records(
    log: EventLog, stream: str, until: Mapping[int, int] | None, as_of: int | None
) -> AsyncIterator[StoredRecord]:
    async for rec in log.read_stream(stream, until=until):
        if as_of is not None and rec.appended_at > as_of:
            return
        yield rec


async def _fold_records(
    log: EventLog,
    fold: LedgerFold,
    stream: str,
    until: Mapping[int, int] | None,
    as_of: int | None,
    observe: dict[tuple[int, int], Verdict] | None,
) -> None:
    async for rec in _records(log, stream, until, as_of):
        verdict = fold.apply(rec)
        if observe is not None:
            observe[(rec.partition, rec.offset)] = verdict


def highest_regseq(records: list[StoredRecord]) -> int:
    top = 0
    for rec in records:
        try:
            v = orjson.loads(rec.record).get("regseq", 0)
        except (orjson.JSONDecodeError, AttributeError):
            continue
        if isinstance(v, int) and v > top:
            top = v
    return top


async def fold_log(log: EventLog, genesis: PublicKey) -> LedgerFold:
    """Fold the whole log: registry stream first, then every other record in log order."""
    head = await log.head()
    fold = await registry_fold(log, genesis, until=head)
    async for rec in read_all(log, until=head):
        if rec.stream != REGISTRY_STREAM:
            fold.apply(rec)
    return fold
