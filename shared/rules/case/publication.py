"""publication.*: notices about a closed case. A confidential matter is never published."""

from __future__ import annotations

from typing import Any

from shared.rules.act import Act, Check, Evolve, state_is
from shared.rules.case.guards import all_of, in_status
from shared.rules.case.state import CLOSED, CaseState
from shared.rules.verdict import Verdict


def _notice_is(*states: str | None) -> Check:
    def check(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
        return None if s.notice(d["notice_id"]) in states else state_is("notice not in that state")

    return check


def _not_confidential(s: CaseState, d: dict[str, Any], act: Act) -> Verdict | None:
    return state_is("a confidential matter is never published") if s.confidential else None


def _notice_to(state: str) -> Evolve:
    def evolve(s: CaseState, d: dict[str, Any]) -> CaseState:
        others = tuple(n for n in s.notices if n[0] != d["notice_id"])
        return s._replace(notices=(*others, (d["notice_id"], state)))

    return evolve


RULES: dict[str, tuple[Check, Evolve]] = {
    "ledger.publication.drafted.v1": (
        all_of(in_status(CLOSED), _not_confidential, _notice_is(None)),
        _notice_to("drafted"),
    ),
    "ledger.publication.published.v1": (_notice_is("drafted"), _notice_to("published")),
    "ledger.publication.withheld.v1": (_notice_is("drafted"), _notice_to("withheld")),
    "ledger.publication.withdrawn.v1": (_notice_is("published"), _notice_to("withdrawn")),
    "ledger.publication.corrected.v1": (_notice_is("published"), _notice_to("published")),
}
