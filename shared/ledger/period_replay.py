"""A period's figures from the log alone: every record judged by the rule book (signatures
below a checked seal trusted, as a rebuild does), the accepted case events folded by
:mod:`shared.reports.rates`, and the period's signed figures read from its own stream."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from shared.crypto.signing import PublicKey
from shared.events.upcast import upcast
from shared.ledger.rebuild import Observer, rebuild_replay
from shared.log.port import EventLog, StoredRecord
from shared.reports.periods import Period
from shared.reports.rates import APPEAL_RULED, TYPES, Fact, RatesFold
from shared.reports.signed import FIGURES_PUBLISHED, period_stream
from shared.rules.verdict import Verdict

Progress = Callable[[int, int], None]
"""(records read, records in all) — called every few thousand records."""
EVERY = 20_000
RULED_BYTES = APPEAL_RULED.encode()


@dataclass
class PeriodReplay:
    fold: RatesFold
    signed: list[dict[str, Any]] = field(default_factory=list)  # accepted versions, in order
    records: int = 0
    trusted: bool = False  # signatures below the seal were trusted
    log_time: int = 0  # µs: the latest append time read (the log's own clock)

    @property
    def latest_signed(self) -> dict[str, Any] | None:
        return self.signed[-1] if self.signed else None


async def replay_period(
    log: EventLog, genesis: PublicKey, period: Period, progress: Progress | None = None
) -> PeriodReplay:
    head = await log.head()
    total = sum(head.values())
    passes: list[PeriodReplay] = []
    stream = period_stream(period.id)

    def observer() -> Observer:
        result = PeriodReplay(RatesFold(period))
        passes.append(result)
        feed, end, loads = result.fold.feed, period.end, orjson.loads

        def observe(rec: StoredRecord, env: dict[str, Any] | None, verdict: Verdict) -> None:
            result.records += 1
            if rec.appended_at > result.log_time:
                result.log_time = rec.appended_at
            if progress is not None and result.records % EVERY == 0:
                progress(result.records, total)
            if not verdict.accepted:
                return
            if rec.stream.startswith("case-"):
                if rec.appended_at >= end and RULED_BYTES not in rec.record:
                    return  # after the end only an appeal's ruling counts (rates.APPEAL_RULED)
                env = env if env is not None else loads(rec.record)
                if env["type"] not in TYPES:
                    return
                event_type, data = upcast(env["type"], env["data"])
                feed(Fact(rec.stream, rec.appended_at, env["id"], event_type, data))
            elif rec.stream == stream:
                env = env if env is not None else loads(rec.record)
                if env["type"] == FIGURES_PUBLISHED:
                    result.signed.append(env["data"])

        return observe

    replayed = await rebuild_replay(log, genesis, observer=observer, head=head)
    result = passes[-1]
    result.trusted = replayed.trusted
    if progress is not None:
        progress(result.records, total)
    return result
