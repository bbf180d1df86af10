"""Two bodies' intake deployments on one log (SQLite, and Kafka with 3 partitions): each writes
complaints through HTTP with its own key; `ledger verify` passes; body A's key under body B's
source is tampering; an intake writing `dispatch.*` and an actor of body B signed by body A are
refused. A key rotated while the service runs: events before verify with the old key, after with
the new, no restart; a revoked key stops writes (503 problem, an error in the log, /readyz)."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from shared.ledger import keystore
from shared.ledger.bootstrap import init_ledger
from shared.ledger.deployments import spec
from shared.ledger.signer import Draft, Signer
from shared.ledger.writer import EventWriter
from shared.log.factory import open_log
from shared.log.port import EventLog, read_all
from shared.rules.verdict import Reason
from shared.service import declaration
from shared.web.roles import Role
from shared.web.settings import WebSettings
from tests.conftest import REPO, settings_env, settings_for
from tests.samples import SAMPLES, new_case
from tests.web_fixtures import assert_problem, bearer, client, fast_settings, token_for

BODY_A, BODY_B = "efficiency-office", "petitions-office"  # 市效能办, 信访部门
DEPLOYMENTS = f"""
[[deployment]]
name = "intake-a"
service = "intake"
body = "{BODY_A}"

[[deployment]]
name = "intake-b"
service = "intake"
body = "{BODY_B}"
port = 8101
"""
COMPLAINT: dict[str, Any] = {
    "channel": "web_form",
    "unit": "city-housing-bureau",
    "category": "窗口服务",
    "text": "窗口工作人员长时间离岗，群众排队无人办理。",
}
CLERK = "demo-intake-clerk"
BACKENDS = [
    pytest.param("sqlite", id="sqlite-3"),
    pytest.param("kafka", id="kafka-3", marks=pytest.mark.kafka),
]


@dataclass
class TwoBodies:
    settings: WebSettings
    log: EventLog

    def app(self, name: str) -> FastAPI:
        return declaration("intake").create_app(self.settings, spec(name, self.settings))


@pytest.fixture(params=BACKENDS)
async def bodies(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[TwoBodies]:
    base = settings_for(request.param, 3, tmp_path / "var")
    file = tmp_path / "deployments.toml"
    file.write_text(DEPLOYMENTS, encoding="utf-8")
    settings = fast_settings(
        base.var_dir,
        log_backend=base.log_backend,
        log_partitions=3,
        kafka_bootstrap=base.kafka_bootstrap,
        kafka_topic=base.kafka_topic,
        deployments_file=file,
        key_check_seconds=0.2,
        projector_poll_seconds=0.1,
    )
    log = await open_log(settings)
    await init_ledger(log, settings)
    try:
        yield TwoBodies(settings, log)
    finally:
        await log.close()


async def ledger(settings: WebSettings, *args: str) -> tuple[int, str]:
    """The real `ledger` command, run without blocking the services' event loop."""
    env = settings_env(settings)
    env.update({"COLUMNS": "200", "LEDGER_DEPLOYMENTS_FILE": str(settings.deployments_file)})
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "shared.cli.main",
        *args,
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 300)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def file_complaint(c: httpx.AsyncClient, token: str, key: str) -> dict[str, Any]:
    r = await c.post("/complaints", json=COMPLAINT, headers=bearer(token, key))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def stored(log: EventLog, event_id: str) -> dict[str, Any]:
    async for rec in read_all(log):
        env = orjson.loads(rec.record)
        if env["id"] == event_id:
            return dict(env)
    raise AssertionError(f"{event_id} is not in the log")


async def test_two_bodies_intakes_write_with_their_own_keys_and_nothing_crosses(
    bodies: TwoBodies,
) -> None:
    s, log = bodies.settings, bodies.log
    app_a, app_b = bodies.app("intake-a"), bodies.app("intake-b")
    key_a, key_b = keystore.load(s, "intake-a"), keystore.load(s, "intake-b")
    assert key_a.kid != key_b.kid
    assert (s.var_dir / "intake-a" / "identity.sqlite3").exists()  # each its own stores
    assert (s.var_dir / "intake-b" / "identity.sqlite3").exists()
    async with (
        client(app_a) as a,
        app_a.router.lifespan_context(app_a),
        client(app_b) as b,
        app_b.router.lifespan_context(app_b),
    ):
        token_a, token_b = await token_for(a, app_a, CLERK), await token_for(b, app_b, CLERK)
        # A token of one deployment is nothing at the other (each has its own identity store).
        r = await b.post("/complaints", json=COMPLAINT, headers=bearer(token_a, "x"))
        assert r.status_code == 401
        written = {
            "a": [await file_complaint(a, token_a, f"a-{i}") for i in range(3)],
            "b": [await file_complaint(b, token_b, f"b-{i}") for i in range(3)],
        }
        # An operator of body B at body A's intake: its acts are refused (acts_for).
        app_a.state.ledger.identity.add_operator(
            "b-clerk", BODY_B, [Role.INTAKE_CLERK], "correct horse battery staple"
        )
        r = await a.post(
            "/auth/token",
            json={"staff_id": "b-clerk", "password": "correct horse battery staple"},
        )
        head = await log.head()
        r = await a.post(
            "/complaints", json=COMPLAINT, headers=bearer(r.json()["access_token"], "b-at-a")
        )
        assert assert_problem(r, 409, "conflict")["reason"] == "foreign_key"
        assert await log.head() == head
    for who, key, body in (("a", key_a, BODY_A), ("b", key_b, BODY_B)):
        for answer in written[who]:
            env = await stored(log, answer["events"][0]["id"])
            assert env["source"] == f"/bodies/{body}/intake"
            assert env["kid"] == key.kid
            assert env["actor"] == f"{body}/{CLERK}"
    code, out = await ledger(s, "verify", "--no-seal")
    assert code == 0, out

    writer_a = EventWriter(
        log, Signer(spec("intake-a", s).deployment, key_a), keystore.genesis_public(s)
    )
    head = await log.head()
    stream = written["a"][0]["stream"]
    # Rights: an intake may not write dispatch.*, whichever body it serves.
    assigned = Draft(
        "ledger.dispatch.assigned.v1",
        SAMPLES["ledger.dispatch.assigned.v1"],
        f"{BODY_A}/D001",
    )
    refused = await writer_a.submit(stream, lambda _state: [assigned])
    assert refused.refused is not None and refused.refused.reason is Reason.no_right
    # acts_for: body A's intake may not sign for an actor of body B.
    foreign_actor = Draft(
        "ledger.complaint.received.v1", SAMPLES["ledger.complaint.received.v1"], f"{BODY_B}/X1"
    )
    refused = await writer_a.submit(new_case(), lambda _state: [foreign_actor])
    assert refused.refused is not None and refused.refused.reason is Reason.foreign_key
    assert await log.head() == head  # both refused before signing: nothing appended
    code, out = await ledger(s, "verify", "--no-seal")
    assert code == 0, out

    # Body A's key under body B's source: tampering, named by verify.
    impostor = Signer(spec("intake-b", s).deployment, key_a)
    genuine = Draft(
        "ledger.complaint.received.v1", SAMPLES["ledger.complaint.received.v1"], f"{BODY_B}/X1"
    )
    reg = (await writer_a.registry(refresh=True)).registry
    forged_stream = new_case()
    forged = impostor.sign(
        forged_stream,
        genuine,
        prev=None,
        regseq=reg.version,
        reghash=reg.hash_at(reg.version),
    )
    [w] = await writer_a.submit_signed(forged_stream, [forged])
    assert w.verdict.reason is Reason.foreign_key
    code, out = await ledger(s, "verify", "--no-seal")
    assert code == 1 and "foreign_key" in out, out


async def test_a_key_rotated_while_the_service_runs_then_revoked(
    bodies: TwoBodies, caplog: pytest.LogCaptureFixture
) -> None:
    s, log = bodies.settings, bodies.log
    app = bodies.app("intake-b")
    old = keystore.load(s, "intake-b")
    async with client(app) as c, app.router.lifespan_context(app):
        token = await token_for(c, app, CLERK)
        before = await file_complaint(c, token, "before")
        code, out = await ledger(s, "keys", "rotate", "intake-b", "--grace-seconds", "1.5")
        assert code == 0, out
        new = keystore.load(s, "intake-b")
        assert new.kid != old.kid and new.kid in out and old.kid in out
        after = await file_complaint(c, token, "after")
        env_before = await stored(log, before["events"][0]["id"])
        env_after = await stored(log, after["events"][0]["id"])
        assert (env_before["kid"], env_after["kid"]) == (old.kid, new.kid)  # no restart
        assert (await c.get("/readyz")).status_code == 200
        code, out = await ledger(s, "verify", "--no-seal")
        assert code == 0, out

        caplog.set_level(logging.ERROR)
        code, out = await ledger(s, "keys", "revoke", "intake-b", "--kid", new.kid)
        assert code == 0, out
        for _ in range(100):  # within a few key checks (0.2 s each)
            ready = await c.get("/readyz")
            if ready.status_code == 503:
                break
            await asyncio.sleep(0.1)
        problem = assert_problem(ready, 503, "not-ready")
        [check] = [x for x in problem["checks"] if x["name"] == "signing_key"]
        assert not check["ok"] and "revoked" in check["reason"] and new.kid in check["reason"]
        head = await log.head()
        r = await c.post("/complaints", json=COMPLAINT, headers=bearer(token, "revoked"))
        body = assert_problem(r, 503, "signing-key-revoked")
        assert body["kid"] == new.kid
        assert await log.head() == head  # nothing written
        assert any(
            "revoked" in rec.getMessage() and new.kid in rec.getMessage() for rec in caplog.records
        )
    code, out = await ledger(s, "verify", "--no-seal")
    assert code == 0, out


def _mode(path: Path) -> int:
    return os.stat(path).st_mode & 0o777


async def test_a_body_s_key_registered_through_files_without_the_genesis_key_at_the_log(
    tmp_path: Path,
) -> None:
    base = settings_for("sqlite", 3, tmp_path / "var")
    file = tmp_path / "deployments.toml"
    file.write_text(DEPLOYMENTS, encoding="utf-8")
    s = fast_settings(base.var_dir, log_partitions=3, deployments_file=file)
    log = await open_log(s)
    try:
        await init_ledger(log, s, (spec("intake-a", s),))  # body B is not registered yet
        # Where body B's service runs: its key pair; only the public key leaves.
        code, out = await ledger(
            s, "keys", "generate", "intake-b", "--out", str(tmp_path / "b.json")
        )
        assert code == 0, out
        key_b = keystore.load(s, "intake-b")
        assert (
            key_b.public.text in out
            and keystore.key_path(s, "intake-b").read_text().strip() not in out
        )
        assert _mode(keystore.key_path(s, "intake-b")) == 0o600
        assert _mode(keystore.key_dir(s, "intake-b")) == 0o700
        code, out = await ledger(s, "keys", "list")
        head = next(line.split(": ", 1)[1] for line in out.splitlines() if "registry head" in line)
        # Where the genesis key is: the signed registration, made without the log.
        reg_file = tmp_path / "register-b.json"
        code, out = await ledger(
            s,
            "keys",
            "register",
            "intake-b",
            "--public-key",
            str(tmp_path / "b.json"),
            "--head",
            head,
            "--out",
            str(reg_file),
        )
        assert code == 0, out
        stale_file = tmp_path / "stale.json"
        code, out = await ledger(
            s,
            "keys",
            "register",
            "intake-b",
            "--public-key",
            str(tmp_path / "b.json"),
            "--head",
            head,
            "--out",
            str(stale_file),
            "--key-only",
        )
        assert code == 0, out
        altered = orjson.loads(reg_file.read_bytes())
        altered["records"][2] = altered["records"][2].replace("ledger.complaint.*", "ledger.*")
        (tmp_path / "altered.json").write_bytes(orjson.dumps(altered))

        # Where the log is: an altered file appends nothing; the genuine one is accepted.
        before = await log.head()
        code, out = await ledger(s, "keys", "append", str(tmp_path / "altered.json"))
        assert code == 1 and "altered after it was signed" in out and "nothing appended" in out
        assert await log.head() == before
        code, out = await ledger(s, "keys", "append", str(reg_file))
        assert code == 0, out
        # A file made for a registry head that has since moved on: refused, nothing appended.
        moved = await log.head()
        code, out = await ledger(s, "keys", "append", str(stale_file))
        assert code == 1 and "moved on" in out, out
        code, out = await ledger(s, "keys", "append", str(reg_file))
        assert code == 1 and "nothing appended" in out, out
        assert await log.head() == moved
    finally:
        await log.close()

    app = declaration("intake").create_app(s, spec("intake-b", s))
    async with client(app) as c, app.router.lifespan_context(app):
        answer = await file_complaint(c, await token_for(c, app, CLERK), "b-1")
    log = await open_log(s)
    try:
        env = await stored(log, answer["events"][0]["id"])
        assert (env["source"], env["kid"]) == (f"/bodies/{BODY_B}/intake", key_b.kid)
    finally:
        await log.close()
    code, out = await ledger(s, "verify", "--no-seal")
    assert code == 0, out
