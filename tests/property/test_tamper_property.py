"""One random edit of one random cell of the log file: either ``ledger verify`` fails naming a
partition or an event, or every reader sees exactly what it saw before.

A ledger (several hundred events, 3 partitions, registry, a digest in the log and outside it,
more events, a seal, a few events after it) is built once; each example copies the file,
applies one edit to any column of any table (change the value, delete the row, duplicate it
at another position, store a value of another type), then verifies in-process and, if verify
passes, replays every stream (the writers' and projectors' view), folds the whole log by
position, and replays trusting the seal — each must equal the honest result, verdict for
verdict. The only edits skipped are those no digest can cover: a log-time change after the
last digest (or seal) of its partition that keeps the partition's order (README: "Tampering").
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from shared.crypto.signing import PublicKey
from shared.ledger import keystore
from shared.ledger.bootstrap import init_ledger
from shared.ledger.digests import record_digests
from shared.ledger.reader import fold_log, fold_stream, registry_fold
from shared.ledger.rebuild import rebuild_fold
from shared.ledger.seal import record_seal
from shared.ledger.verify import VerifyReport, verify_log
from shared.ledger.writer import EventWriter
from shared.log.sqlite import LogStorageError, SqliteLog
from shared.rules.audit import AuditState
from shared.rules.stream import AUDIT_STREAM
from shared.settings import LedgerSettings
from tests.samples import LIFECYCLE, new_case, sign_steps, signers

pytestmark = pytest.mark.slow

COLUMNS = {
    "records": ("pos", "skey", "stream", "appended_at", "record"),
    "heads": ("partition", "next", "last_at"),
    "meta": ("key", "value"),
}
KEY = {"records": "pos", "heads": "partition", "meta": "key"}


@dataclass(repr=False)
class Built:
    settings: LedgerSettings
    genesis: PublicKey
    honest: dict[str, Any]
    rows: dict[str, list[tuple[Any, ...]]]
    heads: dict[int, int]
    covered: dict[int, int]  # partition -> records covered by the last digest or seal
    streams: list[str]


async def _build(settings: LedgerSettings) -> tuple[PublicKey, list[str]]:
    log = await SqliteLog.open(settings.sqlite_log_file, 3)
    try:
        await init_ledger(log, settings)
        s = signers(settings)
        genesis = keystore.genesis_public(settings)
        reg = (await EventWriter(log, s["intake"], genesis).registry()).registry
        cases: list[str] = []

        async def write(n: int) -> None:
            for _ in range(n):
                c = new_case()
                cases.append(c)
                signed = sign_steps(
                    s, c, LIFECYCLE, head=None, regseq=reg.version, reghash=reg.hash_at(reg.version)
                )
                # A byte-identical retry: a normal conflict every reader lists alike.
                await log.append([(c, x.record) for x in signed] + [(c, signed[1].record)])

        await write(40)
        await record_digests(log, s["auditor"], genesis, settings.var_dir / "digests")
        await write(10)
        report = await verify_log(log, genesis, workers=0)
        assert report.ok
        await record_seal(log, s["auditor"], genesis, report, settings.var_dir / "seals")
        await write(3)
        return genesis, cases
    finally:
        await log.close()


async def _view(path: Path, genesis: PublicKey, streams: list[str]) -> dict[str, Any]:
    """What every kind of reader sees: each stream replayed (verdict by verdict, and its
    state), the whole log folded by position, and the rebuild's replay trusting the seal."""
    log = await SqliteLog.open(path, 3)
    try:
        fold = await registry_fold(log, genesis)
        per_stream: dict[str, Any] = {}
        for stream in ["registry", AUDIT_STREAM, *streams]:
            seen: dict[tuple[int, int], Any] = {}
            state = await fold_stream(log, fold, stream, observe=seen)
            per_stream[stream] = (
                sorted((p, o, str(v.reason)) for (p, o), v in seen.items()),
                state.summary(),
            )
        whole = await fold_log(log, genesis)
        rebuilt = await rebuild_fold(log, genesis)
        return {
            "streams": per_stream,
            "fold": (whole.state_digest(), dict(whole.counts)),
            "rebuild": (rebuilt.state_digest(), dict(rebuilt.counts)),
        }
    finally:
        await log.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    settings = LedgerSettings(var_dir=tmp_path_factory.mktemp("tamper") / "var", log_partitions=3)
    genesis, cases = asyncio.run(_build(settings))
    honest = asyncio.run(_view(settings.sqlite_log_file, genesis, cases))
    conn = sqlite3.connect(settings.sqlite_log_file)
    rows = {t: conn.execute(f"SELECT * FROM {t} ORDER BY {KEY[t]}").fetchall() for t in COLUMNS}
    heads = {p: n for p, n, _ in rows["heads"]}
    conn.close()

    async def covered() -> dict[int, int]:
        log = await SqliteLog.open(settings.sqlite_log_file, 3)
        try:
            fold = await registry_fold(log, genesis)
            st_ = await fold_stream(log, fold, AUDIT_STREAM)
        finally:
            await log.close()
        assert isinstance(st_.domain, AuditState)
        out = {p: 0 for p in range(3)}
        for p, n, _ in (*st_.domain.digests, *st_.domain.sealed_digests):
            out[p] = max(out[p], n)
        return out

    return Built(settings, genesis, honest, rows, heads, asyncio.run(covered()), cases)


@dataclass(frozen=True)
class Edit:
    table: str
    row: int
    column: str
    op: str  # change | delete | duplicate | retype
    value: Any


def _changed(draw: st.DrawFn, old: Any, column: str) -> Any:
    if isinstance(old, bool) or old is None:
        return draw(st.integers(-5, 5))
    if isinstance(old, int):
        if column == "pos":
            p, off = old >> 40, old & ((1 << 40) - 1)
            return draw(
                st.sampled_from(
                    [
                        old + 1,
                        old - 1,
                        ((p + 1) % 3 << 40) + off,
                        (p << 40) + off + 1000,
                        (7 << 40) + off,
                        -1 - old,
                    ]
                )
            )
        delta = draw(
            st.sampled_from([-3, -2, -1, 1, 2, 3])
            | st.integers(1, 2**40)
            | st.integers(-(2**40), -1)
        )
        return old + delta
    if isinstance(old, str):
        pool = ["registry", AUDIT_STREAM, "partitions", "4", ""]
        if old:
            i = draw(st.integers(0, len(old) - 1))
            pool.append(old[:i] + ("x" if old[i] != "x" else "y") + old[i + 1 :])
        return draw(st.sampled_from(pool))
    assert isinstance(old, bytes)
    i = draw(st.integers(0, len(old) - 1))
    return old[:i] + bytes([old[i] ^ draw(st.integers(1, 255))]) + old[i + 1 :]


@st.composite
def edits(draw: st.DrawFn, b: Built) -> Edit:
    table = draw(st.sampled_from(["records"] * 6 + ["heads"] * 2 + ["meta"]))
    rows = b.rows[table]
    row = draw(st.integers(0, len(rows) - 1))
    column = draw(st.sampled_from(COLUMNS[table]))
    op = draw(st.sampled_from(["change", "delete", "duplicate", "retype"]))
    old = rows[row][COLUMNS[table].index(column)]
    value: Any = None
    if op == "change":
        value = _changed(draw, old, column)
    elif op == "duplicate":  # the same row again under another key
        key = rows[row][0]
        if table == "records":
            p = draw(st.integers(0, 3))
            off = b.heads.get(p, 0) + draw(st.integers(0, 2))
            value = draw(st.sampled_from([(p << 40) + off, -1 - key, (9 << 40)]))
        elif table == "heads":
            value = draw(st.sampled_from([3, 4, -1]))
        else:
            value = draw(st.sampled_from(["x", "partition"]))
    elif op == "retype":
        others: list[Any] = ["abc", b"\x01\x02", 1.5, None, 7, "7", b"7"]
        value = draw(st.sampled_from([v for v in others if type(v) is not type(old)]))
    return Edit(table, row, column, op, value)


def _apply(conn: sqlite3.Connection, b: Built, e: Edit) -> None:
    cols = COLUMNS[e.table]
    key = KEY[e.table]
    old = b.rows[e.table][e.row]
    where = (old[0],)
    try:
        if e.op == "delete":
            conn.execute(f"DELETE FROM {e.table} WHERE {key}=?", where)
        elif e.op == "duplicate":
            copy = (e.value, *old[1:])
            marks = ", ".join("?" * len(cols))
            conn.execute(f"INSERT INTO {e.table}({', '.join(cols)}) VALUES({marks})", copy)
        else:
            conn.execute(f"UPDATE {e.table} SET {e.column}=? WHERE {key}=?", (e.value, *where))
    except sqlite3.Error:
        pass  # the edit is refused by the schema (unique, not null, rowid): nothing changed


def _out_of_reach(b: Built, e: Edit) -> bool:
    """A log-time change after the partition's last digest that keeps its order: no digest
    covers it (README: "Tampering")."""
    if not (e.table == "records" and e.column == "appended_at" and e.op == "change"):
        return False
    pos = b.rows["records"][e.row][0]
    p, off = pos >> 40, pos & ((1 << 40) - 1)
    if off < b.covered[p]:
        return False
    same = [r for r in b.rows["records"] if r[0] >> 40 == p]
    i = next(k for k, r in enumerate(same) if r[0] == pos)
    lo = same[i - 1][3] if i > 0 else 0
    hi = same[i + 1][3] if i + 1 < len(same) else None
    return bool(lo <= e.value and (hi is None or e.value <= hi))


def _names_a_place(report: VerifyReport) -> bool:
    return bool(
        report.tampered
        or any(f.partition is not None or "position" in f.detail for f in report.open_findings)
        or report.open_digest_failures
        or report.copy_problems
    )


async def _verify(path: Path, b: Built) -> VerifyReport | str:
    try:
        log = await SqliteLog.open(path, 3)
    except LogStorageError as exc:
        return str(exc)  # the CLI prints it and exits 1
    try:
        return await verify_log(
            log, b.genesis, workers=0, digest_dirs=[b.settings.var_dir / "digests"]
        )
    finally:
        await log.close()


def test_the_built_ledger_is_honest(built: Built) -> None:
    report = asyncio.run(_verify(built.settings.sqlite_log_file, built))
    assert isinstance(report, VerifyReport) and report.ok
    assert sum(built.heads.values()) > 300 and report.claims_checked >= 6
    assert max(built.covered.values()) > 0


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_one_edit_is_named_or_changes_nothing(
    built: Built, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    e = data.draw(edits(built))
    if _out_of_reach(built, e):
        event("skipped: a log-time edit no digest covers")
        return  # the one class of edits no digest covers
    work = tmp_path_factory.mktemp("edit") / "ledger.sqlite"
    shutil.copyfile(built.settings.sqlite_log_file, work)
    conn = sqlite3.connect(work, isolation_level=None)
    _apply(conn, built, e)
    conn.close()
    report = asyncio.run(_verify(work, built))
    if isinstance(report, str):
        event("refused when opened")
        assert "meta" in report or "partition" in report, (e, report)
        return
    if not report.ok:
        event(
            f"named by verify: {e.table}.{e.column} {e.op}"
            if e.op != "delete"
            else f"named by verify: {e.table} delete"
        )
        assert _names_a_place(report), (e, report.findings, report.digest_failures)
        return
    event(f"verify passes, nothing changed: {e.table}.{e.column} {e.op}")
    seen = asyncio.run(_view(work, built.genesis, built.streams))
    assert seen == built.honest, e
    work.unlink()
