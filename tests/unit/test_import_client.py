"""The import client's reading of an export, as a stream: rows numbered from 1, a row that
cannot be read marked as such (never dropping its neighbours), and the survey's hash equal to
the file's SHA-256."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from shared.cli.intake_import import BATCH_ROWS, Format, batches, read_rows, survey


def rows(data: bytes, fmt: Format) -> list[dict[str, object]]:
    return list(read_rows(io.BytesIO(data), fmt))


def test_csv_rows_with_quoted_newlines_extra_fields_and_bad_bytes() -> None:
    data = (
        "\ufeffchannel,unit,text\n"
        'hotline_12345,u1,"两行\n正文"\n'
        "hotline_12345,u2,多,一列\n".encode()
        + b"hotline_12345,u3,\xb0\xb5\n"
        + b"hotline_12345,u4\n"
    )
    assert rows(data, Format.csv) == [
        {"row": 1, "fields": {"channel": "hotline_12345", "unit": "u1", "text": "两行\n正文"}},
        {"row": 2, "unreadable": True},
        {"row": 3, "unreadable": True},
        {"row": 4, "fields": {"channel": "hotline_12345", "unit": "u4"}},
    ]


def test_jsonl_rows_skip_blank_lines_and_mark_what_is_not_an_object() -> None:
    data = b'{"a": 1}\n\n  \n[1]\n{"b": \n\xff\xfe\n{"c": "\xe4\xb8\xad"}'
    assert rows(data, Format.jsonl) == [
        {"row": 1, "fields": {"a": 1}},
        {"row": 2, "unreadable": True},
        {"row": 3, "unreadable": True},
        {"row": 4, "unreadable": True},
        {"row": 5, "fields": {"c": "中"}},
    ]


def test_survey_hashes_the_whole_file_and_counts_rows(tmp_path: Path) -> None:
    f = tmp_path / "e.csv"
    data = ("channel,text\n" + "".join(f"hotline_12345,第{i}行\n" for i in range(3000))).encode()
    f.write_bytes(data)
    assert survey(f, Format.csv) == (hashlib.sha256(data).hexdigest(), 3000)
    j = tmp_path / "e.jsonl"
    j.write_bytes(b'{"a": 1}\n{"a": 2}\n\n')
    assert survey(j, Format.jsonl) == (hashlib.sha256(j.read_bytes()).hexdigest(), 2)


def test_batches_resume_at_a_row_and_stay_bounded() -> None:
    source = iter({"row": n, "fields": {"text": "x"}} for n in range(1, 251))
    sent = list(batches(source, 42))
    assert sent[0][0]["row"] == 42 and sent[-1][-1]["row"] == 250
    assert [len(b) for b in sent] == [BATCH_ROWS, BATCH_ROWS, 250 - 41 - 2 * BATCH_ROWS]
    big = iter({"row": n, "fields": {"text": "长" * 20_000}} for n in range(1, 11))
    assert all(len(b) <= 4 for b in batches(big, 1))  # 256 KiB per batch at most


def test_a_row_too_large_for_a_request_is_sent_as_oversized() -> None:
    source = iter(
        [{"row": 1, "fields": {"text": "x"}}, {"row": 2, "fields": {"text": "x" * 300_000}}]
    )
    [batch] = list(batches(source, 1))
    assert batch == [{"row": 1, "fields": {"text": "x"}}, {"row": 2, "oversized": True}]
