"""Redaction before the log, as intake composes it: the complaint's text with the
complainant's own details (known for certain from the form) and every other personal data the
shared detectors find (``shared/redaction``) replaced by typed placeholders. The receipt logs
only this text; the original goes to the vault.

The name recogniser runs a model, so the work runs off the event loop.
"""

from __future__ import annotations

import anyio

from services.intake.vault_content import Identity
from shared.redaction import Redacted, redact


def redact_complaint(text: str, identity: Identity) -> Redacted:
    return redact(text, identity.known())


async def redacted_off_loop(text: str, identity: Identity) -> Redacted:
    return await anyio.to_thread.run_sync(redact_complaint, text, identity)
