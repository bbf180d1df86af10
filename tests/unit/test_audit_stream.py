"""The audit stream on signed histories: digests and seals as the auditor writes them, what
the stream keeps of them, and who may write what there."""

from __future__ import annotations

from typing import Any

from shared.events.codec import canonical, loads
from shared.ledger.signer import Draft, Signed
from shared.rules.audit import AuditState
from shared.rules.fold import LedgerFold
from shared.rules.verdict import Outcome, Reason
from tests.samples import H, MemoryLedger, draft, new_case

L = MemoryLedger(partitions=3)
AUDIT = "audit"
AUDITOR = "ledger/auditor"
DIGEST = "ledger.audit.digest_recorded.v1"
SEAL = "ledger.audit.seal_recorded.v1"
H2 = "ab" * 32


def digest(partition: int, count: int, value: str = H) -> Draft:
    return Draft(
        DIGEST, {"partition": partition, "count": count, "digest": value, "partitions": 3}, AUDITOR
    )


def seal(positions: dict[str, int], rejected: list[list[Any]] | None = None) -> Draft:
    data: dict[str, Any] = {
        "positions": positions,
        "partitions": 3,
        "digests": {p: H for p in positions},
        "tampered": 0,
        "conflicts": len(rejected or []),
    }
    if rejected is not None:
        data["rejected"] = rejected
    return Draft(SEAL, data, AUDITOR)


def chain(drafts: list[Draft], signer: str = "auditor", stream: str = AUDIT) -> list[Signed]:
    out: list[Signed] = []
    prev = None
    for d in drafts:
        s = L.signers[signer].sign(stream, d, prev=prev, regseq=L.regseq, reghash=L.reghash)
        out.append(s)
        prev = s.hash
    return out


def fold(signed: list[Signed], stream: str = AUDIT) -> tuple[LedgerFold, list[Reason]]:
    f = L.fold([])
    reasons = [f.apply(r).reason for r in L.place([(stream, s.record) for s in signed])]
    return f, reasons


def audit_state(f: LedgerFold) -> AuditState:
    state = f.streams[AUDIT].domain
    assert isinstance(state, AuditState)
    return state


def test_an_empty_audit_stream_has_no_seal() -> None:
    state = AuditState()
    assert state.last_seal is None
    assert state.digests == () and state.seals == () and state.last_rejected == ()
    assert state.summary() == {"digests": [], "seals": []}


def test_digests_are_kept_in_order_as_written() -> None:
    f, reasons = fold(chain([digest(0, 5), digest(1, 7, H2), digest(0, 9, H2)]))
    assert reasons == [Reason.ok] * 3
    state = audit_state(f)
    assert state.digests == ((0, 5, H), (1, 7, H2), (0, 9, H2))
    assert state.seals == () and state.last_seal is None
    assert state.summary() == {"digests": [[0, 5, H], [1, 7, H2], [0, 9, H2]], "seals": []}


def test_the_last_seal_gives_positions_by_partition_and_its_rejections() -> None:
    first = seal({"2": 4, "0": 3, "1": 10}, [[0, 1, "stale_prev"], [2, 3, "replayed_id"]])
    f, reasons = fold(chain([first]))
    assert reasons == [Reason.ok]
    state = audit_state(f)
    assert state.last_seal == {0: 3, 1: 10, 2: 4}
    assert state.seals == (((0, 3), (1, 10), (2, 4)),)  # sorted by partition, as integers
    assert state.last_rejected == ((0, 1, "stale_prev"), (2, 3, "replayed_id"))
    assert state.summary() == {"digests": [], "seals": [[[0, 3], [1, 10], [2, 4]]]}


def test_a_later_seal_replaces_the_last_positions_and_rejections() -> None:
    f, reasons = fold(
        chain(
            [
                seal({"0": 3, "1": 1, "2": 0}, [[0, 1, "stale_prev"]]),
                digest(0, 12),
                seal({"0": 12, "1": 1, "2": 5}),
            ]
        )
    )
    assert reasons == [Reason.ok] * 3
    state = audit_state(f)
    assert state.last_seal == {0: 12, 1: 1, 2: 5}
    assert len(state.seals) == 2 and dict(state.seals[0]) == {0: 3, 1: 1, 2: 0}
    assert state.last_rejected == ()  # the second seal lists none
    assert state.digests == ((0, 12, H),)


def test_the_state_digest_covers_the_audit_stream() -> None:
    a, _ = fold(chain([digest(0, 5)]))
    b, _ = fold(chain([digest(0, 5, H2)]))
    c, _ = fold(chain([seal({"0": 5, "1": 0, "2": 0})]))
    d, _ = fold(chain([seal({"0": 6, "1": 0, "2": 0})]))
    assert len({a.state_digest(), b.state_digest(), c.state_digest(), d.state_digest()}) == 4


def test_only_the_auditor_writes_the_audit_stream() -> None:
    _, d = draft(DIGEST)
    signed = L.signers["oversight"].sign(
        AUDIT, Draft(DIGEST, d.data, "efficiency-office/V001"), prev=None, regseq=L.regseq,
        reghash=L.reghash,
    )  # fmt: skip
    f, reasons = fold([signed])
    assert reasons == [Reason.no_right]
    assert f.counts[Outcome.conflict] == 1 and audit_state(f).digests == ()


def test_audit_events_belong_in_the_audit_stream_only() -> None:
    case = new_case()
    f, reasons = fold(chain([digest(0, 1)], stream=case), stream=case)
    assert reasons == [Reason.wrong_stream]
    assert f.counts[Outcome.conflict] == 1


def test_case_events_do_not_belong_in_the_audit_stream() -> None:
    writer, d = draft("ledger.complaint.received.v1")
    signed = L.signers[writer].sign(AUDIT, d, prev=None, regseq=L.regseq, reghash=L.reghash)
    f, reasons = fold([signed])
    assert reasons == [Reason.wrong_stream]
    assert audit_state(f) == AuditState()


def forged(signed: Signed, **data: Any) -> bytes:
    """The auditor's own signature over a payload its signer would have refused."""
    env = loads(signed.record)
    del env["sig"]
    env["data"] = {**env["data"], **data}
    env["sig"] = L.keys["auditor"].sign(canonical(env))
    return canonical(env)


def test_a_malformed_digest_or_seal_is_invalid_data_and_changes_nothing() -> None:
    good_digest, good_seal = chain([digest(0, 1)])[0], chain([seal({"0": 1})])[0]
    for record in (
        forged(good_digest, digest="not-a-hash"),
        forged(good_digest, partition=-1),
        forged(good_seal, positions="everything"),
        forged(good_seal, tampered=-1),
    ):
        f = L.fold([])
        (placed,) = L.place([(AUDIT, record)])
        assert f.apply(placed).reason is Reason.invalid_data
        assert audit_state(f) == AuditState()


def test_a_replayed_seal_is_neutralised() -> None:
    s = chain([seal({"0": 1, "1": 0, "2": 0})])[0]
    f = L.fold([])
    got = [f.apply(r).reason for r in L.place([(AUDIT, s.record), (AUDIT, s.record)])]
    assert got == [Reason.ok, Reason.replayed_id]
    assert len(audit_state(f).seals) == 1
