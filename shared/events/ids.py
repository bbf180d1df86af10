"""Event ids: UUIDv7 for new facts, UUIDv5 for facts derived from another event.

Same cause, same id (DESIGN principle 9): a redelivered cause derives an event whose id the
stream has already seen, so the rule book rejects it as a replay instead of applying it twice.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid

from uuid6 import uuid7

# Fixed namespace for derived ids; changing it would change every derived id ever written.
DERIVED_NAMESPACE = uuid.UUID("6f1d9a3e-6b0c-5d1e-9a57-3c9f3e0b7a10")


def new_event_id() -> str:
    return str(uuid7())


def derived_event_id(cause_id: str, rule: str) -> str:
    """The id of the event that `rule` derives from the event `cause_id`."""
    return str(uuid.uuid5(DERIVED_NAMESPACE, f"{cause_id}|{rule}"))


def command_event_id(
    secret: bytes, deployment: str, operator: str, idempotency_key: str, index: int
) -> str:
    """The id of the ``index``-th event of one command: a keyed hash (HMAC-SHA256 under the
    deployment's own secret) of who sent it and the key they chose, as a UUIDv8.

    A retry after a crash derives the same id (the rule book then rejects the copy as a
    replay), two operators' equal keys never collide, and the raw key — which may carry
    anything a client typed — never reaches the log: only this hash of it does. ``index`` -1
    names the stream a command opens.
    """
    mac = hmac.new(secret, digestmod=hashlib.sha256)
    for part in (deployment, operator, idempotency_key, str(index)):
        raw = part.encode("utf-8", "surrogatepass")
        mac.update(len(raw).to_bytes(4, "big") + raw)  # length-prefixed: no ambiguous joins
    b = bytearray(mac.digest()[:16])
    b[6] = (b[6] & 0x0F) | 0x80  # version 8 (RFC 9562: custom)
    b[8] = (b[8] & 0x3F) | 0x80  # RFC 4122 variant
    return str(uuid.UUID(bytes=bytes(b)))
