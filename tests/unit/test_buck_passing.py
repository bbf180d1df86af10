"""踢皮球: a case returned twice, or handed back to a unit that had returned it (A → B → A), is
flagged once per pattern by a derived event the rule book accepts once; the pure pattern
folding, the reaction on a signed history judged by the rule book, and the rule-book row."""

from __future__ import annotations

from typing import Any

import orjson

from services.dispatch import buck_passing as bp
from shared.ledger.signer import Draft
from shared.log.port import StoredRecord
from shared.rules.verdict import Reason
from tests.samples import (
    ASSIGNED,
    CO_UNIT,
    UNIT,
    Judge,
    MemoryLedger,
    Step,
    new_case,
    step,
)

L = MemoryLedger(partitions=3)
J = Judge(L)
B = "unit:housing-bureau"
A = UNIT
REQUESTED = "ledger.handling.return_requested.v1"
RULED = "ledger.dispatch.return_ruled.v1"
ASSIGN = "ledger.dispatch.assigned.v1"


def assigned(lead: str, *co: str) -> dict[str, Any]:
    due = "2026-09-01T18:00:00+08:00"
    return {"lead_unit": lead, "co_units": [{"unit": u, "due_at": due} for u in co]}


def passed_to(unit: str, next_lead: str) -> list[Step]:
    """``unit`` asks to return, the officer grants and assigns straight to ``next_lead``."""
    return [
        step(REQUESTED, actor=f"{unit}/H1", unit=unit),
        step(RULED, unit=unit, granted=True, ruling="准予"),
        step(ASSIGN, **assigned(next_lead)),
    ]


def fold_patterns(events: list[tuple[str, dict[str, Any]]]) -> list[bp.Flag]:
    p, found = bp.Passing(), []
    for t, d in events:
        if (flag := bp.found(p, t, d)) is not None:
            found.append(flag)
        p = bp.advance(p, t, d)
    return found


def test_the_second_granted_return_is_returned_twice() -> None:
    grant = {"granted": True, "ruling": "x"}
    flags = fold_patterns(
        [
            (ASSIGN, assigned(A, CO_UNIT)),
            (RULED, {"unit": CO_UNIT, **grant}),
            (RULED, {"unit": A, "granted": False, "ruling": "x"}),  # a refusal is no return
            (RULED, {"unit": A, **grant}),
            (ASSIGN, assigned(B)),
            (RULED, {"unit": B, **grant}),  # a third, before any flag is read back
        ]
    )
    assert flags[0] == bp.Flag(bp.BuckPassingPattern.returned_twice, (CO_UNIT, A))
    # found again while no flag is accepted, with the same id: written once
    assert [f.pattern for f in flags] == ["returned_twice", "returned_twice"]


def test_a_flag_accepted_stops_the_pattern_being_found_again() -> None:
    grant = {"granted": True, "ruling": "x"}
    flags = fold_patterns(
        [
            (ASSIGN, assigned(A)),
            (RULED, {"unit": A, **grant}),
            (ASSIGN, assigned(B)),
            (RULED, {"unit": B, **grant}),
            ("ledger.dispatch.buck_passing_flagged.v1", {"pattern": "returned_twice"}),
            (ASSIGN, assigned(A)),
            (RULED, {"unit": A, **grant}),
        ]
    )
    assert [f.pattern for f in flags] == ["returned_twice", "cycle"]
    assert flags[1].units == (A, B, A)


def test_no_pattern_without_a_granted_return_or_a_return_to_a_returner() -> None:
    assert fold_patterns([(ASSIGN, assigned(A, CO_UNIT)), (ASSIGN, assigned(B))]) == []
    assert (
        fold_patterns(
            [
                (ASSIGN, assigned(A)),
                (RULED, {"unit": A, "granted": True, "ruling": "x"}),
                (ASSIGN, assigned(B, CO_UNIT)),
            ]
        )
        == []
    )


def test_a_co_unit_that_returned_its_part_and_gets_the_case_back_is_a_cycle() -> None:
    flags = fold_patterns(
        [
            (ASSIGN, assigned(A, CO_UNIT)),
            (RULED, {"unit": CO_UNIT, "granted": True, "ruling": "x"}),
            (RULED, {"unit": A, "granted": False, "ruling": "x"}),
            (ASSIGN, assigned(CO_UNIT)),
        ]
    )
    assert flags == [bp.Flag(bp.BuckPassingPattern.cycle, (CO_UNIT, A, CO_UNIT))]


def test_the_flag_id_is_one_per_case_and_pattern() -> None:
    case, other = new_case(), new_case()
    assert bp.flag_id(case, "cycle") == bp.flag_id(case, "cycle")
    assert (
        len(
            {
                bp.flag_id(case, "cycle"),
                bp.flag_id(case, "returned_twice"),
                bp.flag_id(other, "cycle"),
            }
        )
        == 3
    )


def _observed(case: str, steps: list[Step]) -> tuple[bp.BuckPassing, Any, list[StoredRecord]]:
    """The reaction shown every accepted event of the signed history, as a follower would."""
    fold = L.fold([])
    reaction = bp.BuckPassing()
    records = L.place([(case, s.record) for s in J.sign(case, steps)])
    for rec in records:
        verdict = fold.apply(rec)
        assert verdict.reason == Reason.ok, verdict
        reaction.observe(rec, orjson.loads(rec.record), fold.streams[case])
    return reaction, fold, records


def _write(fold: Any, case: str, drafts: list[Draft], offset: int) -> list[Reason]:
    state = fold.streams[case]
    out = []
    for i, d in enumerate(drafts):
        signed = L.signers["dispatch"].sign(
            case, d, prev=state.head, regseq=L.regseq, reghash=L.reghash
        )
        [rec] = L.place([(case, signed.record)])
        rec = rec._replace(offset=offset + i)
        out.append(fold.apply(rec).reason)
    return out


def test_a_to_b_to_a_is_flagged_twice_over_once_each_and_a_redelivery_writes_nothing() -> None:
    case = new_case()
    history = [*ASSIGNED, *passed_to(UNIT, B), *passed_to(B, A)]
    reaction, fold, records = _observed(case, history)
    assert set(reaction.flags) == {bp.flag_id(case, "returned_twice"), bp.flag_id(case, "cycle")}
    drafts = reaction.decide(case)(fold.streams[case])  # both, in one chained decision
    assert [d.data["pattern"] for d in drafts] == ["returned_twice", "cycle"]
    cycle = drafts[1]
    assert cycle.data["units"] == [A, B, A] and cycle.actor == bp.ACTOR
    assert _write(fold, case, drafts, len(records)) == [Reason.ok, Reason.ok]
    # a redelivered cause decides nothing (the flags are seen), and a copy is a replay
    assert reaction.decide(case)(fold.streams[case]) == []
    again, _, _ = _observed(case, history)  # a fresh process reads the same history
    assert set(again.flags) == set(reaction.flags)  # the same ids: same cause, same id
    assert _write(fold, case, [cycle], len(records) + 2) == [Reason.replayed_id]


def test_the_rule_book_row() -> None:
    flag = "ledger.dispatch.buck_passing_flagged.v1"
    J.accepted([*ASSIGNED, *passed_to(UNIT, B), step(flag)])  # the sample: a cycle
    J.refused([*ASSIGNED, step(flag)], Reason.wrong_state)  # assigned once: no cycle yet
    J.refused([*ASSIGNED[:2], step(flag, pattern="returned_twice")], Reason.wrong_state)
    # two co-units' returns on one assignment: returned twice with no reassignment
    J.accepted([*ASSIGNED, step(flag, pattern="returned_twice", units=[CO_UNIT, B])])
    J.refused([*ASSIGNED, *passed_to(UNIT, B), step(flag, signer="oversight")], Reason.no_right)
    closed = [*ASSIGNED, *passed_to(UNIT, B), step("ledger.complaint.withdrawn.v1"), step(flag)]
    J.refused(closed, Reason.wrong_state)
