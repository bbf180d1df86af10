"""Command event ids: keyed hashes of (deployment, operator, idempotency key, index)."""

from __future__ import annotations

import uuid

from shared.events.ids import command_event_id

SECRET = b"k" * 32
DEP = "/bodies/efficiency-office/intake"


def test_same_cause_same_id_and_every_part_counts() -> None:
    first = command_event_id(SECRET, DEP, "clerk-1", "key-1", 0)
    assert first == command_event_id(SECRET, DEP, "clerk-1", "key-1", 0)
    others = {
        command_event_id(SECRET, DEP, "clerk-2", "key-1", 0),  # another operator, same key
        command_event_id(SECRET, DEP, "clerk-1", "key-2", 0),
        command_event_id(SECRET, DEP, "clerk-1", "key-1", 1),
        command_event_id(SECRET, "/bodies/efficiency-office/dispatch", "clerk-1", "key-1", 0),
        command_event_id(b"x" * 32, DEP, "clerk-1", "key-1", 0),  # another deployment's secret
        command_event_id(SECRET, DEP, "clerk-1k", "ey-1", 0),  # no ambiguous joins
    }
    assert first not in others and len(others) == 6
    parsed = uuid.UUID(first)
    assert parsed.version == 8 and parsed.variant == uuid.RFC_4122
    assert "key-1" not in first
