"""Bulk import over HTTP (批量导入) and the clerks' import-run pages.

The importing client reads the export and sends its rows here in order, in batches, with an
intake clerk's token; intake checks each row (``bulk_import.check_row``), files every good one
through the one filing path under the key its file hash and row number give, and records the
run's progress and each bad row's error in its durable store. See the README's *Bulk import*.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel
from starlette.responses import Response

from services.intake.bulk_import import (
    ERROR_LABELS,
    FinishImport,
    ImportRun,
    RowBatch,
    RowError,
    StartImport,
    check_row,
    refused,
    row_key,
)
from services.intake.derived_keys import derived_ledger
from services.intake.import_runs import (
    finish_run,
    get_run,
    record_rows,
    run_errors,
    runs,
    start_run,
)
from services.intake.receipt import file_complaint
from shared.durable.port import DurableStore
from shared.web.auth import require_roles
from shared.web.context import get_context
from shared.web.identity import Operator
from shared.web.pages import NavItem
from shared.web.problems import CONFLICT, NOT_FOUND, ProblemError
from shared.web.roles import Role
from shared.web.sessions import page

router = APIRouter(tags=["bulk import"])

# Event ids of imported complaints are derived under this name, not the clerk's: one row of
# one file is one complaint whoever imports it (derived_keys.py).
IMPORT_ID_SCOPE = "channel:bulk-import"
NAV = (NavItem("导入批次", "/import-runs"),)

Sha256Path = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="The file's SHA-256")]


class RowsAnswer(BaseModel):
    run: ImportRun
    errors: list[RowError]


async def durable(request: Request) -> DurableStore:
    handle = get_context(request).durable
    assert handle is not None
    return await handle.store()


async def _run(store: DurableStore, sha256: str) -> ImportRun:
    run = await get_run(store, sha256)
    if run is None:
        raise ProblemError(NOT_FOUND, "没有这个导入批次")
    return run


@router.post(
    "/imports",
    summary="Start or resume the import of one file (named by its SHA-256): the run as "
    "recorded, whose next_row is where the client resumes",
)
async def start_import(
    body: StartImport,
    request: Request,
    operator: Operator = Depends(require_roles(Role.INTAKE_CLERK)),
) -> ImportRun:
    return await start_run(await durable(request), body, operator.staff_id)


@router.post(
    "/imports/{sha256}/rows",
    summary="File a batch of the file's rows, in order from the run's next_row: each good row "
    "becomes one complaint (again: the same one), each bad row an error by number and kind",
    dependencies=[Depends(require_roles(Role.INTAKE_CLERK))],
)
async def import_rows(sha256: Sha256Path, batch: RowBatch, request: Request) -> RowsAnswer:
    store = await durable(request)
    run = await _run(store, sha256)
    rows = sorted(batch.rows, key=lambda r: r.row)
    numbers = [r.row for r in rows]
    if numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        raise ProblemError(
            CONFLICT, "一批中的行号须连续且不重复", extensions={"reason": "rows_not_contiguous"}
        )
    if numbers[0] > run.next_row:
        raise ProblemError(
            CONFLICT,
            "行号不连续：请从导入批次记录的下一行开始发送",
            extensions={"reason": "gap", "next_row": run.next_row},
        )
    outcomes: list[tuple[int, RowError | None]] = []
    for sent in rows:
        if sent.row < run.next_row:
            continue  # counted before: nothing to do
        checked = check_row(sent)
        if isinstance(checked, RowError):
            outcomes.append((sent.row, checked))
            continue
        ledger = derived_ledger(request, IMPORT_ID_SCOPE, row_key(sha256, sent.row))
        try:
            await file_complaint(checked, ledger, request)
        except ProblemError as exc:
            if exc.problem.status >= 500:
                # The ledger is away: keep what was done, the client sends the rest again.
                if outcomes:
                    await record_rows(store, sha256, outcomes)
                raise
            reason = exc.extensions.get("reason")
            outcomes.append((sent.row, refused(sent.row, str(reason or exc.problem.slug))))
            continue
        outcomes.append((sent.row, None))
    updated = await record_rows(store, sha256, outcomes) if outcomes else run
    return RowsAnswer(run=updated, errors=[e for _, e in outcomes if e is not None])


@router.post(
    "/imports/{sha256}/finish",
    summary="Mark the run complete once every row is sent (rows_total: the file's data rows)",
    dependencies=[Depends(require_roles(Role.INTAKE_CLERK))],
)
async def finish_import(sha256: Sha256Path, body: FinishImport, request: Request) -> ImportRun:
    store = await durable(request)
    run = await _run(store, sha256)
    if run.next_row <= body.rows_total:
        raise ProblemError(
            CONFLICT,
            "尚有行未导入，不能结束",
            extensions={"reason": "rows_pending", "next_row": run.next_row},
        )
    return await finish_run(store, sha256, body.rows_total)


@router.get(
    "/imports/{sha256}",
    summary="An import run: progress and error counts by kind",
    dependencies=[Depends(require_roles(Role.INTAKE_CLERK))],
)
async def import_run(sha256: Sha256Path, request: Request) -> ImportRun:
    return await _run(await durable(request), sha256)


@router.get(
    "/imports/{sha256}/errors",
    summary="An import run's error report: each bad row by number and kind (never its values)",
    dependencies=[Depends(require_roles(Role.INTAKE_CLERK))],
)
async def import_errors(
    sha256: Sha256Path,
    request: Request,
    after_row: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> list[RowError]:
    store = await durable(request)
    await _run(store, sha256)
    return await run_errors(store, sha256, after_row=after_row, limit=limit)


# -- pages ---------------------------------------------------------------------------------------

PAGE_ROWS = 200


@router.get("/import-runs", include_in_schema=False)
async def import_runs_page(
    request: Request, operator: Operator = Depends(page(Role.INTAKE_CLERK))
) -> Response:
    """导入批次: every run, newest first, with its progress and error counts."""
    found = await runs(await durable(request))
    return get_context(request).pages.render(
        request, "import_runs.html", {"runs": found, "labels": ERROR_LABELS}
    )


@router.get("/import-runs/{sha256}", include_in_schema=False)
async def import_run_page(
    sha256: Sha256Path,
    request: Request,
    after_row: Annotated[int, Query(ge=0)] = 0,
    operator: Operator = Depends(page(Role.INTAKE_CLERK)),
) -> Response:
    """一个导入批次: its progress and the error report (row number and kind, paged)."""
    store = await durable(request)
    run = await _run(store, sha256)
    errors = await run_errors(store, sha256, after_row=after_row, limit=PAGE_ROWS + 1)
    more = len(errors) > PAGE_ROWS
    errors = errors[:PAGE_ROWS]
    return get_context(request).pages.render(
        request,
        "import_run.html",
        {
            "run": run,
            "errors": errors,
            "labels": ERROR_LABELS,
            "next_after": errors[-1].row if more and errors else None,
        },
    )
