"""``ledger backup`` taken while intake (a real uvicorn process) accepts complaints over HTTP
and its durable store is being written, then ``ledger restore`` into a fresh var dir and a
service started on it: the old cases read back through its read endpoint, a new complaint is
accepted, ``ledger verify`` exits 0, and the archive's log position is a whole state (every
answered-before complaint in it, no half-written event)."""

from __future__ import annotations

import asyncio
import json
import tarfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.durable.sqlite import SqliteDurableStore
from shared.ledger.backup import BackupSettings, log_position
from shared.log.sqlite import SqliteLog
from tests.conftest import ledger_cli
from tests.integration.web_servers import ServiceProcess, start_service

pytestmark = pytest.mark.slow

CLERK = "demo-intake-clerk"
FAST = {
    "LEDGER_LOG_PARTITIONS": "3",
    "LEDGER_PASSWORD_MEMORY_KIB": "64",
    "LEDGER_PASSWORD_TIME_COST": "1",
    "LEDGER_PASSWORD_PARALLELISM": "1",
    "LEDGER_READ_YOUR_WRITES_SECONDS": "20",
    "LEDGER_PROJECTOR_POLL_SECONDS": "0.2",
}


def complaint(i: int) -> dict[str, Any]:
    return {
        "channel": "web_form",
        "unit": "city-housing-bureau",
        "category": "窗口服务",
        "text": f"第{i}次反映：窗口工作人员长时间离岗，群众排队无人办理。",
    }


def token(svc: ServiceProcess, password: str) -> str:
    r = httpx.post(
        svc.url + "/auth/token", json={"staff_id": CLERK, "password": password}, timeout=30
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


class Writers:
    """Complaints through HTTP and durable entries through the adapter, until stopped."""

    def __init__(self, svc: ServiceProcess, tok: str, durable: Path) -> None:
        self.svc, self.tok, self.durable = svc, tok, durable
        self.answered: list[tuple[float, float, dict[str, Any]]] = []  # sent, answered, body
        self.durable_written: list[tuple[float, int]] = []  # done at, sequence number
        self.stop = threading.Event()
        self.errors: list[str] = []
        self._threads = [
            threading.Thread(target=self._complaints, daemon=True),
            threading.Thread(target=self._durable, daemon=True),
        ]

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def join(self) -> None:
        self.stop.set()
        for t in self._threads:
            t.join(60)

    def _complaints(self) -> None:
        with httpx.Client(base_url=self.svc.url, timeout=30) as c:
            i = 0
            while not self.stop.is_set():
                i += 1
                sent = time.monotonic()
                r = c.post(
                    "/complaints",
                    json=complaint(i),
                    headers={"Authorization": f"Bearer {self.tok}", "Idempotency-Key": f"b-{i}"},
                )
                if r.status_code != 201:
                    self.errors.append(f"{r.status_code} {r.text[:200]}")
                    return
                self.answered.append((sent, time.monotonic(), r.json()))

    def _durable(self) -> None:
        async def go() -> None:
            store = await SqliteDurableStore.open(self.durable)
            try:
                n = 0
                while not self.stop.is_set():
                    await store.put("backup_probe", f"seq-{n:06d}", {"n": n, "name": "张三"})
                    if n % 10 == 0:
                        await store.put_blob(f"evidence {n}".encode())
                    self.durable_written.append((time.monotonic(), n))
                    n += 1
                    await asyncio.sleep(0.005)
            finally:
                await store.close()

        asyncio.run(go())


def cli_settings(var: Path) -> BackupSettings:
    return BackupSettings(var_dir=var, log_partitions=3)


async def test_backup_while_intake_writes_then_restore_reads_old_cases_and_writes_on(
    tmp_path: Path,
) -> None:
    var, fresh, archive = tmp_path / "var", tmp_path / "fresh", tmp_path / "backup.tar"
    init = ledger_cli(cli_settings(var), "init")
    assert init.returncode == 0, init.stdout + init.stderr
    registered = sum(log_position(var / "ledger.sqlite3").values())

    svc = start_service("intake", var, FAST)
    try:
        passwords = svc.demo_passwords()
        writers = Writers(svc, token(svc, passwords[CLERK]), var / "intake" / "durable.sqlite3")
        writers.start()
        deadline = time.monotonic() + 60
        while len(writers.answered) < 15 and time.monotonic() < deadline and not writers.errors:
            time.sleep(0.1)
        backup_started = time.monotonic()
        out = ledger_cli(cli_settings(var), "backup", str(archive))
        backup_ended = time.monotonic()
        time.sleep(0.5)  # and writes go on after it
        writers.join()
    finally:
        svc.stop()
    assert out.returncode == 0, out.stdout + out.stderr
    assert not writers.errors, writers.errors
    assert "This archive holds private keys" in out.stdout
    during = [b for s, a, b in writers.answered if s >= backup_started and a <= backup_ended]
    assert during, "no complaint was accepted while the backup ran"
    before = [b for s, a, b in writers.answered if a < backup_started]
    assert len(before) >= 15

    # Restore into a fresh var dir; the archive is checked against its manifest first.
    restored = ledger_cli(cli_settings(fresh), "restore", str(archive))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    with tarfile.open(archive) as tar:
        member = tar.extractfile("manifest.json")
        assert member is not None
        manifest = json.loads(member.read())
    position = {int(p): n for p, n in manifest["log"]["position"].items()}

    # The archive's log is one whole state: exactly the records below its position, each
    # complaint answered before the backup started among them, and no more than were written.
    assert log_position(fresh / "ledger.sqlite3") == position
    for body in before:
        [ev] = body["events"]
        assert ev["offset"] < position[ev["partition"]], "an answered complaint is missing"
    log = await SqliteLog.open(fresh / "ledger.sqlite3", 3)
    try:
        assert await log.head() == position
    finally:
        await log.close()
    assert manifest["log"]["records"] <= registered + len(writers.answered)

    verified = ledger_cli(cli_settings(fresh), "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    records = manifest["log"]["records"]
    assert f"{records} records: {records} accepted, 0 normal conflicts, 0 tampered" in (
        verified.stdout.replace("\n", " ")
    )

    # The durable store came back as one committed state: a prefix of what was written.
    store = await SqliteDurableStore.open(fresh / "intake" / "durable.sqlite3")
    try:
        keys = [e.key for e in await store.scan("backup_probe", limit=100_000)]
        assert keys == [f"seq-{n:06d}" for n in range(len(keys))]
        done_before = [n for at, n in writers.durable_written if at < backup_started]
        assert len(keys) > max(done_before)
        assert len(await store.blobs(limit=100_000)) == (len(keys) + 9) // 10
    finally:
        await store.close()

    # A service on the restored var dir: the restored operators sign in, old cases read back
    # (after its projector replays the log), and it writes on.
    svc = start_service("intake", fresh, FAST)
    try:
        assert svc.demo_passwords() == passwords  # the identity store came back with them
        tok = token(svc, passwords[CLERK])
        auth = {"Authorization": f"Bearer {tok}"}
        with httpx.Client(base_url=svc.url, timeout=60) as c:
            for body in [*before[:: max(1, len(before) // 8)], before[-1]]:
                after = ",".join(f"{p}:{n}" for p, n in body["position"].items())
                r = c.get(f"/complaints/{body['stream']}", params={"after": after}, headers=auth)
                assert r.status_code == 200, r.text
                assert r.headers["ledger-read-position"] == "reached"
                assert r.json()["case_id"] == body["stream"]
                assert r.json()["status"] == "received"
            new = c.post(
                "/complaints",
                json=complaint(10_000),
                headers={**auth, "Idempotency-Key": "after-restore-1"},
            )
            assert new.status_code == 201, new.text
            nb = new.json()
            after = ",".join(f"{p}:{n}" for p, n in nb["position"].items())
            r = c.get(f"/complaints/{nb['stream']}", params={"after": after}, headers=auth)
            assert r.status_code == 200, r.text
    finally:
        svc.stop()
    [ev] = nb["events"]
    assert ev["offset"] >= position[ev["partition"]]  # appended after the restored head
    again = ledger_cli(cli_settings(fresh), "verify")
    assert again.returncode == 0, again.stdout + again.stderr
