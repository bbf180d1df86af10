"""The stored record: one signed event as a log holds it, with the log's own facts about it.

It lives in the core, not in the log package, because the rule book and the fold judge records
and must not import an adapter; every log adapter produces these.
"""

from __future__ import annotations

from typing import NamedTuple


class StoredRecord(NamedTuple):
    """One record as the log holds it (a NamedTuple: replay builds one per event)."""

    partition: int
    offset: int
    stream: str
    appended_at: int  # log time, microseconds since the epoch (never the writer's claim)
    record: bytes
