"""The one table of stream kinds: each kind's empty state, its check and its evolve.

The rule book finds a stream's rules here instead of branching on the kind; a new kind of
stream is one row. The registry stream's state is the registry itself (it judges and applies
its own events); the audit stream keeps ``audit.py``'s own two-argument check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from shared.rules import audit, case, conference, period
from shared.rules.act import Act
from shared.rules.verdict import Reason, Verdict, reject


class StreamKind(NamedTuple):
    empty: Callable[[], Any]
    types: frozenset[str] | None  # the event types it holds (None: the whole audit family)
    check: Callable[[Any, str, dict[str, Any], Act], Verdict | None]
    evolve: Callable[[Any, str, dict[str, Any]], Any]
    # What an accepted event's own id adds to the state, after evolve (an appeal names the
    # event it contests); None for kinds whose rules never name an event.
    noted: Callable[[Any, str, str, dict[str, Any]], Any] | None = None


def _audit_check(state: Any, event_type: str, data: dict[str, Any], act: Act) -> Verdict | None:
    why = audit.check(state, event_type, data)
    return None if why is None else reject(Reason.wrong_state, why)


def _registry_check(state: Any, event_type: str, data: dict[str, Any], act: Act) -> Verdict | None:
    return act.registry.check(event_type, data, act)


def _registry_evolve(state: Any, event_type: str, data: dict[str, Any]) -> Any:
    raise AssertionError("registry events are applied by Registry.apply")  # pragma: no cover


KINDS: dict[str, StreamKind] = {
    "case": StreamKind(case.CaseState, frozenset(case.RULES), case.check, case.evolve, case.noted),
    "conference": StreamKind(
        conference.ConferenceState,
        frozenset(conference.RULES),
        conference.check,
        conference.evolve,
    ),
    "period": StreamKind(
        period.PeriodState,
        frozenset(period.RULES),
        period.check,
        period.evolve,
    ),
    "audit": StreamKind(audit.AuditState, None, _audit_check, audit.evolve),
    "registry": StreamKind(lambda: None, None, _registry_check, _registry_evolve),
}


def holds(kind: str, event_type: str, family: str) -> bool:
    """Whether a stream of ``kind`` holds this event type."""
    k = KINDS.get(kind)
    if k is None:
        return False
    return event_type in k.types if k.types is not None else family == kind
