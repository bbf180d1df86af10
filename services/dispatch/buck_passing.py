"""踢皮球 (buck-passing): a case returned twice, or handed back to a unit that had returned it
(A → B → A), is flagged — once per pattern per case, by a derived event.

:func:`advance` and :func:`found` are pure: they fold what the patterns need from a case's
accepted events (the returns granted, the lead units in turn, the patterns flagged already)
and say which pattern an event completes. The flag's id is derived from the case and the
pattern (:func:`flag_id`), so every dispatch process derives the same event, a redelivered
cause derives a copy the rule book rejects as a replay, and a pattern seen again later (a third
return, a second cycle) is not flagged twice. :class:`BuckPassing` is the reaction the dispatch
app runs beside 超时默认 (``reactor.py``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from shared.events.catalog import BuckPassingPattern
from shared.events.ids import derived_event_id
from shared.ledger.deployments import BODY
from shared.ledger.signer import Draft
from shared.ledger.writer import Decide, EventWriter
from shared.log.port import StoredRecord
from shared.readside.follower import LogFollower
from shared.rules.stream import StreamState

ASSIGNED = "ledger.dispatch.assigned.v1"
RETURN_RULED = "ledger.dispatch.return_ruled.v1"
FLAGGED = "ledger.dispatch.buck_passing_flagged.v1"
RULE = "dispatch.buck_passing"
ACTOR = f"{BODY}/buck-passing"
MAX_UNITS = 50  # the catalog's bound on the units a flag names: the latest are kept


class Passing(NamedTuple):
    """What the patterns need of one case's history."""

    returned: tuple[str, ...] = ()  # units whose return was granted, in turn
    leads: tuple[str, ...] = ()  # the lead units, in the order they were assigned
    flagged: frozenset[str] = frozenset()


class Flag(NamedTuple):
    pattern: BuckPassingPattern
    units: tuple[str, ...]


def advance(p: Passing, event_type: str, d: dict[str, Any]) -> Passing:
    if event_type == ASSIGNED:
        return p._replace(leads=(*p.leads, d["lead_unit"]))
    if event_type == RETURN_RULED and d["granted"]:
        return p._replace(returned=(*p.returned, d["unit"]))
    if event_type == FLAGGED:
        return p._replace(flagged=p.flagged | {d["pattern"]})
    return p


def _cycle(p: Passing, d: dict[str, Any]) -> Flag | None:
    named = [d["lead_unit"], *(u["unit"] for u in d.get("co_units", ()))]
    back = next((u for u in named if u in p.returned), None)
    if back is None:
        return None
    if back in p.leads:
        units = (*p.leads[p.leads.index(back) :], back)
    else:  # it had returned its part as a co-unit
        units = (back, *p.leads[-1:], back)
    return Flag(BuckPassingPattern.cycle, units[-MAX_UNITS:])


def found(before: Passing, event_type: str, d: dict[str, Any]) -> Flag | None:
    """The pattern the event completes on a case whose history was ``before``, unless that
    pattern was flagged already."""
    flag: Flag | None = None
    if event_type == RETURN_RULED and d["granted"] and len(before.returned) + 1 >= 2:
        returned = (*before.returned, d["unit"])
        flag = Flag(BuckPassingPattern.returned_twice, returned[-MAX_UNITS:])
    elif event_type == ASSIGNED:
        flag = _cycle(before, d)
    if flag is None or flag.pattern in before.flagged:
        return None
    return flag


def flag_id(case: str, pattern: str) -> str:
    """One id per (case, pattern): the flag is raised once, whoever derives it, whenever."""
    return derived_event_id(case, f"{RULE}.{pattern}")


def flag_draft(case: str, flag: Flag, cause: str) -> Draft:
    data = {"pattern": flag.pattern, "units": list(flag.units), "cause": cause}
    return Draft(FLAGGED, data, ACTOR, id=flag_id(case, flag.pattern))


class BuckPassing:
    """The reaction: folds each case's :class:`Passing` from the accepted events it is shown
    and, when an event completes a pattern, keeps the flag waiting until a flag with its id is
    read back accepted (this process's or another's). The flags waiting on one case are
    written in one decision, chained, so two patterns completed by one append (a ruling and
    its reassignment) do not race each other for the case's head."""

    def __init__(self) -> None:
        self.cases: dict[str, Passing] = {}
        self.flags: dict[str, tuple[str, Draft]] = {}  # derived id -> (case, flag to write)
        self.written = 0  # flags this process appended and read back accepted

    @property
    def waiting(self) -> bool:
        return bool(self.flags)

    def observe(self, rec: StoredRecord, env: dict[str, Any], state: StreamState) -> None:
        before = self.cases.get(rec.stream, Passing())
        event_type, data = env["type"], env.get("data") or {}
        if self.flags.pop(env["id"], None) is not None:
            self.written += 1
        flag = found(before, event_type, data)
        self.cases[rec.stream] = advance(before, event_type, data)
        if flag is not None:
            draft = flag_draft(rec.stream, flag, env["id"])
            assert draft.id is not None
            if draft.id not in state.seen_ids:
                self.flags.setdefault(draft.id, (rec.stream, draft))

    def decide(self, case: str) -> Decide:
        """The flags waiting on ``case`` that its state has not seen (pure, given them)."""

        def decide(state: StreamState) -> list[Draft]:
            return [d for i, (c, d) in self.flags.items() if c == case and i not in state.seen_ids]

        return decide

    async def settle(self, writer: EventWriter, follower: LogFollower) -> int:
        cases = sorted({c for c, _ in self.flags.values()})
        signed = await follower.write(writer, [(c, self.decide(c)) for c in cases])
        mine = {s.id for s in signed}
        for event_id in [i for i in self.flags if i not in mine]:
            self.flags.pop(event_id)  # seen already, or refused: nothing left to write for it
        return len(signed)
