"""Upcasting: an old payload is read as the newest version, through every step in order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shared.events import upcast as upcasting
from shared.events.upcast import register, upcast


@pytest.fixture
def upcasters() -> Iterator[None]:
    """Upcasters registered by a test are removed after it."""
    saved = dict(upcasting._UPCASTERS)
    upcasting._UPCASTERS.clear()
    yield
    upcasting._UPCASTERS.clear()
    upcasting._UPCASTERS.update(saved)


def test_without_upcasters_a_payload_is_returned_as_it_is(upcasters: None) -> None:
    data = {"x": 1}
    got_type, got = upcast("ledger.case.thing.v1", data)
    assert got_type == "ledger.case.thing.v1" and got is data


def test_upcasters_apply_in_order_up_to_the_newest(upcasters: None) -> None:
    @register("ledger.case.thing", 1)
    def one_to_two(d: dict[str, Any]) -> dict[str, Any]:
        return {**d, "steps": [*d.get("steps", []), 1]}

    @register("ledger.case.thing", 2)
    def two_to_three(d: dict[str, Any]) -> dict[str, Any]:
        return {**d, "steps": [*d["steps"], 2]}

    assert one_to_two({"a": 0}) == {"a": 0, "steps": [1]}  # register returns the function
    assert upcast("ledger.case.thing.v1", {"a": 0}) == (
        "ledger.case.thing.v3",
        {"a": 0, "steps": [1, 2]},
    )
    assert upcast("ledger.case.thing.v2", {"steps": []}) == (
        "ledger.case.thing.v3",
        {"steps": [2]},
    )
    assert upcast("ledger.case.thing.v3", {"a": 1}) == ("ledger.case.thing.v3", {"a": 1})
    assert upcast("ledger.case.other.v1", {"a": 1}) == ("ledger.case.other.v1", {"a": 1})
