"""The rule book's verdicts on signed records built in memory: chains, keys, rights, replay,
and the table of stream kinds. The rules of each stream kind have their own test files."""

from __future__ import annotations

import pytest

from shared.events.catalog import CATALOG, family
from shared.ledger.deployments import default_deployments
from shared.ledger.signer import Draft, Signer
from shared.rules.case import CLOSED
from shared.rules.fold import LedgerFold
from shared.rules.registry import GENESIS_DEPLOYMENT, REGISTRY_RIGHT
from shared.rules.stream import REGISTRY_STREAM, StreamState, admit, parse
from shared.rules.verdict import Outcome, Reason
from tests.samples import (
    ASSIGNED,
    LIFECYCLE,
    OPENED,
    UNIT,
    Judge,
    MemoryLedger,
    draft,
    new_case,
    sign_steps,
    step,
)

L = MemoryLedger(partitions=3)
J = Judge(L)


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
    assert fold.counts[Outcome.conflict] == fold.counts[Outcome.tamper] == 0
    st = fold.streams[case].domain
    assert st.status == CLOSED
    assert (st.closed_basis, st.finding, st.confidential) == (
        "complainant_confirmed",
        "substantiated",
        False,
    )


def test_stale_prev_is_a_conflict_and_unknown_prev_is_tampering() -> None:
    case = new_case()
    first = chain(case, LIFECYCLE[:2])
    rival = chain(case, ["ledger.complaint.screened.v1"], head=first[0].hash)[0]
    forged = chain(case, ["ledger.dispatch.assigned.v1"], head="f" * 64)[0]
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
    signed = J.sign(case, ASSIGNED)
    d = Draft("ledger.handling.acknowledged.v1", {"unit": UNIT}, f"{UNIT}/H1")
    bad = L.signers["dispatch"].sign(
        case, d, prev=signed[-1].hash, regseq=L.regseq, reghash=L.reghash
    )
    got = verdicts([(case, s.record) for s in signed] + [(case, bad.record)])
    assert got == [Reason.ok] * len(signed) + [Reason.foreign_key]


def test_a_revoked_key_rejects_events_naming_that_version_or_later() -> None:
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


# ---- who may sign what: each kind of act has exactly one signer ------------------------------


def _signers_of(event_type: str) -> list[str]:
    from fnmatch import fnmatchcase

    return [
        s.name for s in default_deployments() if any(fnmatchcase(event_type, p) for p in s.rights)
    ]


@pytest.mark.parametrize("event_type", sorted(t for t in CATALOG if family(t) not in ("registry",)))
def test_each_kind_of_act_has_exactly_one_signer(event_type: str) -> None:
    assert len(_signers_of(event_type)) == 1, _signers_of(event_type)


def test_units_act_through_oversight_and_dispatch_rules_on_their_returns() -> None:
    assert _signers_of("ledger.handling.return_requested.v1") == ["oversight"]
    assert _signers_of("ledger.handling.extension_requested.v1") == ["oversight"]
    assert _signers_of("ledger.handling.extension_ruled.v1") == ["oversight"]
    assert _signers_of("ledger.dispatch.return_ruled.v1") == ["dispatch"]
    # configuration is published by its owners, never by the genesis key's registry right
    assert _signers_of("ledger.registry.config_published.v1") == [
        "dispatch",
        "oversight",
        "publication",
    ]
    assert not any(REGISTRY_RIGHT in s.rights for s in default_deployments())


@pytest.mark.parametrize(
    ("act", "signer"),
    [
        (step("ledger.handling.return_requested.v1", signer="dispatch"), "dispatch"),
        (step("ledger.handling.return_requested.v1", signer="intake"), "intake"),
        (step("ledger.dispatch.return_ruled.v1", signer="oversight"), "oversight"),
        (step("ledger.handling.extension_ruled.v1", signer="dispatch"), "dispatch"),
    ],
)
def test_an_act_signed_by_a_deployment_without_its_right_is_a_conflict(act, signer) -> None:  # type: ignore[no-untyped-def]
    # actors the signer may act for, so the right is what is missing
    act = act._replace(actor="efficiency-office/X1")
    J.refused([*ASSIGNED, act], Reason.no_right)


def test_the_right_signer_is_accepted_for_the_same_acts() -> None:
    J.accepted(
        [
            *ASSIGNED,
            step("ledger.handling.return_requested.v1"),
            step("ledger.dispatch.return_ruled.v1"),
            step("ledger.handling.extension_requested.v1"),
            step("ledger.handling.extension_ruled.v1"),
        ]
    )


# ---- the table of stream kinds ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("stream", "event_type"),
    [
        ("conf-00000000-0000-4000-8000-0000000000aa", "ledger.complaint.received.v1"),
        ("period-2026-11", "ledger.dispatch.assigned.v1"),
        (None, "ledger.conference.convened.v1"),
        (None, "ledger.period.figures_published.v1"),
        (None, "ledger.audit.digest_recorded.v1"),
    ],
)
def test_a_type_outside_its_stream_kind_is_wrong_stream(
    stream: str | None, event_type: str
) -> None:
    stream = stream or new_case()
    writer, d = draft(event_type)
    if event_type.startswith("ledger.audit"):
        writer = "auditor"
    s = L.signers[writer].sign(stream, d, prev=None, regseq=L.regseq, reghash=L.reghash)
    assert verdicts([(stream, s.record)]) == [Reason.wrong_stream]


def test_a_copy_judges_a_draft_without_touching_the_live_state() -> None:
    case = new_case()
    fold = L.fold(L.place([(case, s.record) for s in J.sign(case, OPENED)]))
    live = fold.streams[case]
    before = (live.head, live.accepted, set(live.seen_ids), live.domain)
    draft_state = live.copy()
    signed = J.sign(case, [step("ledger.dispatch.assigned.v1")], head=live.head)[0]
    import hashlib

    parsed = parse(signed.record, hashlib.sha256(signed.record).hexdigest())
    assert not isinstance(parsed, type(None))
    verdict = admit(draft_state, parsed, fold.registry, appended_at=1_790_000_000_000_000)  # type: ignore[arg-type]
    assert verdict.accepted and draft_state.domain.status == "assigned"
    assert (live.head, live.accepted, live.seen_ids, live.domain) == before
    assert draft_state.seen_ids != live.seen_ids


def test_a_copy_of_the_registry_stream_copies_the_registry() -> None:
    fold: LedgerFold = L.fold([])
    live = fold.streams[REGISTRY_STREAM]
    copy = live.copy()
    assert copy.domain is not live.domain and copy.domain.summary() == live.domain.summary()
    copy.domain.keys[next(iter(copy.domain.keys))].revoked_at = 1
    assert copy.domain.summary() != live.domain.summary()


def test_empty_states_come_from_the_table_of_stream_kinds() -> None:
    assert StreamState.empty(new_case()).domain.status == "new"
    assert StreamState.empty("conf-00000000-0000-4000-8000-0000000000aa").domain.status == "new"
    assert StreamState.empty("period-2026-Q4").domain.version == 0
    assert StreamState.empty("audit").domain.digests == ()
