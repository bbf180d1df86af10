"""Tampering with the embedded log's file is caught by `ledger verify`, which names the event or
partition; normal outcomes (a re-appended old event, racing writers) are listed, not alarms.

Every test edits the stored bytes in the SQLite database file itself, as an intruder with file
access would, then runs the real `ledger` command.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import orjson
import pytest

from shared.crypto.signing import SigningKey
from shared.ledger import keystore
from shared.ledger.bootstrap import init_ledger
from shared.ledger.digests import record_digests
from shared.ledger.writer import EventWriter
from shared.log.sqlite import SqliteLog
from shared.settings import LedgerSettings
from tests.conftest import ledger_cli
from tests.samples import LIFECYCLE, new_case, sign_steps, signers

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture
def built(tmp_path: Path) -> tuple[LedgerSettings, list[str]]:
    """A log of 20 closed cases and a digest kept outside it."""
    settings = LedgerSettings(var_dir=tmp_path / "var", log_partitions=3)

    async def build() -> list[str]:
        log = await SqliteLog.open(settings.sqlite_log_file, 3)
        await init_ledger(log, settings)
        s = signers(settings)
        fold = await EventWriter(log, s["intake"], keystore.genesis_public(settings)).registry()
        reg = fold.registry
        cases = [new_case() for _ in range(20)]
        for c in cases:
            signed = sign_steps(
                s, c, LIFECYCLE, head=None, regseq=reg.version, reghash=reg.hash_at(reg.version)
            )
            await log.append([(c, x.record) for x in signed])
        await record_digests(
            log, s["auditor"], keystore.genesis_public(settings), settings.var_dir / "digests"
        )
        await log.close()
        return cases

    return settings, asyncio.run(build())


def db(settings: LedgerSettings) -> sqlite3.Connection:
    return sqlite3.connect(settings.sqlite_log_file, isolation_level=None)


def rows_of(conn: sqlite3.Connection, stream: str) -> list[tuple[int, int, int, bytes]]:
    return list(
        conn.execute(
            "SELECT pos, pos >> 40, pos & 1099511627775, record FROM records "
            "WHERE stream=? ORDER BY pos",
            (stream,),
        )
    )


def event_id(record: bytes) -> str:
    return str(orjson.loads(record)["id"])


def test_an_intact_log_verifies_and_is_sealed(built) -> None:
    settings, _ = built
    out = ledger_cli(settings, "verify")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "OK the log is intact" in out.stdout
    assert list((settings.var_dir / "seals").glob("seal-*.json"))


def test_a_changed_payload_byte_is_named(built) -> None:
    settings, cases = built
    conn = db(settings)
    pos, _, _, rec = rows_of(conn, cases[3])[3]  # the unit's acknowledgement
    changed = rec.replace(b'"unit":"unit:health-bureau"', b'"unit":"unit:health-burea0"', 1)
    assert changed != rec
    conn.execute("UPDATE records SET record=? WHERE pos=?", (changed, pos))
    out = ledger_cli(settings, "verify")
    assert out.returncode == 1
    assert "first bad event: partition" in out.stdout
    assert event_id(rec) in out.stdout and "bad_signature" in out.stdout


def test_a_deleted_event_mid_stream_is_named(built) -> None:
    settings, cases = built
    conn = db(settings)
    rows = rows_of(conn, cases[5])
    conn.execute("DELETE FROM records WHERE pos=?", (rows[2][0],))
    out = ledger_cli(settings, "verify")
    assert out.returncode == 1
    assert event_id(rows[3][3]) in out.stdout and "unknown_prev" in out.stdout
    assert "records missing" in out.stdout


def test_two_swapped_events_are_named(built) -> None:
    settings, cases = built
    conn = db(settings)
    rows = rows_of(conn, cases[7])
    (g1, _, _, r1), (g2, _, _, r2) = rows[1], rows[2]
    conn.execute("UPDATE records SET record=? WHERE pos=?", (r2, g1))
    conn.execute("UPDATE records SET record=? WHERE pos=?", (r1, g2))
    out = ledger_cli(settings, "verify")
    assert out.returncode == 1
    assert event_id(r2) in out.stdout and "unknown_prev" in out.stdout


def test_an_event_re_signed_with_another_deployments_key_is_named(built) -> None:
    settings, cases = built
    conn = db(settings)
    pos, _, _, rec = rows_of(conn, cases[2])[1]  # dispatch.assigned
    env = orjson.loads(rec)
    other = keystore.load(settings, "publication")
    env.pop("sig")
    env["kid"] = other.kid
    from shared.events.codec import canonical

    env["sig"] = other.sign(canonical(env))
    conn.execute("UPDATE records SET record=? WHERE pos=?", (canonical(env), pos))
    out = ledger_cli(settings, "verify")
    assert out.returncode == 1
    assert env["id"] in out.stdout and "foreign_key" in out.stdout


def test_an_unknown_key_is_tampering(built) -> None:
    settings, cases = built
    conn = db(settings)
    pos, _, _, rec = rows_of(conn, cases[2])[1]
    env = orjson.loads(rec)
    rogue = SigningKey.generate()
    env.pop("sig")
    env["kid"] = rogue.kid
    from shared.events.codec import canonical

    env["sig"] = rogue.sign(canonical(env))
    conn.execute("UPDATE records SET record=? WHERE pos=?", (canonical(env), pos))
    out = ledger_cli(settings, "verify")
    assert out.returncode == 1 and "unknown_key" in out.stdout


def _partition_of(conn: sqlite3.Connection, stream: str) -> int:
    return int(
        conn.execute("SELECT pos >> 40 FROM records WHERE stream=? LIMIT 1", (stream,)).fetchone()[
            0
        ]
    )


def test_a_cut_off_tail_is_caught_by_the_digest_kept_outside(built) -> None:
    settings, cases = built
    conn = db(settings)
    p = _partition_of(conn, cases[-1])
    n = conn.execute("SELECT next FROM heads WHERE partition=?", (p,)).fetchone()[0]
    # Cut the last 6 records of the partition and fix the head: the chains stay consistent.
    conn.execute("DELETE FROM records WHERE pos>=? AND pos<?", ((p << 40) + n - 6, (p + 1) << 40))
    conn.execute("UPDATE heads SET next=? WHERE partition=?", (n - 6, p))
    # Also remove the in-log digest record copies to show the outside copy alone catches it.
    out = ledger_cli(settings, "verify", "--no-seal")
    assert out.returncode == 1
    assert f"partition {p}: tail cut off" in out.stdout


def test_a_whole_deleted_stream_is_caught_by_the_digest_kept_outside(built) -> None:
    settings, cases = built
    conn = db(settings)
    victim = cases[4]
    p = _partition_of(conn, victim)
    conn.execute("DELETE FROM records WHERE stream=?", (victim,))
    # Renumber the partition so no hole shows: only the digest can tell.
    lo, hi = p << 40, (p + 1) << 40  # pos = (partition << 40) | offset
    rows = list(
        conn.execute("SELECT pos FROM records WHERE pos>=? AND pos<? ORDER BY pos", (lo, hi))
    )
    conn.execute("UPDATE records SET pos = -1 - pos WHERE pos>=? AND pos<?", (lo, hi))
    for i, (g,) in enumerate(rows):  # pos = (partition << 40) | offset
        conn.execute("UPDATE records SET pos=? WHERE pos=?", (lo + i, -1 - g))
    conn.execute("UPDATE heads SET next=? WHERE partition=?", (len(rows), p))
    out = ledger_cli(settings, "verify", "--no-seal")
    assert out.returncode == 1
    assert f"partition {p}:" in out.stdout and (
        "content differs" in out.stdout or "tail cut off" in out.stdout
    )
    assert "records missing" not in out.stdout


def test_an_edited_key_registry_is_named(built) -> None:
    settings, _ = built
    conn = db(settings)
    rows = rows_of(conn, "registry")
    # Swap the intake key for one the intruder holds.
    pos, _, _, rec = next(r for r in rows if b"key_added" in r[3] and b"/intake" in r[3])
    env = orjson.loads(rec)
    rogue = SigningKey.generate()
    env["data"]["kid"] = rogue.kid
    env["data"]["public_key"] = rogue.public.text
    from shared.events.codec import canonical

    conn.execute("UPDATE records SET record=? WHERE pos=?", (canonical(env), pos))
    out = ledger_cli(settings, "verify")
    assert out.returncode == 1
    assert env["id"] in out.stdout and "bad_signature" in out.stdout


def test_an_old_event_re_appended_is_a_neutralised_replay_not_tampering(built) -> None:
    settings, cases = built

    async def reappend() -> str:
        log = await SqliteLog.open(settings.sqlite_log_file, 3)
        old = [r async for r in log.read_stream(cases[0])][1]
        await log.append([(cases[0], old.record)])
        await log.close()
        return event_id(old.record)

    old_id = asyncio.run(reappend())
    out = ledger_cli(settings, "verify")
    assert out.returncode == 0, out.stdout
    assert "normal conflicts" in out.stdout and old_id in out.stdout and "replayed_id" in out.stdout


def test_replay_shows_the_state_as_of_a_log_time(built) -> None:
    settings, cases = built
    conn = db(settings)
    rows = list(
        conn.execute("SELECT appended_at FROM records WHERE stream=? ORDER BY pos", (cases[0],))
    )
    assert len(rows) == len(LIFECYCLE)
    out = ledger_cli(settings, "replay", cases[0])
    assert out.returncode == 0, out.stderr
    assert '"status": "closed"' in out.stdout
    assert "ledger.handling.closed.v1" in out.stdout
    early = ledger_cli(settings, "replay", cases[0], "--as-of", "2000-01-01T00:00:00+08:00")
    assert early.returncode == 0 and '"status": "new"' in early.stdout
