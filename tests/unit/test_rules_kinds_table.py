"""The table of stream kinds, entry by entry, where a signed history cannot reach: the audit
kind refuses an audit-family type its stream does not know (a type added to the catalog
before the audit rules learn it), and the genesis deployment is registered at version 0."""

from __future__ import annotations

from shared.crypto.signing import SigningKey
from shared.rules.act import Act
from shared.rules.audit import AuditState
from shared.rules.kinds import KINDS
from shared.rules.registry import GENESIS_DEPLOYMENT, Registry
from shared.rules.verdict import Reason

REG = Registry.rooted_in(SigningKey.generate().public)
AUDITOR = Act("ledger/auditor", "ledger", "auditor", "/ledger/auditor", 1, 0, REG, "audit")


def test_the_audit_kind_refuses_an_audit_type_it_does_not_know() -> None:
    audit = KINDS["audit"]
    v = audit.check(AuditState(), "ledger.audit.rumoured.v1", {}, AUDITOR)
    assert v is not None and v.reason is Reason.wrong_state and not v.accepted
    data = {"partition": 0, "count": 1, "digest": "0" * 64, "partitions": 1}
    assert audit.check(AuditState(), "ledger.audit.digest_recorded.v1", data, AUDITOR) is None


def test_the_genesis_deployment_is_registered_at_version_zero_for_the_ledger() -> None:
    entry = REG.deployments[GENESIS_DEPLOYMENT]
    assert (entry.body, entry.service, entry.acts_for, entry.registered_at) == (
        "ledger",
        "genesis",
        ("ledger",),
        0,
    )
