"""Event ids: UUIDv7 for new facts; UUIDv5 derived ids that never change."""

from __future__ import annotations

import uuid

from shared.events.ids import (
    DERIVED_NAMESPACE,
    derived_event_id,
    new_event_id,
)

CAUSE = "0190a1b2-0000-7000-8000-000000000001"


def test_new_ids_are_uuid7_distinct_and_time_ordered() -> None:
    ids = [new_event_id() for _ in range(50)]
    assert all(uuid.UUID(i).version == 7 and str(uuid.UUID(i)) == i for i in ids)
    assert len(set(ids)) == 50
    assert ids == sorted(ids)


def test_the_namespace_is_fixed_forever() -> None:
    assert uuid.UUID("6f1d9a3e-6b0c-5d1e-9a57-3c9f3e0b7a10") == DERIVED_NAMESPACE


def test_a_derived_id_is_uuid5_of_cause_and_rule() -> None:
    got = derived_event_id(CAUSE, "deadline.elapsed")
    assert got == str(uuid.uuid5(DERIVED_NAMESPACE, f"{CAUSE}|deadline.elapsed"))
    assert got == "5146f5b7-4d45-54fe-83b9-975e003bcec2"  # written ids must never change
    assert derived_event_id(CAUSE, "deadline.elapsed") == got
    assert derived_event_id(CAUSE, "other") != got
