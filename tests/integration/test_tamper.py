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
from shared.log.sqlite import RowBeyondHead, SqliteLog
from shared.settings import LedgerSettings
from tests.conftest import ledger_cli
from tests.samples import LIFECYCLE, new_case, sign_steps, signers

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def closed_cases(tmp_path: Path, n: int, *, digests: bool) -> tuple[LedgerSettings, list[str]]:
    """A log of ``n`` closed cases in 3 partitions, with a digest kept outside it if asked."""
    settings = LedgerSettings(var_dir=tmp_path / "var", log_partitions=3)

    async def build() -> list[str]:
        log = await SqliteLog.open(settings.sqlite_log_file, 3)
        await init_ledger(log, settings)
        s = signers(settings)
        fold = await EventWriter(log, s["intake"], keystore.genesis_public(settings)).registry()
        reg = fold.registry
        cases = [new_case() for _ in range(n)]
        for c in cases:
            signed = sign_steps(
                s, c, LIFECYCLE, head=None, regseq=reg.version, reghash=reg.hash_at(reg.version)
            )
            await log.append([(c, x.record) for x in signed])
        if digests:
            await record_digests(
                log, s["auditor"], keystore.genesis_public(settings), settings.var_dir / "digests"
            )
        await log.close()
        return cases

    return settings, asyncio.run(build())


@pytest.fixture
def built(tmp_path: Path) -> tuple[LedgerSettings, list[str]]:
    """A log of 20 closed cases and a digest kept outside it."""
    return closed_cases(tmp_path, 20, digests=True)


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


# -- what verify derives itself: index columns, heads, log time, seals, copies, revoked keys ----


def _head_of(conn: sqlite3.Connection, p: int) -> int:
    return int(conn.execute("SELECT next FROM heads WHERE partition=?", (p,)).fetchone()[0])


def _case_row(conn: sqlite3.Connection, stream: str, i: int) -> tuple[int, int, int, bytes]:
    return rows_of(conn, stream)[i]


def test_a_stream_column_edit_is_named_even_when_it_hides_the_event_as_registry(built) -> None:
    settings, cases = built
    conn = db(settings)
    pos, p, off, rec = _case_row(conn, cases[1], 2)
    # The stream index key stays: the event vanishes from its stream and from the registry's.
    conn.execute("UPDATE records SET stream='registry' WHERE pos=?", (pos,))
    out = ledger_cli(settings, "verify", "--no-seal")
    assert out.returncode == 1
    assert f"partition {p} offset {off}" in out.stdout
    assert event_id(rec) in out.stdout


def test_a_stream_key_edit_is_named(built) -> None:
    settings, cases = built
    conn = db(settings)
    pos, p, off, _ = _case_row(conn, cases[2], 3)
    # Readers of the stream no longer find it; a reader by position still does.
    conn.execute("UPDATE records SET skey=skey+1 WHERE pos=?", (pos,))
    out = ledger_cli(settings, "verify", "--no-seal")
    assert out.returncode == 1
    assert f"partition {p} offset {off}: columns: skey" in out.stdout


def test_a_partition_edit_is_named(built) -> None:
    settings, cases = built
    conn = db(settings)
    pos, p, _, rec = _case_row(conn, cases[3], 1)
    q = (p + 1) % 3
    n = _head_of(conn, q)
    # Moved to the head of another partition, heads adjusted: no hole, no row beyond a head.
    conn.execute("UPDATE records SET pos=? WHERE pos=?", ((q << 40) + n, pos))
    at = conn.execute("SELECT appended_at FROM records WHERE pos=?", ((q << 40) + n,)).fetchone()
    conn.execute("UPDATE heads SET next=?, last_at=? WHERE partition=?", (n + 1, at[0], q))
    out = ledger_cli(settings, "verify", "--no-seal")
    assert out.returncode == 1
    assert f"partition {q} offset {n}: columns: partition" in out.stdout
    assert event_id(rec) in out.stdout


@pytest.fixture
def bare(tmp_path: Path) -> tuple[LedgerSettings, list[str]]:
    """A log of 12 closed cases and no digest at all."""
    return closed_cases(tmp_path, 12, digests=False)


def test_a_deleted_last_record_without_any_digest_is_named(bare) -> None:
    settings, cases = bare
    conn = db(settings)
    p = _partition_of(conn, cases[-1])
    n = _head_of(conn, p)
    conn.execute("DELETE FROM records WHERE pos=?", ((p << 40) + n - 1,))
    out = ledger_cli(settings, "verify", "--no-seal")
    assert out.returncode == 1
    assert f"partition {p} offset {n - 1}: missing at tail" in out.stdout
    assert "OK the log is intact" not in out.stdout


def test_a_row_planted_beyond_the_head_is_named_and_refuses_appends(bare) -> None:
    settings, cases = bare
    conn = db(settings)
    p = _partition_of(conn, cases[0])
    n = _head_of(conn, p)
    pos, _, _, rec = rows_of(conn, cases[0])[1]
    conn.execute(
        "INSERT INTO records(pos, skey, stream, appended_at, record) "
        "SELECT ?, skey, stream, appended_at, record FROM records WHERE pos=?",
        ((p << 40) + n, pos),
    )
    out = ledger_cli(settings, "verify", "--no-seal")
    assert out.returncode == 1
    assert f"partition {p} offset {n}: beyond head" in out.stdout

    async def append() -> str:
        log = await SqliteLog.open(settings.sqlite_log_file, 3)
        try:
            with pytest.raises(RowBeyondHead) as caught:
                await log.append([(cases[0], rec)])
            return str(caught.value)
        finally:
            await log.close()

    message = asyncio.run(append())
    assert f"partition {p} holds a record at offset {n}" in message
    assert _head_of(conn, p) == n  # nothing was appended


def test_log_time_moved_backwards_is_named(bare) -> None:
    settings, cases = bare
    conn = db(settings)
    pos, p, off, _ = rows_of(conn, cases[4])[3]
    conn.execute("UPDATE records SET appended_at=appended_at-86400000000 WHERE pos=?", (pos,))
    out = ledger_cli(settings, "verify", "--no-seal")
    assert out.returncode == 1
    assert f"partition {p} offset {off}: log time: log time moved backwards" in out.stdout


def test_a_wrong_typed_column_is_named_by_verify_and_rebuild_without_a_traceback(bare) -> None:
    settings, cases = bare
    conn = db(settings)
    pos, p, off, _ = rows_of(conn, cases[5])[2]
    conn.execute("UPDATE records SET record=CAST(record AS TEXT) WHERE pos=?", (pos,))
    out = ledger_cli(settings, "verify", "--no-seal")
    assert out.returncode == 1, out.stdout + out.stderr
    assert f"partition {p} offset {off}: malformed: column record holds str" in out.stdout
    assert "Traceback" not in out.stderr
    rebuilt = ledger_cli(settings, "rebuild", "oversight")
    assert rebuilt.returncode == 1
    assert f"malformed record at partition {p} offset {off}" in rebuilt.stdout
    assert "Traceback" not in rebuilt.stderr


def _flip_a_signature_byte(path: Path) -> None:
    lines = path.read_bytes().splitlines()
    env = orjson.loads(lines[0])
    sig = env["sig"]
    env["sig"] = ("B" if sig[0] != "B" else "C") + sig[1:]
    from shared.events.codec import canonical

    lines[0] = canonical(env)
    path.write_bytes(b"\n".join(lines) + b"\n")


def test_a_corrupt_outside_digest_copy_is_an_alarm(built) -> None:
    settings, _ = built
    copy = next((settings.var_dir / "digests").glob("*.jsonl"))
    _flip_a_signature_byte(copy)
    out = ledger_cli(settings, "verify", "--no-seal")
    assert out.returncode == 1
    assert f"outside digest copy {copy}: line 1: signature does not verify" in out.stdout


def test_verify_requires_a_valid_copy_in_the_auditors_directory(built, tmp_path: Path) -> None:
    settings, _ = built
    empty = tmp_path / "auditor-copies"
    empty.mkdir()
    out = ledger_cli(settings, "verify", "--no-seal", "--digests", str(empty))
    assert out.returncode == 1
    assert f"{empty}: no valid digest copy" in out.stdout
    bad = tmp_path / "bad-copies"
    bad.mkdir()
    copy = next((settings.var_dir / "digests").glob("*.jsonl"))
    (bad / copy.name).write_bytes(b"not json\n")
    out = ledger_cli(settings, "verify", "--no-seal", "--digests", str(bad))
    assert out.returncode == 1
    assert f"{bad}: no valid digest copy" in out.stdout and "does not parse" in out.stdout
    good = ledger_cli(settings, "verify", "--no-seal", "--digests", str(copy.parent))
    assert good.returncode == 0, good.stdout


def test_a_key_used_after_its_revocation_was_appended_is_tampering(built) -> None:
    """Live readers judge a key at the registry version the event names, so they accept an
    event naming the version before the revocation; verify judges by log time and names it."""
    settings, _ = built
    from shared.ledger.signer import Draft, Signer
    from shared.rules.registry import GENESIS_DEPLOYMENT

    async def revoke_then_misuse() -> tuple[str, str]:
        log = await SqliteLog.open(settings.sqlite_log_file, 3)
        try:
            genesis = keystore.genesis_public(settings)
            s = signers(settings)
            before = (await EventWriter(log, s["intake"], genesis).registry()).registry
            stolen = s["intake"]
            custodian = Signer(GENESIS_DEPLOYMENT, keystore.load(settings, keystore.GENESIS))
            revoke = Draft(
                "ledger.registry.key_revoked.v1",
                {"kid": stolen.key.kid, "reason": "泄露"},
                "ledger/genesis",
            )
            result = await EventWriter(log, custodian, genesis).submit(
                "registry", lambda state: [revoke]
            )
            assert result.accepted
            case = new_case()
            forged = sign_steps(
                s,
                case,
                LIFECYCLE[:1],
                head=None,
                regseq=before.version,
                reghash=before.hash_at(before.version),
            )
            await log.append([(case, forged[0].record)])
            return event_id(forged[0].record), stolen.key.kid
        finally:
            await log.close()

    forged_id, kid = asyncio.run(revoke_then_misuse())
    out = ledger_cli(settings, "verify", "--no-seal")
    assert out.returncode == 1
    assert "revoked key" in out.stdout and forged_id in out.stdout and kid in out.stdout


def test_an_acknowledged_incident_passes_is_listed_and_is_skipped_by_rebuilds(built) -> None:
    settings, cases = built
    conn = db(settings)
    pos, p, off, rec = rows_of(conn, cases[6])[-1]  # the case's last event
    changed = rec.replace(b'"actor":"', b'"actor":"x', 1)
    conn.execute("UPDATE records SET record=? WHERE pos=?", (changed, pos))
    assert ledger_cli(settings, "verify").returncode == 1
    ack = ledger_cli(settings, "acknowledge", f"{p}:{off}", "--reason", "事件 INC-7：已处置")
    assert ack.returncode == 0, ack.stdout + ack.stderr
    out = ledger_cli(settings, "verify")
    assert out.returncode == 0, out.stdout
    assert f"acknowledged bad event: partition {p} offset {off}" in out.stdout
    assert "seal written" in out.stdout
    again = ledger_cli(settings, "verify", "--no-seal")
    assert again.returncode == 0 and "acknowledged" in again.stdout
    rebuilt = ledger_cli(settings, "rebuild", "oversight")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert "skipped 1 bad records the auditor acknowledged" in rebuilt.stdout


def test_a_sealed_row_edited_is_not_trusted_and_the_old_copy_keeps_serving(built) -> None:
    settings, cases = built
    from shared.readside.copies import StoreSettings, current_ref

    assert ledger_cli(settings, "verify").returncode == 0  # sealed
    first = ledger_cli(settings, "rebuild", "oversight")
    assert first.returncode == 0, first.stdout + first.stderr
    s = StoreSettings(**settings.model_dump())
    serving = current_ref(s, "oversight")
    conn = db(settings)
    # the assignment: a sealed row a rebuild would otherwise evolve without checking it
    pos, p, _, rec = next(r for r in rows_of(conn, cases[8]) if b"dispatch.assigned" in r[3])
    changed = rec.replace(b'"unit:health-bureau"', b'"unit:health-burea0"', 1)
    assert changed != rec
    conn.execute("UPDATE records SET record=? WHERE pos=?", (changed, pos))
    out = ledger_cli(settings, "rebuild", "oversight")
    assert out.returncode == 1
    assert f"the last seal is not trusted: partition {p}" in out.stdout
    assert "still serving the old copy" in out.stdout
    assert current_ref(s, "oversight") == serving


def test_a_deleted_head_row_is_named_not_a_traceback(bare) -> None:
    settings, _ = bare
    conn = db(settings)
    conn.execute("DELETE FROM heads WHERE partition=1")
    out = ledger_cli(settings, "verify", "--no-seal")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "partition 1: heads: the heads table has no row for it" in out.stdout
    assert "Traceback" not in out.stderr


def test_rebuild_switches_to_a_differing_copy_only_when_told_and_still_fails(built) -> None:
    settings, cases = built
    from shared.readside.copies import StoreSettings, current_ref

    assert ledger_cli(settings, "rebuild", "oversight").returncode == 0
    s = StoreSettings(**settings.model_dump())
    serving = current_ref(s, "oversight")
    conn = db(settings)
    pos, _, _, rec = rows_of(conn, cases[9])[2]
    conn.execute(
        "UPDATE records SET record=? WHERE pos=?", (rec.replace(b'"unit', b'"unix', 1), pos)
    )
    out = ledger_cli(settings, "rebuild", "oversight", "--switch-if-different")
    assert out.returncode == 1
    assert "the copies differ" in out.stdout and "switched to the new copy as asked" in out.stdout
    assert current_ref(s, "oversight").generation == serving.generation + 1
