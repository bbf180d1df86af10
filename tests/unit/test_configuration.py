"""Configuration contents, versions and diffs, without a log: the shipped default directories
load and hold the review's six bodies; each kind's model refuses what it must; a new version's
decision (owner, base version, next number, nothing new); the line diff."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from shared.calendar import TimeLimit
from shared.events.catalog import (
    CONFIG_CONTENT,
    BodyDirectory,
    ConfigKind,
    ConfigPublished,
    PenaltySchedule,
    TimeLimits,
    UnitDirectory,
    Urgency,
)
from shared.ledger.configuration import (
    ConfigRefusal,
    DefaultConfigError,
    content_diff,
    decide_publication,
    default_contents,
    next_label,
    seed_drafts,
    unknown_supervisors,
)
from shared.ledger.deployments import spec
from shared.web.config_in_force import typed_at
from tests.samples import MemoryLedger

DEFAULTS = default_contents()
BODIES = DEFAULTS["body_directory"]
UNITS = DEFAULTS["unit_directory"]
DISPATCH = "/bodies/efficiency-office/dispatch"
OVERSIGHT = "/bodies/efficiency-office/oversight"
ACTOR = "efficiency-office/demo-admin"


# ---- the default directories ------------------------------------------------------------------


def test_the_body_directory_holds_the_reviews_six_bodies_with_their_levels() -> None:
    names = {b["name"]: b["level"] for b in BODIES["bodies"]}
    assert names == {
        "纪检监察机关效能监察机构": "municipal",
        "市效能办": "municipal",
        "市委督查办": "municipal",
        "市政府督查办": "municipal",
        "信访部门": "municipal",
        "派驻纪检监察机构": "stationed",
    }
    ids = {b["id"] for b in BODIES["bodies"]}
    assert "efficiency-office" in ids  # the body every default deployment belongs to
    stationed = next(b for b in BODIES["bodies"] if b["level"] == "stationed")
    assert stationed["parent"] in ids


def test_the_sample_unit_directory_has_city_bureaus_and_two_district_units() -> None:
    units = UNITS["units"]
    levels = [u["level"] for u in units]
    assert levels.count("municipal") == 12 and levels.count("district") == 2
    assert all(u["id"].startswith("unit:") and u["name"] for u in units)
    bodies = {b["id"] for b in BODIES["bodies"]}
    assert {u["supervised_by"] for u in units} <= bodies  # every supervisor is a known body


def test_the_default_time_limits_read_as_the_calendars_time_limits() -> None:
    limits = TimeLimits.model_validate(DEFAULTS["time_limits"])
    for per in dict(limits.by_urgency).values():
        for spec_ in (per.dispatch_within, per.handle_within):
            assert TimeLimit.model_validate(spec_.model_dump()).amount == spec_.amount
    assert limits.by_urgency.urgent.handle_within.unit == "hours"


def test_every_default_is_owned_by_a_default_deployment() -> None:
    owned = {k for name in ("dispatch", "oversight", "publication") for k in spec(name).configs}
    assert set(DEFAULTS) <= owned


def test_a_broken_default_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "unit_directory.json").write_text('{"units": []}', encoding="utf-8")
    with pytest.raises(DefaultConfigError, match="unit_directory"):
        default_contents(tmp_path)
    (tmp_path / "unit_directory.json").write_text("{", encoding="utf-8")
    with pytest.raises(DefaultConfigError):
        default_contents(tmp_path)


# ---- each kind's model --------------------------------------------------------------------------


def _units_with(change: Any) -> dict[str, Any]:
    units = copy.deepcopy(UNITS)
    change(units["units"])
    return units


@pytest.mark.parametrize(
    "change",
    [
        lambda us: us.append(dict(us[0])),  # an id twice
        lambda us: us[0].update(parent="unit:nowhere"),  # a parent not in the directory
        lambda us: (us[0].update(parent=us[1]["id"]), us[1].update(parent=us[0]["id"])),  # cycle
        lambda us: us[0].update(parent=us[0]["id"]),  # its own parent
        lambda us: us[0].update(id="health-bureau"),  # not a unit id
        lambda us: us[0].update(level="province"),
        lambda us: us[0].pop("supervised_by"),
        lambda us: us[0].update(name=""),
        lambda us: us.clear(),
    ],
)
def test_the_unit_directory_refuses_inconsistent_content(change: Any) -> None:
    with pytest.raises(ValidationError):
        UnitDirectory.model_validate(_units_with(change))


def test_the_unit_directory_takes_the_default() -> None:
    UnitDirectory.model_validate(UNITS)


def test_the_body_directory_refuses_ids_twice_and_unknown_levels() -> None:
    twice = copy.deepcopy(BODIES)
    twice["bodies"].append(dict(twice["bodies"][0]))
    with pytest.raises(ValidationError):
        BodyDirectory.model_validate(twice)
    level = copy.deepcopy(BODIES)
    level["bodies"][0]["level"] = 3
    with pytest.raises(ValidationError):
        BodyDirectory.model_validate(level)


def test_time_limits_need_every_urgency_and_positive_whole_amounts() -> None:
    limits = copy.deepcopy(DEFAULTS["time_limits"])
    del limits["by_urgency"]["low"]
    with pytest.raises(ValidationError, match="low"):
        TimeLimits.model_validate(limits)
    assert set(TimeLimits.model_fields["by_urgency"].annotation.model_fields) == set(Urgency)  # type: ignore[union-attr]
    for bad in (0, -1, 1001, "3", 1.5):
        limits = copy.deepcopy(DEFAULTS["time_limits"])
        limits["revisit_within"]["amount"] = bad
        with pytest.raises(ValidationError):
            TimeLimits.model_validate(limits)
    limits = copy.deepcopy(DEFAULTS["time_limits"])
    limits["revisit_within"]["unit"] = "weeks"
    with pytest.raises(ValidationError):
        TimeLimits.model_validate(limits)


def test_a_penalty_schedule_is_never_milder_on_a_repeat_and_labels_its_own_offences() -> None:
    PenaltySchedule.model_validate(DEFAULTS["penalty_schedule"])
    with pytest.raises(ValidationError, match="never milder"):
        PenaltySchedule.model_validate({"minimums": {"x": ["public_criticism", "criticism"]}})
    with pytest.raises(ValidationError, match="labels"):
        PenaltySchedule.model_validate({"minimums": {"x": ["criticism"]}, "labels": {"y": "乙"}})
    with pytest.raises(ValidationError):
        PenaltySchedule.model_validate({"minimums": {"x": ["flogging"]}})


@pytest.mark.parametrize(
    "content",
    [
        {"weights": {"reply": 0.4}},  # a float
        {"count": 2**53},  # an integer JSON does not keep exact
        {"weights": {"\ue000": 1}},  # a key outside the names keys may be
        {"text": "\ud800"},  # a lone surrogate
        {"text": "字" * 40_000},  # larger than 64 KiB
    ],
)
def test_loose_kinds_take_plain_json_objects_only(content: dict[str, Any]) -> None:
    model = CONFIG_CONTENT[ConfigKind.publication_policy]
    with pytest.raises(ValidationError):
        model.model_validate(content)
    plain = {"weights": {"reply_rate": 400, "窗口": [True, None, "x"]}}
    assert model.model_validate(plain).model_dump(mode="json") == plain


def test_every_kind_has_a_model_and_the_rule_book_checks_it() -> None:
    assert set(CONFIG_CONTENT) == set(ConfigKind)
    routing = {"entries": [{"code": "R1", "category": "*", "lead": "respondent"}]}
    ConfigPublished.model_validate({"kind": "routing", "version": "1", "content": routing})
    with pytest.raises(ValidationError):
        ConfigPublished.model_validate(
            {"kind": "unit_directory", "version": "1", "content": {"units": [{"id": "x"}]}}
        )


# ---- deciding a new version ---------------------------------------------------------------------

L = MemoryLedger(partitions=1)


def registry() -> Any:
    return L.fold([]).registry.copy()


def test_the_first_version_is_1_and_each_next_the_highest_plus_one() -> None:
    reg = registry()
    [draft] = decide_publication(reg, "unit_directory", DISPATCH, "0", UNITS, ACTOR)
    assert draft.data == {"kind": "unit_directory", "version": "1", "content": UNITS}
    assert draft.type == "ledger.registry.config_published.v1" and draft.actor == ACTOR
    reg.apply(draft.type, draft.data, "h1")
    assert next_label(reg, "unit_directory") == "2"
    reg.apply(draft.type, {**draft.data, "version": "7"}, "h2")
    assert next_label(reg, "unit_directory") == "8"
    reg.apply(draft.type, {**draft.data, "version": "2026.2"}, "h3")  # a label not a number
    assert next_label(reg, "unit_directory") == "8"


def test_a_new_version_is_refused_to_another_deployment_and_on_a_stale_base() -> None:
    reg = registry()
    with pytest.raises(ConfigRefusal) as refused:
        decide_publication(reg, "unit_directory", OVERSIGHT, "0", UNITS, ACTOR)
    assert refused.value.reason == "not_owner"
    [draft] = decide_publication(reg, "unit_directory", DISPATCH, "0", UNITS, ACTOR)
    reg.apply(draft.type, draft.data, "h1")
    with pytest.raises(ConfigRefusal) as refused:
        decide_publication(reg, "unit_directory", DISPATCH, "0", UNITS, ACTOR)
    assert (refused.value.reason, refused.value.in_force) == ("stale_version", "1")
    # The same content as the version in force: nothing to publish.
    assert decide_publication(reg, "unit_directory", DISPATCH, "1", UNITS, ACTOR) == []


def test_seeding_publishes_only_kinds_without_a_version() -> None:
    reg = registry()
    dispatch = spec("dispatch")
    drafts = seed_drafts(reg, dispatch, DEFAULTS)
    assert {d.data["kind"] for d in drafts} == set(DEFAULTS) & set(dispatch.configs)
    for i, d in enumerate(drafts):
        reg.apply(d.type, d.data, f"h{i}")
    assert seed_drafts(reg, dispatch, DEFAULTS) == []
    assert seed_drafts(registry(), spec("publication"), DEFAULTS) == []  # nothing shipped


# ---- the diff ------------------------------------------------------------------------------------


def test_an_inserted_entry_is_only_added_lines() -> None:
    more = copy.deepcopy(UNITS)
    more["units"].insert(
        1,
        {
            "id": "unit:water-bureau",
            "name": "市水务局",
            "level": "municipal",
            "parent": None,
            "supervised_by": "stationed-discipline",
        },
    )
    diff = content_diff(UNITS, more)
    assert diff.removed == 0 and diff.added == 7
    assert any(line.kind == "added" and "市水务局" in line.text for line in diff.lines)
    assert diff.lines[0].kind == "hunk"


def test_a_changed_name_is_one_line_out_one_line_in() -> None:
    changed = copy.deepcopy(UNITS)
    changed["units"][3]["name"] = "市人社局"
    diff = content_diff(UNITS, changed)
    assert (diff.added, diff.removed) == (1, 1)
    assert [line.text.strip() for line in diff.lines if line.kind == "removed"] == [
        '"name": "市人力资源和社会保障局",'
    ]


def test_nothing_in_force_is_all_added_and_equal_content_is_unchanged() -> None:
    first = content_diff(None, BODIES)
    assert first.removed == 0 and first.added > 6 and not first.unchanged
    # Key order does not matter: contents are compared as canonical JSON.
    reordered = {"bodies": [dict(reversed(list(b.items()))) for b in BODIES["bodies"]]}
    assert content_diff(BODIES, reordered).unchanged


def test_a_unit_directory_names_only_bodies_of_the_body_directory_in_force() -> None:
    reg = registry()
    orphan = copy.deepcopy(UNITS)
    orphan["units"][2]["supervised_by"] = "nowhere"
    assert unknown_supervisors(reg, "unit_directory", orphan) == []  # no body directory yet
    [bodies] = decide_publication(reg, "body_directory", DISPATCH, "0", BODIES, ACTOR)
    reg.apply(bodies.type, bodies.data, "h1")
    assert unknown_supervisors(reg, "unit_directory", UNITS) == []
    assert unknown_supervisors(reg, "unit_directory", orphan) == [("units", 2, "supervised_by")]
    with pytest.raises(ConfigRefusal) as refused:
        decide_publication(reg, "unit_directory", DISPATCH, "0", orphan, ACTOR)
    assert refused.value.reason == "unknown_body"
    assert refused.value.fields == [("units", 2, "supervised_by")]


# ---- the version in force, typed --------------------------------------------------------------


def test_the_version_in_force_is_typed_and_a_later_version_does_not_change_an_earlier_view() -> (
    None
):
    reg = registry()
    assert typed_at(reg, ConfigKind.unit_directory) is None  # nothing published yet
    [draft] = decide_publication(reg, "unit_directory", DISPATCH, "0", UNITS, ACTOR)
    reg.apply(draft.type, draft.data, "h1")
    first = typed_at(reg, ConfigKind.unit_directory)
    assert first is not None and first.label == "1"
    assert isinstance(first.content, UnitDirectory)
    assert [u.id for u in first.content.units] == [u["id"] for u in UNITS["units"]]
    at_first = reg.version
    fewer = {"units": UNITS["units"][:3]}
    [second] = decide_publication(reg, "unit_directory", DISPATCH, "1", fewer, ACTOR)
    reg.apply(second.type, second.data, "h2")
    now = typed_at(reg, ConfigKind.unit_directory)
    assert now is not None and (now.label, len(now.content.units)) == ("2", 3)
    then = typed_at(reg, ConfigKind.unit_directory, version=at_first)
    assert then is not None and (then.label, len(then.content.units)) == ("1", len(UNITS["units"]))
