"""The workbench's pure parts: the first showing (once per unit per round, and the rule book's
view of a stale round), progress and extension requests, the working-day countdown, and the
evidence file checks."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from services.oversight import evidence
from services.oversight.workbench_commands import (
    NoteProgress,
    RequestExtension,
    first_shown_id,
    note_progress,
    record_first_shown,
    request_extension,
    with_evidence,
)
from services.oversight.working_days_left import working_days_left
from shared.calendar import SHANGHAI
from shared.ledger.signer import Draft
from shared.rules.case import ASSIGNED, CLAIMED, CaseState
from shared.web.command_path import Refusal
from shared.web.problems import ProblemError
from tests.unit.service_decide_support import DUE, PSEUDONYM, STREAM, UNIT, judged, lead, stream

HANDLER = f"{UNIT}/H001"
WORKING = CaseState(
    status=ASSIGNED,
    unit="x",
    clocks=(lead(),),
    complaints=(("TS1", PSEUDONYM),),
    assigned_times=1,
)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(17)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(8)


def test_the_first_showing_is_decided_once_per_round() -> None:
    st = stream(WORKING)
    [shown] = record_first_shown(st, UNIT, HANDLER)
    assert shown.id == first_shown_id(STREAM, UNIT, WORKING)
    assert shown.data == {"unit": UNIT, "due_at": DUE, "assignment": 1, "reopened": 0}
    assert judged(WORKING, shown) is None
    st.seen_ids.add(shown.id)
    assert record_first_shown(st, UNIT, HANDLER) == []  # a second view: nothing
    reopened = WORKING._replace(reopened=1)
    [again] = record_first_shown(stream(reopened), UNIT, HANDLER)
    assert again.id != shown.id and again.data["reopened"] == 1
    # A showing of the round before is not the case's current assignment.
    assert judged(reopened, shown) == "wrong_state"


@pytest.mark.parametrize(
    ("case", "unit"),
    [
        (WORKING, "unit:other"),
        (WORKING._replace(status=CLAIMED), UNIT),
        (CaseState(), UNIT),
    ],
)
def test_nothing_to_record_for_a_case_not_in_the_units_hands(case: CaseState, unit: str) -> None:
    assert record_first_shown(stream(case), unit, f"{unit}/H001") == []


def test_the_rule_book_takes_a_first_showing_only_from_the_unit_itself() -> None:
    [shown] = record_first_shown(stream(WORKING), UNIT, HANDLER)
    for actor in ("unit:other/H9", "efficiency-office/S001"):
        forged = Draft(shown.type, shown.data, actor, shown.id)
        assert judged(WORKING, forged) in ("acts_for_other", "wrong_actor")


def test_progress_and_extension_requests() -> None:
    [note] = note_progress(stream(WORKING), UNIT, NoteProgress(note="已调取录像"), HANDLER)
    assert note.data == {"unit": UNIT, "note": "已调取录像"} and judged(WORKING, note) is None
    ask = RequestExtension(working_days=5, reason="需调取外单位档案")
    until = "2026-12-22T00:00:00+08:00"
    [asked] = request_extension(stream(WORKING), UNIT, ask, HANDLER, until)
    assert asked.data == {"unit": UNIT, "until": until, "reason": ask.reason}
    assert judged(WORKING, asked) is None
    pending = WORKING._replace(extensions_pending=(UNIT,))
    with pytest.raises(Refusal) as refused:
        request_extension(stream(pending), UNIT, ask, HANDLER, until)
    assert refused.value.reason == "extension_pending"
    with pytest.raises(Refusal) as refused:
        request_extension(stream(WORKING), "unit:other", ask, "unit:other/H1", until)
    assert refused.value.reason == "not_assigned"


def test_a_claim_names_its_evidence() -> None:
    claim = Draft("ledger.handling.resolution_claimed.v1", {"unit": UNIT, "summary": "已整改"}, "a")
    digest = "ab" * 32
    [named] = with_evidence([claim], [digest])
    assert named.data["evidence"] == [digest] and "evidence" not in claim.data
    assert with_evidence([claim], []) == [claim]


def _at(y: int, m: int, d: int, hh: int = 0) -> datetime:
    return datetime(y, m, d, hh, tzinfo=SHANGHAI)


class Weekdays:
    version = "weekdays-test"

    def is_working_day(self, day: date) -> bool | None:
        return day.weekday() < 5


@pytest.mark.parametrize(
    ("now", "due", "left"),
    [
        (_at(2026, 12, 2, 9), _at(2026, 12, 3), 1),  # Wednesday, due at its end: today
        (_at(2026, 12, 2, 9), _at(2026, 12, 8), 4),  # Wed, Thu, Fri, Mon
        (_at(2026, 12, 5, 9), _at(2026, 12, 8), 1),  # Saturday: only Monday is left
        (_at(2026, 12, 8, 0), _at(2026, 12, 8), 0),  # the first late instant: none
        (_at(2026, 12, 9, 9), _at(2026, 12, 8), 0),  # late
    ],
)
def test_working_days_left(now: datetime, due: datetime, left: int) -> None:
    assert working_days_left(now, due, Weekdays()) == left


def test_working_days_left_skip_the_statutory_holidays() -> None:
    from shared.calendar import StatutoryCalendar

    # 2026-10-01..07 is the National Day holiday; from Wednesday 30 September to 00:00 on
    # 10 October, the working days are the 30th, the 9th (and any 调休 day the notice names).
    left = working_days_left(_at(2026, 9, 30, 9), _at(2026, 10, 10), StatutoryCalendar())
    plain = working_days_left(_at(2026, 9, 30, 9), _at(2026, 10, 10), Weekdays())
    assert left < plain


@pytest.mark.parametrize(
    ("files", "slug"),
    [
        ([("image/png", b"")], "validation"),
        ([("image/png", b"plain words")], "unsupported-media-type"),
        ([("image/gif", b"GIF89a" + bytes(10))], "unsupported-media-type"),
        ([("image/png", JPEG)], "unsupported-media-type"),
        ([("image/png", PNG + bytes(evidence.MAX_FILE_BYTES))], "payload-too-large"),
        ([("image/png", PNG)] * (evidence.MAX_FILES + 1), "validation"),
    ],
)
def test_evidence_files_outside_the_limits_are_refused(
    files: list[tuple[str, bytes]], slug: str
) -> None:
    with pytest.raises(ProblemError) as refused:
        evidence.checked(files)
    assert refused.value.problem.slug == slug
    assert "plain words" not in str(refused.value.detail)


def test_evidence_files_within_the_limits() -> None:
    kept = evidence.checked([("IMAGE/PNG", PNG), ("image/jpeg", JPEG)])
    assert [(f.media_type, f.data) for f in kept] == [("image/png", PNG), ("image/jpeg", JPEG)]
