"""The labelled duplicate set is made as the issue asks, before any tuning."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.data.duplicates.labelled_set import Pairs, load, longest_common_run


def _both() -> list[Pairs]:
    return [Pairs(load("tune")), Pairs(load("eval"))]


def test_at_least_150_complaints_split_in_two() -> None:
    tune, eval_ = load("tune"), load("eval")
    assert len(tune) + len(eval_) >= 150
    assert min(len(tune), len(eval_)) >= 70
    assert not {c.incident for c in tune} & {c.incident for c in eval_}, "an incident in both"
    ids = [c.id for c in tune + eval_]
    assert len(ids) == len(set(ids))


def test_half_of_duplicate_pairs_share_no_run_of_six() -> None:
    for pairs in _both():
        runs = [
            longest_common_run(pairs.by_id[a].text, pairs.by_id[b].text) for a, b in pairs.positive
        ]
        assert len(runs) >= 30
        assert sum(r < 6 for r in runs) >= len(runs) / 2


def test_near_misses_are_30_percent_of_negative_pairs() -> None:
    for pairs in _both():
        assert len(pairs.negative) >= 50
        assert len(pairs.near_miss) >= 0.3 * len(pairs.negative)


@pytest.mark.parametrize("half", ["tune", "eval"])
def test_each_half_has_every_kind_of_case(half: str) -> None:
    pairs = Pairs(load(half))  # type: ignore[arg-type]
    assert len(pairs.distractor) >= 4
    assert len(pairs.cross_level) >= 4
    groups = Counter(c.incident for c in pairs.items)
    assert sum(n >= 2 for n in groups.values()) >= 15


def test_duplicates_come_from_different_people_on_different_channels() -> None:
    for pairs in _both():
        for a, b in pairs.positive:
            ca, cb = pairs.by_id[a], pairs.by_id[b]
            assert ca.complainant is None or ca.complainant != cb.complainant
        for incident in {c.incident for c in pairs.items}:
            members = [c for c in pairs.items if c.incident == incident]
            if len(members) > 1:
                assert len({c.channel for c in members}) > 1, incident


def test_texts_are_redacted_form() -> None:
    import re

    for pairs in _both():
        for c in pairs.items:
            assert not re.search(r"1[3-9]\d{9}", c.text)
            assert not re.search(r"\d{17}[\dXx]", c.text)
