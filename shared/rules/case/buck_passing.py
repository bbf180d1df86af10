"""dispatch.buck_passing_flagged: 踢皮球, seen in the case's own history.

Dispatch derives the flag from the case stream alone (two returns granted, or the case handed
back to a unit that had returned it: A → B → A), with an id derived from the case and the
pattern, so each pattern is flagged once per case: a second flag of the same pattern carries
the same id and is a replay. The flag changes nothing on the case: it is a finding for the
dispatch board, supervision and assessment. A cycle needs at least one reassignment after the
first assignment; a flag is raised only on a case still open.
"""

from __future__ import annotations

from typing import Any

from shared.rules.act import Act, Check, Evolve, by_body, state_is
from shared.rules.case.guards import all_of, in_status, same
from shared.rules.case.state import OPEN, CaseState
from shared.rules.verdict import Verdict


def _reassigned(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    if d["pattern"] == "cycle" and s.assigned_times < 2:
        return state_is("a case assigned once has not been passed around")
    if d["pattern"] == "returned_twice" and s.assigned_times < 1:
        return state_is("a case never assigned has not been returned")
    return None


RULES: dict[str, tuple[Check, Evolve]] = {
    "ledger.dispatch.buck_passing_flagged.v1": (
        all_of(by_body, in_status(*OPEN), _reassigned),
        same,
    ),
}
