"""Import runs in intake's durable store: one record per file (keyed by its SHA-256), advanced
by compare-and-set so two clients importing one file never lose each other's progress, and
each bad row's error as its own entry (``import_errors``, keyed run and row number)."""

from __future__ import annotations

from collections.abc import Callable

from services.intake.bulk_import import (
    ImportRun,
    RowError,
    StartImport,
    advance,
    finish,
)
from shared.durable.port import DurableStore
from shared.ledger.signer import now_rfc3339

RUNS = "import_runs"
ERRORS = "import_errors"
_ATTEMPTS = 20


def _error_key(sha256: str, row: int) -> str:
    return f"{sha256}:{row:012d}"


async def get_run(store: DurableStore, sha256: str) -> ImportRun | None:
    entry = await store.get(RUNS, sha256)
    return ImportRun.model_validate(entry.value) if entry is not None else None


async def start_run(store: DurableStore, start: StartImport, staff_id: str) -> ImportRun:
    """The file's run: the one already recorded (a rerun resumes it), or a new one."""
    at = now_rfc3339()
    fresh = ImportRun(
        sha256=start.sha256,
        name=start.name,
        format=start.format,
        started_by=staff_id,
        started_at=at,
        updated_at=at,
    )
    await store.compare_and_set(RUNS, start.sha256, fresh.model_dump(mode="json"), 0)
    run = await get_run(store, start.sha256)
    assert run is not None
    return run


async def _update(
    store: DurableStore, sha256: str, change: Callable[[ImportRun], ImportRun]
) -> ImportRun:
    for _ in range(_ATTEMPTS):
        entry = await store.get(RUNS, sha256)
        assert entry is not None
        run = change(ImportRun.model_validate(entry.value))
        if await store.compare_and_set(RUNS, sha256, run.model_dump(mode="json"), entry.version):
            return run
    raise RuntimeError("import run kept moving under concurrent updates")


async def record_rows(
    store: DurableStore, sha256: str, outcomes: list[tuple[int, RowError | None]]
) -> ImportRun:
    """Count these rows' outcomes into the run; each newly counted error kept as an entry
    (written first: a crash in between leaves the rows to be counted again, never lost)."""
    for _, error in outcomes:
        if error is not None:
            await store.put(ERRORS, _error_key(sha256, error.row), error.model_dump(mode="json"))
    at = now_rfc3339()
    return await _update(store, sha256, lambda run: advance(run, outcomes, at)[0])


async def finish_run(store: DurableStore, sha256: str, rows_total: int) -> ImportRun:
    at = now_rfc3339()
    return await _update(store, sha256, lambda run: finish(run, rows_total, at))


async def runs(store: DurableStore, limit: int = 200) -> list[ImportRun]:
    found = [ImportRun.model_validate(e.value) for e in await store.scan(RUNS, limit=limit)]
    return sorted(found, key=lambda r: r.started_at, reverse=True)


async def run_errors(
    store: DurableStore, sha256: str, *, after_row: int = 0, limit: int = 500
) -> list[RowError]:
    """The run's bad rows in row order, after ``after_row`` (paging)."""
    after = _error_key(sha256, after_row) if after_row else None
    entries = await store.scan(ERRORS, prefix=f"{sha256}:", after=after, limit=limit)
    return [RowError.model_validate(e.value) for e in entries]
