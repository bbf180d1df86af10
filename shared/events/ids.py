"""Event ids: UUIDv7 for new facts, UUIDv5 for facts derived from another event.

Same cause, same id (DESIGN principle 9): a redelivered cause derives an event whose id the
stream has already seen, so the rule book rejects it as a replay instead of applying it twice.
"""

from __future__ import annotations

import uuid

from uuid6 import uuid7

# Fixed namespace for derived ids; changing it would change every derived id ever written.
DERIVED_NAMESPACE = uuid.UUID("6f1d9a3e-6b0c-5d1e-9a57-3c9f3e0b7a10")


def new_event_id() -> str:
    return str(uuid7())


def derived_event_id(cause_id: str, rule: str) -> str:
    """The id of the event that `rule` derives from the event `cause_id`."""
    return str(uuid.uuid5(DERIVED_NAMESPACE, f"{cause_id}|{rule}"))


def idempotent_event_id(deployment: str, idempotency_key: str, index: int = 0) -> str:
    """The id of the `index`-th event a command with this idempotency key produces."""
    return str(uuid.uuid5(DERIVED_NAMESPACE, f"cmd|{deployment}|{idempotency_key}|{index}"))
