"""Deployments: who signs (a key file under var/keys/), as which CloudEvents source, for whom,
with which rights, owning which kinds of configuration. Each service declares its own
(``services/<name>/app.py``); the auditor is the ledger's. Their registration, keys, rights and
configuration ownership are registry events signed by the genesis key; this is only what
``ledger init`` writes on a fresh log. Each kind of act has exactly one signer: complainants
act through intake, units through oversight's workbench (every ``handling.*`` act a unit
makes), dispatch rules on returns, oversight's supervisors on extensions. Each kind of
configuration has one owner, which publishes its versions itself.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DeploymentSpec:
    name: str  # key file name under var/keys/
    deployment: str  # CloudEvents source
    body: str
    service: str
    acts_for: tuple[str, ...]
    rights: tuple[str, ...]
    configs: tuple[str, ...] = ()  # the kinds of configuration it owns and publishes
    # (callee deployment, endpoint): internal endpoints of other deployments it may call with
    # signed requests (shared/web/signed_calls.py); ``ledger init`` grants them.
    calls: tuple[tuple[str, str], ...] = ()


CONFIG_RIGHT = "ledger.registry.config_published.v1"


BODY = "efficiency-office"  # the body of the single-machine demonstration

AUDITOR = DeploymentSpec(
    "auditor", "/ledger/auditor", "ledger", "auditor", ("ledger",), ("ledger.audit.*",)
)
"""The ledger's own deployment (digests, seals); every service declares its own
(``shared/service.py``)."""

GENESIS_ACTOR = "ledger/genesis"
AUDITOR_ACTOR = "ledger/auditor"


def default_deployments() -> tuple[DeploymentSpec, ...]:
    """Every declared service's deployment, then the auditor's: what ``ledger init`` writes."""
    from shared.service import declared

    return (*(d.deployment for d in declared().values()), AUDITOR)


def spec(name: str) -> DeploymentSpec:
    for s in default_deployments():
        if s.name == name:
            return s
    raise KeyError(name)
