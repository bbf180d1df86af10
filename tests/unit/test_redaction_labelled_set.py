"""The labelled set: its make-up (all of it, and the held-out set on its own), and no
labelled personal data surviving on the tuning data (``tune`` and the first nine held-out
sets, ``heldout`` to ``heldout9``, each tuned on after it was measured once). The held-out
set ``heldout10`` is
scored only by the benchmark: this test counts what it holds and never runs a detector on
it."""

from __future__ import annotations

import itertools
import re
from collections import Counter

import pytest

from shared.redaction import Kind, redact
from tests.data.redaction.labelled_set import (
    HELD_OUT,
    TUNING,
    Example,
    load,
    load_tuning,
    score,
)

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
    return load_tuning() + load(HELD_OUT)


@pytest.fixture(scope="module")
def heldout() -> list[Example]:
    return load(HELD_OUT)


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


def test_heldout_make_up(heldout: list[Example]) -> None:
    """The held-out half alone: every kind at least 15 times (in at least 15 texts), every
    hard case several times, the name-like words, and texts with no personal data at all."""
    assert len(heldout) >= 120
    per_kind = Counter(s.kind for ex in heldout for s in ex.spans)
    assert set(per_kind) == set(Kind)
    assert min(per_kind.values()) >= 15, per_kind
    assert per_kind[Kind.ADDRESS] >= 40 and per_kind[Kind.NAME] >= 40, per_kind
    texts_per_kind = Counter(k for ex in heldout for k in {s.kind for s in ex.spans})
    assert min(texts_per_kind.values()) >= 15, texts_per_kind
    hard = Counter(h for ex in heldout for h in ex.hard)
    for case in HARD_CASES:
        assert hard[case] >= 5, (case, hard)
    assert hard["rare_surname"] >= 15 and hard["name_like"] >= 15 and hard["spaced"] >= 15
    assert sum(1 for ex in heldout if not ex.spans) >= 10
    texts = " ".join(ex.text for ex in heldout)
    for word in ("周先生", "高新区", "王府井", "黄金周", "李宁", "刘某某", "小王"):
        assert word in texts
    values = [s for ex in heldout for s in ex.spans]
    # Full-width digits, a line break inside a number, a lower-case x, an extension.
    assert any(s.kind is Kind.ID_NUMBER and "ｘ" in s.value for s in values)
    assert any(s.kind is Kind.MOBILE and "\n" in s.value for s in values)
    assert any(s.kind is Kind.ID_NUMBER and "\n" in s.value for s in values)
    assert any(s.kind is Kind.ADDRESS and "\n" in s.value for s in values)
    assert sum(1 for s in values if s.kind is Kind.ID_NUMBER and s.value.endswith("x")) >= 3
    assert any(s.kind is Kind.LANDLINE and "转" in s.value for s in values)
    assert any(s.kind is Kind.MOBILE and "１" in s.value for s in values)
    assert any(s.kind is Kind.EMAIL and "@" in s.value for s in values)
    for surname in ("禤", "覃", "仉", "庹", "冼", "眭", "蹇", "妫"):
        assert any(s.kind is Kind.NAME and s.value.startswith(surname) for s in values), surname
    for compound in ("欧阳", "司马", "尉迟", "万俟", "申屠"):
        assert any(s.kind is Kind.NAME and s.value.startswith(compound) for s in values)
    # Two-character names; plates of every province's prefix; addresses in their many forms.
    assert sum(1 for s in values if s.kind is Kind.NAME and len(s.value) == 2) >= 10
    assert {s.value[0] for s in values if s.kind is Kind.PLATE} >= set(PROVINCE_PREFIXES)
    addresses = [s.value for s in values if s.kind is Kind.ADDRESS]
    for form in ADDRESS_FORMS:
        assert sum(1 for a in addresses if re.search(form, a)) >= 2, form


# Plate prefixes of the 31 provinces, municipalities and autonomous regions.
PROVINCE_PREFIXES = "京津沪渝冀晋辽吉黑苏浙皖闽赣鲁豫鄂湘粤琼川贵云陕甘青蒙桂藏宁新"
ADDRESS_FORMS = (
    r"省.+市.+区",  # province, city, district
    r"街道.+(路|街|巷|弄|胡同).*号",  # sub-district, street and number
    r"(栋|幢|号楼).*单元",  # building and unit
    r"室$",  # down to the room
    r"村.*(组|屯)|屯",  # villages, their groups and hamlets
    r"(工业园|开发区|工业区).*(厂房|号)",  # industrial parks
    r"[一二三四五六七八九十百]+号",  # Chinese numerals
    "\n",  # split across lines
    r"^[^省市]+(区|县)",  # without the city
    r"^[^省市区县]+(小区|家园).*(栋|座)",  # partial: an estate and a building only
)


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
    names = (*TUNING, HELD_OUT)
    halves = [{ex.text for ex in load(h)} for h in names]
    for a, b in itertools.combinations(halves, 2):
        assert not a & b


def test_no_labelled_personal_data_survives_on_the_tuning_data() -> None:
    examples = load_tuning()
    result = score(examples, [redact(ex.text, ex.known) for ex in examples])
    assert result.leaks == []
    assert result.over_redaction_pct <= 5.0
