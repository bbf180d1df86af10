"""The workbench's (case, unit) documents, pure: an assignment puts the lead and each co-unit on
the case, a granted return takes its unit off (the lead's, every unit), a reopen keeps the
units it gives fresh dues, a closure takes every unit off; events that change no unit write
only the case's document."""

from __future__ import annotations

from typing import Any

from services.oversight.workbench_projection import (
    WORKBENCH_CASES,
    WORKBENCH_UNITS,
    WorkbenchCases,
    unit_doc_id,
)
from shared.readside.projection import Accepted
from shared.store.port import Doc

STREAM = "case-0192f0c4-7a1b-7c2d-8e3f-405162738495"
A, B, C = "unit:demo-unit", "unit:housing-bureau", "unit:civil-affairs"
DUE = "2026-12-15T00:00:00+08:00"
ASSIGNED = {
    "lead_unit": A,
    "due_at": DUE,
    "co_units": [{"unit": B, "due_at": DUE}, {"unit": C, "due_at": DUE}],
}


def event(n: int, kind: str, data: dict[str, Any]) -> Accepted:
    return Accepted(STREAM, 0, n, n, f"id-{n}", f"ledger.{kind}.v1", "x/y", "/x", data, {})


def run(*events: tuple[str, dict[str, Any]]) -> tuple[Doc, list[dict[str, Any]]]:
    """The case's document, and the (case, unit) documents each event wrote."""
    p, doc, per_event = WorkbenchCases(), None, []
    for n, (kind, data) in enumerate(events, start=1):
        writes = p.apply(doc, event(n, kind, data))
        *units, case = writes
        assert (case.coll, case.id) == (WORKBENCH_CASES, STREAM)  # the case's document last
        assert all(w.coll == WORKBENCH_UNITS for w in units)
        per_event.append({w.id: (w.doc["unit"], w.doc["on"], w.doc["lead"]) for w in units})
        doc = dict(case.doc)
    assert doc is not None
    return doc, per_event


def test_an_assignment_puts_the_lead_and_each_co_unit_on_the_case() -> None:
    _, [written] = run(("dispatch.assigned", ASSIGNED))
    assert written == {
        unit_doc_id(STREAM, A): (A, True, True),
        unit_doc_id(STREAM, B): (B, True, False),
        unit_doc_id(STREAM, C): (C, True, False),
    }


def test_a_granted_return_takes_its_unit_off_a_refused_one_nothing() -> None:
    ruled = "dispatch.return_ruled"
    _, [_, refused, granted, lead] = run(
        ("dispatch.assigned", ASSIGNED),
        (ruled, {"unit": B, "granted": False}),
        (ruled, {"unit": B, "granted": True}),
        (ruled, {"unit": A, "granted": True}),
    )
    assert refused == {}
    assert granted == {unit_doc_id(STREAM, B): (B, False, False)}
    assert lead == {
        unit_doc_id(STREAM, A): (A, False, True),
        unit_doc_id(STREAM, C): (C, False, False),
    }


def test_a_reopen_keeps_the_units_it_names_and_a_closure_ends_every_part() -> None:
    reopened = {"units": [{"unit": A, "due_at": DUE}, {"unit": C, "due_at": DUE}], "reason": "r"}
    doc, [_, shown, again, closed] = run(
        ("dispatch.assigned", ASSIGNED),
        ("handling.first_shown", {"unit": C}),
        ("handling.reopened", reopened),
        ("handling.closed", {"finding": "substantiated"}),
    )
    assert shown == {} and again == {unit_doc_id(STREAM, B): (B, False, False)}
    assert set(closed) == {unit_doc_id(STREAM, A), unit_doc_id(STREAM, C)}
    assert all(not on for _, on, _ in closed.values()) and doc["units"] == []
