"""The joint-conference stream (联席会议): convened, opinions, decision.

缺席默认: a member who gave no opinion by the decision is deemed to consent, and the decision
must name exactly those members — the rule book checks the list against the stream itself.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

NEW = "new"
OPEN = "open"
DECIDED = "decided"


@dataclass(frozen=True, slots=True)
class ConferenceState:
    status: str = NEW
    cases: tuple[str, ...] = ()
    members: tuple[str, ...] = ()
    opinions: tuple[tuple[str, str], ...] = ()  # (member, opinion)
    deemed_consent: tuple[str, ...] = ()

    def absent(self) -> list[str]:
        given = {m for m, _ in self.opinions}
        return sorted(m for m in self.members if m not in given)

    def summary(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "cases": list(self.cases),
            "members": list(self.members),
            "opinions": [list(o) for o in self.opinions],
            "deemed_consent": list(self.deemed_consent),
        }


def check(state: ConferenceState, event_type: str, data: dict[str, Any]) -> str | None:
    if event_type == "ledger.conference.convened.v1":
        if state.status != NEW:
            return "conference already convened"
        if len(set(data["members"])) != len(data["members"]):
            return "members listed twice"
        return None
    if state.status != OPEN:
        return f"conference is {state.status}"
    if event_type == "ledger.conference.opinion_given.v1":
        if data["member"] not in state.members:
            return "not a member of this conference"
        if any(m == data["member"] for m, _ in state.opinions):
            return "member already gave an opinion"
        return None
    if event_type == "ledger.conference.decided.v1":
        if sorted(data["absent_deemed_consent"]) != state.absent():
            return "absent members listed wrongly"
        return None
    return "not a conference event"


def evolve(state: ConferenceState, event_type: str, data: dict[str, Any]) -> ConferenceState:
    if event_type == "ledger.conference.convened.v1":
        return replace(
            state, status=OPEN, cases=tuple(data["cases"]), members=tuple(data["members"])
        )
    if event_type == "ledger.conference.opinion_given.v1":
        return replace(state, opinions=(*state.opinions, (data["member"], data["opinion"])))
    return replace(
        state, status=DECIDED, deemed_consent=tuple(sorted(data["absent_deemed_consent"]))
    )
