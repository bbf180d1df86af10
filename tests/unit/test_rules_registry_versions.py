"""The registry's version-addressed answers: keys, rights, configuration and hashes at each
version, checked on a registry evolved event by event (as the registry stream evolves it)."""

from __future__ import annotations

from typing import Any

from shared.crypto.signing import SigningKey
from shared.rules.registry import GENESIS_DEPLOYMENT, REGISTRY_RIGHT, Grant, KeyEntry, Registry
from shared.rules.verdict import Reason

DEP = "/bodies/x/intake"
OTHER = "/bodies/y/intake"


def _registry() -> tuple[Registry, SigningKey, SigningKey]:
    genesis = SigningKey.generate()
    key = SigningKey.generate()
    reg = Registry.rooted_in(genesis.public)
    reg.apply(
        "ledger.registry.deployment_registered.v1",
        {"deployment": DEP, "body": "x", "service": "intake", "acts_for": ["x", "unit:*"]},
        "h1",
    )
    reg.apply(
        "ledger.registry.key_added.v1",
        {"deployment": DEP, "kid": key.public.kid, "public_key": _b64(key)},
        "h2",
    )
    reg.apply(
        "ledger.registry.rights_granted.v1",
        {"deployment": DEP, "types": ["ledger.complaint.*", "ledger.handling.closed.v1"]},
        "h3",
    )
    return reg, genesis, key


def _b64(key: SigningKey) -> str:
    return key.public.text


def test_the_genesis_registry_at_version_zero() -> None:
    genesis = SigningKey.generate()
    reg = Registry.rooted_in(genesis.public)
    assert reg.version == 0 and reg.hashes == [] and reg.hash_at(0) is None
    entry = reg.key_at(genesis.public.kid, 0)
    assert entry is not None and entry.deployment == GENESIS_DEPLOYMENT
    assert reg.has_right(GENESIS_DEPLOYMENT, "ledger.registry.key_added.v1", 0)
    assert not reg.has_right(GENESIS_DEPLOYMENT, "ledger.complaint.received.v1", 0)
    assert reg.may_act_for(GENESIS_DEPLOYMENT, "ledger")
    assert not reg.may_act_for(GENESIS_DEPLOYMENT, "x")
    assert reg.grants[GENESIS_DEPLOYMENT][0].pattern == REGISTRY_RIGHT


def test_hashes_are_addressed_by_the_version_they_made() -> None:
    reg, _, _ = _registry()
    assert reg.version == 3
    assert [reg.hash_at(v) for v in range(5)] == [None, "h1", "h2", "h3", None]
    assert reg.hash_at(-1) is None


def test_a_key_is_valid_from_the_version_that_added_it_until_the_one_that_revoked_it() -> None:
    reg, _, key = _registry()
    kid = key.public.kid
    assert reg.key_at(kid, 1) is None and reg.key_at(kid, 2) is not None
    assert reg.key_at("no-such-kid", 3) is None
    assert reg.check("ledger.registry.key_revoked.v1", {"kid": kid}, None) is None  # type: ignore[arg-type]
    reg.apply("ledger.registry.key_revoked.v1", {"kid": kid, "reason": "x"}, "h4")
    assert reg.key_at(kid, 3) is not None and reg.key_at(kid, 4) is None
    assert reg.key_at(kid, 99) is None
    e = KeyEntry(DEP, key.public.loaded(), 2, 4)
    assert [e.valid_at(v) for v in range(6)] == [False, False, True, True, False, False]
    assert KeyEntry(DEP, key.public.loaded(), 2).valid_at(10**9)
    v = reg.check("ledger.registry.key_revoked.v1", {"kid": kid}, None)  # type: ignore[arg-type]
    assert v is not None and v.reason is Reason.wrong_state  # already revoked


def test_a_right_is_valid_from_its_grant_until_its_revocation() -> None:
    reg, _, _ = _registry()
    assert not reg.has_right(DEP, "ledger.complaint.received.v1", 2)
    assert reg.has_right(DEP, "ledger.complaint.received.v1", 3)
    assert reg.has_right(DEP, "ledger.handling.closed.v1", 3)
    assert not reg.has_right(DEP, "ledger.handling.reopened.v1", 3)
    assert not reg.has_right(OTHER, "ledger.complaint.received.v1", 3)
    reg.apply(
        "ledger.registry.rights_revoked.v1",
        {"deployment": DEP, "types": ["ledger.complaint.*"]},
        "h4",
    )
    assert reg.has_right(DEP, "ledger.complaint.received.v1", 3)  # as it was then
    assert not reg.has_right(DEP, "ledger.complaint.received.v1", 4)
    assert reg.has_right(DEP, "ledger.handling.closed.v1", 4)  # another grant, untouched
    reg.apply(
        "ledger.registry.rights_granted.v1",
        {"deployment": DEP, "types": ["ledger.complaint.*"]},
        "h5",
    )
    assert reg.has_right(DEP, "ledger.complaint.received.v1", 5)
    reg.apply(
        "ledger.registry.rights_revoked.v1",
        {"deployment": DEP, "types": ["ledger.complaint.*"]},
        "h6",
    )
    # the first grant keeps the version that ended it
    assert [g.revoked_at for g in reg.grants[DEP]] == [4, None, 6]
    g = Grant("x", 2, 4)
    assert [g.valid_at(v) for v in range(6)] == [False, False, True, True, False, False]


def test_a_deployment_acts_for_the_bodies_it_was_registered_for() -> None:
    reg, _, _ = _registry()
    assert reg.may_act_for(DEP, "x") and reg.may_act_for(DEP, "unit:health-bureau")
    assert not reg.may_act_for(DEP, "y") and not reg.may_act_for(OTHER, "x")
    entry = reg.deployments[DEP]
    assert (entry.body, entry.service, entry.acts_for, entry.registered_at) == (
        "x",
        "intake",
        ("x", "unit:*"),
        1,
    )


def test_answers_are_recomputed_once_the_registry_changes() -> None:
    reg, _, _ = _registry()
    assert not reg.may_act_for(OTHER, "y")
    assert not reg.has_right(OTHER, "ledger.complaint.received.v1", 5)
    reg.apply(
        "ledger.registry.deployment_registered.v1",
        {"deployment": OTHER, "body": "y", "service": "intake", "acts_for": ["y"]},
        "h4",
    )
    reg.apply(
        "ledger.registry.rights_granted.v1",
        {"deployment": OTHER, "types": ["ledger.complaint.received.v1"]},
        "h5",
    )
    assert reg.may_act_for(OTHER, "y")
    assert reg.has_right(OTHER, "ledger.complaint.received.v1", 5)


def test_configuration_in_force_is_the_last_published_at_or_before_a_version() -> None:
    reg, _, _ = _registry()
    assert reg.config_entry_at("routing", 3) is None and reg.config_at("routing", 3) is None
    reg.apply("ledger.registry.config_owner_named.v1", {"kind": "routing", "deployment": DEP}, "h4")
    assert reg.config_owners["routing"] == (DEP, 4)
    reg.apply(
        "ledger.registry.config_published.v1",
        {"kind": "routing", "version": "1", "content": {"a": 1}},
        "h5",
    )
    reg.apply(
        "ledger.registry.config_published.v1",
        {"kind": "routing", "version": "2", "content": {"a": 2}},
        "h6",
    )
    assert reg.config_entry_at("routing", 4) is None
    assert reg.config_entry_at("routing", 5) == ("1", {"a": 1})
    assert reg.config_entry_at("routing", 6) == ("2", {"a": 2})
    assert reg.config_at("routing", 99) == {"a": 2}
    assert reg.summary()["configs"] == {"routing": [[5, "1"], [6, "2"]]}
    assert reg.summary()["config_owners"] == {"routing": [DEP, 4]}


def test_the_registrys_own_checks_name_what_is_wrong() -> None:
    reg, genesis, key = _registry()

    def why(event_type: str, data: dict[str, Any]) -> Reason | None:
        v = reg.check(event_type, data, None)  # type: ignore[arg-type]
        return None if v is None else v.reason

    ws = Reason.wrong_state
    reg_t = "ledger.registry.deployment_registered.v1"
    assert why(reg_t, {"deployment": DEP}) is ws
    assert why(reg_t, {"deployment": OTHER}) is None
    add = "ledger.registry.key_added.v1"
    fresh = SigningKey.generate()
    good = {"deployment": DEP, "kid": fresh.public.kid, "public_key": _b64(fresh)}
    assert why(add, good) is None
    assert why(add, {**good, "kid": key.public.kid}) is ws
    assert why(add, {**good, "deployment": OTHER}) is ws
    assert why(add, {**good, "public_key": _b64(key)}) is ws  # kid of another key
    rev = "ledger.registry.key_revoked.v1"
    assert why(rev, {"kid": genesis.public.kid}) is ws
    assert why(rev, {"kid": "nope"}) is ws
    for t in ("ledger.registry.rights_granted.v1", "ledger.registry.rights_revoked.v1"):
        assert why(t, {"deployment": OTHER, "types": []}) is ws
        assert why(t, {"deployment": DEP, "types": []}) is None
    own = "ledger.registry.config_owner_named.v1"
    assert why(own, {"kind": "routing", "deployment": OTHER}) is ws
    assert why(own, {"kind": "routing", "deployment": DEP}) is None


def test_a_copy_is_independent_of_the_live_registry() -> None:
    reg, _, key = _registry()
    copy = reg.copy()
    assert copy.summary() == reg.summary()
    copy.apply("ledger.registry.key_revoked.v1", {"kid": key.public.kid, "reason": "x"}, "h4")
    copy.apply(
        "ledger.registry.rights_revoked.v1",
        {"deployment": DEP, "types": ["ledger.complaint.*"]},
        "h5",
    )
    copy.apply("ledger.registry.config_owner_named.v1", {"kind": "k", "deployment": DEP}, "h6")
    copy.apply(
        "ledger.registry.config_published.v1", {"kind": "k", "version": "1", "content": {}}, "h7"
    )
    assert reg.version == 3 and reg.hashes == ["h1", "h2", "h3"]
    assert reg.keys[key.public.kid].revoked_at is None
    assert all(g.revoked_at is None for g in reg.grants[DEP])
    assert reg.configs == {} and reg.config_owners == {}
    assert copy.version == 7 and copy.summary() != reg.summary()


def test_the_summary_names_every_part_of_the_registry() -> None:
    reg, genesis, key = _registry()
    s = reg.summary()
    assert s["version"] == 3 and s["head"] == "h3"
    assert s["deployments"] == sorted([GENESIS_DEPLOYMENT, DEP])
    assert s["keys"][key.public.kid] == [DEP, 2, None]
    assert s["keys"][genesis.public.kid] == [GENESIS_DEPLOYMENT, 0, None]
    assert s["grants"][DEP] == [
        ["ledger.complaint.*", 3, None],
        ["ledger.handling.closed.v1", 3, None],
    ]
