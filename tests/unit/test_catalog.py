"""Every event type we write is a CloudEvent the official SDK parses, and round-trips."""

from __future__ import annotations

import pytest
from cloudevents.core.formats.json import JSONFormat

from shared.crypto.signing import SigningKey
from shared.events.catalog import CATALOG, STREAM_KINDS_OF_FAMILY, family
from shared.events.upcast import register, upcast
from shared.ledger.signer import Draft, Signer
from shared.rules.kinds import holds
from tests.samples import SAMPLES

STREAM_OF_KIND = {
    "case": "case-00000000-0000-4000-8000-000000000001",
    "conference": "conf-00000000-0000-4000-8000-000000000002",
    "period": "period-2026-11",
    "registry": "registry",
    "audit": "audit",
}


def test_every_type_has_a_sample_and_a_stream_kind() -> None:
    assert set(SAMPLES) == set(CATALOG)
    for t in CATALOG:
        assert family(t) in STREAM_KINDS_OF_FAMILY


@pytest.mark.parametrize("event_type", sorted(CATALOG))
def test_the_rule_book_holds_each_type_exactly_in_its_familys_stream_kinds(event_type: str) -> None:
    kinds = STREAM_KINDS_OF_FAMILY[family(event_type)]
    for kind in STREAM_OF_KIND:
        assert holds(kind, event_type, family(event_type)) == (kind in kinds), kind


@pytest.mark.parametrize("event_type", sorted(CATALOG))
def test_cloudevents_sdk_parses_every_event_we_write(event_type: str) -> None:
    signer = Signer("/bodies/efficiency-office/intake", SigningKey.generate())
    stream = STREAM_OF_KIND[min(STREAM_KINDS_OF_FAMILY[family(event_type)])]
    signed = signer.sign(
        stream,
        Draft(event_type, SAMPLES[event_type], "efficiency-office/S001"),
        prev="ab" * 32,
        regseq=3,
        reghash="cd" * 32,
    )
    event = JSONFormat().read(None, signed.record)  # validates attributes and extension names
    assert event.get_type() == event_type
    assert event.get_id() == signed.id
    assert event.get_subject() == stream
    assert event.get_extension("partitionkey") == stream
    assert event.get_extension("actor") == "efficiency-office/S001"
    assert event.get_extension("prev") == "ab" * 32
    assert event.get_extension("regseq") == 3
    expected = CATALOG[event_type].model_validate(SAMPLES[event_type]).model_dump(mode="json")
    assert event.get_data() == expected


def test_old_versions_are_upcast_on_read_never_rewritten() -> None:
    @register("ledger.test.renamed", 1)
    def _v1_to_v2(data: dict) -> dict:
        return {"new_name": data["old_name"]}

    assert upcast("ledger.test.renamed.v1", {"old_name": 1}) == (
        "ledger.test.renamed.v2",
        {"new_name": 1},
    )
    assert upcast("ledger.test.renamed.v2", {"new_name": 1}) == (
        "ledger.test.renamed.v2",
        {"new_name": 1},
    )
