"""Cross-level complaints (越级投诉): the same incident filed with a lower-level body first,
then with a higher one.

Body levels come from the published body directory: a district body (区级) is below a
municipal one (市级); a stationed office is not ranked against either. When a complaint
received by a higher-level body matches a case that already holds a complaint received by a
lower-level body, the new complaint is flagged (``complaint.flagged_cross_level``, naming the
lower body and its complaint) and linked into that case: the lower body's handling continues.
The reverse order — the lower body second — is a plain duplicate.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.intake.duplicates import Directory, Profile
from shared.events.catalog import DuplicateFigures

LEVEL_RANK = {"district": 0, "municipal": 1}


def rank(directory: Directory, body: str) -> int | None:
    level = directory.level(body)
    return LEVEL_RANK.get(level) if level is not None else None


def lower_first(new: Profile, gathered: Sequence[Profile], directory: Directory) -> Profile | None:
    """The earliest complaint of the matched case received, before the new one, by a body of a
    lower level than the new one's; None if there is none (or the levels are not known)."""
    mine = rank(directory, new.received_by)
    if mine is None:
        return None
    lower = []
    for p in gathered:
        theirs = rank(directory, p.received_by)
        if theirs is not None and theirs < mine and (p.at, p.case) < (new.at, new.case):
            lower.append(p)
    return min(lower, key=lambda p: (p.at, p.case)) if lower else None


def flag(
    new: Profile, lower: Profile, directory: Directory, figures: DuplicateFigures, note: str
) -> dict[str, Any]:
    """The payload of ``complaint.flagged_cross_level`` on the new complaint's case."""
    return {
        "from_level": directory.level(lower.received_by) or "",
        "to_level": directory.level(new.received_by) or "",
        "other_body": lower.received_by,
        "other_case": lower.complaint_no,
        "basis": note[:500],
        "figures": figures.model_dump(mode="json"),
    }
