"""Helpers for the projector tests: a log of realistic case histories, stores, clean replays."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from shared.ledger import keystore
from shared.ledger.reader import registry_fold
from shared.log.port import EventLog
from shared.readside.dead_letters import DEAD_LETTERS, PARKED
from shared.readside.projection import Projection
from shared.readside.projections.case_summary import CaseSummary
from shared.readside.projector import Projector
from shared.settings import LedgerSettings
from shared.store import DocumentStore, open_store
from tests.samples import LIFECYCLE, sign_steps, signers

READ_MODEL = ("cases", "timeline", DEAD_LETTERS, PARKED)
"""What a clean replay must reproduce byte for byte (the position doc carries a save time)."""

EXTRA = [
    "ledger.deadline.elapsed.v1",
    "ledger.supervision.escalated.v1",
]


def case_steps(rng: random.Random) -> list[str]:
    # Most cases run the whole lifecycle; about a quarter are still under way.
    full = rng.random() < 0.75
    steps = LIFECYCLE if full else LIFECYCLE[: rng.randint(1, len(LIFECYCLE) - 1)]
    assigned = LIFECYCLE.index("ledger.dispatch.assigned.v1") + 1
    if len(steps) >= assigned and rng.random() < 0.3:
        # Overdue and escalated while assigned, before the unit claims resolution.
        steps = [*steps[:assigned], *EXTRA, *steps[assigned:]]
    return steps


async def write_cases(
    log: EventLog, settings: LedgerSettings, n: int, *, seed: int = 5, conflicts: bool = True
) -> list[str]:
    """Append ``n`` case histories, streams interleaved as in a live log. With ``conflicts``,
    some records are rule-book rejections a projector must not apply: byte-identical retries
    (replayed id) and events not allowed in the case's state (wrong state)."""
    rng = random.Random(seed)
    s = signers(settings)
    fold = await registry_fold(log, keystore.genesis_public(settings))
    reg = fold.registry
    regseq, reghash = reg.version, reg.hash_at(reg.version)
    per_case: list[list[tuple[str, bytes]]] = []
    cases = [f"case-{uuid.UUID(int=rng.getrandbits(128), version=4)}" for _ in range(n)]
    for case in cases:
        steps = case_steps(rng)
        signed = sign_steps(s, case, steps, head=None, regseq=regseq, reghash=reghash)
        records = [(case, x.record) for x in signed]
        if conflicts and rng.random() < 0.08:
            records.insert(rng.randint(1, len(records)), records[0])  # a retried intake
        early = [k for k, t in enumerate(steps) if t in LIFECYCLE[:4]]
        if conflicts and rng.random() < 0.08:
            k = rng.choice(early)
            # Closed as confirmed while nobody confirmed: the rule book says wrong_state.
            bad = sign_steps(
                s,
                case,
                ["ledger.handling.closed.v1"],
                head=signed[k].hash,
                regseq=regseq,
                reghash=reghash,
            )[0]
            at = records.index((case, signed[k].record)) + 1
            records.insert(at, (case, bad.record))
        per_case.append(records)
    order: list[tuple[str, bytes]] = []
    cursors = [0] * n
    live = list(range(n))
    while live:
        i = rng.choice(live[:40])  # about 40 cases in flight at once
        order.append(per_case[i][cursors[i]])
        cursors[i] += 1
        if cursors[i] == len(per_case[i]):
            live.remove(i)
    for k in range(0, len(order), 1000):
        await log.append(order[k : k + 1000])
    return cases


def projections() -> list[Projection]:
    return [CaseSummary()]


@asynccontextmanager
async def fresh_store(kind: str, where: Path | str, name: str) -> AsyncIterator[DocumentStore]:
    """An empty store: a new SQLite file under ``where``, or a new MongoDB database at the URL
    ``where`` (dropped afterwards)."""
    if kind == "sqlite":
        store = await open_store(Path(where) / f"{name}.sqlite3")
    else:
        store = await open_store(str(where), database=name)
    try:
        yield store
    finally:
        if kind != "sqlite":
            drop = getattr(store, "drop_database", None)
            if drop is not None:
                await drop()
        await store.close()


async def digests(store: DocumentStore, colls: Sequence[str] = READ_MODEL) -> dict[str, str]:
    return {c: await store.digest(c) for c in colls}


async def clean_replay(
    log: EventLog, settings: LedgerSettings, store: DocumentStore
) -> dict[str, str]:
    """Project the whole log into ``store`` in one go; the digests every other way must match."""
    p = Projector(log, store, projections(), keystore.genesis_public(settings), batch=1000)
    await p.start()
    await p.catch_up()
    return await digests(store)
