"""``ledger backup`` / ``ledger restore`` on a small var dir: what the archive holds and leaves
out, its permissions, and the manifest check — a corrupted, truncated, missing, unlisted or
misplaced part is refused with a message naming it, before anything is written."""

from __future__ import annotations

import json
import os
import sqlite3
import tarfile
from pathlib import Path

import pytest

from shared.durable.sqlite import SqliteDurableStore
from shared.ledger.backup import (
    MANIFEST,
    ArchiveError,
    BackupError,
    BackupSettings,
    RestoreRefused,
    check_archive,
    file_sha256,
    log_position,
    plan,
    restore_backup,
    take_backup,
)
from shared.ledger.bootstrap import init_ledger
from shared.log.factory import open_log
from shared.web.sqlite_file import create
from tests.conftest import ledger_cli


def settings(var: Path) -> BackupSettings:
    return BackupSettings(var_dir=var, log_partitions=3)


async def make_var(var: Path) -> str:
    """A var dir as a running system leaves it: a registered log, intake's durable store,
    identity and idempotency files, a service secret, a read model and snapshots. Returns the
    durable store's digest."""
    s = settings(var)
    log = await open_log(s)
    try:
        await init_ledger(log, s)
    finally:
        await log.close()
    intake = var / "intake"
    store = await SqliteDurableStore.open(intake / "durable.sqlite3")
    await store.put("vault", "person-1", {"name": "张三", "phone": "13800000000"})
    await store.put_blob(b"evidence photo")
    digest = await store.digest()
    await store.close()
    create(intake / "identity.sqlite3", "CREATE TABLE IF NOT EXISTS operators(id TEXT);")
    create(intake / "idempotency.sqlite3", "CREATE TABLE IF NOT EXISTS results(k TEXT);")
    create(intake / "read-model-0.sqlite3", "CREATE TABLE IF NOT EXISTS doc_cases(id TEXT);")
    create(intake / "stream-snapshots.sqlite3", "CREATE TABLE IF NOT EXISTS s(id TEXT);")
    (intake / "read-model.json").write_text('{"kind": "sqlite"}')
    (intake / "service-secret.key").write_bytes(os.urandom(32))
    (intake / "demo-operators.txt").write_text("demo-intake-clerk\tpassword\n")
    return digest


@pytest.fixture
async def backed_up(tmp_path: Path) -> tuple[Path, str]:
    digest = await make_var(tmp_path / "var")
    dest = tmp_path / "backup"
    await take_backup(settings(tmp_path / "var"), dest)
    return dest, digest


def manifest_of(archive: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((archive / MANIFEST).read_text())


async def test_the_archive_holds_state_and_keys_and_leaves_read_models_out(
    backed_up: tuple[Path, str],
) -> None:
    archive, _ = backed_up
    m = manifest_of(archive)
    paths = {p["path"]: p["kind"] for p in m["parts"]}
    assert paths["log/ledger.sqlite3"] == "log"
    assert paths["durable/intake.sqlite3"] == "durable"
    assert paths["identity/intake.sqlite3"] == "identity"
    assert paths["idempotency/intake.sqlite3"] == "idempotency"
    assert paths["var/intake/service-secret.key"] == "secret"
    assert paths["var/intake/demo-operators.txt"] == "secret"  # passwords, in clear
    (intake_key,) = [p for p in paths if p.startswith("var/keys/intake/") and p.endswith(".key")]
    assert paths[intake_key] == "key"
    assert not any("read-model" in p or "snapshots" in p for p in paths)
    assert any("read models" in why for why in m["excluded"])
    assert m["holds_private_keys"] is True
    # Command results before the log, the log before keys and state (see backup.py).
    order = [p["path"] for p in m["parts"]]
    assert order.index("idempotency/intake.sqlite3") < order.index("log/ledger.sqlite3")
    assert order.index("log/ledger.sqlite3") < order.index(intake_key)
    assert m["log"]["position"] == {
        str(k): v for k, v in log_position(archive / "log/ledger.sqlite3").items()
    }
    assert m["log"]["records"] == sum(m["log"]["position"].values()) > 0
    for p in m["parts"]:
        assert file_sha256(archive / p["path"]) == p["sha256"]
        assert (archive / p["path"]).stat().st_size == p["bytes"]
    # Self-contained SQLite parts: no -wal beside them.
    assert not list(archive.rglob("*-wal"))


async def test_the_archive_is_owner_only(backed_up: tuple[Path, str]) -> None:
    archive, _ = backed_up
    assert archive.stat().st_mode & 0o777 == 0o700
    for p in archive.rglob("*"):
        assert p.stat().st_mode & 0o777 == (0o700 if p.is_dir() else 0o600), p


async def test_snapshots_only_when_asked(tmp_path: Path) -> None:
    await make_var(tmp_path / "var")
    s = settings(tmp_path / "var")
    assert not any(x.kind == "snapshots" for x in plan(s))
    assert [x.path for x in plan(s, snapshots=True) if x.kind == "snapshots"] == [
        "var/intake/stream-snapshots.sqlite3"
    ]


async def test_a_restore_gives_back_the_state(backed_up: tuple[Path, str], tmp_path: Path) -> None:
    archive, digest = backed_up
    fresh = tmp_path / "fresh"
    result = await restore_backup(settings(fresh), archive)
    assert result.moved_aside == []
    store = await SqliteDurableStore.open(fresh / "intake" / "durable.sqlite3")
    try:
        assert await store.digest() == digest
    finally:
        await store.close()
    assert log_position(fresh / "ledger.sqlite3") == result.manifest.log.position
    (restored_key,) = (fresh / "keys" / "intake").glob("*.key")
    (archived_key,) = (archive / "var/keys/intake").glob("*.key")
    assert restored_key.read_bytes() == archived_key.read_bytes()
    assert (fresh / "intake" / "identity.sqlite3").exists()
    assert not (fresh / "intake" / "read-model-0.sqlite3").exists()
    assert restored_key.stat().st_mode & 0o777 == 0o600
    assert fresh.stat().st_mode & 0o777 == 0o700


async def test_a_corrupted_part_is_refused_naming_it_and_nothing_is_written(
    backed_up: tuple[Path, str], tmp_path: Path
) -> None:
    archive, _ = backed_up
    part = archive / "durable/intake.sqlite3"
    expected = manifest_of(archive)
    [entry] = [p for p in expected["parts"] if p["path"] == "durable/intake.sqlite3"]
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0x01
    part.write_bytes(bytes(data))
    fresh = tmp_path / "fresh"
    with pytest.raises(ArchiveError) as caught:
        await restore_backup(settings(fresh), archive)
    assert caught.value.problems == [
        f"part durable/intake.sqlite3: SHA-256 {file_sha256(part)}, the manifest says "
        f"{entry['sha256']} (the part is corrupt or was altered)"
    ]
    assert not fresh.exists()


async def test_truncated_missing_and_unlisted_parts_are_each_named(
    backed_up: tuple[Path, str],
) -> None:
    archive, _ = backed_up
    (key,) = (archive / "var/keys/intake").glob("*.key")
    size = key.stat().st_size
    key.write_bytes(key.read_bytes()[:-3])
    (archive / "identity/intake.sqlite3").unlink()
    (archive / "var" / "planted.txt").write_text("not from the backup")
    with pytest.raises(ArchiveError) as caught:
        check_archive(archive)
    assert caught.value.problems == [
        "part identity/intake.sqlite3: missing from the archive",
        f"part {key.relative_to(archive)}: {size - 3} bytes, the manifest says {size}",
        "file var/planted.txt: in the archive but not in the manifest",
    ]


async def test_a_manifest_naming_a_path_outside_the_archive_is_refused(
    backed_up: tuple[Path, str],
) -> None:
    archive, _ = backed_up
    m = manifest_of(archive)
    m["parts"][0]["path"] = "../outside.sqlite3"
    (archive / MANIFEST).write_text(json.dumps(m))
    with pytest.raises(ArchiveError, match=r"part '\.\./outside\.sqlite3': not a plain relative"):
        check_archive(archive)


async def test_a_manifest_of_another_shape_is_refused(backed_up: tuple[Path, str]) -> None:
    archive, _ = backed_up
    m = manifest_of(archive)
    m["format"] = "something-else/9"
    del m["log"]
    (archive / MANIFEST).write_text(json.dumps(m))
    with pytest.raises(ArchiveError) as caught:
        check_archive(archive)
    assert caught.value.problems == [
        "manifest.json is not a backup manifest of format supervision-ledger-backup/1: "
        "at format, log"
    ]
    (archive / MANIFEST).unlink()
    with pytest.raises(ArchiveError, match=r"not a backup: no manifest\.json"):
        check_archive(archive)


async def test_a_part_that_matches_its_digest_but_is_no_database_is_refused(
    backed_up: tuple[Path, str], tmp_path: Path
) -> None:
    archive, _ = backed_up
    part = archive / "identity/intake.sqlite3"
    part.write_bytes(b"not a database at all, but its digest is in the manifest" * 100)
    m = manifest_of(archive)
    for p in m["parts"]:
        if p["path"] == "identity/intake.sqlite3":
            p["bytes"], p["sha256"] = part.stat().st_size, file_sha256(part)
    (archive / MANIFEST).write_text(json.dumps(m))
    with pytest.raises(ArchiveError, match=r"part identity/intake.sqlite3: not a sound SQLite"):
        await restore_backup(settings(tmp_path / "fresh"), archive)
    assert not (tmp_path / "fresh").exists()


async def test_a_non_empty_target_is_refused_unless_forced(
    backed_up: tuple[Path, str], tmp_path: Path
) -> None:
    archive, digest = backed_up
    target = tmp_path / "target"
    (target / "intake").mkdir(parents=True)
    (target / "intake" / "durable.sqlite3").write_bytes(b"someone's live data")
    with pytest.raises(RestoreRefused, match=f"the target is not fresh: {target}"):
        await restore_backup(settings(target), archive)
    assert (target / "intake" / "durable.sqlite3").read_bytes() == b"someone's live data"
    result = await restore_backup(settings(target), archive, force=True)
    [aside] = result.moved_aside
    assert (aside / "intake" / "durable.sqlite3").read_bytes() == b"someone's live data"
    store = await SqliteDurableStore.open(target / "intake" / "durable.sqlite3")
    try:
        assert await store.digest() == digest
    finally:
        await store.close()


async def test_an_archive_inside_the_target_is_refused(tmp_path: Path) -> None:
    await make_var(tmp_path / "var")
    inside = tmp_path / "var" / "backups" / "b1"
    await take_backup(settings(tmp_path / "var"), inside)
    with pytest.raises(RestoreRefused, match="lies inside the target var dir"):
        await restore_backup(settings(tmp_path / "var"), inside, force=True)
    assert (inside / MANIFEST).exists()


async def test_a_restore_with_other_log_settings_is_refused(
    backed_up: tuple[Path, str], tmp_path: Path
) -> None:
    archive, _ = backed_up
    other = BackupSettings(var_dir=tmp_path / "fresh", log_partitions=5)
    with pytest.raises(RestoreRefused, match="has 3 partitions, these settings name 5"):
        await restore_backup(other, archive)


async def test_tar_archives_round_trip_and_are_owner_only(tmp_path: Path) -> None:
    digest = await make_var(tmp_path / "var")
    dest = tmp_path / "backup.tar.gz"
    await take_backup(settings(tmp_path / "var"), dest)
    assert dest.stat().st_mode & 0o777 == 0o600
    with tarfile.open(dest) as tar:
        names = tar.getnames()
    assert MANIFEST in names and "durable/intake.sqlite3" in names
    assert not [p for p in tmp_path.iterdir() if "partial" in p.name]
    await restore_backup(settings(tmp_path / "fresh"), dest)
    store = await SqliteDurableStore.open(tmp_path / "fresh" / "intake" / "durable.sqlite3")
    try:
        assert await store.digest() == digest
    finally:
        await store.close()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".restore.")]


async def test_a_backup_never_overwrites(backed_up: tuple[Path, str], tmp_path: Path) -> None:
    archive, _ = backed_up
    before = manifest_of(archive)
    with pytest.raises(BackupError, match="exists: a backup is written only to a new place"):
        await take_backup(settings(tmp_path / "var"), archive)
    assert manifest_of(archive) == before


def test_log_position_names_a_half_written_partition(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE heads(partition INTEGER PRIMARY KEY, next INTEGER, last_at INTEGER);"
            "CREATE TABLE records(pos INTEGER PRIMARY KEY, skey, stream, appended_at, record);"
            "INSERT INTO heads VALUES (0, 2, 0), (1, 1, 0);"
            "INSERT INTO records VALUES (0, 1, 's', 0, x'00'), (1, 1, 's', 0, x'00');"
        )
    with pytest.raises(BackupError, match="partition 1 has 0 records for a head of 1"):
        log_position(path)


async def test_the_cli_refuses_a_corrupted_archive_with_the_precise_message(
    backed_up: tuple[Path, str], tmp_path: Path
) -> None:
    archive, _ = backed_up
    (part,) = (archive / "var/keys/intake").glob("*.key")
    part.write_bytes(b"X" * part.stat().st_size)
    fresh = settings(tmp_path / "fresh")
    out = ledger_cli(fresh, "restore", str(archive))
    assert out.returncode == 1
    where = part.relative_to(archive)
    assert f"refused part {where}: SHA-256 {file_sha256(part)}" in out.stdout
    assert not (tmp_path / "fresh").exists()
