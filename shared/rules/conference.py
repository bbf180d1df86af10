"""The joint-conference stream (联席会议): convened, opinions, the opinion deadline, decision.

The convening body (``convener``, the convening officer's body) names the members, the cases
concerned, the question, the decision rule and the opinion deadline. Each member body gives
its own opinion, through its own deployment or through a shared dispatch that the registry
lets act for it (member = the actor's body, whichever deployment signed), once, and only
before the decision; afterwards it may only explain it by a note (``opinion_noted``).
缺席默认: a member who gave no opinion by the decision is deemed to consent, and the
decision names exactly those members and carries the tally. A decision with members absent
needs the opinion deadline to have elapsed (a timer on this stream, once, after its due
time); with every opinion in, it may come at once. Only the convener records the decision,
and its outcome must be the tally's under the stated rule.
Convening and deciding are dispatch's, which signs only for the bodies it may act for (the
rights table).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from shared.events.catalog import ConferenceOutcome, DecisionRule
from shared.rules.act import Act, Check, Evolve, all_of, by_body, micros, state_is
from shared.rules.timer import timer_key, timer_once
from shared.rules.verdict import Reason, Verdict, reject

NEW = "new"
OPEN = "open"
DECIDED = "decided"


class ConferenceState(NamedTuple):
    status: str = NEW
    cases: tuple[str, ...] = ()
    members: tuple[str, ...] = ()
    opinions: tuple[tuple[str, str], ...] = ()  # (member, opinion)
    opinions_due: int = 0  # µs
    opinions_elapsed: bool = False
    timers: tuple[tuple[str, int], ...] = ()
    deemed_consent: tuple[str, ...] = ()
    convener: str = ""
    rule: str = DecisionRule.majority.value

    def absent(self) -> list[str]:
        given = {m for m, _ in self.opinions}
        return sorted(m for m in self.members if m not in given)

    def tally(self) -> dict[str, int]:
        counts = {"consent": 0, "object": 0, "abstain": 0}
        for _, opinion in self.opinions:
            counts[opinion] += 1
        return {**counts, "deemed_consent": len(self.absent())}

    def summary(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "cases": list(self.cases),
            "members": list(self.members),
            "opinions": [list(o) for o in self.opinions],
            "opinions_due": self.opinions_due,
            "opinions_elapsed": self.opinions_elapsed,
            "timers": [list(t) for t in self.timers],
            "deemed_consent": list(self.deemed_consent),
            "convener": self.convener,
            "rule": self.rule,
        }


def outcome(rule: str, tally: dict[str, int], members: int) -> str:
    """The outcome of a tally under a decision rule; deemed consents count as consents."""
    consents = tally["consent"] + tally["deemed_consent"]
    if rule == DecisionRule.unanimous:
        adopted = consents == members
    elif rule == DecisionRule.two_thirds:
        adopted = 3 * consents >= 2 * members
    else:
        adopted = 2 * consents > members
    return (ConferenceOutcome.adopted if adopted else ConferenceOutcome.rejected).value


def _convenable(s: ConferenceState, d: dict[str, Any], act: Act) -> Verdict | None:
    if s.status != NEW:
        return state_is("conference already convened")
    if len(set(d["members"])) != len(d["members"]):
        return state_is("members listed twice")
    if d["convener"] != act.org:
        return reject(Reason.acts_for_other, "a body convenes only in its own name")
    return None


def _open(s: ConferenceState, d: dict[str, Any], act: Act) -> Verdict | None:
    return None if s.status == OPEN else state_is(f"conference is {s.status}")


def _own_opinion(s: ConferenceState, d: dict[str, Any], act: Act) -> Verdict | None:
    if d["member"] not in s.members:
        return state_is("not a member of this conference")
    if act.org != d["member"]:
        return reject(Reason.acts_for_other, "a member gives only its own opinion")
    if any(m == d["member"] for m, _ in s.opinions):
        return state_is("member already gave an opinion")
    return None


def _noted(s: ConferenceState, d: dict[str, Any], act: Act) -> Verdict | None:
    if act.org != d["member"]:
        return reject(Reason.acts_for_other, "a member explains only its own opinion")
    if not any(m == d["member"] for m, _ in s.opinions):
        return state_is("no opinion of this member to explain")
    return None


def _by_convener(s: ConferenceState, d: dict[str, Any], act: Act) -> Verdict | None:
    if act.org != s.convener:
        return reject(Reason.wrong_actor, "only the convening body records the decision")
    return None


def _decidable(s: ConferenceState, d: dict[str, Any], act: Act) -> Verdict | None:
    absent = s.absent()
    if sorted(d["absent_deemed_consent"]) != absent:
        return state_is("absent members listed wrongly")
    if d["tally"] != s.tally():
        return state_is("the tally differs from the opinions given")
    if absent and not s.opinions_elapsed:
        return reject(
            Reason.too_early, "members are absent and the opinion deadline has not passed"
        )
    if d["outcome"] != outcome(s.rule, d["tally"], len(s.members)):
        return state_is("the outcome is not the tally's under the conference's rule")
    return None


def _timer(s: ConferenceState, d: dict[str, Any], act: Act) -> Verdict | None:
    if (v := timer_once(s.timers, d, act)) is not None:
        return v
    if d["deadline"] != "opinions" or s.status != OPEN:
        return state_is("a conference holds only its opinion deadline, until the decision")
    if micros(d["due_at"]) != s.opinions_due:
        return state_is("not this conference's opinion deadline")
    return None


RULES: dict[str, tuple[Check, Evolve]] = {
    "ledger.conference.convened.v1": (
        all_of(by_body, _convenable),
        lambda s, d: s._replace(
            status=OPEN,
            cases=tuple(d["cases"]),
            members=tuple(d["members"]),
            opinions_due=micros(d["opinions_due_at"]),
            convener=d["convener"],
            rule=d.get("rule", DecisionRule.majority.value),
        ),
    ),
    "ledger.conference.opinion_given.v1": (
        all_of(_open, _own_opinion),
        lambda s, d: s._replace(opinions=(*s.opinions, (d["member"], d["opinion"]))),
    ),
    "ledger.conference.opinion_noted.v1": (_noted, lambda s, d: s),
    "ledger.conference.decided.v1": (
        all_of(_open, _by_convener, _decidable),
        lambda s, d: s._replace(
            status=DECIDED, deemed_consent=tuple(sorted(d["absent_deemed_consent"]))
        ),
    ),
    "ledger.deadline.elapsed.v1": (
        all_of(by_body, _timer),
        lambda s, d: s._replace(timers=(*s.timers, timer_key(d)), opinions_elapsed=True),
    ),
}


def check(
    state: ConferenceState, event_type: str, data: dict[str, Any], act: Act
) -> Verdict | None:
    return RULES[event_type][0](state, data, act)


def evolve(state: ConferenceState, event_type: str, data: dict[str, Any]) -> ConferenceState:
    return RULES[event_type][1](state, data)
