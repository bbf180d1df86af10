"""The rule book's verdicts, one rule at a time, on records built in memory."""

from __future__ import annotations

from shared.ledger.signer import Draft
from shared.rules.case import CLOSED
from shared.rules.verdict import Outcome, Reason
from tests.samples import LIFECYCLE, UNIT, MemoryLedger, draft, new_case, sign_steps

L = MemoryLedger(partitions=3)


def chain(stream: str, steps: list[str], head: str | None = None, **kw):  # type: ignore[no-untyped-def]
    return sign_steps(L.signers, stream, steps, head=head, regseq=L.regseq, reghash=L.reghash, **kw)


def verdicts(pairs: list[tuple[str, bytes]]) -> list[Reason]:
    fold = L.fold([])
    return [fold.apply(r).reason for r in L.place(pairs)]


def test_a_whole_case_is_accepted_and_closed() -> None:
    case = new_case()
    signed = chain(case, LIFECYCLE)
    fold = L.fold(L.place([(case, s.record) for s in signed]))
    assert fold.counts[Outcome.accepted] == len(L.registry_records) + len(LIFECYCLE)
    assert fold.streams[case].domain.status == CLOSED
    assert fold.streams[case].domain.closed_basis == "complainant_confirmed"


def test_stale_prev_is_a_conflict_and_unknown_prev_is_tampering() -> None:
    case = new_case()
    first = chain(case, LIFECYCLE[:2])
    rival = chain(case, ["ledger.dispatch.assigned.v1"], head=first[0].hash)[0]
    forged = chain(case, ["ledger.handling.acknowledged.v1"], head="f" * 64)[0]
    got = verdicts(
        [
            (case, first[0].record),
            (case, first[1].record),
            (case, rival.record),
            (case, forged.record),
        ]
    )
    assert got == [Reason.ok, Reason.ok, Reason.stale_prev, Reason.unknown_prev]


def test_replayed_id_is_neutralised() -> None:
    case = new_case()
    s = chain(case, LIFECYCLE[:1])[0]
    assert verdicts([(case, s.record), (case, s.record)]) == [Reason.ok, Reason.replayed_id]


def test_wrong_state_no_right_and_foreign_key() -> None:
    case = new_case()
    opened = chain(case, LIFECYCLE[:1])[0]
    # closing a case that was never assigned
    _, d = draft("ledger.handling.closed.v1")
    early = L.signers["oversight"].sign(
        case, d, prev=opened.hash, regseq=L.regseq, reghash=L.reghash
    )
    # publication may not write a dispatch event
    _, d2 = draft("ledger.dispatch.assigned.v1")
    d2 = Draft(d2.type, d2.data, "efficiency-office/P001")
    no_right = L.signers["publication"].sign(
        case, d2, prev=opened.hash, regseq=L.regseq, reghash=L.reghash
    )
    # dispatch's key used with intake's source: the key is not the actor's deployment's
    from shared.ledger.signer import Signer

    impostor = Signer(L.signers["intake"].deployment, L.keys["dispatch"])
    _, d3 = draft("ledger.complaint.withdrawn.v1")
    foreign = impostor.sign(case, d3, prev=opened.hash, regseq=L.regseq, reghash=L.reghash)
    got = verdicts(
        [
            (case, opened.record),
            (case, early.record),
            (case, no_right.record),
            (case, foreign.record),
        ]
    )
    assert got == [Reason.ok, Reason.wrong_state, Reason.no_right, Reason.foreign_key]


def test_a_unit_cannot_be_signed_for_by_a_deployment_that_does_not_act_for_units() -> None:
    case = new_case()
    signed = chain(case, LIFECYCLE[:2])
    d = Draft("ledger.handling.acknowledged.v1", {"unit": UNIT}, f"{UNIT}/H1")
    bad = L.signers["dispatch"].sign(
        case, d, prev=signed[1].hash, regseq=L.regseq, reghash=L.reghash
    )
    assert (
        verdicts([(case, s.record) for s in signed] + [(case, bad.record)])[-1]
        is Reason.foreign_key
    )


def test_deemed_done_needs_an_elapsed_deadline_and_is_not_resolution() -> None:
    case = new_case()
    steps = ["ledger.complaint.received.v1", "ledger.dispatch.assigned.v1"]
    signed = chain(case, steps)
    early = chain(case, ["ledger.dispatch.deemed_done.v1"], head=signed[-1].hash)[0]
    assert (
        verdicts([(case, s.record) for s in signed] + [(case, early.record)])[-1]
        is Reason.wrong_state
    )
    signed = chain(case, [*steps, "ledger.deadline.elapsed.v1", "ledger.dispatch.deemed_done.v1"])
    fold = L.fold(L.place([(case, s.record) for s in signed]))
    assert fold.streams[case].domain.status == "deemed_done"


def test_a_return_keeps_the_unit_responsible_until_granted() -> None:
    case = new_case()
    steps = [
        "ledger.complaint.received.v1",
        "ledger.dispatch.assigned.v1",
        "ledger.dispatch.return_requested.v1",
    ]
    signed = chain(case, steps)
    fold = L.fold(L.place([(case, s.record) for s in signed]))
    st = fold.streams[case].domain
    assert st.status == "assigned" and st.lead_unit == UNIT and st.returns_pending == (UNIT,)


def test_absent_conference_members_are_deemed_to_consent() -> None:
    conf = "conf-00000000-0000-4000-8000-0000000000aa"
    steps = [
        "ledger.conference.convened.v1",
        "ledger.conference.opinion_given.v1",
        "ledger.conference.decided.v1",
    ]
    signed = chain(conf, steps)
    fold = L.fold(L.place([(conf, s.record) for s in signed]))
    assert fold.streams[conf].domain.deemed_consent == ("petitions-office",)
    wrong = chain(
        conf,
        steps,
        overrides={"ledger.conference.decided.v1": {"absent_deemed_consent": []}},
    )
    assert verdicts([(conf, s.record) for s in wrong])[-1] is Reason.wrong_state


def test_a_revoked_key_rejects_events_naming_that_version_or_later() -> None:
    from shared.ledger.signer import Signer
    from shared.rules.registry import GENESIS_DEPLOYMENT

    ledger = MemoryLedger(partitions=1)
    g = Signer(GENESIS_DEPLOYMENT, ledger.genesis_key)
    revoke = g.sign(
        "registry",
        Draft(
            "ledger.registry.key_revoked.v1",
            {"kid": ledger.keys["intake"].kid, "reason": "泄露"},
            "ledger/genesis",
        ),
        prev=ledger.reghash,
        regseq=ledger.regseq,
        reghash=None,
    )
    case = new_case()
    _, d = draft("ledger.complaint.received.v1")
    old = ledger.signers["intake"].sign(
        case, d, prev=None, regseq=ledger.regseq, reghash=ledger.reghash
    )
    new = ledger.signers["intake"].sign(
        case, d, prev=None, regseq=ledger.regseq + 1, reghash=revoke.hash
    )
    fold = ledger.fold([])
    recs = ledger.place([("registry", revoke.record), (case, new.record), (case, old.record)])
    got = [fold.apply(r).reason for r in recs]
    assert got == [Reason.ok, Reason.unknown_key, Reason.ok]
