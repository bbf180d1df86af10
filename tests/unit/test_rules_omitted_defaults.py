"""A writer may leave out what the catalog defaults (another implementation, an older client):
the rule book reads such a payload exactly as if the defaults were written. Our own signer
always writes them, so these records are signed by hand."""

from __future__ import annotations

from typing import Any

import orjson

from shared.events.codec import canonical
from tests.samples import (
    ASSIGNED,
    CLAIMED,
    CO_UNIT,
    DUE,
    LATER,
    UNIT,
    Judge,
    MemoryLedger,
    Step,
    new_case,
    step,
)

L = MemoryLedger(partitions=3)
J = Judge(L)


def _last_written_as(
    stream: str, data: dict[str, Any], signer: str, history: list[Step] = ASSIGNED
) -> list[bytes]:
    """The history's records, the last one's payload replaced and signed again."""
    signed = J.sign(stream, history)
    env = orjson.loads(signed[-1].record)
    env["data"] = data
    del env["sig"]
    env["sig"] = L.keys[signer].sign(canonical(env))
    return [s.record for s in signed[:-1]] + [canonical(env)]


def test_an_assignment_that_leaves_out_provisional_and_co_units_gives_firm_clocks() -> None:
    stream = new_case()
    sparse = {
        "lead_unit": UNIT,
        "due_at": DUE,
        "co_units": [{"unit": CO_UNIT, "due_at": DUE}],
        "calendar_version": "cn-2026.1",
        "urgency": "normal",
        "direct": True,
    }
    verdicts, fold = J.run([(stream, r) for r in _last_written_as(stream, sparse, "dispatch")])
    assert all(v.accepted for v in verdicts), verdicts
    st = fold.streams[stream].domain
    assert [(c.unit, c.lead, c.provisional) for c in st.clocks] == [
        (UNIT, True, False),
        (CO_UNIT, False, False),
    ]
    alone = {k: v for k, v in sparse.items() if k != "co_units"}
    other = new_case()
    verdicts, fold = J.run([(other, r) for r in _last_written_as(other, alone, "dispatch")])
    assert all(v.accepted for v in verdicts), verdicts
    assert fold.streams[other].domain.units == (UNIT,)


def test_a_reopen_that_leaves_out_provisional_gives_firm_fresh_due_times() -> None:
    stream = new_case()
    provisional = step(
        "ledger.dispatch.assigned.v1",
        provisional=True,
        co_units=[{"unit": CO_UNIT, "due_at": DUE, "provisional": True}],
    )
    history = [
        *ASSIGNED[:-1],
        provisional,
        *CLAIMED[len(ASSIGNED) :],
        step("ledger.complainant.disputed.v1"),
        step("ledger.handling.reopened.v1"),
    ]
    sparse = {
        "reason": "投诉人不满意",
        "units": [{"unit": UNIT, "due_at": LATER}, {"unit": CO_UNIT, "due_at": LATER}],
    }
    records = _last_written_as(stream, sparse, "oversight", history)
    verdicts, fold = J.run([(stream, r) for r in records])
    assert all(v.accepted for v in verdicts), verdicts
    st = fold.streams[stream].domain
    assert [(c.unit, c.due_at, c.provisional) for c in st.clocks] == [
        (UNIT, LATER, False),
        (CO_UNIT, LATER, False),
    ]
