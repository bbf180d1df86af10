"""``ledger init``: keys for every configured deployment and their registry entries
(registration, key, rights, the kinds of configuration it owns: named once, by the genesis
key, and the internal endpoints of other deployments it may call). This is the single-machine
way: the genesis key and every deployment's key in one place (``make run`` says so). Elsewhere
each body generates its own key and the genesis key's holder registers it (``ledger keys``,
``shared/ledger/key_files.py``) with the same drafts.

Idempotent: a deployment already registered is left alone, so running it twice, or from two
processes at once, writes each registry fact once (the second writer's copy is a conflict).
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.crypto.signing import PublicKey, SigningKey
from shared.ledger import keystore
from shared.ledger.deployments import GENESIS_ACTOR, DeploymentSpec, configured
from shared.ledger.signer import Draft, Signer
from shared.ledger.writer import EventWriter
from shared.log.port import EventLog
from shared.rules.registry import GENESIS_DEPLOYMENT, Registry
from shared.rules.stream import REGISTRY_STREAM, StreamState
from shared.settings import LedgerSettings


@dataclass(frozen=True)
class InitResult:
    registered: list[str]
    already: list[str]


def key_added_draft(spec: DeploymentSpec, key: SigningKey | PublicKey) -> Draft:
    public = key.public if isinstance(key, SigningKey) else key
    return Draft(
        "ledger.registry.key_added.v1",
        {"deployment": spec.deployment, "kid": public.kid, "public_key": public.text},
        GENESIS_ACTOR,
    )


def registration_drafts(spec: DeploymentSpec, key: SigningKey | PublicKey) -> list[Draft]:
    """A deployment's registration, key, rights and configuration ownership, in that order."""
    return [
        Draft(
            "ledger.registry.deployment_registered.v1",
            {
                "deployment": spec.deployment,
                "body": spec.body,
                "service": spec.service,
                "acts_for": list(spec.acts_for),
            },
            GENESIS_ACTOR,
        ),
        key_added_draft(spec, key),
        Draft(
            "ledger.registry.rights_granted.v1",
            {"deployment": spec.deployment, "types": list(spec.rights)},
            GENESIS_ACTOR,
        ),
        *(
            Draft(
                "ledger.registry.config_owner_named.v1",
                {"kind": kind, "deployment": spec.deployment},
                GENESIS_ACTOR,
            )
            for kind in spec.configs
        ),
        *(
            Draft(
                "ledger.registry.calls_granted.v1",
                {
                    "deployment": spec.deployment,
                    "callee": callee,
                    "endpoints": [e for c, e in spec.calls if c == callee],
                },
                GENESIS_ACTOR,
            )
            for callee in dict.fromkeys(c for c, _ in spec.calls)
        ),
    ]


async def init_ledger(
    log: EventLog, settings: LedgerSettings, specs: tuple[DeploymentSpec, ...] | None = None
) -> InitResult:
    if specs is None:
        specs = configured(settings)
    genesis_key = keystore.load_or_create(settings, keystore.GENESIS)
    genesis = keystore.genesis_public(settings)
    if genesis.kid != genesis_key.kid:
        raise RuntimeError("the genesis key under var/keys/ is not the configured genesis key")
    writer = EventWriter(log, Signer(GENESIS_DEPLOYMENT, genesis_key), genesis)
    registered: list[str] = []
    already: list[str] = []
    for spec in specs:
        key = keystore.load_or_create(settings, spec.name)

        def decide(
            state: StreamState, spec: DeploymentSpec = spec, key: SigningKey = key
        ) -> list[Draft]:
            registry: Registry = state.domain
            if spec.deployment in registry.deployments:
                return []
            return registration_drafts(spec, key)

        result = await writer.submit(REGISTRY_STREAM, decide)
        (registered if result.written else already).append(spec.deployment)
    return InitResult(registered, already)
