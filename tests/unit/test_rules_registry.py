"""Configuration has owners: each kind is published by the deployment the genesis key named for
it, once; the genesis key itself is not needed (nor allowed) for day-to-day versions. A
penalty reads its minimum from the schedule in force at the registry version it names."""

from __future__ import annotations

from typing import Any

import pytest

from shared.ledger.deployments import GENESIS_ACTOR, default_deployments
from shared.ledger.signer import Draft, Signed, Signer
from shared.rules.registry import GENESIS_DEPLOYMENT
from shared.rules.verdict import Outcome, Reason
from tests.samples import (
    ASSIGNED,
    OFFICER,
    SUPERVISOR,
    Judge,
    MemoryLedger,
    new_case,
    sign_unchecked,
    step,
)

L = MemoryLedger(partitions=1)
J = Judge(L)
SCHEDULE_V2 = {"minimums": {"idle_at_window": ["admonishment_talk", "public_criticism"]}}


def publish(signer: Signer, actor: str, kind: str, version: str, content: dict[str, Any]) -> Signed:
    return sign_unchecked(
        signer,
        "registry",
        Draft(
            "ledger.registry.config_published.v1",
            {"kind": kind, "version": version, "content": content},
            actor,
        ),
        prev=L.reghash,
        regseq=L.regseq,
        reghash=None,
    )


def verdict_of(signed: Signed) -> Reason:
    verdicts, _ = J.run([("registry", signed.record)])
    return verdicts[0].reason


def test_every_kind_of_configuration_has_exactly_one_owner_in_the_default_table() -> None:
    from shared.events.catalog import ConfigKind

    owners = [k for s in default_deployments() for k in s.configs]
    assert sorted(owners) == sorted(k.value for k in ConfigKind)
    fold = L.fold([])
    assert set(fold.registry.config_owners) == {k.value for k in ConfigKind}
    assert fold.registry.config_owners["penalty_schedule"][0].endswith("/oversight")
    assert fold.registry.config_owners["routing"][0].endswith("/dispatch")
    assert fold.registry.config_owners["publication_policy"][0].endswith("/publication")


ROUTING = {"entries": [{"code": "R1", "category": "*", "lead": "respondent"}]}
WEIGHTS = {"weights": {"reply": 1}, "min_cases": 1}


@pytest.mark.parametrize(
    ("signer", "actor", "kind", "expected"),
    [
        ("oversight", SUPERVISOR, "penalty_schedule", Reason.ok),
        ("dispatch", OFFICER, "penalty_schedule", Reason.not_owner),
        ("dispatch", OFFICER, "routing", Reason.ok),
        ("oversight", SUPERVISOR, "routing", Reason.not_owner),
        ("publication", "efficiency-office/P001", "publication_policy", Reason.ok),
        ("publication", "efficiency-office/P001", "assessment_weights", Reason.not_owner),
        ("intake", "efficiency-office/S001", "routing", Reason.no_right),
    ],
)
def test_configuration_is_published_by_its_owner_only(signer, actor, kind, expected) -> None:  # type: ignore[no-untyped-def]
    content = {"penalty_schedule": SCHEDULE_V2, "assessment_weights": WEIGHTS}.get(kind, ROUTING)
    got = verdict_of(publish(L.signers[signer], actor, kind, "2026.2", content))
    assert got is expected


def test_the_genesis_key_does_not_publish_day_to_day_configuration() -> None:
    genesis = Signer(GENESIS_DEPLOYMENT, L.genesis_key)
    signed = publish(genesis, GENESIS_ACTOR, "penalty_schedule", "2026.2", SCHEDULE_V2)
    assert verdict_of(signed) is Reason.not_owner


def test_a_version_is_published_once_and_its_content_is_checked() -> None:
    same = publish(L.signers["oversight"], SUPERVISOR, "penalty_schedule", "2026.1", SCHEDULE_V2)
    assert verdict_of(same) is Reason.wrong_state  # 2026.1 is already out
    bad = publish(
        L.signers["oversight"], SUPERVISOR, "penalty_schedule", "2026.3", {"minimums": {"x": []}}
    )
    assert verdict_of(bad) is Reason.invalid_data
    unknown = publish(L.signers["oversight"], SUPERVISOR, "no_such_kind", "1", {})
    assert verdict_of(unknown) is Reason.invalid_data


def _name_owner(signer: Signer, actor: str, kind: str, deployment: str) -> Signed:
    return sign_unchecked(
        signer,
        "registry",
        Draft(
            "ledger.registry.config_owner_named.v1", {"kind": kind, "deployment": deployment}, actor
        ),
        prev=L.reghash,
        regseq=L.regseq,
        reghash=None,
    )


def test_the_genesis_key_names_an_owner_once_and_nobody_else_names_one() -> None:
    genesis = Signer(GENESIS_DEPLOYMENT, L.genesis_key)
    oversight = L.signers["oversight"].deployment
    again = _name_owner(genesis, GENESIS_ACTOR, "routing", oversight)
    assert verdict_of(again) is Reason.wrong_state
    grab = _name_owner(L.signers["oversight"], SUPERVISOR, "routing", oversight)
    assert verdict_of(grab) is Reason.no_right


def test_a_penalty_reads_the_schedule_in_force_at_the_version_it_names() -> None:
    v2 = publish(L.signers["oversight"], SUPERVISOR, "penalty_schedule", "2026.2", SCHEDULE_V2)
    case = new_case()
    before = J.sign(
        case, [*ASSIGNED, step("ledger.penalty.imposed.v1", penalty="criticism", repeat_count=1)]
    )
    after_v1 = J.sign(
        case,
        [step("ledger.penalty.imposed.v1", penalty_id="P2", penalty="criticism", repeat_count=1)],
        head=before[-1].hash,
        regseq=L.regseq + 1,
        reghash=v2.hash,
    )
    after_v2 = J.sign(
        case,
        [
            step(
                "ledger.penalty.imposed.v1",
                penalty_id="P2",
                penalty="criticism",
                repeat_count=1,
                schedule_version="2026.2",
            )
        ],
        head=before[-1].hash,
        regseq=L.regseq + 1,
        reghash=v2.hash,
    )
    ok_v2 = J.sign(
        case,
        [
            step(
                "ledger.penalty.imposed.v1",
                penalty_id="P3",
                schedule_version="2026.2",
                repeat_count=1,
            )
        ],
        head=before[-1].hash,
        regseq=L.regseq + 1,
        reghash=v2.hash,
    )
    pairs = [("registry", v2.record), *((case, s.record) for s in before)]
    verdicts, fold = J.run(
        [*pairs, (case, after_v1[0].record), (case, after_v2[0].record), (case, ok_v2[0].record)]
    )
    got = [v.reason for v in verdicts]
    # under v1 criticism was enough for a first offence; from v2 on, v1 is no longer in force
    # and v2's minimum for a first offence is an admonishment talk
    assert got == [Reason.ok] * len(pairs) + [
        Reason.unknown_config,
        Reason.below_schedule,
        Reason.ok,
    ]
    assert fold.counts[Outcome.tamper] == 0
