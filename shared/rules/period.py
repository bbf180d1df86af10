"""The period stream (``period-2026-11``, ``period-2026-Q4``): oversight's published figures.

Version 1 publishes a period's figures (per unit, every numerator and denominator); a
correction is the next version, names the one it replaces and gives a reason. The figures are
in the event itself, so a reader recomputing them from the log can compare number by number.
"""

from __future__ import annotations

import hashlib
from typing import Any, NamedTuple

import orjson

from shared.events.envelope import stream_period
from shared.rules.act import Act, Check, Evolve, all_of, by_body, state_is
from shared.rules.verdict import Verdict


class PeriodState(NamedTuple):
    version: int = 0
    units: tuple[str, ...] = ()
    figures_sha256: str | None = None  # of the current version's figures, canonical JSON

    def summary(self) -> dict[str, Any]:
        return {"version": self.version, "units": list(self.units), "figures": self.figures_sha256}


def _next_version(s: PeriodState, d: dict[str, Any], act: Act) -> Verdict | None:
    if d["period"] != stream_period(act.stream):
        return state_is("figures of another period")
    if d["version"] != s.version + 1:
        return state_is("not the next version")
    if s.version == 0:
        return None if d.get("replaces") is None else state_is("a first version replaces nothing")
    if d.get("replaces") != s.version or not d.get("reason"):
        return state_is("a correction names the version it replaces and why")
    return None


def _published(s: PeriodState, d: dict[str, Any]) -> PeriodState:
    units = sorted(u["unit"] for u in d["units"])
    digest = hashlib.sha256(orjson.dumps(d["units"], option=orjson.OPT_SORT_KEYS)).hexdigest()
    return PeriodState(d["version"], tuple(units), digest)


RULES: dict[str, tuple[Check, Evolve]] = {
    "ledger.period.figures_published.v1": (all_of(by_body, _next_version), _published),
}


def check(state: PeriodState, event_type: str, data: dict[str, Any], act: Act) -> Verdict | None:
    return RULES[event_type][0](state, data, act)


def evolve(state: PeriodState, event_type: str, data: dict[str, Any]) -> PeriodState:
    return RULES[event_type][1](state, data)
