"""Internal calls are granted per endpoint by the genesis key: a grant or revocation it signs
applies; the same fact signed by any other deployment is refused (``no_right``) and leaves the
registry as it was. ``may_call`` answers per registry version, so a revoked grant still shows
at the versions before its revocation."""

from __future__ import annotations

import pytest

from shared.ledger.deployments import GENESIS_ACTOR, default_deployments
from shared.ledger.signer import Draft, Signed, Signer
from shared.rules.fold import LedgerFold
from shared.rules.verdict import Reason
from tests.samples import MemoryLedger, sign_unchecked

L = MemoryLedger(partitions=1)
PUBLICATION = L.signers["publication"].deployment
DISPATCH = L.signers["dispatch"].deployment
INTAKE = L.signers["intake"].deployment


def registry_event(signer: Signer, event_type: str, data: dict[str, object]) -> Signed:
    actor = GENESIS_ACTOR if signer is L.genesis_signer else "efficiency-office/S1"
    return sign_unchecked(
        signer,
        "registry",
        Draft(event_type, data, actor),
        prev=L.reghash,
        regseq=L.regseq,
        reghash=None,
    )


def judge(*signed: Signed) -> tuple[list[Reason], LedgerFold]:
    fold = L.fold([])
    verdicts = [fold.apply(r) for r in L.place([("registry", s.record) for s in signed])]
    return [v.reason for v in verdicts], fold


def grant(caller: str, endpoints: list[str]) -> dict[str, object]:
    return {"deployment": caller, "callee": INTAKE, "endpoints": endpoints}


def test_ledger_init_grants_publication_intakes_redaction_and_nobody_else_anything() -> None:
    fold = L.fold([])
    reg = fold.registry
    assert reg.may_call(PUBLICATION, INTAKE, "redaction", reg.version)
    assert not reg.may_call(DISPATCH, INTAKE, "redaction", reg.version)
    assert not reg.may_call(PUBLICATION, INTAKE, "vault", reg.version)
    assert not reg.may_call(PUBLICATION, DISPATCH, "redaction", reg.version)
    declared = {(s.deployment, c) for s in default_deployments() for c in s.calls}
    assert declared == {(PUBLICATION, (INTAKE, "redaction"))}


@pytest.mark.parametrize(
    ("signer", "expected"),
    [("genesis", Reason.ok), ("dispatch", Reason.no_right), ("publication", Reason.no_right)],
)
def test_a_call_grant_is_the_genesis_keys_to_sign(signer: str, expected: Reason) -> None:
    s = L.genesis_signer if signer == "genesis" else L.signers[signer]
    reasons, fold = judge(
        registry_event(s, "ledger.registry.calls_granted.v1", grant(DISPATCH, ["redaction"]))
    )
    assert reasons == [expected]
    reg = fold.registry
    assert reg.may_call(DISPATCH, INTAKE, "redaction", reg.version) is (expected is Reason.ok)


@pytest.mark.parametrize(
    ("signer", "expected"),
    [("genesis", Reason.ok), ("dispatch", Reason.no_right), ("publication", Reason.no_right)],
)
def test_a_call_revocation_is_the_genesis_keys_to_sign(signer: str, expected: Reason) -> None:
    s = L.genesis_signer if signer == "genesis" else L.signers[signer]
    reasons, fold = judge(
        registry_event(s, "ledger.registry.calls_revoked.v1", grant(PUBLICATION, ["redaction"]))
    )
    assert reasons == [expected]
    reg = fold.registry
    revoked = expected is Reason.ok
    assert reg.may_call(PUBLICATION, INTAKE, "redaction", reg.version) is not revoked
    # Before the revocation's version the grant still answers yes.
    assert reg.may_call(PUBLICATION, INTAKE, "redaction", L.regseq)


def test_a_grant_to_an_unregistered_deployment_is_refused() -> None:
    reasons, fold = judge(
        registry_event(
            L.genesis_signer,
            "ledger.registry.calls_granted.v1",
            grant("/bodies/nobody/publication", ["redaction"]),
        )
    )
    assert reasons == [Reason.wrong_state]
    assert ("/bodies/nobody/publication", INTAKE) not in fold.registry.calls


def test_revoking_a_grant_that_is_not_held_is_refused() -> None:
    reasons, fold = judge(
        registry_event(
            L.genesis_signer, "ledger.registry.calls_revoked.v1", grant(DISPATCH, ["redaction"])
        )
    )
    assert reasons == [Reason.wrong_state]
    reg = fold.registry
    assert reg.version == L.regseq


def test_grants_are_exact_names_not_patterns() -> None:
    reasons, fold = judge(
        registry_event(
            L.genesis_signer, "ledger.registry.calls_granted.v1", grant(DISPATCH, ["red"])
        )
    )
    assert reasons == [Reason.ok]
    reg = fold.registry
    assert reg.may_call(DISPATCH, INTAKE, "red", reg.version)
    assert not reg.may_call(DISPATCH, INTAKE, "redaction", reg.version)


def test_a_grant_copies_independently_and_shows_in_the_summary() -> None:
    reg = L.fold([]).registry
    copy = reg.copy()
    copy.calls[(PUBLICATION, INTAKE)][0].revoked_at = copy.version
    assert reg.may_call(PUBLICATION, INTAKE, "redaction", reg.version)
    assert not copy.may_call(PUBLICATION, INTAKE, "redaction", copy.version)
    assert reg.summary()["calls"][f"{PUBLICATION} -> {INTAKE}"][0][0] == "redaction"


def test_revoking_one_endpoint_leaves_the_others_and_the_summary_dates_each() -> None:
    granted = registry_event(
        L.genesis_signer, "ledger.registry.calls_granted.v1", grant(DISPATCH, ["a", "b"])
    )
    revoked = sign_unchecked(
        L.genesis_signer,
        "registry",
        Draft("ledger.registry.calls_revoked.v1", grant(DISPATCH, ["a"]), GENESIS_ACTOR),
        prev=granted.hash,
        regseq=L.regseq + 1,
        reghash=None,
    )
    reasons, fold = judge(granted, revoked)
    assert reasons == [Reason.ok, Reason.ok]
    reg = fold.registry
    assert not reg.may_call(DISPATCH, INTAKE, "a", reg.version)
    assert reg.may_call(DISPATCH, INTAKE, "b", reg.version)
    at = L.regseq + 1
    assert reg.summary()["calls"][f"{DISPATCH} -> {INTAKE}"] == [["a", at, at + 1], ["b", at, None]]
