"""A command's event ids are derived exactly as documented, so a retry after an upgrade still
derives the same ids: HMAC-SHA256 under the deployment's secret over the parts, each prefixed
with its length in 4 big-endian bytes, cut to 16 bytes, stamped as UUIDv8 (RFC 9562)."""

from __future__ import annotations

import hashlib
import hmac
import uuid

import pytest

from shared.events.ids import command_event_id

SECRET = bytes(range(32))
DEP = "/bodies/efficiency-office/intake"


def _by_the_spec(deployment: str, operator: str, key: str, index: int) -> str:
    message = b""
    for part in (deployment, operator, key, str(index)):
        raw = part.encode()
        message += len(raw).to_bytes(4, "big") + raw
    b = bytearray(hmac.new(SECRET, message, hashlib.sha256).digest()[:16])
    b[6] = 0x80 | (b[6] & 0x0F)
    b[8] = 0x80 | (b[8] & 0x3F)
    return str(uuid.UUID(bytes=bytes(b)))


@pytest.mark.parametrize(
    ("operator", "key", "index"),
    [("clerk-1", "key-1", 0), ("clerk-2", "订单-7", 3), ("o", "k", -1), ("", "", 12)],
)
def test_a_command_id_is_the_documented_keyed_hash(operator: str, key: str, index: int) -> None:
    got = command_event_id(SECRET, DEP, operator, key, index)
    assert got == _by_the_spec(DEP, operator, key, index)
    u = uuid.UUID(got)
    assert u.version == 8 and u.variant == uuid.RFC_4122


def test_every_id_is_a_uuid8_whatever_the_hash_bits() -> None:
    for i in range(64):
        u = uuid.UUID(command_event_id(SECRET, DEP, "clerk", f"k{i}", i))
        assert u.version == 8 and u.variant == uuid.RFC_4122
