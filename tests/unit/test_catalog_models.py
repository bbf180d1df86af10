"""The catalog's payload models, field by field: each bound accepted at the limit and refused
past it, each default, each cross-field rule, and the wire names of every enumeration (they are
part of the signed record: renaming one is a new version, never an edit)."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest
from pydantic import BaseModel, ValidationError

from shared.events import catalog as c
from shared.events.catalog import CATALOG, family
from tests.samples import CASE, SAMPLES

Path = tuple[str | int, ...]


def _with(event_type: str, path: Path, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(SAMPLES[event_type])
    at: Any = data
    for key in path[:-1]:
        at = at[key]
    at[path[-1]] = value
    return data


def _valid(event_type: str, data: dict[str, Any]) -> bool:
    try:
        CATALOG[event_type].model_validate(data)
    except ValidationError:
        return False
    return True


def _model_valid(model: type[BaseModel], data: dict[str, Any]) -> bool:
    try:
        model.model_validate(data)
    except ValidationError:
        return False
    return True


# ---- lengths: (event type, path to the field, the longest accepted) ------------------------

T = "ledger."
MAX_LENGTH: list[tuple[str, Path, int]] = [
    (T + "complaint.received.v1", ("complaint_no",), 40),
    (T + "complaint.received.v1", ("category",), 60),
    (T + "complaint.received.v1", ("text",), 20_000),
    (T + "complaint.received.v1", ("attachments", 0, "media_type"), 100),
    (T + "complaint.screened.v1", ("note",), 500),
    (T + "complaint.delivered.v1", ("complaint_no",), 40),
    (T + "complaint.delivered.v1", ("cause",), 40),
    (T + "complaint.linked_as_duplicate.v1", ("complaint_no",), 40),
    (T + "complaint.gathered.v1", ("complaint_no",), 40),
    (T + "complaint.flagged_cross_level.v1", ("from_level",), 40),
    (T + "complaint.flagged_cross_level.v1", ("to_level",), 40),
    (T + "complaint.flagged_cross_level.v1", ("other_case",), 80),
    (T + "complaint.declined.v1", ("reason_code",), 40),
    (T + "complainant.confirmed.v1", ("complaint_no",), 40),
    (T + "complainant.disputed.v1", ("complaint_no",), 40),
    (T + "complainant.satisfaction_rated.v1", ("complaint_no",), 40),
    (T + "dispatch.assigned.v1", ("calendar_version",), 40),
    (T + "penalty.imposed.v1", ("penalty_id",), 40),
    (T + "penalty.imposed.v1", ("post",), 80),
    (T + "penalty.imposed.v1", ("schedule_version",), 40),
    (T + "penalty.imposed.v1", ("causes", 0), 40),
    (T + "penalty.revoked.v1", ("penalty_id",), 40),
    (T + "inspection.finding_recorded.v1", ("post",), 80),
    (T + "inspection.finding_recorded.v1", ("finding",), 80),
    (T + "publication.drafted.v1", ("notice_id",), 40),
    (T + "publication.published.v1", ("notice_id",), 40),
    (T + "publication.withheld.v1", ("notice_id",), 40),
    (T + "publication.withdrawn.v1", ("notice_id",), 40),
    (T + "publication.corrected.v1", ("notice_id",), 40),
    (T + "registry.deployment_registered.v1", ("acts_for", 0), 80),
    (T + "registry.config_published.v1", ("version",), 40),
    (T + "audit.acknowledged.v1", ("reason",), 500),
]


@pytest.mark.parametrize(("event_type", "path", "longest"), MAX_LENGTH)
def test_a_text_field_is_accepted_up_to_its_length_and_refused_past_it(
    event_type: str, path: Path, longest: int
) -> None:
    assert _valid(event_type, _with(event_type, path, "x" * longest))
    assert not _valid(event_type, _with(event_type, path, "x" * (longest + 1)))


def test_the_online_platform_is_named_in_at_most_60_characters() -> None:
    t = T + "complaint.received.v1"
    ok = {**SAMPLES[t], "channel": "online_platform", "platform": "p" * 60}
    assert _valid(t, ok)
    assert not _valid(t, {**ok, "platform": "p" * 61})


# ---- numbers: (event type, path, least accepted or None, greatest accepted or None) --------

RANGES: list[tuple[str, Path, int | None, int | None]] = [
    (T + "complainant.satisfaction_rated.v1", ("rating",), 1, 5),
    (T + "conference.decided.v1", ("tally", "consent"), 0, None),
    (T + "conference.decided.v1", ("tally", "object"), 0, None),
    (T + "conference.decided.v1", ("tally", "abstain"), 0, None),
    (T + "conference.decided.v1", ("tally", "deemed_consent"), 0, None),
    (T + "supervision.escalated.v1", ("level",), 1, 9),
    (T + "penalty.imposed.v1", ("repeat_count",), 1, None),
    (T + "period.figures_published.v1", ("version",), 1, None),
    (T + "period.figures_published.v1", ("replaces",), 1, None),
    (T + "audit.digest_recorded.v1", ("partition",), 0, None),
    (T + "audit.digest_recorded.v1", ("count",), 0, None),
    (T + "audit.digest_recorded.v1", ("partitions",), 1, None),
    (T + "audit.seal_recorded.v1", ("partitions",), 1, None),
    (T + "audit.seal_recorded.v1", ("tampered",), 0, None),
    (T + "audit.seal_recorded.v1", ("conflicts",), 0, None),
    (T + "audit.acknowledged.v1", ("events", 0, 0), 0, None),
    (T + "audit.acknowledged.v1", ("events", 0, 1), 0, None),
]


def _tuples_as_lists(data: dict[str, Any]) -> dict[str, Any]:
    if "events" in data:
        data["events"] = [list(e) for e in data["events"]]
    return data


@pytest.mark.parametrize(("event_type", "path", "least", "greatest"), RANGES)
def test_a_number_is_accepted_within_its_range_and_refused_outside(
    event_type: str, path: Path, least: int | None, greatest: int | None
) -> None:
    base = _tuples_as_lists(copy.deepcopy(SAMPLES[event_type]))

    def at(value: int) -> dict[str, Any]:
        data = copy.deepcopy(base)
        node: Any = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        return data

    if least is not None:
        assert _valid(event_type, at(least))
        assert not _valid(event_type, at(least - 1))
    if greatest is not None:
        assert _valid(event_type, at(greatest))
        assert not _valid(event_type, at(greatest + 1))


def test_a_ratio_may_be_whole_but_never_above_one() -> None:
    assert _model_valid(c.Ratio, {"numerator": 0, "denominator": 0})
    assert _model_valid(c.Ratio, {"numerator": 10, "denominator": 10})
    assert not _model_valid(c.Ratio, {"numerator": 11, "denominator": 10})
    assert not _model_valid(c.Ratio, {"numerator": -1, "denominator": 10})
    assert not _model_valid(c.Ratio, {"numerator": 0, "denominator": -1})


def _bodies(*levels: str) -> dict[str, object]:
    return {
        "bodies": [
            {"id": f"b{i}", "name": "效能办", "level": level} for i, level in enumerate(levels)
        ]
    }


def test_a_body_directory_holds_bodies_at_the_known_levels_only() -> None:
    assert _model_valid(c.BodyDirectory, _bodies("municipal", "district", "stationed"))
    assert not _model_valid(c.BodyDirectory, _bodies("city"))
    assert not _model_valid(c.BodyDirectory, {"bodies": []})


# ---- lists that must not be empty ----------------------------------------------------------

NON_EMPTY: list[tuple[str, str]] = [
    (T + "conference.convened.v1", "cases"),
    (T + "conference.convened.v1", "members"),
    (T + "handling.reopened.v1", "units"),
    (T + "penalty.imposed.v1", "causes"),
    (T + "inspection.finding_recorded.v1", "evidence"),
    (T + "registry.rights_granted.v1", "types"),
    (T + "registry.rights_revoked.v1", "types"),
    (T + "audit.acknowledged.v1", "events"),
]


@pytest.mark.parametrize(("event_type", "name"), NON_EMPTY)
def test_a_list_needs_one_element_and_one_is_enough(event_type: str, name: str) -> None:
    data = _tuples_as_lists(copy.deepcopy(SAMPLES[event_type]))
    assert _valid(event_type, {**data, name: data[name][:1]})
    assert not _valid(event_type, {**data, name: []})


def test_a_schedule_offence_needs_one_step_and_one_is_enough() -> None:
    assert _model_valid(c.PenaltySchedule, {"minimums": {"late": ["criticism"]}})
    assert not _model_valid(c.PenaltySchedule, {"minimums": {"late": []}})


# ---- defaults -------------------------------------------------------------------------------


def _without(event_type: str, *names: str) -> Any:
    data = {k: v for k, v in SAMPLES[event_type].items() if k not in names}
    return CATALOG[event_type].model_validate(data)


def test_optional_fields_default_to_nothing_said() -> None:
    r = _without(T + "complaint.received.v1", "complainant", "attachments")
    assert (r.complainant, r.attachments, r.platform) == (None, [], None)
    assert _without(T + "complaint.screened.v1", "note").note == ""
    assert _without(T + "complaint.screened.v1", "note").related_case is None
    assert _without(T + "complaint.gathered.v1", "complainant").complainant is None
    a = _without(T + "dispatch.assigned.v1", "provisional", "co_units", "instructions")
    assert (a.provisional, a.co_units, a.instructions) == (False, [], "")
    co = c.UnitDue.model_validate({"unit": "unit:x", "due_at": "2026-09-01T18:00:00+08:00"})
    assert co.provisional is False
    assert _without(T + "conference.opinion_given.v1").note == ""
    assert _without(T + "handling.resolution_claimed.v1", "answer_due_at").answer_due_at is None
    assert _without(T + "handling.extension_ruled.v1", "due_at").due_at is None
    assert _without(T + "handling.closed.v1", "note").note == ""
    answer = {**SAMPLES[T + "deadline.elapsed.v1"], "deadline": "answer"}
    del answer["unit"]
    assert c.DeadlineElapsed.model_validate(answer).unit is None


def test_required_fields_have_no_default() -> None:
    for t, name in [
        (T + "deadline.elapsed.v1", "deadline"),
        (T + "penalty.imposed.v1", "leadership"),
        (T + "penalty.imposed.v1", "causes"),
        (T + "penalty.imposed.v1", "repeat_count"),
        (T + "handling.closed.v1", "confidential"),
        (T + "complaint.delivered.v1", "cause"),
    ]:
        assert not _valid(t, {k: v for k, v in SAMPLES[t].items() if k != name}), (t, name)


def test_more_defaults() -> None:
    assert _without(T + "supervision.escalated.v1", "cause").cause is None
    p = _without(T + "penalty.imposed.v1", "departure_reason")
    assert p.departure_reason == ""
    assert _without(T + "inspection.finding_recorded.v1", "staff_id").staff_id is None
    f = _without(T + "period.figures_published.v1", "replaces", "reason")
    assert (f.replaces, f.reason) == (None, "")
    s = _without(T + "audit.seal_recorded.v1", "rejected")
    assert s.rejected == []


# ---- cross-field rules ----------------------------------------------------------------------


def test_online_platforms_and_open311_clients_are_named_and_no_other_channel_is() -> None:
    t = T + "complaint.received.v1"
    base = SAMPLES[t]
    for channel in ("online_platform", "open311"):
        assert _valid(t, {**base, "channel": channel, "platform": "人民网留言板"})
        assert not _valid(t, {**base, "channel": channel})
    for channel in ("web_form", "visit", "hotline_12345"):
        assert _valid(t, {**base, "channel": channel})
        assert not _valid(t, {**base, "channel": channel, "platform": "x"})


def test_duplicates_and_repeats_name_the_related_case_and_nothing_else_does() -> None:
    t = T + "complaint.screened.v1"
    base = SAMPLES[t]
    for outcome in ("duplicate", "repeat_after_closure"):
        assert _valid(t, {**base, "outcome": outcome, "related_case": CASE})
        assert not _valid(t, {**base, "outcome": outcome})
    for outcome in ("new", "cross_level"):
        assert _valid(t, {**base, "outcome": outcome})
        assert not _valid(t, {**base, "outcome": outcome, "related_case": CASE})
    assert _valid(t, {**base, "method": "manual"})
    assert not _valid(t, {**base, "method": "by-guess"})


def test_each_unit_of_an_assignment_is_named_once() -> None:
    t = T + "dispatch.assigned.v1"
    base = SAMPLES[t]
    due = base["due_at"]
    lead_again = [{"unit": base["lead_unit"], "due_at": due}]
    assert not _valid(t, {**base, "co_units": lead_again})
    twice = [{"unit": "unit:a", "due_at": due}, {"unit": "unit:a", "due_at": due}]
    assert not _valid(t, {**base, "co_units": twice})
    two = [{"unit": "unit:a", "due_at": due}, {"unit": "unit:b", "due_at": due}]
    assert _valid(t, {**base, "co_units": two})


def test_a_handling_deadline_names_its_unit_and_no_other_deadline_does() -> None:
    t = T + "deadline.elapsed.v1"
    base = SAMPLES[t]
    assert not _valid(t, {**base, "unit": None})
    for deadline in ("answer", "opinions"):
        assert _valid(t, {**base, "deadline": deadline, "unit": None})
        assert not _valid(t, {**base, "deadline": deadline})


def test_configuration_content_is_checked_for_the_kinds_that_have_a_model() -> None:
    t = T + "registry.config_published.v1"
    assert _valid(t, {"kind": "body_directory", "version": "1", "content": _bodies("municipal")})
    assert not _valid(t, {"kind": "body_directory", "version": "1", "content": {"bodies": 2}})
    assert not _valid(t, {"kind": "penalty_schedule", "version": "1", "content": {}})
    assert not _valid(t, {"kind": "routing", "version": "1", "content": {"anything": [1]}})
    routing = {"entries": [{"code": "R1", "category": "*", "lead": "respondent"}]}
    assert _valid(t, {"kind": "routing", "version": "1", "content": routing})
    assert _valid(t, {"kind": "publication_policy", "version": "1", "content": {"any": [1]}})
    assert not _valid(t, {"kind": "assessment_weights", "version": "1", "content": {"any": [1]}})


def test_the_validated_payload_keeps_what_was_written() -> None:
    for t, data in SAMPLES.items():
        dumped = CATALOG[t].model_validate(data).model_dump(mode="json", exclude_unset=True)
        assert dumped == orjson.loads(orjson.dumps(data)), t


# ---- timestamps -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2026-09-01T18:00:00+08:00", True),
        ("2026-09-01T10:00:00Z", True),
        ("2026-09-01T10:00:00.123456Z", True),
        ("2026-09-01T10:00:00", False),  # no offset
        ("2026-09-01 10:00:00+08:00", False),
        ("2026-02-30T10:00:00+08:00", False),  # the form is right, the date does not exist
        ("2026-09-01T25:00:00+08:00", False),
    ],
)
def test_a_timestamp_has_an_offset_and_names_a_real_time(value: str, ok: bool) -> None:
    t = T + "deadline.elapsed.v1"
    assert _valid(t, {**SAMPLES[t], "due_at": value}) is ok
    if ok:
        assert c.DeadlineElapsed.model_validate({**SAMPLES[t], "due_at": value}).due_at == value


# ---- the wire names -------------------------------------------------------------------------


def test_the_wire_names_of_every_enumeration() -> None:
    def names(e: Any) -> list[str]:
        return [m.value for m in e]

    assert names(c.Channel) == [
        "visit",
        "letter",
        "phone",
        "email",
        "web_form",
        "hotline_12345",
        "online_platform",
        "open311",
        "referral",
    ]
    assert names(c.DeliveryChannel) == [
        "sms",
        "phone",
        "letter",
        "email",
        "web",
        "in_person",
        "online_platform",
        "open311",
    ]
    assert names(c.Urgency) == ["urgent", "high", "normal", "low"]
    assert names(c.ScreeningOutcome) == ["new", "duplicate", "cross_level", "repeat_after_closure"]
    assert names(c.Opinion) == ["consent", "object", "abstain"]
    assert names(c.ClosureBasis) == [
        "complainant_confirmed",
        "anonymous",
        "inspection_opened",
        "no_answer_in_time",
    ]
    assert names(c.Finding) == ["substantiated", "partly_substantiated", "unsubstantiated"]
    assert names(c.ConfigKind) == [
        "body_directory",
        "unit_directory",
        "routing",
        "time_limits",
        "calendar",
        "escalation_thresholds",
        "penalty_schedule",
        "assessment_weights",
        "publication_policy",
    ]


def test_penalties_are_ranked_mildest_first() -> None:
    assert list(c.PENALTY_RANK.items()) == [
        ("criticism", 0),
        ("written_self_criticism", 1),
        ("admonishment_talk", 2),
        ("public_criticism", 3),
        ("efficiency_warning", 4),
        ("post_transfer", 5),
        ("suspension", 6),
        ("dismissal", 7),
    ]


def test_the_family_is_the_second_part_of_the_type() -> None:
    assert family("ledger.complaint.received.v1") == "complaint"
    assert family("ledger.registry.key_added.v1") == "registry"
    assert c.payload_model("ledger.no_such.thing.v1") is None
    assert c.payload_model("ledger.audit.acknowledged.v1") is c.BadEventsAcknowledged
