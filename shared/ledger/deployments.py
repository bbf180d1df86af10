"""The deployments of the embedded default: one key per service of one body, plus the auditor.

Their registration, keys and rights are registry events signed by the genesis key; this table
is only what ``ledger init`` writes on a fresh log.
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


BODY = "efficiency-office"

DEFAULT_DEPLOYMENTS: tuple[DeploymentSpec, ...] = (
    DeploymentSpec(
        "intake",
        f"/bodies/{BODY}/intake",
        BODY,
        "intake",
        (BODY, "complainant"),
        ("ledger.complaint.*", "ledger.complainant.*"),
    ),
    DeploymentSpec(
        "dispatch",
        f"/bodies/{BODY}/dispatch",
        BODY,
        "dispatch",
        (BODY,),
        ("ledger.dispatch.*", "ledger.conference.*"),
    ),
    DeploymentSpec(
        "oversight",
        f"/bodies/{BODY}/oversight",
        BODY,
        "oversight",
        # Units under supervision act through oversight's workbench, which signs for them.
        (BODY, "unit:*"),
        (
            "ledger.handling.*",
            "ledger.deadline.*",
            "ledger.supervision.*",
            "ledger.penalty.*",
            "ledger.inspection.*",
            "ledger.figures.*",
        ),
    ),
    DeploymentSpec(
        "publication",
        f"/bodies/{BODY}/publication",
        BODY,
        "publication",
        (BODY,),
        ("ledger.publication.*",),
    ),
    DeploymentSpec(
        "auditor", "/ledger/auditor", "ledger", "auditor", ("ledger",), ("ledger.audit.*",)
    ),
)

GENESIS_ACTOR = "ledger/genesis"
AUDITOR_ACTOR = "ledger/auditor"


def spec(name: str) -> DeploymentSpec:
    for s in DEFAULT_DEPLOYMENTS:
        if s.name == name:
            return s
    raise KeyError(name)
