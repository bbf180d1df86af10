"""handling.first_shown: the workbench showed a unit its assignment for the first time.

Recorded beside the assignment's own time, so how long a unit took to look at a new case is a
fact of the log. It names the round it belongs to (the case's assignments and reopens so far):
only the current round's is accepted, so a view recorded before a reopen never stands for the
fresh assignment of due times the reopen gives. That it is written once per unit per round is
the writer's derived id (a second view, or a race, repeats the id and is refused as a replay).
Neither starts, pauses nor moves any clock.
"""

from __future__ import annotations

from typing import Any

from shared.rules.act import Act, Check, Evolve, state_is
from shared.rules.case.guards import all_of, in_status, same, unit_act
from shared.rules.case.state import ASSIGNED, CaseState
from shared.rules.verdict import Verdict


def _this_round(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    if (d["assignment"], d["reopened"]) != (s.assigned_times, s.reopened):
        return state_is("not the case's current assignment")
    return None


RULES: dict[str, tuple[Check, Evolve]] = {
    "ledger.handling.first_shown.v1": (all_of(unit_act, in_status(ASSIGNED), _this_round), same),
}
