"""Keys and data are their owner's alone, from the moment they are created: key files and the
embedded log 0600, key folders and var/ 0700 — whatever the umask (``ledger init`` in this
process, umask untouched) — and under ``make run`` every file its services make. ``make run``
with a deployments file runs two bodies' intakes, and says that it holds every key in one place.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from shared.ledger import keystore
from shared.ledger.bootstrap import init_ledger
from shared.log.factory import open_log
from shared.settings import LedgerSettings
from tests.integration.web_servers import free_port
from tests.make_run import run_until_healthy


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


async def test_ledger_init_makes_keys_and_the_log_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual umask: the modes must not depend on it
    try:
        settings = LedgerSettings(var_dir=tmp_path / "var", log_partitions=3)
        log = await open_log(settings)
        try:
            await init_ledger(log, settings)
            await log.append([("case-x", b"{}")])  # the WAL exists once something is written
            for suffix in ("-wal", "-shm"):  # SQLite gives them the log file's own mode
                side = settings.sqlite_log_file.with_name(settings.sqlite_log_file.name + suffix)
                assert mode(side) == 0o600
        finally:
            await log.close()
    finally:
        os.umask(old)
    var = settings.var_dir
    assert mode(var) == 0o700
    assert mode(settings.keys_dir) == 0o700
    assert mode(settings.sqlite_log_file) == 0o600
    for name in ("intake", "dispatch", "oversight", "publication", "auditor"):
        folder = keystore.key_dir(settings, name)
        assert folder == settings.keys_dir / name and mode(folder) == 0o700
        files = list(folder.iterdir())
        assert files and all(mode(f) == 0o600 for f in files), [(f, oct(mode(f))) for f in files]
    assert mode(keystore.key_path(settings, keystore.GENESIS)) == 0o600


def test_make_run_serves_two_bodies_intakes_says_where_the_keys_are_and_keeps_files_private(
    tmp_path: Path,
) -> None:
    ports = {"intake-a": free_port(), "intake-b": free_port()}
    file = tmp_path / "deployments.toml"
    file.write_text(
        "".join(
            f'[[deployment]]\nname = "{name}"\nservice = "intake"\nbody = "{body}"\n'
            f"port = {ports[name]}\n\n"
            for name, body in (("intake-a", "efficiency-office"), ("intake-b", "petitions-office"))
        ),
        encoding="utf-8",
    )
    var = tmp_path / "var"
    env = {
        **os.environ,
        "LEDGER_VAR_DIR": str(var),
        "LEDGER_DEPLOYMENTS_FILE": str(file),
        "LEDGER_PASSWORD_MEMORY_KIB": "64",
        "LEDGER_PASSWORD_TIME_COST": "1",
        "LEDGER_PASSWORD_PARALLELISM": "1",
    }
    ran = run_until_healthy(env, ports)
    out = ran.output
    [said] = [line for line in out.splitlines() if line.startswith("keys: ")]
    assert "held in one place" in said and str(var / "keys") in said
    for name in ports:
        data = var / name
        assert mode(data) == 0o700
        for f in data.iterdir():
            assert mode(f) & 0o077 == 0, (f, oct(mode(f)))  # nothing for group or others
        assert mode(var / "keys" / name) == 0o700
    assert mode(var) == 0o700 and mode(var / "ledger.sqlite3") == 0o600
    assert {p.name for p in var.iterdir()} >= {"intake-a", "intake-b", "keys", "ledger.sqlite3"}
