"""``ledger verify``: prove the log intact, or name every bad event.

Nothing stored is trusted that verify did not derive from the signed bytes or check against
them:

- every stored row is judged in position order (the registry's rows included), whatever the
  heads table says; the columns derived from the bytes (stream, stream key, partition) are
  recomputed and a row whose columns disagree is named;
- the rows are compared with the heads (rows missing at the tail, rows beyond the head, holes),
  log time is checked to be monotonic per partition, and the heads' own columns are re-derived;
- partition digests are recomputed and compared with every digest and seal in the log's audit
  stream and every copy kept outside it (a copy that does not parse or verify is an alarm);
- an event signed with a key after that key's revocation was appended (by log time) is named,
  although live readers, judging by the registry version the event names, accepted it;
- a row with a column of the wrong type is named as malformed, never a traceback.

Signatures are checked in worker processes (every core), chunk by chunk; the fold — chains,
rights, states — runs in order in the calling process (``workers=0``: all in-process).
An auditor may acknowledge named bad events (``ledger acknowledge``): they are still listed,
and verify passes once every bad event is acknowledged.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from shared.crypto.chain import ZERO, PartitionDigest
from shared.crypto.signing import PublicKey, unb64u
from shared.events.codec import signed_part
from shared.events.partitioner import partition_for
from shared.events.upcast import upcast
from shared.ledger.digests import DigestClaim, claims_in_dir, claims_in_fold
from shared.ledger.reader import fold_stream
from shared.log.port import EventLog, StoredRecord, read_all
from shared.log.sqlite import OFFSET_BITS, OFFSET_MASK, LogStorageError, stream_key
from shared.rules.audit import AuditState
from shared.rules.fold import Judged, LedgerFold, without_cyclic_gc
from shared.rules.stream import AUDIT_STREAM, REGISTRY_STREAM, Parsed, check_payload, parse
from shared.rules.verdict import ACCEPTED, Outcome, Reason, Verdict

# ---- worker side ----------------------------------------------------------------------------

_KEYS: dict[str, Ed25519PublicKey] = {}


def _init_worker(keys: dict[str, bytes]) -> None:
    _KEYS.clear()
    _KEYS.update({kid: Ed25519PublicKey.from_public_bytes(raw) for kid, raw in keys.items()})


Checked = tuple[str, bool, bool | None]


def _check_chunk(records: list[bytes]) -> list[Checked]:
    """The stateless checks of each record, made in parallel: (hash, signature verifies with
    the key its kid names, payload passes its schema — None if it could not be read)."""
    out: list[Checked] = []
    for stored in records:
        h = hashlib.sha256(stored).hexdigest()
        ok = False
        data_ok: bool | None = None
        try:
            env = orjson.loads(stored)
            key = _KEYS.get(env["kid"])
            if key is not None:
                key.verify(unb64u(env["sig"]), signed_part(stored, env["sig"]))
                ok = True
            data_ok = check_payload(*upcast(env["type"], env["data"])) is Reason.ok
        except Exception:  # malformed or forged: the fold names the reason
            pass
        out.append((h, ok, data_ok))
    return out


# ---- what the file holds --------------------------------------------------------------------


@runtime_checkable
class StoredFile(Protocol):
    """A log whose storage verify can read exactly as stored (the embedded SQLite log)."""

    async def stored_rows(self, after: int | None, limit: int) -> list[tuple[Any, ...]]: ...

    async def stored_heads(self) -> list[tuple[Any, ...]]: ...


Row = tuple[Any, Any, Any, Any, Any]  # (pos, stream key or None, stream, log time, record)
_Placed = tuple[int, int, int, str | None]  # (partition, offset, log time, hash or None)


async def _rows(log: EventLog, chunk: int) -> AsyncIterator[list[Row]]:
    """Every stored row in position order, chunk by chunk, nothing converted."""
    if isinstance(log, StoredFile):
        after: int | None = None
        while True:
            rows = await log.stored_rows(after, chunk)
            if not rows:
                return
            after = rows[-1][0]
            yield rows
    else:  # a log that keeps no derived index columns (Kafka: the key is the stream)
        batch: list[Row] = []
        async for rec in read_all(log, chunk=chunk):
            batch.append(
                (
                    (rec.partition << OFFSET_BITS) + rec.offset,
                    None,
                    rec.stream,
                    rec.appended_at,
                    rec.record,
                )
            )
            if len(batch) >= chunk:
                yield batch
                batch = []
        if batch:
            yield batch


# ---- the report -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """Something stored that no honest writer leaves: named at its partition (and offset)."""

    partition: int | None
    offset: int | None
    kind: str  # columns | beyond head | missing at tail | log time | heads | malformed | ...
    detail: str
    stream: str | None = None
    event_id: str | None = None
    record_hash: str = ""
    reason: Reason = Reason.malformed  # the rule book's nearest reason, as a seal lists it

    def where(self) -> str:
        if self.partition is None:
            return "the log file"
        at = f"partition {self.partition}"
        return at if self.offset is None else f"{at} offset {self.offset}"


@dataclass
class DigestFailure:
    partition: int
    count: int
    source: str
    reason: str  # "tail cut off" | "content differs" | "records missing"


@dataclass
class VerifyReport:
    fold: LedgerFold
    positions: dict[int, int]
    digests: dict[int, PartitionDigest]
    digest_failures: list[DigestFailure] = field(default_factory=list)
    claims_checked: int = 0
    findings: list[Finding] = field(default_factory=list)
    copy_problems: list[str] = field(default_factory=list)  # outside digest copies: alarms
    acknowledged: dict[tuple[int, int], str] = field(default_factory=dict)  # (p, o) -> hash
    tamper_hashes: dict[tuple[int, int], str] = field(default_factory=dict)

    def _acked(self, partition: int | None, offset: int | None, record_hash: str) -> bool:
        if partition is None or offset is None:
            return False
        return self.acknowledged.get((partition, offset)) == record_hash

    def judged_acknowledged(self, j: Judged) -> bool:
        return self._acked(
            j.partition, j.offset, self.tamper_hashes.get((j.partition, j.offset), "")
        )

    def finding_acknowledged(self, f: Finding) -> bool:
        return self._acked(f.partition, f.offset, f.record_hash)

    def failure_acknowledged(self, f: DigestFailure) -> bool:
        """A digest over a partition that holds an acknowledged bad position differs for it."""
        return any(p == f.partition and o <= f.count for p, o in self.acknowledged)

    @property
    def all_tampered(self) -> list[Judged]:
        return [j for j in self.fold.rejections if j.verdict.outcome is Outcome.tamper]

    @property
    def tampered(self) -> list[Judged]:
        """Tampered records not acknowledged by the auditor."""
        return [j for j in self.all_tampered if not self.judged_acknowledged(j)]

    @property
    def open_findings(self) -> list[Finding]:
        return [f for f in self.findings if not self.finding_acknowledged(f)]

    @property
    def open_digest_failures(self) -> list[DigestFailure]:
        return [f for f in self.digest_failures if not self.failure_acknowledged(f)]

    @property
    def conflicts(self) -> list[Judged]:
        return [j for j in self.fold.rejections if j.verdict.outcome is Outcome.conflict]

    @property
    def ok(self) -> bool:
        return not (
            self.tampered or self.open_digest_failures or self.open_findings or self.copy_problems
        )

    @property
    def records(self) -> int:
        """Records stored in the log's partitions (what the digests cover)."""
        return sum(d.count for d in self.digests.values())

    def sealed_rejections(self) -> list[list[Any]]:
        """What a seal lists, for rebuilds trusting it to skip: the normal conflicts, and every
        acknowledged bad record with the rule book's nearest reason."""
        out: dict[tuple[int, int], str] = {
            (j.partition, j.offset): str(j.verdict.reason) for j in self.conflicts
        }
        for j in self.all_tampered:
            out[(j.partition, j.offset)] = str(j.verdict.reason)
        for f in self.findings:
            if f.partition is not None and f.offset is not None and f.record_hash:
                out.setdefault((f.partition, f.offset), str(f.reason))
        return [[p, o, r] for (p, o), r in sorted(out.items())]


Progress = Callable[[int], None]


# ---- the passes -----------------------------------------------------------------------------


@dataclass
class _Pass:
    """What the main pass carries from chunk to chunk."""

    fold: LedgerFold
    partitions: int
    head: dict[int, int]
    digests: dict[int, PartitionDigest]
    last_at: dict[int, int]
    revoked_at: dict[str, int]
    wanted: dict[int, dict[int, list[DigestClaim]]]
    report: VerifyReport
    matched: set[tuple[int, int]] = field(default_factory=set)


async def verify_log(
    log: EventLog,
    genesis: PublicKey,
    *,
    digest_dirs: list[Path] | None = None,
    require_copies: list[Path] | None = None,
    workers: int | None = None,
    chunk: int = 2000,
    progress: Progress | None = None,
) -> VerifyReport:
    """Verify everything stored. ``digest_dirs``: outside copies to check when present;
    ``require_copies``: directories that must hold at least one valid copy."""
    n = log.partitions
    findings: list[Finding] = []
    head = await _heads(log)
    fold = LedgerFold.rooted_in(genesis, n)
    revoked_at: dict[str, int] = {}
    await _registry_pass(log, fold, head, revoked_at, findings)
    audit = await _audit_pass(log, fold, head, genesis, findings)
    digests = {p: PartitionDigest(p) for p in range(n)}
    report = VerifyReport(fold, dict(head), digests, findings=findings)
    claims = claims_in_fold(audit) + _seal_claims(audit)
    for d in list(digest_dirs or []) + list(require_copies or []):
        found, problems = claims_in_dir(d, fold)
        claims.extend(found)
        report.copy_problems.extend(problems)
        if d in (require_copies or []) and not found:
            report.copy_problems.append(f"{d}: no valid digest copy (at least one is required)")
    st = audit.streams.get(AUDIT_STREAM)
    if st is not None and isinstance(st.domain, AuditState):
        report.acknowledged = {(p, o): h for p, o, h in st.domain.acknowledged}
    report.claims_checked = len(claims)
    wanted: dict[int, dict[int, list[DigestClaim]]] = {}
    for c in claims:
        if 0 <= c.partition < n:
            wanted.setdefault(c.partition, {}).setdefault(c.count, []).append(c)
        else:
            report.digest_failures.append(
                DigestFailure(c.partition, c.count, c.source, "no such partition")
            )
    for p, by_count in wanted.items():  # a digest of no records: the zero digest
        for c in by_count.pop(0, []):
            if c.digest != ZERO:
                report.digest_failures.append(DigestFailure(p, 0, c.source, "content differs"))
    state = _Pass(fold, n, head, digests, {p: 0 for p in range(n)}, revoked_at, wanted, report)
    keys = {kid: e.public.public_bytes_raw() for kid, e in fold.registry.keys.items()}
    with without_cyclic_gc():
        await _main_pass(log, state, keys, workers, chunk, progress)
    _after_pass(state, await _stored_heads(log))
    return report


async def _heads(log: EventLog) -> dict[int, int]:
    """The heads to bound the registry and audit reads by (where the table is unreadable:
    everything stored); the table itself is judged after the main pass."""
    unbounded = 1 << OFFSET_BITS
    head = {p: unbounded for p in range(log.partitions)}
    if isinstance(log, StoredFile):
        for row in await log.stored_heads():
            if all(type(v) is int for v in row) and row[0] in head:
                head[row[0]] = row[1]
        return head
    return dict(await log.head())


async def _stored_heads(log: EventLog) -> list[tuple[Any, ...]] | None:
    return await log.stored_heads() if isinstance(log, StoredFile) else None


async def _registry_pass(
    log: EventLog,
    fold: LedgerFold,
    head: dict[int, int],
    revoked_at: dict[str, int],
    findings: list[Finding],
) -> None:
    """Fold the registry first (every later event names a version of it), noting the log time
    at which each key's revocation was appended."""
    try:
        async for rec in log.read_stream(REGISTRY_STREAM, until=head):
            verdict = fold.apply(rec)
            if verdict.accepted and b"key_revoked" in rec.record:
                env = orjson.loads(rec.record)
                if env.get("type") == "ledger.registry.key_revoked.v1":
                    revoked_at.setdefault(str(env["data"]["kid"]), rec.appended_at)
    except LogStorageError as exc:
        findings.append(Finding(None, None, "malformed", f"registry stream: {exc}"))


async def _audit_pass(
    log: EventLog,
    fold: LedgerFold,
    head: dict[int, int],
    genesis: PublicKey,
    findings: list[Finding],
) -> LedgerFold:
    """The audit stream (digests, seals, acknowledgements), fully checked, in a fold of its
    own that shares the registry: its claims are known before the main pass compares."""
    probe = LedgerFold(
        registry=fold.registry,
        partitions=fold.partitions,
        genesis=genesis,
        streams={REGISTRY_STREAM: fold.streams[REGISTRY_STREAM]},
    )
    try:
        await fold_stream(log, probe, AUDIT_STREAM, until=head)
    except LogStorageError as exc:
        findings.append(Finding(None, None, "malformed", f"audit stream: {exc}"))
    return probe


def _seal_claims(audit: LedgerFold) -> list[DigestClaim]:
    st = audit.streams.get(AUDIT_STREAM)
    if st is None or not isinstance(st.domain, AuditState):
        return []
    return [DigestClaim(p, c, d, "seal") for p, c, d in st.domain.sealed_digests]


async def _main_pass(
    log: EventLog,
    state: _Pass,
    keys: dict[str, bytes],
    workers: int | None,
    chunk: int,
    progress: Progress | None,
) -> None:
    nworkers = (len(os.sched_getaffinity(0)) or 1) if workers is None else workers
    pool = (
        ProcessPoolExecutor(nworkers, initializer=_init_worker, initargs=(keys,))
        if nworkers > 0
        else None
    )
    if pool is None:
        _init_worker(keys)
    try:
        pending = None
        # Check chunk n in the workers while chunk n-1 is folded here.
        async for rows in _rows(log, chunk):
            recs, placed = _admit_rows(state, rows)
            if pool is None:
                parts = [recs]
                done: list[Future[list[Checked]]] = [Future()]
                done[0].set_result(_check_chunk([r.record for r in recs]))
            else:
                parts = _split(recs, nworkers)
                done = [pool.submit(_check_chunk, [r.record for r in part]) for part in parts]
            if pending is not None:
                _fold_checked(state, *pending)
            if progress:
                progress(len(rows))
            pending = (placed, parts, done)
        if pending is not None:
            _fold_checked(state, *pending)
    finally:
        if pool is not None:
            pool.shutdown()


def _split(batch: list[StoredRecord], n: int) -> list[list[StoredRecord]]:
    size = max(1, -(-len(batch) // n))
    return [batch[i : i + size] for i in range(0, len(batch), size)]


def _admit_rows(state: _Pass, rows: list[Row]) -> tuple[list[StoredRecord], list[_Placed]]:
    """Judge each row's place and column types, in position order; the well-formed rows within
    the log's partitions and heads go on to the signature and rule checks. Returns them and
    every row's place for the digests (hash None: the workers' hash of the next record)."""
    out: list[StoredRecord] = []
    placed: list[_Placed] = []
    report, n, last_at = state.report, state.partitions, state.last_at
    for pos, skey, stream, at, record in rows:
        p, off = pos >> OFFSET_BITS, pos & OFFSET_MASK
        if not 0 <= p < n:
            report.findings.append(
                Finding(
                    None,
                    None,
                    "outside partitions",
                    f"a row at position {pos} is in no partition of the log",
                )
            )
            continue
        bad = _wrong_types(skey, stream, at, record)
        beyond = off >= state.head.get(p, 0)
        backwards = type(at) is int and at < last_at[p]
        if not (bad or beyond or backwards):
            last_at[p] = at
            placed.append((p, off, at, None))
            out.append(StoredRecord(p, off, stream, at, record))
            if skey is not None and skey != stream_key(stream):
                report.findings.append(
                    Finding(
                        p,
                        off,
                        "columns",
                        "skey (the stream index key)",
                        stream,
                        None,
                        hashlib.sha256(record).hexdigest(),
                        Reason.wrong_partition,
                    )
                )
            continue
        record_hash = hashlib.sha256(record).hexdigest() if type(record) is bytes else ""
        if bad:
            report.findings.append(Finding(p, off, "malformed", bad, record_hash=record_hash))
            if type(at) is not int:
                at = last_at[p]
        if beyond:
            report.findings.append(
                Finding(
                    p,
                    off,
                    "beyond head",
                    f"a row at or beyond the head ({state.head.get(p, 0)})",
                    record_hash=record_hash,
                    reason=Reason.wrong_partition,
                )
            )
        if backwards:
            report.findings.append(
                Finding(
                    p,
                    off,
                    "log time",
                    "log time moved backwards",
                    record_hash=record_hash,
                    reason=Reason.wrong_partition,
                )
            )
        last_at[p] = at
        placed.append(
            (p, off, at, record_hash or hashlib.sha256(repr(record).encode()).hexdigest())
        )
        if not (bad or beyond):  # log time alone: the record is still judged
            out.append(StoredRecord(p, off, stream, at, record))
            placed[-1] = (p, off, at, None)
    return out, placed


def _digest_rows(state: _Pass, placed: list[_Placed], hashes: Iterator[str]) -> None:
    """Advance each partition's rolling digest over the rows in position order, comparing it
    with every claim at the count it reaches."""
    report, digests, wanted = state.report, state.digests, state.wanted
    for p, off, at, h in placed:
        d = digests[p]
        if off != d.count:  # a hole in the partition: records were removed
            report.digest_failures.append(DigestFailure(p, d.count, "log", "records missing"))
        d.add(off, at, next(hashes) if h is None else h)
        claims = wanted.get(p)
        if claims is not None and d.count in claims:
            state.matched.add((p, d.count))
            for c in claims[d.count]:
                if c.digest != d.digest:
                    report.digest_failures.append(
                        DigestFailure(p, c.count, c.source, "content differs")
                    )


def _wrong_types(skey: Any, stream: Any, at: Any, record: Any) -> str:
    if (
        type(record) is bytes
        and type(stream) is str
        and type(at) is int
        and (skey is None or type(skey) is int)
    ):
        return ""  # every honest row
    for name, value, kind in (
        ("record", record, bytes),
        ("stream", stream, str),
        ("appended_at", at, int),
        ("skey", skey, int),
    ):
        if type(value) is not kind and not (name == "skey" and value is None):
            return f"column {name} holds {type(value).__name__}, not {kind.__name__}"
    return ""


def _fold_checked(
    state: _Pass,
    placed: list[_Placed],
    parts: list[list[StoredRecord]],
    done: list[Future[list[Checked]]],
) -> None:
    fold, report, n = state.fold, state.report, state.partitions
    results = [fut.result() for fut in done]
    _digest_rows(state, placed, (c[0] for checked in results for c in checked))
    for part, checked in zip(parts, results, strict=True):
        for rec, (h, ok, data_ok) in zip(part, checked, strict=True):
            parsed: Parsed | Verdict = parse(rec.record, h)
            if isinstance(parsed, Parsed):
                env = parsed.env
                subject = env["subject"]
                wrong = _derived_mismatch(rec, subject, n)
                if wrong:
                    report.findings.append(
                        Finding(
                            rec.partition,
                            rec.offset,
                            "columns",
                            wrong,
                            rec.stream,
                            env.get("id"),
                            h,
                            Reason.wrong_partition,
                        )
                    )
                elif subject == REGISTRY_STREAM:
                    continue  # folded first, in order, with its own signature checks
            verdict = fold.apply(
                rec, record_hash=h, signature_ok=ok, data_ok=data_ok, parsed=parsed
            )
            if verdict is not ACCEPTED and verdict.outcome is Outcome.tamper:
                report.tamper_hashes[(rec.partition, rec.offset)] = h
            elif isinstance(parsed, Parsed):
                revoked = state.revoked_at.get(parsed.env["kid"])
                if revoked is not None and rec.appended_at > revoked:
                    report.findings.append(
                        Finding(
                            rec.partition,
                            rec.offset,
                            "revoked key",
                            f"signed with key {parsed.env['kid']} after its revocation was "
                            "appended (by log time)",
                            rec.stream,
                            parsed.env.get("id"),
                            h,
                            Reason.unknown_key,
                        )
                    )


def _derived_mismatch(rec: StoredRecord, subject: str, partitions: int) -> str:
    """Which stored columns disagree with what the signed bytes say (empty: none)."""
    if rec.stream == subject and partition_for(subject, partitions) == rec.partition:
        return ""  # every honest row
    wrong = []
    if rec.stream != subject:
        wrong.append("stream")
    if partition_for(subject, partitions) != rec.partition:
        wrong.append("partition")
    return ", ".join(wrong)


def _after_pass(state: _Pass, stored_heads: list[tuple[Any, ...]] | None) -> None:
    """Rows against heads, claims never reached, and the heads' own columns re-derived."""
    report, n = state.report, state.partitions
    for p, by_count in state.wanted.items():
        for count, claims in by_count.items():
            if (p, count) in state.matched:
                continue
            why = "tail cut off" if count > state.digests[p].count else "content differs"
            report.digest_failures.extend(DigestFailure(p, c.count, c.source, why) for c in claims)
    if stored_heads is None:
        return
    seen: set[int] = set()
    for row in stored_heads:
        if not all(type(v) is int for v in row):
            report.findings.append(
                Finding(
                    row[0] if type(row[0]) is int else None,
                    None,
                    "heads",
                    f"heads row {row[0]!r}: a column is not an integer",
                )
            )
            continue
        p, nxt, last_at = row
        if not 0 <= p < n:
            report.findings.append(
                Finding(
                    p,
                    None,
                    "heads",
                    "the heads table names this partition, which the log does not have",
                )
            )
            continue
        seen.add(p)
        d = state.digests[p]
        if nxt > d.count:
            report.findings.append(
                Finding(
                    p,
                    d.count,
                    "missing at tail",
                    f"the head says {nxt} records, the partition holds {d.count}",
                )
            )
        expected_at = state.last_at[p] if d.count else 0
        if last_at != expected_at:
            report.findings.append(
                Finding(p, None, "heads", "the head's last log time is not its last record's")
            )
    for p in range(n):
        if p not in seen:
            report.findings.append(Finding(p, None, "heads", "the heads table has no row for it"))
