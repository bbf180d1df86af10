"""A ``prev`` naming a record the stream has seen but moved past is a stale write (a conflict),
not a forgery: the stream remembers the hash of every record it judged without tampering —
refused ones too, and accepted ones replayed below a seal."""

from __future__ import annotations

from shared.rules.verdict import Outcome, Reason
from tests.samples import OPENED, Judge, MemoryLedger, new_case, step

L = MemoryLedger(partitions=3)
J = Judge(L)
WITHDRAWN = step("ledger.complaint.withdrawn.v1")


def test_a_write_after_a_refused_record_is_stale_not_forged() -> None:
    stream = new_case()
    opened = J.sign(stream, OPENED)
    refused = J.sign(stream, [step("ledger.handling.closed.v1")], head=opened[-1].hash)
    after_refused = J.sign(stream, [WITHDRAWN], head=refused[0].hash)
    verdicts, fold = J.run([(stream, s.record) for s in [*opened, *refused, *after_refused]])
    assert [v.reason for v in verdicts] == [
        Reason.ok,
        Reason.ok,
        Reason.wrong_state,
        Reason.stale_prev,
    ]
    assert verdicts[-1].outcome is Outcome.conflict
    assert fold.streams[stream].head == opened[-1].hash


def test_a_write_on_a_superseded_head_below_a_seal_is_stale_not_forged() -> None:
    stream = new_case()
    opened = J.sign(stream, OPENED)
    late = J.sign(stream, [WITHDRAWN], head=opened[0].hash)  # written on the first, superseded
    recs = L.place([(stream, s.record) for s in [*opened, *late]])
    fold = L.fold([])
    for s, r in zip(opened, recs[:-1], strict=True):
        assert fold.apply_sealed(r, s.hash, None).accepted
    v = fold.apply(recs[-1])
    assert v.reason is Reason.stale_prev and v.outcome is Outcome.conflict
