"""Verdicts: each reason has one outcome, the one the README's verdict table gives it, and the
reasons are stable strings (seals store them; rebuilds read them back)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shared.rules.verdict import (
    ACCEPTED,
    TAMPER_REASONS,
    Outcome,
    Reason,
    Verdict,
    reject,
)

README = Path(__file__).resolve().parents[2] / "README.md"

# Tampering by DESIGN: whatever else is added, these stay alarms.
TAMPERING = {
    Reason.malformed,
    Reason.bad_signature,
    Reason.unknown_key,
    Reason.foreign_key,
    Reason.unknown_prev,
    Reason.unknown_registry_version,
    Reason.wrong_partition,
}
# Normal conflicts: a writer re-decides and retries, `ledger verify` lists them.
CONFLICTS = {
    Reason.stale_prev,
    Reason.replayed_id,
    Reason.no_right,
    Reason.wrong_state,
    Reason.stale_registry,
    Reason.invalid_data,
    Reason.unknown_type,
    Reason.wrong_stream,
}


def readme_table() -> dict[str, set[str]]:
    """Outcome row of the README's verdict table -> the reasons it lists."""
    rows: dict[str, set[str]] = {}
    for line in README.read_text().splitlines():
        m = re.match(r"^\| (accepted|normal conflict|tampering)\b[^|]*\| (.*) \|$", line)
        if m:
            rows[m.group(1)] = set(re.findall(r"`([a-z_]+)`", m.group(2)))
    return rows


def test_reasons_are_their_own_names() -> None:
    for reason in Reason:
        assert reason.value == reason.name
        assert Reason(reason.name) is reason and str(reason) == reason.name


def test_outcomes_are_stable_strings() -> None:
    assert [o.value for o in Outcome] == ["accepted", "conflict", "tamper"]


def test_ok_is_the_only_acceptance() -> None:
    assert Verdict(Reason.ok, "") == ACCEPTED and ACCEPTED.reason is Reason.ok
    assert ACCEPTED.outcome is Outcome.accepted and ACCEPTED.accepted
    for reason in Reason:
        if reason is not Reason.ok:
            assert not Verdict(reason).accepted
            assert Verdict(reason).outcome is not Outcome.accepted


@pytest.mark.parametrize("reason", sorted(TAMPERING))
def test_tampering_reasons_are_tampering(reason: Reason) -> None:
    assert reason in TAMPER_REASONS
    assert reject(reason).outcome is Outcome.tamper


@pytest.mark.parametrize("reason", sorted(CONFLICTS))
def test_normal_conflicts_are_conflicts(reason: Reason) -> None:
    assert reason not in TAMPER_REASONS
    assert reject(reason).outcome is Outcome.conflict


def test_every_reason_is_in_the_readme_table_under_its_outcome() -> None:
    rows = readme_table()
    assert rows["accepted"] == {"ok"}
    assert {r.value for r in Reason} == rows["accepted"] | rows["normal conflict"] | (
        rows["tampering"]
    )
    assert {r.value for r in TAMPER_REASONS} == rows["tampering"]
    for name in rows["normal conflict"]:
        assert reject(Reason(name)).outcome is Outcome.conflict
    assert not rows["normal conflict"] & rows["tampering"]


def test_reject_keeps_the_reason_and_the_detail() -> None:
    v = reject(Reason.wrong_state, "not allowed while new")
    assert v == Verdict(Reason.wrong_state, "not allowed while new")
    assert v.reason is Reason.wrong_state and v.detail == "not allowed while new"
    assert reject(Reason.stale_prev).detail == "" and Verdict(Reason.ok).detail == ""
