"""Writing to the log the way Kafka allows: append, then read back and learn the outcome.

``submit`` folds the stream, lets a pure ``decide`` produce drafts, signs them chained to the
head, appends, reads the stream back up to what it appended, and reports each event's verdict.
On a conflict (another writer's event got there first) it re-decides against the new state and
retries. A transport failure re-sends the identical signed bytes; if the first copy landed, the
second is a replayed id every reader ignores.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from shared.crypto.signing import PublicKey
from shared.ledger.reader import fold_stream, registry_fold
from shared.ledger.signer import Draft, Signed, Signer
from shared.log.port import Appended, EventLog
from shared.rules.fold import LedgerFold
from shared.rules.stream import StreamState
from shared.rules.verdict import Reason, Verdict

Decide = Callable[[StreamState], list[Draft]]


@dataclass(frozen=True)
class Written:
    event_id: str
    verdict: Verdict
    position: Appended | None
    record: bytes  # the exact signed bytes appended


@dataclass(frozen=True)
class Submission:
    stream: str
    written: list[Written]
    attempts: int

    @property
    def accepted(self) -> bool:
        return bool(self.written) and all(w.verdict.accepted for w in self.written)


class EventWriter:
    def __init__(
        self,
        log: EventLog,
        signer: Signer,
        genesis: PublicKey,
        *,
        max_attempts: int = 8,
        retry_seconds: float = 60.0,
    ) -> None:
        self.log = log
        self.retry_seconds = retry_seconds
        self.signer = signer
        self.genesis = genesis
        self.max_attempts = max_attempts
        self._fold: LedgerFold | None = None

    async def registry(self, *, refresh: bool = False) -> LedgerFold:
        if self._fold is None or refresh:
            self._fold = await registry_fold(self.log, self.genesis)
        return self._fold

    async def append_signed(self, signed: list[Signed], *, retries: int = 3) -> list[Appended]:
        """Append exact bytes; on a transport error send the same bytes again."""
        for attempt in range(retries + 1):
            try:
                return await self.log.append([(s.stream, s.record) for s in signed])
            except (OSError, ConnectionError, TimeoutError):
                if attempt == retries:
                    raise
                await asyncio.sleep(0.05 * 2**attempt)
        raise AssertionError("unreachable")

    async def submit(self, stream: str, decide: Decide) -> Submission:
        refresh = False
        for attempt in range(1, self.max_attempts + 1):
            fold = await self.registry(refresh=refresh)
            state = await fold_stream(self.log, fold, stream)
            drafts = decide(state)
            if not drafts:
                return Submission(stream, [], attempt)
            reg = fold.registry
            signed = self.signer.sign_chain(
                stream,
                drafts,
                head=state.head,
                regseq=reg.version,
                reghash=reg.hash_at(reg.version),
            )
            written = await self.submit_signed(stream, signed, fold=fold)
            first = written[0].verdict.reason
            if first in (Reason.stale_prev, Reason.stale_registry) and attempt < self.max_attempts:
                refresh = first is Reason.stale_registry
                continue
            return Submission(stream, written, attempt)
        raise AssertionError("unreachable")

    async def submit_signed(
        self, stream: str, signed: list[Signed], *, fold: LedgerFold | None = None
    ) -> list[Written]:
        """Append records already signed and learn each one's verdict by reading back."""
        fold = fold or await self.registry()
        positions = await self.append_signed(signed)
        verdicts = await self._read_back(fold, stream, signed, positions)
        return [Written(s.id, verdicts[i], positions[i], s.record) for i, s in enumerate(signed)]

    async def _read_back(
        self, fold: LedgerFold, stream: str, signed: list[Signed], positions: list[Appended]
    ) -> list[Verdict]:
        """Re-fold the stream up to our last record and take the verdicts of our records."""
        last = positions[-1]
        until = {last.partition: last.offset + 1}
        mine = {(p.partition, p.offset): i for i, p in enumerate(positions)}
        verdicts: list[Verdict | None] = [None] * len(signed)
        seen: dict[tuple[int, int], Verdict] = {}
        await fold_stream(self.log, fold, stream, until=until, observe=seen)
        for pos, i in mine.items():
            verdicts[i] = seen.get(pos)
        missing = [i for i, v in enumerate(verdicts) if v is None]
        if missing:
            raise RuntimeError(f"appended records of {stream} not found on read-back")
        return [v for v in verdicts if v is not None]
