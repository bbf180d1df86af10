"""penalty.proposed and penalty.proposal_dismissed: penalties the log's facts call for.

A deemed done, a disputed resolution or an inspection finding (and, for leadership
responsibility, a unit past the configured threshold in a period) makes oversight propose a
penalty on the case; a supervisor decides it — ``penalty.imposed`` naming the proposal, or a
dismissal with a reason. Only a body's staff (or oversight's own reaction) proposes and
decides. Who is proposed, and the leadership threshold, span streams: the writer decides them
and the rule book takes them as written.
"""

from __future__ import annotations

from typing import Any

from shared.rules.act import Act, Check, Evolve, by_body, state_is
from shared.rules.case.guards import all_of, not_ended
from shared.rules.case.state import CaseState
from shared.rules.verdict import Verdict


def _new_proposal(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    return state_is("proposal id already used") if d["proposal_id"] in s.proposals else None


def pending(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    """A decision names a proposal awaiting one (none named: nothing to check)."""
    wanted = d.get("proposal_id")
    if wanted is None or wanted in s.proposals:
        return None
    return state_is("no such proposal awaits a decision")


def decided(s: CaseState, d: dict[str, Any]) -> CaseState:
    """The proposal a decision names no longer awaits one."""
    wanted = d.get("proposal_id")
    if wanted is None:
        return s
    return s._replace(proposals=tuple(p for p in s.proposals if p != wanted))


RULES: dict[str, tuple[Check, Evolve]] = {
    "ledger.penalty.proposed.v1": (
        all_of(by_body, not_ended, _new_proposal),
        lambda s, d: s._replace(proposals=(*s.proposals, d["proposal_id"])),
    ),
    "ledger.penalty.proposal_dismissed.v1": (
        all_of(by_body, pending),
        decided,
    ),
}
