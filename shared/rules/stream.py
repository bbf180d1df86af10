"""The rule book: whether one event is valid at its place in its stream.

``admit`` is the same in every reader (writers reading back, projectors, ``ledger verify``)
and looks at nothing outside the event's own stream — except the key registry at the version
the event names, which every reader has read that far before it applies the event.

Order of checks, so the same record always gets the same reason: form, registry version, key
(tampering) → replayed id → prev → registry version order → right → type and schema → the
stream kind's rules, which see the state, the payload and the act (who acted, for whom, which
deployment signed, the log time: ``act.Act``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from pydantic import ValidationError

from shared.crypto.signing import ALG, verify
from shared.events.catalog import family, payload_model
from shared.events.codec import CanonicalFormError, loads, signed_part
from shared.events.envelope import SPECVERSION, stream_kind
from shared.events.upcast import upcast
from shared.rules.act import Act, actor_parts
from shared.rules.kinds import KINDS, holds
from shared.rules.registry import KeyEntry, Registry
from shared.rules.verdict import ACCEPTED, Reason, Verdict, reject

REGISTRY_STREAM = "registry"
AUDIT_STREAM = "audit"  # digests and seals
_STR_MEMBERS = ("id", "source", "type", "subject", "time", "actor", "alg", "kid", "sig")


@dataclass
class StreamState:
    """What a reader keeps per stream: the chain head, what it has seen, the domain state."""

    stream: str
    kind: str
    head: str | None = None
    accepted: int = 0
    regseq: int = 0
    seen_ids: set[str] = field(default_factory=set)  # accepted event ids
    seen_hashes: set[str] = field(default_factory=set)  # every non-tampered record's hash
    domain: Any = None
    last_at: int = 0  # log time of the last accepted event

    @classmethod
    def empty(cls, stream: str) -> StreamState:
        kind = stream_kind(stream)
        k = KINDS.get(kind)
        if k is None:
            return cls(stream=stream, kind=kind)
        return cls(stream=stream, kind=kind, domain=k.empty())

    def copy(self) -> StreamState:
        """An independent copy a writer can judge a draft on, leaving the live state untouched.

        Domain states are immutable and shared, except the registry stream's (the registry
        itself), which is copied: pass the copy's ``domain`` as the registry to ``admit``.
        """
        domain = self.domain.copy() if isinstance(self.domain, Registry) else self.domain
        return StreamState(
            stream=self.stream,
            kind=self.kind,
            head=self.head,
            accepted=self.accepted,
            regseq=self.regseq,
            seen_ids=set(self.seen_ids),
            seen_hashes=set(self.seen_hashes),
            domain=domain,
            last_at=self.last_at,
        )

    def summary(self) -> dict[str, Any]:
        dom = self.domain.summary() if hasattr(self.domain, "summary") else None
        return {"head": self.head, "accepted": self.accepted, "regseq": self.regseq, "state": dom}


class Parsed(NamedTuple):
    """A stored record decoded once: its JSON and hash."""

    env: dict[str, Any]
    stored: bytes
    hash: str


def parse(stored: bytes, record_hash: str) -> Parsed | Verdict:
    try:
        env = loads(stored)
    except (ValueError, CanonicalFormError):
        return reject(Reason.malformed, "not a JSON object")
    get = env.get
    for name in _STR_MEMBERS:
        if type(get(name)) is not str:
            return reject(Reason.malformed, "a required member is missing or not a string")
    if env.get("specversion") != SPECVERSION or env["alg"] != ALG:
        return reject(Reason.malformed, "unsupported specversion or alg")
    if env.get("partitionkey") != env["subject"] or "/" not in env["actor"]:
        return reject(Reason.malformed, "partitionkey or actor malformed")
    regseq = env.get("regseq")
    if not isinstance(regseq, int) or isinstance(regseq, bool) or regseq < 0:
        return reject(Reason.malformed, "regseq missing")
    if not isinstance(env.get("data"), dict):
        return reject(Reason.malformed, "data is not an object")
    prev = env.get("prev")
    if prev is not None and not isinstance(prev, str):
        return reject(Reason.malformed, "prev is not a string")
    return Parsed(env, stored, record_hash)


def signing_version(env: dict[str, Any], registry: Registry) -> int:
    """The registry version whose keys judge this event's signature."""
    return registry.version if env["subject"] == REGISTRY_STREAM else int(env["regseq"])


def resolve_key(p: Parsed, registry: Registry) -> KeyEntry | Verdict:
    """The key that must have signed this event, or the tampering verdict."""
    env = p.env
    if env["subject"] != REGISTRY_STREAM:
        v = env["regseq"]
        if v > registry.version:
            return reject(Reason.unknown_registry_version, f"registry version {v} not in the log")
        if v > 0 and env.get("reghash") != registry.hash_at(v):
            return reject(Reason.unknown_registry_version, f"registry hash at {v} differs")
    key = registry.key_at(env["kid"], signing_version(env, registry))
    if key is None:
        return reject(Reason.unknown_key, "no such key at that registry version")
    if key.deployment != env["source"]:
        return reject(Reason.foreign_key, "key belongs to another deployment")
    if not registry.may_act_for(env["source"], actor_parts(env["actor"])[0]):
        return reject(Reason.foreign_key, "deployment may not act for this actor")
    return key


def check_signature(p: Parsed, key: KeyEntry) -> bool:
    try:
        message = signed_part(p.stored, p.env["sig"])
    except CanonicalFormError:
        return False
    return verify(key.public, message, p.env["sig"])


def admit(
    state: StreamState,
    p: Parsed,
    registry: Registry,
    *,
    signature_ok: bool | None = None,
    data_ok: bool | None = None,
    appended_at: int = 0,
) -> Verdict:
    """Judge one parsed record at its place in ``state``'s stream and, if accepted, apply it.

    ``signature_ok`` and ``data_ok`` carry checks already made (in parallel workers, which see
    the same bytes); None checks here. ``appended_at`` is the record's log time (µs), which
    rules such as "a timer fires only after its due time" read; a writer judging a draft on
    ``state.copy()`` passes the time it expects, and the read-back's verdict is what counts.
    On acceptance ``state`` (and the registry, for registry events) advances; otherwise
    nothing changes except that a non-tampered record's hash is remembered, so a later
    ``prev`` naming it reads as superseded, not as forged.
    """
    env = p.env
    key = resolve_key(p, registry)
    if isinstance(key, Verdict):
        return key
    ok = check_signature(p, key) if signature_ok is None else signature_ok
    if not ok:
        return reject(Reason.bad_signature, "signature does not verify")
    verdict = _judge_chain(state, env, registry)
    if verdict is None:
        try:
            event_type, data = upcast(env["type"], env["data"])
        except Exception:  # an upcaster that cannot read this payload
            verdict = reject(Reason.invalid_data, "payload cannot be upcast")
        else:
            verdict = _judge_payload(state, env, event_type, data, registry, data_ok, appended_at)
    if verdict.reason is Reason.unknown_prev:
        return verdict
    state.seen_hashes.add(p.hash)
    if not verdict.accepted:
        return verdict
    apply_accepted(state, env, event_type, data, p.hash, registry, appended_at)
    return ACCEPTED


def apply_accepted(
    state: StreamState,
    env: dict[str, Any],
    event_type: str,
    data: dict[str, Any],
    record_hash: str,
    registry: Registry,
    appended_at: int,
) -> None:
    """Advance a stream by an event known to be accepted (evolve is the only effect)."""
    kind = state.kind
    if kind == "registry":
        registry.apply(event_type, data, record_hash)
    else:
        k = KINDS[kind]
        domain = k.evolve(state.domain, event_type, data)
        state.domain = domain if k.noted is None else k.noted(domain, event_type, env["id"], data)
    state.head = record_hash
    state.seen_hashes.add(record_hash)
    state.accepted += 1
    state.seen_ids.add(env["id"])
    regseq = env["regseq"]
    if regseq > state.regseq:
        state.regseq = regseq
    state.last_at = appended_at


def _judge_chain(state: StreamState, env: dict[str, Any], registry: Registry) -> Verdict | None:
    """Replay, chain, registry order and right; None when all hold."""
    if env["id"] in state.seen_ids:
        return reject(Reason.replayed_id, "event id already accepted in this stream")
    prev = env.get("prev")
    if prev != state.head:
        if prev is None or prev in state.seen_hashes:
            return reject(Reason.stale_prev, "prev names a superseded event")
        return reject(Reason.unknown_prev, "prev names a hash not in this stream")
    if env["regseq"] < state.regseq:
        return reject(Reason.stale_registry, "names an older registry version than the stream")
    event_type = env["type"]
    if not registry.has_right(env["source"], event_type, signing_version(env, registry)):
        return reject(Reason.no_right, f"{env['source']} may not write {event_type}")
    return None


def check_payload(event_type: str, data: dict[str, Any]) -> Reason:
    """The stateless payload check (type known, schema valid), as workers run it in parallel."""
    model = payload_model(event_type)
    if model is None:
        return Reason.unknown_type
    try:
        model.model_validate(data)
    except ValidationError:
        return Reason.invalid_data
    return Reason.ok


@lru_cache(maxsize=1024)  # (stream kind, event type) pairs are few: decide each once
def _holds(kind: str, event_type: str) -> bool:
    return holds(kind, event_type, family(event_type))


def _judge_payload(
    state: StreamState,
    env: dict[str, Any],
    event_type: str,
    data: dict[str, Any],
    registry: Registry,
    data_ok: bool | None,
    appended_at: int,
) -> Verdict:
    if payload_model(event_type) is None:
        return reject(Reason.unknown_type, event_type)
    if not _holds(state.kind, event_type):
        return reject(Reason.wrong_stream, f"{event_type} does not belong in a {state.kind} stream")
    if data_ok is None:
        data_ok = check_payload(event_type, data) is Reason.ok
    if not data_ok:
        return reject(Reason.invalid_data, "payload fails its schema")
    actor = env["actor"]
    org, person = actor_parts(actor)
    act = Act(
        actor,
        org,
        person,
        env["source"],
        appended_at,
        env["regseq"],
        registry,
        state.stream,
    )
    refused = KINDS[state.kind].check(state.domain, event_type, data, act)
    return ACCEPTED if refused is None else refused
