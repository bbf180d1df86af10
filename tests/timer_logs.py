"""Logs for the timer tests and benchmark: signed case and conference histories written straight
into a real log (no service), due times relative to now, and the log judged back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from shared.calendar import SHANGHAI
from shared.ledger import keystore
from shared.ledger.reader import registry_fold
from shared.ledger.signer import Signed
from shared.log.port import EventLog, StoredRecord, read_all
from shared.rules.stream import REGISTRY_STREAM
from shared.rules.verdict import Verdict
from shared.settings import LedgerSettings
from tests.samples import DUE, UNIT, sign_steps, signers

ELAPSED = "ledger.deadline.elapsed.v1"
ESCALATED = "ledger.supervision.escalated.v1"
DEEMED_DONE = "ledger.dispatch.deemed_done.v1"
OPENED = ["ledger.complaint.received.v1", "ledger.complaint.screened.v1"]
ASSIGN = [*OPENED, "ledger.dispatch.assigned.v1"]


def in_seconds(seconds: float) -> str:
    """A due time ``seconds`` from now (wall clock), as the catalog writes it."""
    return (datetime.now(UTC) + timedelta(seconds=seconds)).astimezone(SHANGHAI).isoformat()


def assignment(due: str, co_units: list[tuple[str, str]] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    return {
        "lead_unit": UNIT,
        "due_at": due,
        "co_units": [{"unit": u, "due_at": d, "provisional": False} for u, d in co_units],
    }


class Histories:
    """Signs events on streams chained on what it signed before (each accepted in turn)."""

    def __init__(self, log: EventLog, settings: LedgerSettings) -> None:
        self.log = log
        self.settings = settings
        self.signers = signers(settings)
        self.heads: dict[str, str | None] = {}
        self.regseq = 0
        self.reghash: str | None = None

    async def start(self) -> Histories:
        reg = (await registry_fold(self.log, keystore.genesis_public(self.settings))).registry
        self.regseq, self.reghash = reg.version, reg.hash_at(reg.version)
        return self

    def sign(
        self, stream: str, steps: list[str], overrides: dict[str, dict[str, Any]] | None = None
    ) -> list[Signed]:
        signed = sign_steps(
            self.signers,
            stream,
            steps,
            head=self.heads.get(stream),
            regseq=self.regseq,
            reghash=self.reghash,
            overrides=overrides,
        )
        self.heads[stream] = signed[-1].hash
        return signed

    async def write(
        self, stream: str, steps: list[str], overrides: dict[str, dict[str, Any]] | None = None
    ) -> None:
        await self.log.append([(stream, s.record) for s in self.sign(stream, steps, overrides)])


async def past_due_cases(
    log: EventLog, settings: LedgerSettings, cases: list[str], co_unit_every: int = 0
) -> int:
    """Assign every case with its due time (the samples' ``DUE``) long past; every
    ``co_unit_every``-th case also has a co-unit, due then too. How many deadlines that is."""
    h = await Histories(log, settings).start()
    deadlines = 0
    batch: list[tuple[str, bytes]] = []
    for i, c in enumerate(cases):
        co = [("unit:civil-affairs", DUE)] if co_unit_every and i % co_unit_every == 0 else []
        deadlines += 1 + len(co)
        signed = h.sign(c, ASSIGN, {"ledger.dispatch.assigned.v1": assignment(DUE, co)})
        batch += [(c, s.record) for s in signed]
        if len(batch) >= 3000:
            await log.append(batch)
            batch = []
    if batch:
        await log.append(batch)
    return deadlines


async def judged(
    log: EventLog, settings: LedgerSettings
) -> list[tuple[StoredRecord, dict[str, Any], Verdict]]:
    """Every record after the registry with its envelope and the rule book's verdict."""
    head = await log.head()
    fold = await registry_fold(log, keystore.genesis_public(settings), until=head)
    out = []
    async for rec in read_all(log, until=head):
        if rec.stream != REGISTRY_STREAM:
            out.append((rec, orjson.loads(rec.record), fold.apply(rec)))
    return out


def of_type(
    records: list[tuple[StoredRecord, dict[str, Any], Verdict]], event_type: str
) -> tuple[list[tuple[StoredRecord, dict[str, Any]]], int]:
    """(the accepted events of a type, how many of its records were refused)."""
    accepted = [(r, e) for r, e, v in records if e.get("type") == event_type and v.accepted]
    refused = sum(1 for _, e, v in records if e.get("type") == event_type and not v.accepted)
    return accepted, refused
