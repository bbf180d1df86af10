"""What the audit stream keeps of seals and acknowledgements for ``ledger verify`` and sealed
rebuilds: every seal's digests with the count it sealed, the last seal's digests, and the
records an auditor named as known bad — each on a signed history."""

from __future__ import annotations

from typing import Any

from shared.ledger.signer import Draft
from shared.rules.audit import AuditState
from shared.rules.verdict import Reason
from tests.unit.test_audit_stream import AUDITOR, H2, H, audit_state, chain, digest, fold

SEAL = "ledger.audit.seal_recorded.v1"
ACK = "ledger.audit.acknowledged.v1"


def seal(positions: dict[str, int], digests: dict[str, str]) -> Draft:
    data: dict[str, Any] = {
        "positions": positions,
        "partitions": 3,
        "digests": digests,
        "tampered": 0,
        "conflicts": 0,
    }
    return Draft(SEAL, data, AUDITOR)


def acknowledge(events: list[list[Any]]) -> Draft:
    return Draft(ACK, {"events": events, "reason": "事件编号 INC-7：已核实并处置"}, AUDITOR)


def test_every_seal_keeps_its_digests_with_the_count_it_sealed() -> None:
    f, reasons = fold(
        chain(
            [
                seal({"0": 3, "1": 10, "2": 4}, {"1": H2, "0": H}),
                seal({"0": 5, "1": 10, "2": 4}, {"0": H2}),
            ]
        )
    )
    assert reasons == [Reason.ok, Reason.ok]
    state = audit_state(f)
    assert state.sealed_digests == ((0, 3, H), (1, 10, H2), (0, 5, H2))
    assert state.last_sealed_digests == ((0, H2),)


def test_a_digest_for_a_partition_the_seal_has_no_position_for_seals_zero_records() -> None:
    f, _ = fold(chain([seal({"0": 3}, {"2": H})]))
    state = audit_state(f)
    assert state.sealed_digests == ((2, 0, H),)
    assert state.last_sealed_digests == ((2, H),)


def test_acknowledged_records_accumulate_and_change_nothing_else() -> None:
    f, reasons = fold(
        chain(
            [
                digest(0, 5),
                acknowledge([[0, 3, H], [1, 0, ""]]),
                acknowledge([[2, 7, H2]]),
            ]
        )
    )
    assert reasons == [Reason.ok] * 3
    state = audit_state(f)
    assert state.acknowledged == ((0, 3, H), (1, 0, ""), (2, 7, H2))
    assert state.digests == ((0, 5, H),) and state.seals == ()
    assert state.summary()["acknowledged"] == [[0, 3, H], [1, 0, ""], [2, 7, H2]]
    assert AuditState(acknowledged=state.acknowledged).seals == ()
