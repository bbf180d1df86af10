"""Signed registry files: how a key reaches the registry when the genesis key is offline.

Three places, three steps (``ledger keys``):

1. where the service runs, the body generates its key pair; only the public key leaves;
2. where the genesis key is held, its custodian signs the registry events — a deployment's
   registration, key, rights and configuration ownership, or a key added by rotation, or a
   revocation — into a file, without the log: the events are chained onto the registry head
   (version and hash) the log showed (``ledger keys list`` prints it), which is all the
   custodian needs to know of it;
3. where the log is, the file is appended, after the rule book has judged every record of it on
   a copy of the registry (the signature, the genesis key's right, the state): a file the rule
   book would refuse — signed by another key, altered, or made for a head the registry has
   since moved past — appends nothing, and says why.

The file is JSON: ``{"format", "kind", "deployment", "head": {"version", "hash"}, "records"}``,
each record the exact signed bytes (RFC 8785) as text.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from shared.crypto.signing import PublicKey, SigningKey
from shared.events.codec import record_hash
from shared.ledger.bootstrap import key_added_draft, registration_drafts
from shared.ledger.deployments import GENESIS_ACTOR, DeploymentSpec
from shared.ledger.reader import fold_stream, registry_fold
from shared.ledger.signer import Draft, Signer
from shared.log.port import EventLog
from shared.rules.registry import GENESIS_DEPLOYMENT, Registry
from shared.rules.stream import REGISTRY_STREAM, Parsed, admit, parse
from shared.rules.verdict import Reason, Verdict, reject

FORMAT = "supervision-ledger/registry-file/v1"
KINDS = ("registration", "key", "revocation")


class KeyFileError(ValueError):
    """The file is not a registry file (the message says what is wrong, never its content)."""


@dataclass(frozen=True)
class RegistryHead:
    """Where the registry stands: its version and the hash of the event that made it."""

    version: int
    hash: str | None

    @property
    def text(self) -> str:
        return f"{self.version}:{self.hash or '-'}"

    @classmethod
    def parse(cls, text: str) -> RegistryHead:
        version, _, digest = text.strip().partition(":")
        if not version.isdigit() or (digest != "-" and len(digest) != 64):
            raise KeyFileError("a registry head is VERSION:HASH, as `ledger keys list` prints it")
        if (int(version) == 0) != (digest == "-"):
            raise KeyFileError("version 0 has no hash ('0:-'); every later version has one")
        return cls(int(version), None if digest == "-" else digest)

    @classmethod
    def of(cls, registry: Registry) -> RegistryHead:
        return cls(registry.version, registry.hash_at(registry.version))


async def registry_head(log: EventLog, genesis: PublicKey) -> tuple[RegistryHead, Registry]:
    fold = await registry_fold(log, genesis)
    return RegistryHead.of(fold.registry), fold.registry


def sign_file(
    kind: str,
    deployment: str,
    drafts: Sequence[Draft],
    genesis_key: SigningKey,
    head: RegistryHead,
) -> dict[str, Any]:
    """Registry events signed by the genesis key, chained onto ``head``."""
    signer = Signer(GENESIS_DEPLOYMENT, genesis_key)
    signed = signer.sign_chain(
        REGISTRY_STREAM, list(drafts), head=head.hash, regseq=head.version, reghash=head.hash
    )
    return {
        "format": FORMAT,
        "kind": kind,
        "deployment": deployment,
        "head": {"version": head.version, "hash": head.hash},
        "records": [s.record.decode("utf-8") for s in signed],
    }


def registration_file(
    spec: DeploymentSpec,
    public: PublicKey,
    genesis_key: SigningKey,
    head: RegistryHead,
    *,
    key_only: bool = False,
) -> dict[str, Any]:
    """A deployment's registration (or, ``key_only``, one more key of a registered one)."""
    if key_only:
        return sign_file("key", spec.name, [key_added_draft(spec, public)], genesis_key, head)
    return sign_file(
        "registration", spec.name, registration_drafts(spec, public), genesis_key, head
    )


def revocation_file(
    spec: DeploymentSpec,
    kids: Sequence[str],
    reason: str,
    genesis_key: SigningKey,
    head: RegistryHead,
) -> dict[str, Any]:
    drafts = [
        Draft("ledger.registry.key_revoked.v1", {"kid": kid, "reason": reason}, GENESIS_ACTOR)
        for kid in kids
    ]
    return sign_file("revocation", spec.name, drafts, genesis_key, head)


def read_file(raw: bytes) -> list[bytes]:
    """The records of a registry file, or :class:`KeyFileError`."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise KeyFileError("not JSON") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise KeyFileError(f"not a registry file (format {FORMAT})")
    records = doc.get("records")
    if (
        doc.get("kind") not in KINDS
        or not isinstance(records, list)
        or not records
        or not all(isinstance(r, str) for r in records)
    ):
        raise KeyFileError("a registry file holds a kind and a non-empty list of records")
    return [r.encode("utf-8") for r in records]


@dataclass(frozen=True)
class FileOutcome:
    verdicts: list[Verdict]  # one per record judged (the first refusal ends the list)
    appended: bool

    @property
    def refused(self) -> Verdict | None:
        return next((v for v in self.verdicts if not v.accepted), None)


def judge(registry_state: Any, records: Sequence[bytes], now_us: int) -> list[Verdict]:
    """The rule book's verdict on each record, in order, on a copy of the registry stream's
    state (pure; stops at the first refusal)."""
    state = registry_state.copy()
    verdicts: list[Verdict] = []
    for rec in records:
        parsed = parse(rec, record_hash(rec))
        if not isinstance(parsed, Parsed):
            verdicts.append(parsed)
            break
        if parsed.env["subject"] != REGISTRY_STREAM:
            verdicts.append(reject(Reason.wrong_stream, "not a registry event"))
            break
        verdicts.append(admit(state, parsed, state.domain, appended_at=now_us))
        if not verdicts[-1].accepted:
            break
    return verdicts


async def append_file(log: EventLog, genesis: PublicKey, records: Sequence[bytes]) -> FileOutcome:
    """Judge the file's records against the registry now; if every one is accepted, append
    them and report each one's verdict as read back (a racing append may still win)."""
    fold = await registry_fold(log, genesis)
    verdicts = judge(fold.stream(REGISTRY_STREAM), records, int(time.time() * 1_000_000))
    if len(verdicts) < len(records) or not all(v.accepted for v in verdicts):
        return FileOutcome(verdicts, appended=False)
    positions = await log.append([(REGISTRY_STREAM, r) for r in records])
    seen: dict[tuple[int, int], Verdict] = {}
    await fold_stream(log, fold, REGISTRY_STREAM, observe=seen)
    missing = reject(Reason.malformed, "not read back")
    read_back = [seen.get((p.partition, p.offset), missing) for p in positions]
    return FileOutcome(read_back, appended=True)


def why(verdict: Verdict) -> str:
    """A refused record, in words an operator can act on."""
    if verdict.reason in (Reason.stale_prev, Reason.stale_registry):
        return (
            "the registry has moved on since the file was signed: sign it again against the "
            "head `ledger keys list` prints now"
        )
    if verdict.reason is Reason.unknown_prev:
        return "the file names a registry head this log never had (another log's, or altered)"
    if verdict.reason in (Reason.unknown_key, Reason.foreign_key, Reason.no_right):
        return "not signed by this log's genesis key"
    if verdict.reason is Reason.bad_signature:
        return "a record was altered after it was signed"
    if verdict.reason is Reason.replayed_id:
        return "already appended"
    return f"{verdict.reason}: {verdict.detail}"


def valid_keys_of(registry: Registry, deployment: str) -> list[str]:
    """The kids the registry holds valid for ``deployment`` now, oldest first."""
    v = registry.version
    return [
        kid
        for kid, e in sorted(registry.keys.items(), key=lambda item: item[1].added_at)
        if e.deployment == deployment and e.valid_at(v)
    ]
