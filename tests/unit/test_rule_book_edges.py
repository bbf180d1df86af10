"""The rule book at its edges, each on a signed record: a type the catalog does not know, a
stream of no known kind, a signature that cannot be cut out of the record, and the pause of the
cyclic collector around a whole-log fold."""

from __future__ import annotations

import gc
from typing import Any

import orjson

from shared.events.codec import canonical
from shared.rules.fold import without_cyclic_gc
from shared.rules.kinds import holds
from shared.rules.registry import KeyEntry
from shared.rules.stream import check_payload, check_signature, parse, resolve_key
from shared.rules.verdict import Outcome, Reason, Verdict
from tests.samples import OPENED, Judge, MemoryLedger, new_case

L = MemoryLedger(partitions=3)
J = Judge(L)


def _resigned(stream: str, change: dict[str, Any], signer: str = "intake") -> bytes:
    """The first sample event of a case, changed and signed again by its own deployment."""
    (s,) = J.sign(new_case(), OPENED[:1])
    env = orjson.loads(s.record)
    env.update(change)
    env["subject"] = env["partitionkey"] = stream
    del env["sig"]
    env["sig"] = L.keys[signer].sign(canonical(env))
    return canonical(env)


def test_a_type_the_catalog_does_not_know_is_a_conflict_named_unknown_type() -> None:
    stream = new_case()
    record = _resigned(stream, {"type": "ledger.complaint.rumoured.v1"})  # intake's right
    (v,), fold = J.run([(stream, record)])
    assert v.reason is Reason.unknown_type and v.outcome is Outcome.conflict
    assert fold.streams[stream].accepted == 0
    assert check_payload("ledger.complaint.rumoured.v1", {}) is Reason.unknown_type
    assert check_payload("ledger.complaint.withdrawn.v1", {"reason": "x"}) is Reason.ok
    assert check_payload("ledger.complaint.withdrawn.v1", {}) is Reason.invalid_data


def test_a_stream_of_no_known_kind_holds_nothing() -> None:
    assert holds("no-such-kind", "ledger.complaint.received.v1", "complaint") is False
    assert holds("no-such-kind", "ledger.audit.digest_recorded.v1", "no-such-kind") is False
    stream = "notes-00000000-0000-4000-8000-000000000001"
    (v,), _ = J.run([(stream, _resigned(stream, {}))])
    assert v.reason is Reason.wrong_stream and v.outcome is Outcome.conflict


def test_a_signature_that_cannot_be_cut_out_of_the_record_does_not_verify() -> None:
    stream = new_case()
    env = orjson.loads(_resigned(stream, {}))
    env["sig"] = 'a"b'  # stored escaped: the signed part cannot be found by its bytes
    (v,), fold = J.run([(stream, canonical(env))])
    assert v.reason is Reason.bad_signature and v.outcome is Outcome.tamper
    p = parse(canonical(env), "h")
    assert not isinstance(p, Verdict)
    key = resolve_key(p, fold.registry)
    assert isinstance(key, KeyEntry)
    assert check_signature(p, key) is False


def test_the_collector_is_paused_during_a_whole_log_fold_and_restored_after() -> None:
    assert gc.isenabled()
    with without_cyclic_gc():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with without_cyclic_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()
