"""The labelled set: its make-up (both halves), and no labelled personal data surviving on the
tune half. The evaluation half is scored only by the benchmark."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from shared.redaction import Kind, redact
from tests.data.redaction.labelled_set import Example, load, score

HARD_CASES = (
    "rare_surname",
    "compound_surname",
    "name_like",
    "fullwidth",
    "split_line",
    "spaced",
    "lowercase_x",
    "plus86",
    "extension",
    "new_energy_plate",
)


@pytest.fixture(scope="module")
def both() -> list[Example]:
    return load("tune") + load("eval")


def test_size_and_kinds(both: list[Example]) -> None:
    assert len(both) >= 150
    per_kind = Counter(s.kind for ex in both for s in ex.spans)
    assert set(per_kind) == set(Kind)
    assert min(per_kind.values()) >= 15, per_kind
    texts_per_kind = Counter(k for ex in both for k in {s.kind for s in ex.spans})
    assert min(texts_per_kind.values()) >= 15, texts_per_kind


def test_hard_cases(both: list[Example]) -> None:
    hard = Counter(h for ex in both for h in ex.hard)
    for case in HARD_CASES:
        assert hard[case] >= 2, (case, hard)
    assert hard["rare_surname"] >= 15 and hard["name_like"] >= 15
    texts = " ".join(ex.text for ex in both)
    for word in ("周先生", "高新区", "王府井大街", "黄金周", "李宁"):
        assert word in texts
    for surname in "禤覃隗仉":
        assert any(s.value.startswith(surname) for ex in both for s in ex.spans)


def test_spans_are_true(both: list[Example]) -> None:
    assert len({ex.id for ex in both}) == len(both)
    for ex in both:
        for s in ex.spans:
            assert ex.text[s.start : s.end] == s.value
        for name in ex.known_names:
            assert name in ex.text
        ordered = sorted(ex.spans, key=lambda s: s.start)
        assert all(a.end <= b.start for a, b in itertools.pairwise(ordered))


def test_halves_do_not_share_texts() -> None:
    assert not {ex.text for ex in load("tune")} & {ex.text for ex in load("eval")}


def test_no_labelled_personal_data_survives_on_the_tune_half() -> None:
    examples = load("tune")
    result = score(examples, [redact(ex.text, ex.known) for ex in examples])
    assert result.leaks == []
    assert result.over_redaction_pct <= 5.0
