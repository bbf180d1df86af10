"""The rule book's stream bookkeeping beyond the envelope checks of ``test_rules_stream``: the
well-known streams, a fresh stream's counters, and every required member missing."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from shared.events.codec import canonical
from shared.ledger.deployments import GENESIS_ACTOR
from shared.ledger.signer import Draft
from shared.rules.audit import AuditState
from shared.rules.stream import AUDIT_STREAM, REGISTRY_STREAM, StreamState, admit, parse
from shared.rules.verdict import Reason, Verdict
from tests.samples import OPENED, Judge, MemoryLedger, new_case

L = MemoryLedger(partitions=3)
J = Judge(L)


def _env() -> dict[str, Any]:
    (s,) = J.sign(new_case(), OPENED[:1])
    env: dict[str, Any] = orjson.loads(s.record)
    return env


def test_the_audit_and_registry_streams_are_their_own_kinds() -> None:
    audit = StreamState.empty(AUDIT_STREAM)
    assert audit.kind == "audit" and isinstance(audit.domain, AuditState)
    assert StreamState.empty(REGISTRY_STREAM).kind == "registry"


def test_a_fresh_stream_has_seen_nothing() -> None:
    st = StreamState.empty(new_case())
    assert (st.head, st.accepted, st.regseq, st.last_at) == (None, 0, 0, 0)
    assert st.seen_ids == set() and st.seen_hashes == set()


@pytest.mark.parametrize(
    "name", ["id", "source", "type", "subject", "time", "actor", "alg", "kid", "sig"]
)
def test_each_required_string_member_missing_is_malformed(name: str) -> None:
    env = _env()
    del env[name]
    p = parse(canonical(env), "h")
    assert isinstance(p, Verdict) and p.reason is Reason.malformed


def test_version_zero_has_no_hash_to_compare() -> None:
    """An event naming the empty registry (version 0) is judged on whatever its ``reghash``:
    the genesis key, which holds only the registry's right, writing to a case is a conflict
    (no right), not tampering; an intake key, not in the empty registry, is unknown there."""
    stream = new_case()
    d = Draft("ledger.complaint.withdrawn.v1", {"reason": "x"}, GENESIS_ACTOR)
    own = L.genesis_signer.sign(stream, d, prev=None, regseq=0, reghash="ab" * 32)
    verdicts, _ = J.run([(stream, own.record)])
    assert verdicts[0].reason is Reason.no_right
    (intake,) = J.sign(stream, OPENED[:1], regseq=0, reghash="ab" * 32)
    verdicts, _ = J.run([(stream, intake.record)])
    assert verdicts[0].reason is Reason.unknown_key


def test_from_version_one_on_the_named_hash_must_be_the_registrys() -> None:
    stream = new_case()
    fold = L.fold([])
    for v in (1, 2, L.regseq):
        (wrong,) = J.sign(stream, OPENED[:1], regseq=v, reghash="ab" * 32)
        verdicts, _ = J.run([(stream, wrong.record)])
        assert verdicts[0].reason is Reason.unknown_registry_version, v
    (right,) = J.sign(stream, OPENED[:1], regseq=1, reghash=fold.registry.hash_at(1))
    verdicts, _ = J.run([(stream, right.record)])
    assert verdicts[0].reason is Reason.unknown_key  # the hash holds; intake's key came later


def test_an_act_judged_without_a_log_time_is_at_time_zero() -> None:
    stream = new_case()
    (s,) = J.sign(stream, OPENED[:1])
    fold = L.fold([])
    st = StreamState.empty(stream)
    p = parse(s.record, s.hash)
    assert not isinstance(p, Verdict)
    assert admit(st, p, fold.registry).accepted
    assert st.last_at == 0 and st.accepted == 1
