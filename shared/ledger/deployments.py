"""The deployments of the embedded default: one key per service of one body, plus the auditor.

Their registration, keys, rights and configuration ownership are registry events signed by the
genesis key; this table is only what ``ledger init`` writes on a fresh log. Each kind of act
has exactly one signer: complainants act through intake, units through oversight's workbench
(every ``handling.*`` act a unit makes), dispatch rules on returns, oversight's supervisors on
extensions. Each kind of configuration has one owner, which publishes its versions itself.
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


CONFIG_RIGHT = "ledger.registry.config_published.v1"


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
        ("ledger.dispatch.*", "ledger.conference.*", CONFIG_RIGHT),
        # routing, limits and calendar are dispatch's; the bureau names it for the directories
        ("routing", "time_limits", "calendar", "body_directory", "unit_directory"),
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
            "ledger.period.*",
            CONFIG_RIGHT,
        ),
        ("escalation_thresholds", "penalty_schedule", "assessment_weights"),
    ),
    DeploymentSpec(
        "publication",
        f"/bodies/{BODY}/publication",
        BODY,
        "publication",
        (BODY,),
        ("ledger.publication.*", CONFIG_RIGHT),
        ("publication_policy",),
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
