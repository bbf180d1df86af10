"""Who acted, where, and when: what a rule check sees beside the stream's state and the payload.

Everything here comes from the event's own signed envelope (actor, signing deployment, the
registry version it names) and the log's append time, so every reader builds the same ``Act``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

from shared.events.envelope import actor_org, actor_person
from shared.rules.verdict import Reason, Verdict, reject

if TYPE_CHECKING:
    from shared.rules.registry import Registry

UNIT_PREFIX = "unit:"
COMPLAINANT = "complainant"


class Act(NamedTuple):
    actor: str  # org/person, as signed
    org: str  # the body, ``unit:…``, or ``complainant``
    person: str  # staff id, or the complainant's pseudonym
    source: str  # the deployment that signed
    at: int  # log time, microseconds since the epoch
    regseq: int  # the registry version the event names
    registry: Registry
    stream: str

    @property
    def by_unit(self) -> bool:
        return self.org.startswith(UNIT_PREFIX)

    @property
    def by_complainant(self) -> bool:
        return self.org == COMPLAINANT

    @property
    def by_body(self) -> bool:
        """Staff of a supervisory body (or the ledger itself): neither a unit nor a complainant."""
        return not self.by_unit and self.org != COMPLAINANT


# A check says why an event cannot apply (a verdict) or None; an evolve returns the next state.
Check = Callable[[Any, dict[str, Any], Act], Verdict | None]
Evolve = Callable[[Any, dict[str, Any]], Any]


@lru_cache(maxsize=4096)  # actors repeat (staff, units): split each once
def actor_parts(actor: str) -> tuple[str, str]:
    """(org, person) of an ``org/person`` actor, as ``Act`` holds them."""
    return actor_org(actor), actor_person(actor)


@lru_cache(maxsize=4096)  # due times repeat across cases: replay parses each once
def micros(timestamp: str) -> int:
    """An RFC 3339 timestamp (validated by the catalog) as microseconds since the epoch."""
    dt = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    return (int(dt.timestamp()) * 1_000_000) + dt.microsecond


def all_of(*checks: Check) -> Check:
    """The first refusal of several checks, in order (the same record, the same reason)."""

    def check(s: Any, d: dict[str, Any], act: Act) -> Verdict | None:
        for c in checks:
            if (v := c(s, d, act)) is not None:
                return v
        return None

    return check


def by_body(s: Any, d: dict[str, Any], act: Act) -> Verdict | None:
    """Acts of a supervisory body's staff: rulings, closures, reopens, timers, penalties."""
    return None if act.by_body else reject(Reason.wrong_actor, "only a body's staff may do this")


def state_is(why: str) -> Verdict:
    return reject(Reason.wrong_state, why)
