"""The rule book's envelope checks (``stream.parse``), the key a record must be signed with
(``resolve_key``), and where a record must lie: each malformation named, each on a real record."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from shared.events.codec import canonical
from shared.rules.stream import StreamState, parse
from shared.rules.verdict import Outcome, Reason, Verdict
from tests.samples import OPENED, Judge, MemoryLedger, new_case, step

L = MemoryLedger(partitions=3)
J = Judge(L)


def _env() -> dict[str, Any]:
    (s,) = J.sign(new_case(), OPENED[:1])
    env: dict[str, Any] = orjson.loads(s.record)
    return env


def _reason(env: dict[str, Any]) -> Reason | None:
    p = parse(canonical(env), "h")
    return p.reason if isinstance(p, Verdict) else None


def test_a_well_formed_record_parses() -> None:
    env = _env()
    p = parse(canonical(env), "h")
    assert not isinstance(p, Verdict)
    assert p.env == env and p.hash == "h" and p.stored == canonical(env)
    assert _reason({**env, "prev": "a" * 64}) is None
    assert _reason({**env, "regseq": 0}) is None


@pytest.mark.parametrize(
    "change",
    [
        {"id": 7},
        {"source": None},
        {"type": ["x"]},
        {"subject": 1},
        {"time": None},
        {"actor": 1},
        {"alg": None},
        {"kid": 0},
        {"sig": None},
        {"specversion": "0.3"},
        {"alg": "rsa"},
        {"partitionkey": "other-stream"},
        {"actor": "no-slash"},
        {"regseq": -1},
        {"regseq": "3"},
        {"regseq": True},
        {"regseq": None},
        {"data": []},
        {"data": "x"},
        {"prev": 5},
    ],
)
def test_a_malformed_envelope_is_named_malformed(change: dict[str, Any]) -> None:
    assert _reason({**_env(), **change}) is Reason.malformed


def test_a_member_missing_is_malformed() -> None:
    for name in ("id", "source", "type", "subject", "actor", "sig", "data", "regseq"):
        env = _env()
        del env[name]
        assert _reason(env) is Reason.malformed, name


def test_bytes_that_are_no_json_object_are_malformed() -> None:
    for stored in (b"not json", b"[1, 2]", b""):
        p = parse(stored, "h")
        assert isinstance(p, Verdict) and p.reason is Reason.malformed


def test_a_record_away_from_its_streams_partition_is_tampering() -> None:
    stream = new_case()
    (s,) = J.sign(stream, OPENED[:1])
    (rec,) = L.place([(stream, s.record)])
    fold = L.fold([])
    moved = type(rec)((rec.partition + 1) % 3, rec.offset, stream, rec.appended_at, rec.record)
    v = fold.apply(moved)
    assert v.reason is Reason.wrong_partition and v.outcome is Outcome.tamper
    other = new_case()
    elsewhere = type(rec)(rec.partition, rec.offset, other, rec.appended_at, rec.record)
    assert fold.apply(elsewhere).reason is Reason.wrong_partition
    j = fold.rejections[0]
    assert (j.event_id, j.event_type) == (s.id, "ledger.complaint.received.v1")
    assert fold.apply(rec).accepted
    assert fold.counts[Outcome.tamper] == 2 and fold.counts[Outcome.accepted] > 0


def test_a_malformed_record_in_the_fold_names_no_event() -> None:
    stream = new_case()
    (rec,) = L.place([(stream, b"{}")])
    fold = L.fold([])
    v = fold.apply(rec)
    assert v.reason is Reason.malformed and fold.first_tamper is not None
    assert fold.first_tamper.event_id is None and fold.first_tamper.event_type is None


def test_the_stream_summary_and_empty_states() -> None:
    st = StreamState.empty(new_case())
    assert st.kind == "case" and st.domain is not None and st.head is None
    assert st.summary() == {"head": None, "accepted": 0, "regseq": 0, "state": st.domain.summary()}
    odd = StreamState.empty("no-such-kind-of-stream")
    assert odd.domain is None and odd.summary()["state"] is None


def test_a_stream_remembers_the_highest_registry_version_and_the_log_time() -> None:
    stream = new_case()
    signed = J.sign(stream, OPENED)
    recs = L.place([(stream, s.record) for s in signed])
    fold = L.fold([])
    for r in recs:
        assert fold.apply(r).accepted
    st = fold.streams[stream]
    assert st.regseq == L.regseq and st.accepted == 2 and st.head == signed[-1].hash
    assert st.last_at == recs[-1].appended_at and st.seen_ids == {s.id for s in signed}
    # an event naming an older registry version than the stream's is a conflict
    at = L.regseq - 1  # the dispatch deployment's key is valid there too
    assigned = [step("ledger.dispatch.assigned.v1")]
    older = J.sign(stream, assigned, head=signed[-1].hash, regseq=at, reghash="0" * 64)
    (rec,) = L.place([(stream, older[0].record)])
    assert fold.apply(rec).reason is Reason.unknown_registry_version  # the hash is wrong
    hashed = fold.registry.hash_at(at)
    older = J.sign(stream, assigned, head=signed[-1].hash, regseq=at, reghash=hashed)
    (rec,) = L.place([(stream, older[0].record)])
    assert fold.apply(rec).reason is Reason.stale_registry
    ahead = J.sign(stream, assigned, head=signed[-1].hash, regseq=L.regseq + 1)
    (rec,) = L.place([(stream, ahead[0].record)])
    assert fold.apply(rec).reason is Reason.unknown_registry_version
    assert st.accepted == 2
