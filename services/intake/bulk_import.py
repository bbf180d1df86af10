"""Bulk import of platform and hotline exports (批量导入): the row format, each row's check, and
an import run's record — pure (no I/O, no clock).

The importing client (``ledger import complaints FILE``) reads the file as a stream and sends
its rows in order, in batches, each row as the mapping of field names to values the file holds
(a CSV row under its header, a JSON Lines object), or as the kind of reason it could not be read
at all. Intake checks every row here: a good row becomes one
:class:`~services.intake.commands.ReceiveComplaint`, a bad one a :class:`RowError` naming its
row number and the kind of error (the field names only, never a value).

A row's identity is the file's SHA-256 and its row number (:func:`row_key`): the idempotency key
its complaint is filed under, so a rerun of the same file — after a kill, a crash, by another
clerk — files nothing twice. The run (:class:`ImportRun`) advances only over the contiguous
rows it has been told the outcome of (:func:`advance`): whatever was not yet recorded is sent
again, and filing it again finds the complaint already in the log.
"""

from __future__ import annotations

from collections import Counter
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from services.intake.commands import ReceiveComplaint
from shared.events.catalog import Channel, Sha256
from shared.web.wire import JsonInt

# The channels an export comes from: the 12345 hotline's export, an online platform's.
IMPORT_CHANNELS = (Channel.hotline_12345, Channel.online_platform)
FIELDS = ("channel", "platform", "unit", "category", "text", "contact")
REQUIRED = ("channel", "unit", "category", "text")
MAX_BATCH = 500
Format = Literal["csv", "jsonl"]


class ErrorKind(StrEnum):
    """Why a row was not filed (the report names the kind and the field, never a value)."""

    unreadable = "unreadable"  # not a JSON object / not a well-formed CSV row / not UTF-8
    missing = "missing"  # a required field is absent or empty
    invalid = "invalid"  # a field's value is outside its rule (pattern, length, choice)
    unknown_field = "unknown_field"  # a field the format does not have
    too_large = "too_large"  # the row is larger than a request may carry (the client says so)
    refused = "refused"  # the filing path refused it (e.g. a platform named for a hotline row)


ERROR_LABELS: dict[ErrorKind, str] = {
    ErrorKind.unreadable: "无法读取（格式错误）",
    ErrorKind.missing: "缺少必填字段",
    ErrorKind.invalid: "字段值不符合要求",
    ErrorKind.unknown_field: "含有未定义的字段",
    ErrorKind.too_large: "行内容过大",
    ErrorKind.refused: "受理被拒绝",
}


class RowError(BaseModel):
    model_config = ConfigDict(frozen=True)

    row: int = Field(ge=1, description="The row number (data rows from 1; a CSV header is row 0)")
    kind: ErrorKind
    field: Annotated[str, Field(max_length=40)] | None = Field(
        None, description="The field at fault (its name only), or the refusal's reason code"
    )


class SentRow(BaseModel):
    """One row as the client sends it: its fields, or why it could not be read."""

    model_config = ConfigDict(extra="forbid")

    row: JsonInt = Field(ge=1)
    fields: dict[str, Any] | None = None
    unreadable: StrictBool = False
    oversized: StrictBool = False


class RowBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rows: list[SentRow] = Field(min_length=1, max_length=MAX_BATCH)


class StartImport(BaseModel):
    """A run is named by the file's SHA-256 (hex): the same file is the same run."""

    model_config = ConfigDict(extra="forbid")

    sha256: Sha256
    name: Annotated[str, Field(min_length=1, max_length=200)] = Field(
        description="The file's name (shown on the import-runs page)"
    )
    format: Format


class FinishImport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rows_total: JsonInt = Field(ge=0)


class ImportRun(BaseModel):
    """An import run's record (intake's durable store): progress and the error counts; each
    error is kept as its own entry (:class:`RowError`), so a run's record stays small."""

    sha256: Sha256
    name: str
    format: Format
    started_by: str
    started_at: str
    updated_at: str
    next_row: int = Field(1, description="Every row before this one has its outcome recorded")
    filed: int = 0
    errors: int = 0
    errors_by_kind: dict[str, int] = {}
    rows_total: int | None = Field(None, description="Set when the client has sent every row")

    @property
    def finished(self) -> bool:
        return self.rows_total is not None and self.next_row > self.rows_total


def row_key(sha256: str, row: int) -> str:
    """The idempotency key a row's complaint is filed under: the file's hash and the row."""
    return f"import:{sha256}:{row}"


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def check_row(sent: SentRow) -> ReceiveComplaint | RowError:
    """The row's complaint, or the first thing wrong with it (by field name, never value)."""
    if sent.oversized:
        return RowError(row=sent.row, kind=ErrorKind.too_large)
    if sent.unreadable or sent.fields is None:
        return RowError(row=sent.row, kind=ErrorKind.unreadable)
    fields = sent.fields
    unknown = sorted(k for k in fields if k not in FIELDS)
    if unknown:
        name = unknown[0] if len(unknown[0]) <= 40 else None
        return RowError(row=sent.row, kind=ErrorKind.unknown_field, field=name)
    for name in REQUIRED:
        if _blank(fields.get(name)):
            return RowError(row=sent.row, kind=ErrorKind.missing, field=name)
    values = {
        k: (v.strip() if isinstance(v, str) else v) for k, v in fields.items() if not _blank(v)
    }
    if values.get("channel") not in IMPORT_CHANNELS:
        return RowError(row=sent.row, kind=ErrorKind.invalid, field="channel")
    try:
        return ReceiveComplaint.model_validate(values)
    except ValidationError as exc:
        locs = [e["loc"] for e in exc.errors() if e["loc"]]
        name = str(locs[0][0]) if locs else None
        return RowError(row=sent.row, kind=ErrorKind.invalid, field=name)


def refused(row: int, reason: str) -> RowError:
    return RowError(row=row, kind=ErrorKind.refused, field=reason[:40])


def advance(
    run: ImportRun, outcomes: list[tuple[int, RowError | None]], at: str
) -> tuple[ImportRun, list[RowError]]:
    """The run after these rows' outcomes (``None``: filed), in row order from ``next_row``;
    rows already counted are skipped, and counting stops at the first gap. Returns the new
    record and the errors newly counted (to keep as entries)."""
    next_row, filed = run.next_row, run.filed
    by_kind = Counter(run.errors_by_kind)
    new_errors: list[RowError] = []
    for row, error in sorted(outcomes, key=lambda o: o[0]):
        if row < next_row:
            continue
        if row > next_row:
            break
        next_row += 1
        if error is None:
            filed += 1
        else:
            by_kind[error.kind.value] += 1
            new_errors.append(error)
    updated = run.model_copy(
        update={
            "next_row": next_row,
            "filed": filed,
            "errors": run.errors + len(new_errors),
            "errors_by_kind": dict(sorted(by_kind.items())),
            "updated_at": at,
        }
    )
    return updated, new_errors


def finish(run: ImportRun, rows_total: int, at: str) -> ImportRun:
    return run.model_copy(update={"rows_total": rows_total, "updated_at": at})
