"""Leadership responsibility (领导责任): pure.

When a unit passes the configured number of substantiated cases, or of penalties, in one
calendar month (Asia/Shanghai, by the log's append time — never a writer's claim), oversight
proposes leadership responsibility: a ``penalty.proposed`` of cause ``leadership`` naming the
holder of the configured post AT THE TIME the threshold was passed, from the staff directory's
dated posts (not today's holder), for a supervisor to impose or dismiss with a reason.

The threshold is configuration: the ``leadership`` member of the penalty schedule
(``catalog.LeadershipThreshold``: the post, the offence, ``cases`` and/or ``penalties``). A
closed case counts once (closed ``substantiated`` or ``partly_substantiated``, for its lead
unit, in the month of its first such closure); a penalty counts for the unit it names, in the
month it was imposed, until revoked.

The count spans streams, so the writer decides it and the rule book takes it as written. The
proposal goes on the case of the threshold-th counted event by log time; its id derives from
(unit, month), so one unit's month has one proposal whichever process writes it. (A reader
lagging on one partition could, in a race, pick another case for the same id; the rule book
accepts each once per stream, and the register shows both: see the README.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from services.oversight.proposals import PROPOSED, PROPOSER
from shared.calendar import SHANGHAI
from shared.events.catalog import LeadershipThreshold, ProposalCause
from shared.events.ids import derived_event_id
from shared.ledger.signer import Draft
from shared.ledger.writer import Decide
from shared.rules.stream import StreamState

CLOSED = "ledger.handling.closed.v1"
IMPOSED = "ledger.penalty.imposed.v1"
REVOKED = "ledger.penalty.revoked.v1"
SUBSTANTIATED = frozenset({"substantiated", "partly_substantiated"})
RULE = "penalty.proposed.leadership"


def local_day(log_time: int) -> date:
    """The Asia/Shanghai day of a log time (µs)."""
    return datetime.fromtimestamp(log_time / 1e6, UTC).astimezone(SHANGHAI).date()


def month_of(log_time: int) -> str:
    return local_day(log_time).strftime("%Y-%m")


def leadership_id(unit: str, period: str) -> str:
    return derived_event_id(f"{unit}|{period}", RULE)


@dataclass(frozen=True)
class Passed:
    """A unit past the threshold in a month: where and when it was passed."""

    unit: str
    period: str
    count: int
    stream: str  # the case whose event passed it
    cause_event: str
    at: int  # log time (µs) of that event

    @property
    def proposal_id(self) -> str:
        return leadership_id(self.unit, self.period)


Counted = tuple[int, str, str]  # (log time, event id, stream) of what counts


@dataclass
class Tally:
    """Per (unit, month): the cases closed as substantiated and the standing penalties."""

    cases: dict[tuple[str, str], dict[str, Counted]] = field(default_factory=dict)
    penalties: dict[tuple[str, str], dict[str, Counted]] = field(default_factory=dict)
    counted_cases: set[str] = field(default_factory=set)
    penalty_key: dict[str, tuple[str, str]] = field(default_factory=dict)
    proposed: set[str] = field(default_factory=set)  # leadership proposal ids in the log

    def observe(
        self,
        stream: str,
        env: dict[str, Any],
        lead_unit: str | None,
        log_time: int,
        threshold: LeadershipThreshold | None,
    ) -> Passed | None:
        """Count an accepted event; the passing, if the unit's month is past the threshold
        now and not yet proposed. The passing event is the threshold-th by log time (then id),
        so readers that have read the same events name the same one, whatever order their
        partitions were read in."""
        kind, d = env.get("type"), env.get("data") or {}
        counted: Counted = (log_time, str(env.get("id", "")), stream)
        if kind == PROPOSED and d.get("cause") == ProposalCause.leadership:
            self.proposed.add(d["proposal_id"])
            return None
        if kind == CLOSED and d.get("finding") in SUBSTANTIATED and lead_unit is not None:
            if stream in self.counted_cases:
                return None
            self.counted_cases.add(stream)
            key = (lead_unit, month_of(log_time))
            held = self.cases.setdefault(key, {})
            held[stream] = counted
            limit = threshold.cases if threshold is not None else None
        elif kind == IMPOSED:
            key = (d["unit"], month_of(log_time))
            self.penalty_key[d["penalty_id"]] = key
            held = self.penalties.setdefault(key, {})
            held[d["penalty_id"]] = counted
            limit = threshold.penalties if threshold is not None else None
        elif kind == REVOKED:
            gone = self.penalty_key.pop(d["penalty_id"], None)
            if gone is not None:
                self.penalties[gone].pop(d["penalty_id"], None)
            return None
        else:
            return None
        if limit is None or len(held) < limit:
            return None
        at, cause_event, where = sorted(held.values())[limit - 1]
        passed = Passed(key[0], key[1], len(held), where, cause_event, at)
        return None if passed.proposal_id in self.proposed else passed


def proposal(passed: Passed, threshold: LeadershipThreshold, holder: str | None) -> dict[str, Any]:
    """The proposal's payload: the post, and its holder at the time when the directory knows."""
    data: dict[str, Any] = {
        "proposal_id": passed.proposal_id,
        "cause": ProposalCause.leadership,
        "cause_event": passed.cause_event,
        "unit": passed.unit,
        "post": threshold.post,
        "offence": threshold.offence,
        "period": passed.period,
        "count": passed.count,
    }
    if holder is not None:
        data["staff_id"] = holder
    return data


def react(passed: Passed, threshold: LeadershipThreshold, holder: str | None) -> Decide:
    def decide(state: StreamState) -> list[Draft]:
        if passed.proposal_id in state.seen_ids:
            return []
        data = proposal(passed, threshold, holder)
        return [Draft(PROPOSED, data, PROPOSER, id=passed.proposal_id)]

    return decide
