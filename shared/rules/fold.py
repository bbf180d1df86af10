"""Folding a log into the state of every stream, with a verdict for each record.

The fold is pure: records in, verdicts and state out. Registry records must reach it before the
events that name their versions (readers fold the registry stream first). The state digest is
the same for the same log whatever the reader: it is what "drop it, replay, get the same state"
compares.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from shared.crypto.signing import PublicKey
from shared.events.partitioner import partition_for
from shared.events.record import StoredRecord
from shared.events.upcast import upcast
from shared.rules.registry import Registry
from shared.rules.stream import (
    REGISTRY_STREAM,
    Parsed,
    StreamState,
    admit,
    apply_accepted,
    parse,
)
from shared.rules.verdict import ACCEPTED, Outcome, Reason, Verdict, reject


@contextlib.contextmanager
def without_cyclic_gc() -> Iterator[None]:
    """Around a fold of a whole log: it keeps every stream's sets and states, and makes no
    reference cycles, so the cyclic collector would only traverse them again and again (most
    of a replay's time). Reference counting still frees what the fold drops; the collector is
    on again after (unless it was off before)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass(frozen=True, slots=True)
class Judged:
    partition: int
    offset: int
    stream: str
    event_id: str | None
    event_type: str | None
    verdict: Verdict


@dataclass
class LedgerFold:
    registry: Registry
    partitions: int
    genesis: PublicKey
    streams: dict[str, StreamState] = field(default_factory=dict)
    counts: dict[Outcome, int] = field(default_factory=lambda: {o: 0 for o in Outcome})
    rejections: list[Judged] = field(default_factory=list)  # conflicts and tampering, in order

    @classmethod
    def rooted_in(cls, genesis: PublicKey, partitions: int) -> LedgerFold:
        fold = cls(registry=Registry.rooted_in(genesis), partitions=partitions, genesis=genesis)
        registry_state = fold.streams[REGISTRY_STREAM] = StreamState.empty(REGISTRY_STREAM)
        registry_state.domain = fold.registry  # the registry stream's state is the registry
        return fold

    def stream(self, stream: str) -> StreamState:
        try:
            return self.streams[stream]
        except KeyError:
            st = self.streams[stream] = StreamState.empty(stream)
            return st

    def apply(
        self,
        rec: StoredRecord,
        *,
        record_hash: str | None = None,
        signature_ok: bool | None = None,
        data_ok: bool | None = None,
        parsed: Parsed | Verdict | None = None,
    ) -> Verdict:
        if parsed is None:
            h = record_hash or hashlib.sha256(rec.record).hexdigest()
            parsed = parse(rec.record, h)
        if isinstance(parsed, Verdict):
            verdict = parsed
            event_id = event_type = None
        else:
            event_id, event_type = parsed.env.get("id"), parsed.env.get("type")
            if parsed.env["subject"] != rec.stream or (
                partition_for(rec.stream, self.partitions) != rec.partition
            ):
                verdict = reject(Reason.wrong_partition, "record is not where its stream lives")
            else:
                verdict = admit(
                    self.stream(rec.stream),
                    parsed,
                    self.registry,
                    signature_ok=signature_ok,
                    data_ok=data_ok,
                    appended_at=rec.appended_at,
                )
        if verdict is ACCEPTED:  # what admit returns for every accepted event
            self.counts[Outcome.accepted] += 1
            return verdict
        outcome = verdict.outcome
        self.counts[outcome] += 1
        if outcome is not Outcome.accepted:
            self.rejections.append(
                Judged(rec.partition, rec.offset, rec.stream, event_id, event_type, verdict)
            )
        return verdict

    def apply_sealed(
        self,
        rec: StoredRecord,
        record_hash: str,
        rejected: str | None,
        env: dict[str, Any] | None = None,
    ) -> Verdict:
        """Apply a record below a seal, trusting the auditor's verdicts: a record the seal lists
        as rejected is only remembered; any other is evolved after a chain check alone. A
        broken chain falls back to the full rule book, which names what is wrong. ``env`` is
        the record already decoded, where the caller needs it too."""
        if env is None:
            env = orjson.loads(rec.record)
        st = self.streams.get(rec.stream) or self.stream(rec.stream)
        if rejected is not None and rejected in Reason.__members__:
            st.seen_hashes.add(record_hash)
            verdict = reject(Reason(rejected), "listed in the seal")
            self.counts[verdict.outcome] += 1
            self.rejections.append(
                Judged(
                    rec.partition, rec.offset, rec.stream, env.get("id"), env.get("type"), verdict
                )
            )
            return verdict
        if env.get("prev") != st.head or env["id"] in st.seen_ids:
            return self.apply(rec, record_hash=record_hash)
        event_type, data = upcast(env["type"], env["data"])
        apply_accepted(st, env, event_type, data, record_hash, self.registry, rec.appended_at)
        self.counts[Outcome.accepted] += 1
        return ACCEPTED

    @property
    def first_tamper(self) -> Judged | None:
        return next((j for j in self.rejections if j.verdict.outcome is Outcome.tamper), None)

    def state_digest(self) -> str:
        """SHA-256 over every stream's summary, in stream order, plus the registry's."""
        h = hashlib.sha256()
        for name in sorted(self.streams):
            h.update(
                orjson.dumps([name, self.streams[name].summary()], option=orjson.OPT_SORT_KEYS)
            )
        return h.hexdigest()
