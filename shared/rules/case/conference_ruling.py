"""dispatch.conference_ruled: a joint conference's decision, as it bears on a case concerned.

The decision lives on its conference stream; its effect on each case concerned follows as the
case's own event, written by the convener's dispatch with an id derived from the decision and
the case (once each). Which conference decided what spans streams, so it is taken as written
(DESIGN principle 3); the case only has to exist, and the act be a body's staff's. It records
the ruling in the case's history and changes no clock: a joint assignment the decision calls
for is dispatch's own assignment, under its own rules.
"""

from __future__ import annotations

from typing import Any

from shared.rules.act import Act, Check, Evolve, all_of, by_body, state_is
from shared.rules.case.guards import same
from shared.rules.case.state import NEW, CaseState
from shared.rules.verdict import Verdict


def _case_exists(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    return state_is("no such case") if s.status == NEW else None


RULES: dict[str, tuple[Check, Evolve]] = {
    "ledger.dispatch.conference_ruled.v1": (all_of(by_body, _case_exists), same),
}
