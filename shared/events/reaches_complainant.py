"""Which case events reach the complainant, and as what: the one list intake's delivery worker
fans out as ``complaint.delivered`` (``what``) and oversight words its events for.

An event of oversight's on this list carries its own zh-CN sentence for the complainant in
:data:`NOTICE_FIELD` (worded from its structured fields when oversight writes it: never a
supervisor's free text, never a staff name); delivery sends that sentence as the log holds it.
"""

from __future__ import annotations

from typing import Final, Literal

REPLIED: Final = "ledger.handling.replied.v1"
CLOSED: Final = "ledger.handling.closed.v1"
EXTENSION_RULED: Final = "ledger.handling.extension_ruled.v1"
REOPENED: Final = "ledger.handling.reopened.v1"

Delivered = Literal["reply", "closure", "notice"]

REACHES_COMPLAINANT: Final[dict[str, Delivered]] = {
    REPLIED: "reply",  # the unit's reply (答复), redacted
    CLOSED: "closure",  # the closing finding (办结结论) and how to contest it
    EXTENSION_RULED: "notice",  # the time limit extended, or not (延期审批结果)
    REOPENED: "notice",  # handled afresh (重办)
}
"""Event type -> ``what`` in ``complaint.delivered``."""

NOTICE_FIELD: Final = "complainant_notice"
"""The payload field holding the sentence the complainant is sent (oversight's notices)."""
