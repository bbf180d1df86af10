"""An auditor's signed acknowledgement of a known incident: named bad records, and why.

``ledger verify`` still lists every acknowledged record, and passes once every bad record is
acknowledged; a seal written then lists them, so rebuilds trusting it skip them (and say so).
A record is named by its position and the hash of the bytes found there ('' where none is),
so an acknowledgement never covers a later, different edit at the same place.
"""

from __future__ import annotations

import hashlib

from shared.crypto.signing import PublicKey
from shared.ledger.deployments import AUDITOR_ACTOR
from shared.ledger.signer import Draft, Signer
from shared.ledger.verify import StoredFile
from shared.ledger.writer import EventWriter
from shared.log.port import EventLog
from shared.log.sqlite import OFFSET_BITS
from shared.rules.stream import AUDIT_STREAM


async def stored_hash(log: EventLog, partition: int, offset: int) -> str:
    """SHA-256 of the bytes stored at a position ('' if none, or not bytes)."""
    if isinstance(log, StoredFile):
        pos = (partition << OFFSET_BITS) + offset
        rows = await log.stored_rows(pos - 1, 1)
        if rows and rows[0][0] == pos and type(rows[0][4]) is bytes:
            return hashlib.sha256(rows[0][4]).hexdigest()
        return ""
    recs = await log.read({partition: offset}, limit=1, until={partition: offset + 1})
    return hashlib.sha256(recs[0].record).hexdigest() if recs else ""


async def acknowledge_bad_records(
    log: EventLog,
    auditor: Signer,
    genesis: PublicKey,
    positions: list[tuple[int, int]],
    reason: str,
) -> list[tuple[int, int, str]]:
    named = [(p, o, await stored_hash(log, p, o)) for p, o in positions]
    draft = Draft(
        "ledger.audit.acknowledged.v1",
        {"events": [list(n) for n in named], "reason": reason},
        AUDITOR_ACTOR,
    )
    result = await EventWriter(log, auditor, genesis).submit(AUDIT_STREAM, lambda s: [draft])
    if not result.accepted:
        raise RuntimeError(f"acknowledgement not accepted: {result.written[0].verdict}")
    return named
