"""Notices about a closed case: the state lists them in the order they last changed, so a
correction (which keeps a notice published) moves it after the others."""

from __future__ import annotations

from shared.rules.verdict import Reason
from tests.samples import CLAIMED, Judge, MemoryLedger, step

L = MemoryLedger(partitions=3)
J = Judge(L)
CLOSED = [*CLAIMED, step("ledger.complainant.confirmed.v1"), step("ledger.handling.closed.v1")]
TWO = [
    *CLOSED,
    step("ledger.publication.drafted.v1"),
    step("ledger.publication.published.v1"),
    step("ledger.publication.drafted.v1", notice_id="N2"),
]


def test_a_correction_keeps_the_notice_published_and_moves_it_last() -> None:
    assert J.accepted(TWO).notices == (("N1", "published"), ("N2", "drafted"))
    st = J.accepted([*TWO, step("ledger.publication.corrected.v1")])
    assert st.notices == (("N2", "drafted"), ("N1", "published"))
    J.refused([*TWO, step("ledger.publication.corrected.v1", notice_id="N2")], Reason.wrong_state)
