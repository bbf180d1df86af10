"""Replay below a seal (``LedgerFold.apply_sealed``): the auditor's verdicts are trusted, the
chain is still checked, and a broken chain falls back to the full rule book."""

from __future__ import annotations

import orjson

from shared.ledger.signer import Draft
from shared.rules.verdict import ACCEPTED, Outcome, Reason
from tests.samples import (
    ASSIGNED,
    CLAIMED,
    CLERK,
    OPENED,
    SAMPLES,
    Judge,
    MemoryLedger,
    new_case,
    step,
)

L = MemoryLedger(partitions=3)
J = Judge(L)


def _records(stream: str, steps):  # type: ignore[no-untyped-def]
    signed = J.sign(stream, steps)
    return signed, L.place([(stream, s.record) for s in signed])


def test_sealed_replay_of_an_accepted_history_is_the_full_replay() -> None:
    stream = new_case()
    signed, recs = _records(stream, CLAIMED)
    full = L.fold([])
    assert all(full.apply(r).accepted for r in recs)
    sealed, sealed_env = L.fold([]), L.fold([])
    for s, r in zip(signed, recs, strict=True):
        assert sealed.apply_sealed(r, s.hash, None) is ACCEPTED
        env = orjson.loads(r.record)
        assert sealed_env.apply_sealed(r, s.hash, None, env) is ACCEPTED
    for fold in (sealed, sealed_env):
        assert fold.state_digest() == full.state_digest()
        assert fold.counts[Outcome.accepted] == full.counts[Outcome.accepted]
        st = fold.streams[stream]
        assert st.head == signed[-1].hash and st.accepted == len(CLAIMED)
        assert st.seen_ids == {s.id for s in signed}
        assert st.last_at == recs[-1].appended_at
        assert st.domain.status == "claimed"
        assert fold.rejections == []


def test_a_record_the_seal_lists_as_rejected_is_only_remembered() -> None:
    stream = new_case()
    signed, recs = _records(stream, ASSIGNED)
    fold = L.fold([])
    for s, r in zip(signed[:2], recs[:2], strict=True):
        fold.apply_sealed(r, s.hash, None)
    before = fold.streams[stream].domain
    accepted_before = fold.counts[Outcome.accepted]
    v = fold.apply_sealed(recs[2], signed[2].hash, "wrong_state")
    assert v.reason is Reason.wrong_state and v.outcome is Outcome.conflict
    st = fold.streams[stream]
    assert st.domain == before and st.head == signed[1].hash and st.accepted == 2
    assert signed[2].id not in st.seen_ids and signed[2].hash in st.seen_hashes
    assert fold.counts[Outcome.conflict] == 1
    assert fold.counts[Outcome.accepted] == accepted_before
    (j,) = fold.rejections
    assert (j.partition, j.offset, j.stream) == (recs[2].partition, recs[2].offset, stream)
    assert (j.event_id, j.event_type) == (signed[2].id, "ledger.dispatch.assigned.v1")
    assert j.verdict is v and fold.first_tamper is None
    # a later record chained on the rejected one reads as superseded, not as forged
    nxt = J.sign(stream, [step("ledger.handling.acknowledged.v1")], head=signed[2].hash)[0]
    (rec,) = L.place([(stream, nxt.record)])
    assert fold.apply_sealed(rec, nxt.hash, None).reason is Reason.stale_prev


def test_a_tampered_record_listed_in_the_seal_counts_as_tampering() -> None:
    stream = new_case()
    signed, recs = _records(stream, OPENED)
    fold = L.fold([])
    fold.apply_sealed(recs[0], signed[0].hash, None)
    v = fold.apply_sealed(recs[1], signed[1].hash, "bad_signature")
    assert v.reason is Reason.bad_signature and v.outcome is Outcome.tamper
    assert fold.counts[Outcome.tamper] == 1 and fold.counts[Outcome.conflict] == 0
    assert fold.first_tamper is not None and fold.first_tamper.verdict is v


def test_an_unknown_reason_in_the_seal_is_not_a_rejection() -> None:
    stream = new_case()
    signed, recs = _records(stream, OPENED)
    fold = L.fold([])
    for s, r in zip(signed, recs, strict=True):
        assert fold.apply_sealed(r, s.hash, "no_such_reason") is ACCEPTED
    assert fold.streams[stream].domain.screened and fold.rejections == []


def test_below_a_seal_the_auditors_acceptance_is_trusted() -> None:
    # a second assignment is refused by the rule book, but the seal says it was accepted
    stream = new_case()
    steps = [*ASSIGNED, step("ledger.dispatch.assigned.v1", co_units=[])]
    signed, recs = _records(stream, steps)
    full = L.fold([])
    assert [full.apply(r).reason for r in recs][-1] is Reason.wrong_state
    fold = L.fold([])
    assert all(
        fold.apply_sealed(r, s.hash, None) is ACCEPTED for s, r in zip(signed, recs, strict=True)
    )
    st = fold.streams[stream]
    assert st.domain.assigned_times == 2 and st.domain.co_units == ()
    assert st.head == signed[-1].hash


def test_a_broken_chain_below_a_seal_falls_back_to_the_rule_book() -> None:
    stream = new_case()
    signed, recs = _records(stream, ASSIGNED)
    fold = L.fold([])
    fold.apply_sealed(recs[0], signed[0].hash, None)
    # the second record is skipped: the third names a prev the stream never saw
    v = fold.apply_sealed(recs[2], signed[2].hash, None)
    assert v.reason is Reason.unknown_prev and v.outcome is Outcome.tamper
    assert fold.streams[stream].head == signed[0].hash
    assert fold.first_tamper is not None and fold.first_tamper.event_id == signed[2].id


def test_a_replayed_id_below_a_seal_falls_back_to_the_rule_book() -> None:
    stream = new_case()
    signed, recs = _records(stream, OPENED)
    fold = L.fold([])
    fold.apply_sealed(recs[0], signed[0].hash, None)
    # an event re-using an accepted id, chained on the current head
    d = Draft(
        "ledger.complaint.screened.v1",
        SAMPLES["ledger.complaint.screened.v1"],
        CLERK,
        id=signed[0].id,
    )
    again = L.signers["intake"].sign(
        stream,
        d,
        prev=signed[0].hash,
        regseq=L.regseq,
        reghash=L.reghash,
    )
    (rec,) = L.place([(stream, again.record)])
    v = fold.apply_sealed(rec, again.hash, None)
    assert v.reason is Reason.replayed_id and v.outcome is Outcome.conflict
    st = fold.streams[stream]
    assert st.accepted == 1 and st.head == signed[0].hash and not st.domain.screened
