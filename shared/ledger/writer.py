"""Writing to the log the way Kafka allows: check, sign, append, then read back the outcome.

``submit`` takes the stream's state from the live fold (a private copy at the head: see
:mod:`shared.ledger.live`), lets a pure ``decide`` produce drafts, and judges them with the rule
book on a copy of that state **before signing**: a decision the rule book would reject never
reaches the log (a handler bug must not leave permanent rejected records). Accepted, the drafts
are signed chained to the head, appended, and read back through the same fold to learn each
one's verdict — append-then-validate still settles racing writers: on a conflict (another
writer's event got there first) it re-decides against the new state and retries. A transport
failure re-sends the identical signed bytes; if the first copy landed, the second is a replayed
id every reader ignores.

Same cause, same id: a command's events carry ids derived from its idempotency key (``ids``),
so a command already in the log (a retry after a crash between append and answer) is found
there by its first id and answered from the log, never written twice.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from pydantic import ValidationError

from shared.crash_points import crash_point
from shared.crypto.signing import PublicKey
from shared.ledger.live import LiveFold, Tracked, copy_state
from shared.ledger.signer import Draft, Signed, Signer, UnknownEventType, now_rfc3339
from shared.ledger.snapshots import Snapshot, StreamSnapshots
from shared.log.port import Appended, EventLog
from shared.rules.fold import LedgerFold
from shared.rules.stream import REGISTRY_STREAM, StreamState, admit, parse
from shared.rules.verdict import ACCEPTED, Reason, Verdict, reject

Decide = Callable[[StreamState], list[Draft]]
MAX_COMMAND_EVENTS = 64
EventIds = Callable[[int], str]
"""The id of a command's ``index``-th event (see ``shared.events.ids.command_event_id``)."""


@dataclass(frozen=True)
class Written:
    event_id: str
    verdict: Verdict
    position: Appended | None  # None: judged before signing and refused; nothing appended
    record: bytes  # the exact signed bytes appended (empty when refused before signing)


@dataclass(frozen=True)
class Submission:
    stream: str
    written: list[Written]
    attempts: int
    replayed: bool = False  # the command was already in the log: answered from there

    @property
    def accepted(self) -> bool:
        return bool(self.written) and all(w.verdict.accepted for w in self.written)

    @property
    def refused(self) -> Verdict | None:
        """The first rejection, if any (before signing or on read-back)."""
        return next((w.verdict for w in self.written if not w.verdict.accepted), None)


@dataclass(frozen=True)
class Refused:
    """Drafts the rule book refused before signing (see ``EventWriter.sign_checked``)."""

    written: list[Written]


class EventWriter:
    def __init__(
        self,
        log: EventLog,
        signer: Signer,
        genesis: PublicKey,
        *,
        max_attempts: int = 8,
        retry_seconds: float = 60.0,
        live: LiveFold | Callable[[], LiveFold | None] | None = None,
        clock: Callable[[], float] = time.time,
        snapshots: StreamSnapshots | None = None,
    ) -> None:
        self.log = log
        self.retry_seconds = retry_seconds
        self.signer = signer
        self.genesis = genesis
        self.max_attempts = max_attempts
        self.clock = clock
        self._own = LiveFold(log, genesis)
        self._live = live
        self.snapshots = snapshots

    @property
    def live(self) -> LiveFold:
        """The projector's live fold when the service has a running one, else the writer's."""
        live = self._live() if callable(self._live) else self._live
        return live if live is not None else self._own

    async def registry(self, *, refresh: bool = False) -> LedgerFold:
        if refresh:
            await self.live.refresh_registry()
        return await self.live.fold()

    async def warm_up(self) -> None:
        """Prepare for the first command as a service starts: the registry read, and the
        log's own warm-up where it has one (Kafka: metadata and its stream index)."""
        await self.registry()
        warm = getattr(self.log, "warm_up", None)
        if warm is not None:
            await warm()

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

    async def _tracked(self, stream: str) -> Tracked:
        if stream == REGISTRY_STREAM:
            return await self._own.tracked_registry()
        return await self.live.tracked(stream, self.snapshots)

    async def submit(
        self, stream: str, decide: Decide, *, ids: EventIds | None = None
    ) -> Submission:
        for attempt in range(1, self.max_attempts + 1):
            t = await self._tracked(stream)
            state = t.state
            if ids is not None and ids(0) in state.seen_ids:
                return await self._answer_from_log(t, ids, attempt)
            drafts = decide(state)
            if not drafts:
                return Submission(stream, [], attempt)
            if ids is not None:
                drafts = [dataclasses.replace(d, id=ids(i)) for i, d in enumerate(drafts)]
            signed = self.sign_checked(t, drafts)
            if isinstance(signed, Refused):
                return Submission(stream, signed.written, attempt)
            written = await self._append_and_read_back(t, signed)
            first = written[0].verdict.reason
            if first in (Reason.stale_prev, Reason.stale_registry) and attempt < self.max_attempts:
                if first is Reason.stale_registry:
                    await self.live.refresh_registry()
                continue
            if first is Reason.replayed_id and ids is not None:
                # The same command, sent again, got there first: its answer is ours.
                return await self._answer_from_log(await self._tracked(stream), ids, attempt)
            return Submission(stream, written, attempt)
        raise AssertionError("unreachable")

    def sign_checked(self, t: Tracked, drafts: list[Draft]) -> list[Signed] | Refused:
        """The drafts judged by the rule book on a copy of ``t``'s state as if appended now,
        then signed chained to its head — or the refusal, nothing signed. ``submit`` appends
        them and reads back; a caller writing many streams at once (the scheduler) may append
        several streams' records in one append and learn their verdicts by reading on."""
        reg = t.fold.registry
        regseq, reghash, at = reg.version, reg.hash_at(reg.version), now_rfc3339()
        refused = self._check(t, drafts, regseq, reghash, at)
        if refused is not None:
            return Refused(refused)
        return self.signer.sign_chain(
            t.stream, drafts, head=t.state.head, regseq=regseq, reghash=reghash, time=at
        )

    def _check(
        self, t: Tracked, drafts: list[Draft], regseq: int, reghash: str | None, at: str
    ) -> list[Written] | None:
        """Judge the drafts with the rule book on a copy of the state, as if appended now,
        before anything is signed; the refusal (nothing appended) or None."""
        try:
            unsigned = self.signer.unsigned_chain(
                t.stream, drafts, head=t.state.head, regseq=regseq, reghash=reghash, time=at
            )
        except (UnknownEventType, ValidationError) as exc:
            reason = Reason.unknown_type if isinstance(exc, UnknownEventType) else None
            verdict = reject(reason or Reason.invalid_data, "refused before signing")
            return [Written(d.id or "", verdict, None, b"") for d in drafts]
        state = copy_state(t.state)
        # The registry stream's state is the registry itself: judge on the copy's.
        registry = state.domain if t.stream == REGISTRY_STREAM else t.fold.registry
        now = int(self.clock() * 1_000_000)
        verdicts: list[Verdict] = []
        for d in unsigned:
            parsed = parse(d.record, d.hash)
            verdict = (
                parsed
                if isinstance(parsed, Verdict)
                else admit(state, parsed, registry, signature_ok=True, appended_at=now)
            )
            verdicts.append(verdict)
            if not verdict.accepted:
                break
        if all(v.accepted for v in verdicts):
            return None
        return [
            Written(d.id, verdicts[i] if i < len(verdicts) else verdicts[-1], None, b"")
            for i, d in enumerate(unsigned)
        ]

    async def _append_and_read_back(self, t: Tracked, signed: list[Signed]) -> list[Written]:
        positions = await self.append_signed(signed)
        crash_point("after_append_before_answer")
        seen: dict[tuple[int, int], Verdict] = {}
        await self.live.catch_up(t, until=positions[-1].offset + 1, observe=seen)
        if t.stream != REGISTRY_STREAM:
            self.live.remember(t)
        out: list[Written] = []
        for s, pos in zip(signed, positions, strict=True):
            verdict = seen.get((pos.partition, pos.offset))
            if verdict is None:
                raise RuntimeError(f"appended records of {t.stream} not found on read-back")
            out.append(Written(s.id, verdict, pos, s.record))
        # The registry stream is always folded afresh (``_tracked``): it has no snapshot.
        if (
            self.snapshots is not None
            and t.stream != REGISTRY_STREAM
            and all(w.verdict.accepted for w in out)
        ):
            snap = Snapshot(copy_state(t.state), t.partition, positions[-1].offset, t.next_offset)
            self.snapshots.save(snap)
        return out

    async def _answer_from_log(self, t: Tracked, ids: EventIds, attempts: int) -> Submission:
        """The events of a command already in the log, found by their ids, in order."""
        wanted = {ids(j): j for j in range(MAX_COMMAND_EVENTS)}
        found: dict[int, Written] = {}
        async for rec in self.log.read_stream(t.stream, until={t.partition: t.next_offset}):
            event_id = orjson.loads(rec.record).get("id")
            j = wanted.get(event_id) if isinstance(event_id, str) else None
            if j is not None and j not in found and event_id in t.state.seen_ids:
                position = Appended(rec.partition, rec.offset, rec.appended_at)
                found[j] = Written(event_id, ACCEPTED, position, rec.record)
        ordered: list[Written] = []
        while len(ordered) in found:
            ordered.append(found[len(ordered)])
        return Submission(t.stream, ordered, attempts, replayed=True)

    async def submit_signed(self, stream: str, signed: list[Signed]) -> list[Written]:
        """Append records already signed and learn each one's verdict by reading back."""
        t = await self._tracked(stream)
        return await self._append_and_read_back(t, signed)
