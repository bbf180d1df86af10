"""Bulk import's pure part: each row's check (a complaint, or an error by kind and field name
only) and a run's progress, which advances only over contiguous rows and counts each once."""

from __future__ import annotations

from typing import Any

import pytest

from services.intake.bulk_import import (
    ErrorKind,
    ImportRun,
    RowError,
    SentRow,
    advance,
    check_row,
    row_key,
)
from services.intake.commands import ReceiveComplaint
from shared.events.catalog import Channel

GOOD = {
    "channel": "hotline_12345",
    "unit": "unit:housing-bureau",
    "category": "不作为",
    "text": "无人办理。",
}
SECRET = "13812345678"


def checked(fields: dict[str, Any] | None, unreadable: bool = False) -> ReceiveComplaint | RowError:
    return check_row(SentRow(row=7, fields=fields, unreadable=unreadable))


def test_a_good_row_is_a_complaint_with_blanks_dropped_and_values_trimmed() -> None:
    out = checked({**GOOD, "platform": "", "contact": f"  {SECRET} ", "text": " 无人办理。 "})
    assert isinstance(out, ReceiveComplaint)
    assert (out.channel, out.platform, out.contact, out.text) == (
        Channel.hotline_12345,
        None,
        SECRET,
        "无人办理。",
    )
    platform = checked({**GOOD, "channel": "online_platform", "platform": "人民网留言板"})
    assert isinstance(platform, ReceiveComplaint) and platform.platform == "人民网留言板"


@pytest.mark.parametrize(
    ("fields", "kind", "field"),
    [
        (None, ErrorKind.unreadable, None),
        ({k: v for k, v in GOOD.items() if k != "text"}, ErrorKind.missing, "text"),
        ({**GOOD, "unit": "  "}, ErrorKind.missing, "unit"),
        ({**GOOD, "channel": "visit"}, ErrorKind.invalid, "channel"),
        ({**GOOD, "channel": "email"}, ErrorKind.invalid, "channel"),
        ({**GOOD, "unit": "市住建局"}, ErrorKind.invalid, "unit"),
        ({**GOOD, "text": 5}, ErrorKind.invalid, "text"),
        ({**GOOD, "text": "长" * 20_001}, ErrorKind.invalid, "text"),
        ({**GOOD, "contact": "12"}, ErrorKind.invalid, "contact"),
        ({**GOOD, "phone": SECRET}, ErrorKind.unknown_field, "phone"),
        ({**GOOD, "x" * 60: 1}, ErrorKind.unknown_field, None),
    ],
)
def test_a_bad_row_is_named_by_kind_and_field_never_by_value(
    fields: dict[str, Any] | None, kind: ErrorKind, field: str | None
) -> None:
    out = checked(fields)
    assert out == RowError(row=7, kind=kind, field=field)
    assert SECRET not in out.model_dump_json()


def test_an_unreadable_row_is_unreadable_whatever_it_holds() -> None:
    assert checked(GOOD, unreadable=True) == RowError(row=7, kind=ErrorKind.unreadable)
    oversized = check_row(SentRow(row=7, oversized=True))
    assert oversized == RowError(row=7, kind=ErrorKind.too_large)


def test_row_keys_name_the_file_and_the_row() -> None:
    sha = "a" * 64
    assert row_key(sha, 1) != row_key(sha, 2) != row_key("b" * 64, 2)
    assert row_key(sha, 12) == f"import:{sha}:12"


def run(**kw: Any) -> ImportRun:
    base: dict[str, Any] = {
        "sha256": "c" * 64,
        "name": "f.csv",
        "format": "csv",
        "started_by": "clerk",
        "started_at": "t0",
        "updated_at": "t0",
    }
    return ImportRun(**(base | kw))


def bad(row: int) -> RowError:
    return RowError(row=row, kind=ErrorKind.missing, field="unit")


def test_advance_counts_contiguous_rows_once() -> None:
    first, errors = advance(run(), [(1, None), (2, bad(2)), (3, None)], "t1")
    assert (first.next_row, first.filed, first.errors) == (4, 2, 1)
    assert first.errors_by_kind == {"missing": 1} and errors == [bad(2)]
    assert first.updated_at == "t1"
    # The same rows again (a rerun after a kill before the answer), then new ones.
    again, errors = advance(first, [(2, bad(2)), (3, None), (4, bad(4)), (5, None)], "t2")
    assert (again.next_row, again.filed, again.errors) == (6, 3, 2)
    assert errors == [bad(4)]
    assert again.errors_by_kind == {"missing": 2}


def test_advance_stops_at_a_gap() -> None:
    after, errors = advance(run(), [(1, None), (3, bad(3))], "t1")
    assert (after.next_row, after.filed, after.errors, errors) == (2, 1, 0, [])


def test_a_run_is_finished_once_every_row_is_counted() -> None:
    assert not run(next_row=11).finished
    assert not run(next_row=10, rows_total=10).finished
    assert run(next_row=11, rows_total=10).finished
    assert run(next_row=1, rows_total=0).finished
