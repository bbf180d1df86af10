"""The case summary, written apart from the rule book, agrees with it on every case type and
on the per-unit clocks: a co-unit's claim or deemed done never moves the case, a reopen gives
the lead a fresh due time, and only the lead's deadline makes the case overdue."""

from __future__ import annotations

import orjson

from shared.readside.projection import Accepted
from shared.readside.projections.case_summary import RULES as SUMMARY_RULES
from shared.readside.projections.case_summary import CaseSummary
from shared.rules.case import RULES as CASE_RULES
from tests.samples import ANSWER_DUE, CO_UNIT, UNIT, Judge, MemoryLedger, new_case, step

L = MemoryLedger(partitions=1)
J = Judge(L)
CO_HANDLER = f"{CO_UNIT}/H002"


def S(t: str, actor: str | None = None, **data):  # type: ignore[no-untyped-def]
    return step(f"ledger.{t}.v1", actor, None, **data)


HISTORY = [
    S("complaint.received"),
    S("complaint.screened"),
    S("dispatch.assigned"),
    S("deadline.elapsed", unit=CO_UNIT),
    S("dispatch.deemed_done", unit=CO_UNIT),
    S("deadline.elapsed"),
    S("supervision.escalated"),
    S("handling.resolution_claimed"),
    S("complainant.disputed"),
    S("handling.reopened"),
    S("handling.resolution_claimed", CO_HANDLER, unit=CO_UNIT),
    S("handling.resolution_claimed", answer_due_at=ANSWER_DUE),
    S("complainant.confirmed"),
    S("handling.closed"),
]


def test_every_case_type_has_a_summary_rule() -> None:
    assert set(SUMMARY_RULES) == set(CASE_RULES)


def test_the_summary_follows_the_rule_books_clocks_event_by_event() -> None:
    case = new_case()
    signed = J.sign(case, HISTORY)
    fold = L.fold([])
    projection = CaseSummary()
    doc = None
    applied = 0
    for rec, s in zip(L.place([(case, x.record) for x in signed]), signed, strict=True):
        if not fold.apply(rec).accepted:
            continue
        applied += 1
        writes = projection.apply(doc, Accepted.of(rec, orjson.loads(s.record)))
        doc = dict(writes[-1].doc)
        st = fold.streams[case].domain
        lead = st.clock(UNIT)
        assert doc["status"] == st.status
        assert doc["lead_unit"] == st.lead_unit
        if lead is not None:
            assert (doc["due_at"], doc["overdue"]) == (lead.due_at, lead.overdue)
        assert doc["deemed_done"] == [c.unit for c in st.clocks if c.deemed_done]
    assert applied == len(HISTORY) and doc is not None and doc["status"] == "closed"
