"""Routing as data (services/dispatch/routing.py): the most specific catalogue entry wins, the
respondent's level comes from the unit directory, ``respondent`` routes to the unit complained
about, and the shipped catalogue is a real one (≥ 300 entries, every unit in the directory)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from services.dispatch.routing import NO_ROUTE, Route, RouteIndex, RouteIndexes, unit_id
from shared.events.catalog import Routing, UnitDirectory
from shared.ledger.configuration import default_contents

DEFAULTS = default_contents()
UNITS = UnitDirectory.model_validate(DEFAULTS["unit_directory"])


def catalogue(*entries: dict[str, Any]) -> Routing:
    return Routing.model_validate({"entries": list(entries)})


LEVELS = UnitDirectory.model_validate(
    {
        "units": [
            {"id": "unit:city-a", "name": "市甲局", "level": "municipal", "supervised_by": "x"},
            {"id": "unit:dist-b", "name": "区乙局", "level": "district", "supervised_by": "x"},
        ]
    }
)
SMALL = RouteIndex(
    catalogue(
        {"code": "C1", "category": "住房保障", "lead": "unit:housing"},
        {
            "code": "C2",
            "category": "住房保障",
            "level": "district",
            "lead": "respondent",
            "co_units": ["unit:housing"],
        },
        {"code": "C3", "category": "住房保障", "unit": "unit:dist-b", "lead": "unit:special"},
        {
            "code": "C4",
            "category": "住房保障",
            "unit": "unit:dist-b",
            "level": "district",
            "lead": "unit:most-special",
        },
        {"code": "C5", "category": "*", "unit": "unit:city-a", "lead": "unit:city-a-office"},
        {"code": "C6", "category": "*", "level": "district", "lead": "respondent"},
        {"code": "C7", "category": "*", "lead": "unit:catch-all"},
    ),
    LEVELS,
)


@pytest.mark.parametrize(
    ("category", "unit", "expected"),
    [
        ("住房保障", "unit:dist-b", Route("C4", "unit:most-special")),  # category+unit+level
        ("住房保障", "dist-c", Route("C1", "unit:housing")),  # not in the directory: no level
        ("住房保障", "unit:city-a", Route("C1", "unit:housing")),  # municipal: category alone
        ("其他", "unit:city-a", Route("C5", "unit:city-a-office")),  # * + unit
        ("其他", "unit:dist-b", Route("C6", "unit:dist-b")),  # * + level, respondent acts
        ("其他", "unit:nowhere", Route("C7", "unit:catch-all")),  # * alone
    ],
)
def test_the_most_specific_entry_wins(category: str, unit: str, expected: Route) -> None:
    assert SMALL.propose(category, unit) == expected


def test_category_and_unit_beat_category_and_level() -> None:
    without_c4 = RouteIndex(
        catalogue(
            {"code": "C2", "category": "住房保障", "level": "district", "lead": "respondent"},
            {"code": "C3", "category": "住房保障", "unit": "unit:dist-b", "lead": "unit:special"},
        ),
        LEVELS,
    )
    assert without_c4.propose("住房保障", "unit:dist-b") == Route("C3", "unit:special")


def test_respondent_routes_to_the_unit_complained_about_with_its_co_units() -> None:
    directory = UnitDirectory.model_validate(
        {
            "units": [
                {"id": "unit:dist-c", "name": "区丙局", "level": "district", "supervised_by": "x"}
            ]
        }
    )
    index = RouteIndex(SMALL_ROUTING, directory)
    assert index.propose("住房保障", "dist-c") == Route("C2", "unit:dist-c", ("unit:housing",))


SMALL_ROUTING = catalogue(
    {"code": "C1", "category": "住房保障", "lead": "unit:housing"},
    {
        "code": "C2",
        "category": "住房保障",
        "level": "district",
        "lead": "respondent",
        "co_units": ["unit:housing"],
    },
)


def test_a_co_unit_that_is_the_respondent_lead_is_not_named_twice() -> None:
    index = RouteIndex(
        catalogue({"code": "C1", "category": "x", "lead": "respondent", "co_units": ["unit:a"]})
    )
    assert index.propose("x", "a") == Route("C1", "unit:a", ())


def test_no_entry_no_proposal() -> None:
    index = RouteIndex(catalogue({"code": "C1", "category": "住房保障", "lead": "unit:h"}))
    assert index.propose("别的类别", "unit:a") == NO_ROUTE


def test_units_are_named_as_the_log_names_them() -> None:
    assert unit_id("housing-bureau") == "unit:housing-bureau"
    assert unit_id("unit:housing-bureau") == "unit:housing-bureau"


@pytest.mark.parametrize(
    "entries",
    [
        [
            {"code": "A", "category": "x", "lead": "unit:a"},
            {"code": "A", "category": "y", "lead": "unit:a"},
        ],
        [
            {"code": "A", "category": "x", "lead": "unit:a"},
            {"code": "B", "category": "x", "lead": "unit:b"},
        ],
        [{"code": "A", "category": "x", "lead": "unit:a", "co_units": ["unit:a"]}],
        [{"code": "A", "category": "x", "lead": "unit:a", "co_units": ["unit:b", "unit:b"]}],
        [{"code": "A", "category": "x", "lead": "a"}],  # not a unit id
        [{"code": "A", "category": "x", "level": "province", "lead": "unit:a"}],
        [],
    ],
)
def test_a_catalogue_that_routes_a_case_twice_or_names_a_unit_wrongly_is_refused(
    entries: list[dict[str, Any]],
) -> None:
    with pytest.raises(ValidationError):
        catalogue(*entries)


def test_an_index_is_built_once_per_version() -> None:
    indexes = RouteIndexes(keep=2)
    first = indexes.of("1", SMALL_ROUTING, "1", LEVELS)
    assert indexes.of("1", SMALL_ROUTING, "1", LEVELS) is first
    assert indexes.of("2", SMALL_ROUTING, "1", LEVELS) is not first
    assert indexes.of("1", SMALL_ROUTING, "2", LEVELS) is not first  # a new directory too
    assert indexes.of("1", SMALL_ROUTING, "1", LEVELS) is not first  # kept only the last two


# ---- the shipped catalogue ---------------------------------------------------------------------


def test_the_shipped_catalogue_is_a_real_one() -> None:
    routing = Routing.model_validate(DEFAULTS["routing"])
    assert len(routing.entries) >= 300  # Beijing's 12345 派单目录 has over 300 entries
    known = {u.id for u in UNITS.units}
    named = {e.lead for e in routing.entries if e.lead != "respondent"}
    named |= {u for e in routing.entries for u in e.co_units}
    named |= {e.unit for e in routing.entries if e.unit is not None}
    assert named <= known, named - known
    assert any(e.category == "*" and e.unit is None and e.level is None for e in routing.entries)


@pytest.mark.parametrize(
    ("category", "unit", "lead", "co_units"),
    [
        # at the city's 政务服务中心 window: the responsible bureau acts, the centre co-handles
        (
            "不动产登记",
            "unit:government-services",
            "unit:natural-resources",
            ("unit:government-services",),
        ),
        # a district unit on a city bureau's matter: it acts, the bureau guides
        ("劳动欠薪", "unit:huicheng-district", "unit:huicheng-district", ("unit:human-resources",)),
        # a city unit's conduct at its own window: it answers for itself
        ("窗口纪律", "unit:public-security", "unit:public-security", ()),
        # a unit not in the directory, on a matter: the responsible bureau
        ("食品安全", "unit:some-market-office", "unit:market-regulation", ()),
        # nothing in the catalogue: the unit complained about answers
        ("未列类别", "unit:health-bureau", "unit:health-bureau", ()),
    ],
)
def test_the_shipped_catalogue_routes_as_a_12345_catalogue_would(
    category: str, unit: str, lead: str, co_units: tuple[str, ...]
) -> None:
    route = RouteIndex(Routing.model_validate(DEFAULTS["routing"]), UNITS).propose(category, unit)
    assert (route.lead, route.co_units) == (lead, co_units)
