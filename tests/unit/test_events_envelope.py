"""The envelope: CloudEvents attributes plus the ledger's extensions, and the stream names."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from shared.events.envelope import (
    CONTENT_TYPE,
    SPECVERSION,
    Envelope,
    actor_org,
    split_type,
    stream_kind,
)

CASE = "case-00000000-0000-4000-8000-000000000001"


def fields(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "0190a1b2-0000-7000-8000-000000000001",
        "source": "/bodies/efficiency-office/intake",
        "type": "ledger.complaint.received.v1",
        "subject": CASE,
        "time": "2026-11-26T09:00:00+08:00",
        "data": {"unit": "unit:x"},
        "actor": "efficiency-office/S001",
        "alg": "ed25519-sha256",
        "kid": "0" * 32,
        "regseq": 3,
        "partitionkey": CASE,
    }
    base.update(overrides)
    return base


def test_split_type_gives_the_base_and_the_version() -> None:
    assert split_type("ledger.complaint.received.v1") == ("ledger.complaint.received", 1)
    assert split_type("ledger.audit.seal_recorded.v12") == ("ledger.audit.seal_recorded", 12)


def test_actor_org_is_the_part_before_the_first_slash() -> None:
    assert actor_org("unit:health-bureau/H001") == "unit:health-bureau"
    assert actor_org("complainant/abc") == "complainant"


@pytest.mark.parametrize(
    ("stream", "kind"),
    [
        ("registry", "registry"),
        ("audit", "audit"),
        (CASE, "case"),
        ("conf-00000000-0000-4000-8000-000000000001", "conference"),
        ("period-2026-11", "period"),
        ("other-1", "unknown"),
        ("registry-1", "unknown"),
        ("cases-1", "unknown"),
    ],
)
def test_stream_kind_by_name(stream: str, kind: str) -> None:
    assert stream_kind(stream) == kind


def test_a_complete_envelope_has_the_cloudevents_defaults() -> None:
    env = Envelope(**fields())
    assert SPECVERSION == "1.0" and CONTENT_TYPE == "application/json"
    assert env.specversion == "1.0" and env.datacontenttype == "application/json"
    assert env.prev is None and env.reghash is None and env.sig is None


def test_as_dict_omits_absent_optionals_and_keeps_the_rest() -> None:
    d = Envelope(**fields()).as_dict()
    assert "prev" not in d and "reghash" not in d and "sig" not in d
    assert d["specversion"] == "1.0" and d["regseq"] == 3 and d["partitionkey"] == CASE
    with_prev = Envelope(**fields(prev="a" * 64, reghash="b" * 64, sig="s")).as_dict()
    assert with_prev["prev"] == "a" * 64 and with_prev["reghash"] == "b" * 64
    assert with_prev["sig"] == "s"


def test_regseq_zero_is_the_empty_registry_and_negative_is_refused() -> None:
    assert Envelope(**fields(regseq=0)).regseq == 0
    with pytest.raises(ValidationError):
        Envelope(**fields(regseq=-1))


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "complaint.received.v1"},
        {"type": "ledger.complaint.received.v0"},
        {"type": "ledger.complaint.received"},
        {"subject": "case-1", "partitionkey": "case-1"},
        {"subject": "nowhere", "partitionkey": "nowhere"},
        {"actor": "no-slash"},
        {"actor": "Upper/x"},
        {"source": "bodies/x"},
        {"source": "/Bodies/x"},
        {"partitionkey": "audit"},
        {"unexpected": 1},
    ],
)
def test_malformed_envelopes_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Envelope(**fields(**bad))


@pytest.mark.parametrize(
    "good",
    [
        {"type": "ledger.complaint.received.v10"},
        {"subject": "period-2026-11", "partitionkey": "period-2026-11"},
        {"subject": "registry", "partitionkey": "registry"},
        {"actor": "unit:health-bureau/H001"},
        {"source": "/ledger/auditor"},
    ],
)
def test_well_formed_variants_are_accepted(good: dict[str, Any]) -> None:
    Envelope(**fields(**good))


def test_an_envelope_is_immutable() -> None:
    env = Envelope(**fields())
    with pytest.raises(ValidationError):
        env.regseq = 4  # type: ignore[misc]
