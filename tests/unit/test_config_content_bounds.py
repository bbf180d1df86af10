"""The configuration content models at their bounds: names, wire values, the loose kinds'
integer range and size limit, and a walk of parents that runs into a cycle it did not start."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from shared.events.catalog import (
    LOOSE_CONFIG_MAX_BYTES,
    BodyDirectory,
    BodyLevel,
    LimitSpec,
    LooseConfig,
    UnitLevel,
)
from shared.events.codec import canonical


def body(id_: str, parent: str | None = None, name: str = "市效能办") -> dict[str, Any]:
    return {"id": id_, "name": name, "level": "municipal", "parent": parent}


def test_the_levels_and_the_limit_unit_keep_their_wire_names() -> None:
    assert [b.value for b in BodyLevel] == ["municipal", "district", "stationed"]
    assert [u.value for u in UnitLevel] == ["municipal", "district", "street"]
    assert LimitSpec(amount=3).unit == "working_days"
    assert LimitSpec.model_validate({"amount": 3, "unit": "working_days"}).unit == "working_days"


def test_a_directory_name_is_1_to_60_characters() -> None:
    assert BodyDirectory.model_validate({"bodies": [body("a", name="字")]})
    assert BodyDirectory.model_validate({"bodies": [body("a", name="字" * 60)]})
    for name in ("", "字" * 61):
        with pytest.raises(ValidationError):
            BodyDirectory.model_validate({"bodies": [body("a", name=name)]})


@pytest.mark.timeout(10)
def test_a_walk_that_runs_into_a_cycle_it_did_not_start_is_refused() -> None:
    # c reports to a, and a and b to each other: the walk from c never comes back to c.
    entries = [body("c", "a"), body("a", "b"), body("b", "a")]
    with pytest.raises(ValidationError, match="cycle"):
        BodyDirectory.model_validate({"bodies": entries})
    with pytest.raises(ValidationError, match="cycle"):
        BodyDirectory.model_validate({"bodies": [body("a", "a")]})


def test_loose_integers_span_exactly_what_json_keeps_exact() -> None:
    edge = 2**53 - 1
    assert LooseConfig.model_validate({"n": [edge, -edge]}).root == {"n": [edge, -edge]}
    for beyond in (2**53, -(2**53)):
        with pytest.raises(ValidationError):
            LooseConfig.model_validate({"n": beyond})


def test_loose_content_is_at_most_64_kib_as_canonical_bytes() -> None:
    def of_size(n: int) -> dict[str, Any]:
        base = len(canonical({"t": ""}))
        return {"t": "x" * (n - base)}

    assert LOOSE_CONFIG_MAX_BYTES == 64 * 1024
    assert len(canonical(of_size(65_536))) == 65_536
    assert LooseConfig.model_validate(of_size(65_536))
    with pytest.raises(ValidationError, match="64 KiB"):
        LooseConfig.model_validate(of_size(65_537))


def test_loose_content_is_frozen() -> None:
    content = LooseConfig.model_validate({"t": "x"})
    with pytest.raises(ValidationError):
        content.root = {"t": "y"}


def test_a_lone_surrogate_is_outside_the_events_domain() -> None:
    with pytest.raises(ValidationError, match="JSON domain"):
        LooseConfig.model_validate({"t": "\ud800"})
