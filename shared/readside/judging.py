"""Live judging: the rule book applied, record by record, as a projector reads the log.

The judge keeps each stream's state in memory (LRU: a stream evicted, or never met since a
restart, is folded once from the log, up to the record being judged), the registry caught up
whenever an event names a newer version, and — when trusted — the auditor's last seal, below
which its verdicts stand and only the chain is checked. The states live in a
:class:`~shared.ledger.live.LiveFold`, which the service's writer shares (it copies, never
changes them), so a command never folds a stream the projector holds.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from shared.crypto.signing import PublicKey
from shared.events.envelope import stream_kind
from shared.events.partitioner import partition_for
from shared.ledger.live import LiveFold
from shared.ledger.reader import fold_stream, registry_fold
from shared.log.port import EventLog, Positions, StoredRecord
from shared.rules.fold import LedgerFold
from shared.rules.stream import AUDIT_STREAM, REGISTRY_STREAM, Parsed, parse
from shared.rules.verdict import Verdict


class LiveJudge:
    def __init__(
        self,
        log: EventLog,
        genesis: PublicKey,
        kinds: frozenset[str],
        *,
        max_streams: int,
        trust_seal: bool,
        on_evict: Callable[[str], None],
    ) -> None:
        self.log = log
        self.genesis = genesis
        self.kinds = kinds
        self.max_streams = max_streams
        self.trust_seal = trust_seal
        self.on_evict = on_evict
        self.live = LiveFold(log, genesis, owned_by_projector=True)
        self.judged = 0
        self.lazy_folds = 0
        self._fold: LedgerFold | None = None
        self._sealed: dict[int, int] = {}  # positions of the last seal, when trusted
        self._sealed_rejected: dict[tuple[int, int], str] = {}  # its rejections
        self._cold: dict[int, bool] = {}  # partition may hold history of streams not in memory
        self._warm: OrderedDict[str, None] = OrderedDict()  # streams with state in memory (LRU)

    @property
    def fold(self) -> LedgerFold:
        if self._fold is None:
            raise RuntimeError("projector not started")
        return self._fold

    @property
    def sealed(self) -> Positions:
        """Positions of the seal whose verdicts are trusted (empty: none)."""
        return dict(self._sealed)

    async def start(self, position: Mapping[int, int]) -> None:
        """Fold the registry (and find the last seal, if trusted) for reading on from
        ``position``."""
        self._cold = {p: n > 0 for p, n in position.items()}
        self._fold = await registry_fold(self.log, self.genesis)
        self.live.adopt(self._fold)
        if self.trust_seal:
            from shared.ledger.seal import last_seal

            audit = LedgerFold.rooted_in(self.genesis, self.log.partitions)
            audit.registry = self._fold.registry
            await fold_stream(self.log, audit, AUDIT_STREAM)
            sealed = last_seal(audit)
            self._sealed, self._sealed_rejected = sealed if sealed else ({}, {})

    async def _warm_up(self, rec: StoredRecord) -> None:
        s = rec.stream
        if s in self._warm:
            self._warm.move_to_end(s)
            return
        if self._cold.get(rec.partition, False):
            # Its history before this record is in the log, not in memory: fold it once.
            await fold_stream(self.log, self.fold, s, until={rec.partition: rec.offset})
            self.lazy_folds += 1
        else:
            self.fold.streams.pop(s, None)
        self.live.mark(s, rec.offset)
        self._warm[s] = None
        while len(self._warm) > self.max_streams:
            old, _ = self._warm.popitem(last=False)
            self.fold.streams.pop(old, None)
            self.live.forget(old)
            self.on_evict(old)
            self._cold[partition_for(old, self.log.partitions)] = True

    async def judge(self, rec: StoredRecord) -> tuple[Verdict, dict[str, Any]] | None:
        """The verdict on a record of a stream of ``kinds`` (None for other streams)."""
        fold = self.fold
        if rec.stream == REGISTRY_STREAM:
            fold.apply(rec)  # replayed_id if already read; keeps the registry current
            return None
        if stream_kind(rec.stream) not in self.kinds:
            return None
        await self._warm_up(rec)
        record_hash = hashlib.sha256(rec.record).hexdigest()
        self.judged += 1
        if rec.offset < self._sealed.get(rec.partition, 0):
            # Below the auditor's last seal: its verdicts stand, the chain is still checked.
            rejected = self._sealed_rejected.get((rec.partition, rec.offset))
            env = orjson.loads(rec.record)
            verdict = fold.apply_sealed(rec, record_hash, rejected, env)
            self.live.mark(rec.stream, rec.offset + 1)
            return verdict, env if verdict.accepted else {}
        parsed: Parsed | Verdict = parse(rec.record, record_hash)
        if isinstance(parsed, Parsed):
            regseq = parsed.env.get("regseq")
            if isinstance(regseq, int) and regseq > fold.registry.version:
                # Signed under a registry version appended after our last read of it.
                await fold_stream(self.log, fold, REGISTRY_STREAM)
        verdict = fold.apply(rec, parsed=parsed)
        self.live.mark(rec.stream, rec.offset + 1)
        env = parsed.env if isinstance(parsed, Parsed) else {}
        return verdict, env
