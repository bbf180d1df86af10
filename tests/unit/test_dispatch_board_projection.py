"""The transfer path and the dispatch board's read model, pure: who held a case from when to
when, each unit's clock (a co-unit deemed done counts as overdue, never as completed), the
returns awaiting a ruling, the flags, and the load per unit (``dispatch_parts``)."""

from __future__ import annotations

from typing import Any

from services.dispatch import transfer_path as tp
from services.dispatch.board_projection import BOARD, PARTS, BoardCases
from shared.readside.projection import Accepted
from shared.store.port import Doc

STREAM = "case-0192f0c4-7a1b-7c2d-8e3f-405162738495"
A, B, C = "unit:demo-unit", "unit:housing-bureau", "unit:civil-affairs"
DUE = "2026-12-15T00:00:00+08:00"
LATER = "2026-12-20T00:00:00+08:00"
RECEIVED = {"complaint_no": "TS1", "unit": "demo-unit", "category": "窗口服务", "text": "…"}
HOUR = 3_600_000_000


def assigned(lead: str, *co: str, due: str = DUE) -> dict[str, Any]:
    return {
        "lead_unit": lead,
        "due_at": due,
        "co_units": [{"unit": u, "due_at": DUE} for u in co],
        "urgency": "normal",
        "calendar_version": "cn-2026.1",
    }


def grant(unit: str) -> dict[str, Any]:
    return {"unit": unit, "granted": True, "ruling": "准予"}


def event(n: int, kind: str, data: dict[str, Any]) -> Accepted:
    return Accepted(STREAM, 0, n, n * HOUR, f"id-{n}", f"ledger.{kind}.v1", "x/y", "/x", data, {})


LIFE = [
    ("complaint.received", RECEIVED),
    ("complaint.screened", {"outcome": "new"}),
    ("dispatch.assigned", assigned(A, C)),  # 3 h
    ("handling.return_requested", {"unit": A, "reason": "非本单位职责"}),
    ("dispatch.return_ruled", {"unit": A, "granted": False, "ruling": "不予"}),
    ("handling.return_requested", {"unit": A, "reason": "确非本单位职责"}),
    ("dispatch.return_ruled", grant(A)),  # 7 h
    ("dispatch.assigned", assigned(B, C, due=LATER)),  # 8 h: C carries on
    ("deadline.elapsed", {"deadline": "handling", "unit": C, "due_at": DUE}),
    ("dispatch.deemed_done", {"unit": C, "due_at": DUE, "cause": "id-9"}),  # 10 h
    ("handling.resolution_claimed", {"unit": B, "summary": "已整改"}),  # 11 h
]


def applied(events: list[tuple[str, dict[str, Any]]]) -> tuple[Doc, dict[str, Doc]]:
    p, doc, parts = BoardCases(), None, {}
    for n, (kind, data) in enumerate(events, start=1):
        for w in p.apply(doc, event(n, kind, data)):
            if w.coll == BOARD:
                doc = dict(w.doc)
            else:
                assert w.coll == PARTS
                parts[w.id] = dict(w.doc)
    assert doc is not None
    return doc, parts


def test_the_transfer_path_holds_each_unit_from_when_to_when() -> None:
    path = tp.transfer_path([(f"ledger.{k}.v1", d, n * HOUR) for n, (k, d) in enumerate(LIFE, 1)])
    assert path == (
        tp.Holding(A, True, 3 * HOUR, 7 * HOUR, tp.RETURNED),
        tp.Holding(
            C, False, 3 * HOUR, 10 * HOUR, tp.DEEMED
        ),  # the same holding across the hand-over
        tp.Holding(B, True, 8 * HOUR, 11 * HOUR, tp.COMPLETED),
    )
    assert [h.held_for(0) for h in path] == [4 * HOUR, 7 * HOUR, 3 * HOUR]
    assert tp.leads(path) == (A, B)


def test_a_unit_left_out_of_the_next_assignment_is_released_and_a_closure_ends_the_rest() -> None:
    events = [
        ("ledger.dispatch.assigned.v1", assigned(A, C), 1),
        ("ledger.dispatch.return_ruled.v1", grant(A), 2),
        ("ledger.dispatch.assigned.v1", assigned(B), 3),
        ("ledger.handling.closed.v1", {"basis": "anonymous"}, 4),
    ]
    path = tp.transfer_path(events)
    assert [(h.unit, h.until, h.ended) for h in path] == [
        (A, 2, tp.RETURNED),
        (C, 3, tp.RELEASED),
        (B, 4, tp.ENDED),
    ]


def test_a_reopen_gives_each_unit_a_new_holding() -> None:
    events = [
        ("ledger.dispatch.assigned.v1", assigned(A), 1),
        ("ledger.handling.resolution_claimed.v1", {"unit": A}, 2),
        ("ledger.handling.reopened.v1", {"units": [{"unit": A, "due_at": LATER}]}, 3),
    ]
    path = tp.transfer_path(events)
    assert [(h.unit, h.lead, h.since, h.open) for h in path] == [
        (A, True, 1, False),
        (A, True, 3, True),
    ]


def test_the_board_row_shows_clocks_returns_and_the_path() -> None:
    doc, _ = applied(LIFE[:6])
    assert doc["phase"] == "handling" and doc["lead_unit"] == A
    assert doc["returns"] == [{"unit": A, "reason": "确非本单位职责", "at": 6 * HOUR}]
    assert doc["returns_pending"] == 1 and doc["returns_granted"] == 0
    doc, _ = applied(LIFE)
    assert doc["lead_unit"] == B and doc["returns_pending"] == 0 and doc["returns_granted"] == 1
    [lead, co] = doc["units"]
    assert (lead["unit"], lead["due_at"], lead["completed"], lead["overdue"]) == (
        B,
        LATER,
        True,
        False,
    )
    # 超时默认: overdue, never completed
    assert (co["unit"], co["deemed_done"], co["overdue"], co["completed"]) == (C, True, True, False)
    assert doc["overdue"] is True and doc["overdue_units"] == [C]
    assert [h["unit"] for h in doc["path"]] == [A, C, B]
    assert "…" not in str(doc)  # no complaint text


def test_the_parts_give_the_load_per_unit_and_keep_an_overdue_part_overdue() -> None:
    _, parts = applied(LIFE[:8])
    assert {k: (p["open"], p["lead"], p["overdue"]) for k, p in parts.items()} == {
        f"{STREAM}|{A}": (False, True, False),
        f"{STREAM}|{C}": (True, False, False),
        f"{STREAM}|{B}": (True, True, False),
    }
    _, parts = applied(LIFE)
    assert parts[f"{STREAM}|{C}"] == {
        "case": STREAM,
        "unit": C,
        "lead": False,
        "open": False,
        "overdue": True,
    }


def test_the_phases_a_case_goes_through() -> None:
    phases = []
    for n in range(1, 9):
        doc, _ = applied(LIFE[:n])
        phases.append(doc["phase"])
    assert phases == ["unscreened", "ready", *["handling"] * 4, "ready", "handling"]
    doc, _ = applied([*LIFE, ("complainant.confirmed", {"complaint_no": "TS1"})])
    assert doc["phase"] == "ended"


def test_a_flag_is_shown_on_the_row() -> None:
    flag = {"pattern": "cycle", "units": [A, B, A], "cause": "id-1"}
    doc, _ = applied([*LIFE[:3], ("dispatch.buck_passing_flagged", flag)])
    assert doc["flagged"] is True and doc["flags"] == [
        {"pattern": "cycle", "units": [A, B, A], "at": 4 * HOUR}
    ]


def test_an_event_the_board_does_not_show_writes_nothing() -> None:
    doc, _ = applied(LIFE[:3])
    assert BoardCases().apply(doc, event(9, "handling.replied", {"unit": A, "text": "…"})) == []
