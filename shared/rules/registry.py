"""The key registry and rights table: state and evolve of the ``registry`` stream.

Every entry remembers the registry version at which it took effect and, if so, ended, so
``key_at(kid, v)`` answers for any version ``v`` the log has reached. Versions count accepted
registry events (version 0 is the empty registry, rooted in the genesis key from settings).
A key revoked at version N rejects events naming N or later.

Configuration has owners: the genesis key names, once per kind, the deployment that publishes
that kind (``config_owner_named``); from then on only that deployment publishes its versions
(``config_published``), and the genesis key is not needed for day-to-day changes.

Internal calls between services are granted per endpoint: the genesis key lets a deployment
call named endpoints of another (``calls_granted``, ``calls_revoked``); the called service
checks ``may_call`` at its current registry version (``shared/web/signed_calls``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from shared.crypto.signing import PublicKey, unb64u
from shared.rules.verdict import Reason, Verdict, reject

if TYPE_CHECKING:
    from shared.rules.act import Act

GENESIS_DEPLOYMENT = "/ledger/genesis"
REGISTRY_RIGHT = "ledger.registry.*"


@dataclass(slots=True)
class KeyEntry:
    deployment: str
    public: Ed25519PublicKey
    added_at: int
    revoked_at: int | None = None

    def valid_at(self, version: int) -> bool:
        return self.added_at <= version and (self.revoked_at is None or version < self.revoked_at)


@dataclass(slots=True)
class Grant:
    pattern: str
    granted_at: int
    revoked_at: int | None = None

    def valid_at(self, version: int) -> bool:
        return self.granted_at <= version and (self.revoked_at is None or version < self.revoked_at)


@dataclass(slots=True)
class DeploymentEntry:
    body: str
    service: str
    acts_for: tuple[str, ...]
    registered_at: int


@dataclass
class Registry:
    genesis_kid: str
    genesis_key: Ed25519PublicKey
    version: int = 0
    hashes: list[str] = field(default_factory=list)  # hashes[v-1]: the event that made version v
    deployments: dict[str, DeploymentEntry] = field(default_factory=dict)
    keys: dict[str, KeyEntry] = field(default_factory=dict)
    grants: dict[str, list[Grant]] = field(default_factory=dict)
    configs: dict[str, list[tuple[int, str, dict[str, Any]]]] = field(default_factory=dict)
    config_owners: dict[str, tuple[str, int]] = field(default_factory=dict)  # kind -> (dep, at)
    # (caller, callee) -> one grant per endpoint name (exact names, no patterns)
    calls: dict[tuple[str, str], list[Grant]] = field(default_factory=dict)
    # Answers are fixed for a given registry content; cleared whenever an event applies.
    _acts: dict[tuple[str, str], bool] = field(default_factory=dict, repr=False)
    _rights: dict[tuple[str, str, int], bool] = field(default_factory=dict, repr=False)

    @classmethod
    def rooted_in(cls, genesis: PublicKey) -> Registry:
        reg = cls(genesis_kid=genesis.kid, genesis_key=genesis.loaded())
        reg.deployments[GENESIS_DEPLOYMENT] = DeploymentEntry("ledger", "genesis", ("ledger",), 0)
        reg.keys[genesis.kid] = KeyEntry(GENESIS_DEPLOYMENT, reg.genesis_key, 0)
        reg.grants[GENESIS_DEPLOYMENT] = [Grant(REGISTRY_RIGHT, 0)]
        return reg

    # ---- queries (pure, version-addressed) ----

    def hash_at(self, version: int) -> str | None:
        return self.hashes[version - 1] if 0 < version <= len(self.hashes) else None

    def key_at(self, kid: str, version: int) -> KeyEntry | None:
        entry = self.keys.get(kid)
        return entry if entry is not None and entry.valid_at(version) else None

    def may_act_for(self, deployment: str, org: str) -> bool:
        answer = self._acts.get((deployment, org))
        if answer is None:
            entry = self.deployments.get(deployment)
            answer = entry is not None and any(fnmatchcase(org, p) for p in entry.acts_for)
            self._acts[(deployment, org)] = answer
        return answer

    def has_right(self, deployment: str, event_type: str, version: int) -> bool:
        answer = self._rights.get((deployment, event_type, version))
        if answer is None:
            answer = any(
                g.valid_at(version) and fnmatchcase(event_type, g.pattern)
                for g in self.grants.get(deployment, ())
            )
            self._rights[(deployment, event_type, version)] = answer
        return answer

    def may_call(self, caller: str, callee: str, endpoint: str, version: int) -> bool:
        """Whether ``caller`` may call ``callee``'s internal ``endpoint`` at ``version``."""
        return any(
            g.pattern == endpoint and g.valid_at(version)
            for g in self.calls.get((caller, callee), ())
        )

    def config_entry_at(self, kind: str, version: int) -> tuple[str, dict[str, Any]] | None:
        """(version label, content) of the configuration of ``kind`` in force at ``version``."""
        found = None
        for at, label, content in self.configs.get(kind, ()):
            if at <= version:
                found = (label, content)
        return found

    def config_at(self, kind: str, version: int) -> dict[str, Any] | None:
        entry = self.config_entry_at(kind, version)
        return None if entry is None else entry[1]

    def copy(self) -> Registry:
        """An independent copy (a writer judges a registry draft on it, the live one untouched)."""
        return Registry(
            genesis_kid=self.genesis_kid,
            genesis_key=self.genesis_key,
            version=self.version,
            hashes=list(self.hashes),
            deployments=dict(self.deployments),
            keys={k: replace(e) for k, e in self.keys.items()},
            grants={d: [replace(g) for g in gs] for d, gs in self.grants.items()},
            configs={k: list(v) for k, v in self.configs.items()},
            config_owners=dict(self.config_owners),
            calls={pair: [replace(g) for g in gs] for pair, gs in self.calls.items()},
        )

    # ---- check and evolve (apply an accepted registry event) ----

    def check(self, event_type: str, data: dict[str, Any], act: Act) -> Verdict | None:
        """Why this registry event cannot apply now, or None."""
        if event_type == "ledger.registry.config_published.v1":
            owner = self.config_owners.get(data["kind"])
            if owner is None or owner[0] != act.source:
                return reject(Reason.not_owner, "only the deployment that owns it publishes it")
            if any(label == data["version"] for _, label, _ in self.configs.get(data["kind"], ())):
                return reject(Reason.wrong_state, "that version is already published")
            return None
        why = self._wrong_state(event_type, data)
        return None if why is None else reject(Reason.wrong_state, why)

    def _wrong_state(self, event_type: str, data: dict[str, Any]) -> str | None:
        if event_type == "ledger.registry.config_owner_named.v1":
            if data["kind"] in self.config_owners:
                return "that kind already has its owner"
            if data["deployment"] not in self.deployments:
                return "unknown deployment"
        elif event_type == "ledger.registry.deployment_registered.v1":
            if data["deployment"] in self.deployments:
                return "deployment already registered"
        elif event_type == "ledger.registry.key_added.v1":
            if data["kid"] in self.keys:
                return "key id already registered"
            if data["deployment"] not in self.deployments:
                return "unknown deployment"
            if PublicKey(unb64u(data["public_key"])).kid != data["kid"]:
                return "kid does not match the public key"
        elif event_type == "ledger.registry.key_revoked.v1":
            entry = self.keys.get(data["kid"])
            if entry is None or entry.revoked_at is not None:
                return "no such active key"
            if data["kid"] == self.genesis_kid:
                return "the genesis key cannot be revoked"
        elif (
            event_type in ("ledger.registry.rights_granted.v1", "ledger.registry.rights_revoked.v1")
            and data["deployment"] not in self.deployments
        ):
            return "unknown deployment"
        elif event_type == "ledger.registry.calls_granted.v1":
            if data["deployment"] not in self.deployments:
                return "unknown deployment"
        elif event_type == "ledger.registry.calls_revoked.v1":
            held = self.calls.get((data["deployment"], data["callee"]), ())
            active = {g.pattern for g in held if g.revoked_at is None}
            if not set(data["endpoints"]) <= active:
                return "no such active call grant"
        return None

    def apply(self, event_type: str, data: dict[str, Any], record_hash: str) -> None:
        self._acts.clear()
        self._rights.clear()
        self.version += 1
        self.hashes.append(record_hash)
        v = self.version
        if event_type == "ledger.registry.deployment_registered.v1":
            self.deployments[data["deployment"]] = DeploymentEntry(
                data["body"], data["service"], tuple(data["acts_for"]), v
            )
        elif event_type == "ledger.registry.key_added.v1":
            public = PublicKey(unb64u(data["public_key"])).loaded()
            self.keys[data["kid"]] = KeyEntry(data["deployment"], public, v)
        elif event_type == "ledger.registry.key_revoked.v1":
            self.keys[data["kid"]].revoked_at = v
        elif event_type == "ledger.registry.rights_granted.v1":
            grants = self.grants.setdefault(data["deployment"], [])
            grants.extend(Grant(p, v) for p in data["types"])
        elif event_type == "ledger.registry.rights_revoked.v1":
            for g in self.grants.get(data["deployment"], ()):
                if g.pattern in data["types"] and g.revoked_at is None:
                    g.revoked_at = v
        elif event_type == "ledger.registry.config_published.v1":
            self.configs.setdefault(data["kind"], []).append((v, data["version"], data["content"]))
        elif event_type == "ledger.registry.config_owner_named.v1":
            self.config_owners[data["kind"]] = (data["deployment"], v)
        elif event_type == "ledger.registry.calls_granted.v1":
            calls = self.calls.setdefault((data["deployment"], data["callee"]), [])
            calls.extend(Grant(e, v) for e in data["endpoints"])
        elif event_type == "ledger.registry.calls_revoked.v1":
            for g in self.calls.get((data["deployment"], data["callee"]), ()):
                if g.pattern in data["endpoints"] and g.revoked_at is None:
                    g.revoked_at = v

    def summary(self) -> dict[str, Any]:
        """A canonical view of the registry for state digests."""
        return {
            "version": self.version,
            "head": self.hash_at(self.version),
            "deployments": sorted(self.deployments),
            "keys": {
                k: [e.deployment, e.added_at, e.revoked_at] for k, e in sorted(self.keys.items())
            },
            "grants": {
                d: [[g.pattern, g.granted_at, g.revoked_at] for g in gs]
                for d, gs in sorted(self.grants.items())
            },
            "configs": {
                k: [[at, label] for at, label, _ in v] for k, v in sorted(self.configs.items())
            },
            "config_owners": {k: list(o) for k, o in sorted(self.config_owners.items())},
            "calls": {
                f"{caller} -> {callee}": [[g.pattern, g.granted_at, g.revoked_at] for g in gs]
                for (caller, callee), gs in sorted(self.calls.items())
            },
        }
