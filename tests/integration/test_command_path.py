"""The command path through a real service: intake records a complaint (decide, check, sign,
append, read back, answer); a rule-breaking decision is refused before it reaches the log; a
retry gets the first answer, even after the process was killed between append and answer; two
operators' equal idempotency keys are two commands."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

import services.intake.commands as intake_commands
from services.intake.app import create
from shared.ledger.bootstrap import init_ledger
from shared.ledger.configuration import publish_defaults
from shared.ledger.signer import Draft
from shared.log.factory import open_log
from shared.log.port import EventLog, read_all
from shared.rules.stream import StreamState
from shared.web.roles import Role
from shared.web.settings import WebSettings
from tests.conftest import REPO
from tests.web_fixtures import assert_problem, bearer, client, fast_settings, token_for

COMPLAINT: dict[str, Any] = {
    "channel": "web_form",
    "unit": "city-housing-bureau",
    "category": "窗口服务",
    "text": "窗口工作人员长时间离岗，群众排队无人办理。",
}
CLERK = "demo-intake-clerk"


@pytest.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[tuple[WebSettings, EventLog]]:
    settings = fast_settings(tmp_path / "var", log_partitions=3, idempotency_lock_seconds=1.0)
    log = await open_log(settings)
    await init_ledger(log, settings)
    await publish_defaults(log, settings)  # as `make run` would: its parent then writes nothing
    try:
        yield settings, log
    finally:
        await log.close()


async def records_of(log: EventLog, stream: str) -> list[dict[str, Any]]:
    return [orjson.loads(r.record) async for r in read_all(log) if r.stream == stream]


async def test_a_complaint_is_recorded_and_a_retry_gets_the_first_answer(
    ledger: tuple[WebSettings, EventLog],
) -> None:
    settings, log = ledger
    app = create(settings)
    async with client(app) as c, app.router.lifespan_context(app):
        token = await token_for(c, app, CLERK)
        r = await c.post("/complaints", json=COMPLAINT, headers=bearer(token, "k-1"))
        assert r.status_code == 201, r.text
        body = r.json()
        stream = body["stream"]
        [event] = body["events"]
        assert event["type"] == "ledger.complaint.received.v1"
        stored = await records_of(log, stream)
        assert [e["id"] for e in stored] == [event["id"]]
        assert stored[0]["actor"] == f"efficiency-office/{CLERK}"
        assert "k-1" not in orjson.dumps(stored[0]).decode()  # the raw key never reaches the log
        head = await log.head()
        assert body["position"] == {str(event["partition"]): event["offset"] + 1}

        again = await c.post("/complaints", json=COMPLAINT, headers=bearer(token, "k-1"))
        assert again.status_code == 201 and again.json() == body
        assert again.headers.get("idempotent-replayed") == "true"
        assert await log.head() == head


async def test_a_rule_breaking_decision_gets_409_naming_the_reason_and_writes_nothing(
    ledger: tuple[WebSettings, EventLog], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, log = ledger
    app = create(settings)
    async with client(app) as c, app.router.lifespan_context(app):
        token = await token_for(c, app, CLERK)
        before = await log.head()

        def declines_a_new_case(state: StreamState, *_: Any, **__: Any) -> list[Draft]:
            # A handler bug: a new case cannot be declined (the rule book says wrong_state).
            data = {"reason_code": "out_of_scope", "reason": "不属于受理范围"}
            return [Draft("ledger.complaint.declined.v1", data, f"efficiency-office/{CLERK}")]

        monkeypatch.setattr(intake_commands, "receive", declines_a_new_case)
        r = await c.post("/complaints", json=COMPLAINT, headers=bearer(token, "bad-1"))
        problem = assert_problem(r, 409, "conflict")
        assert problem["reason"] == "wrong_state"
        assert await log.head() == before

        def assigns_without_the_right(state: StreamState, *_: Any, **__: Any) -> list[Draft]:
            data = {
                "lead_unit": "unit:a",
                "due_at": "2026-12-01T00:00:00Z",
                "calendar_version": "2026",
                "urgency": "normal",
                "direct": True,
            }
            return [Draft("ledger.dispatch.assigned.v1", data, f"efficiency-office/{CLERK}")]

        monkeypatch.setattr(intake_commands, "receive", assigns_without_the_right)
        r = await c.post("/complaints", json=COMPLAINT, headers=bearer(token, "bad-2"))
        problem = assert_problem(r, 409, "conflict")
        assert problem["reason"] == "no_right"  # intake may not write dispatch.*
        assert await log.head() == before


async def test_two_operators_sending_the_same_key_both_succeed(
    ledger: tuple[WebSettings, EventLog],
) -> None:
    settings, log = ledger
    app = create(settings)
    app.state.ledger.identity.add_operator(
        "clerk-2", "efficiency-office", [Role.INTAKE_CLERK], "second-password"
    )
    async with client(app) as c, app.router.lifespan_context(app):
        first = await token_for(c, app, CLERK)
        r2 = await c.post(
            "/auth/token", json={"staff_id": "clerk-2", "password": "second-password"}
        )
        second = r2.json()["access_token"]
        a = await c.post("/complaints", json=COMPLAINT, headers=bearer(first, "same-key"))
        b = await c.post("/complaints", json=COMPLAINT, headers=bearer(second, "same-key"))
        assert a.status_code == b.status_code == 201, (a.text, b.text)
        assert a.json()["stream"] != b.json()["stream"]
        assert a.json()["events"][0]["id"] != b.json()["events"][0]["id"]
        for r in (a, b):
            assert len(await records_of(log, r.json()["stream"])) == 1


# -- killed between append and answer ---------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(settings: WebSettings, port: int, crash: bool) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "LEDGER_VAR_DIR": str(settings.var_dir),
        "LEDGER_LOG_PARTITIONS": str(settings.log_partitions),
        "LEDGER_INTAKE_PORT": str(port),
        "LEDGER_PASSWORD_MEMORY_KIB": "64",
        "LEDGER_PASSWORD_TIME_COST": "1",
        "LEDGER_PASSWORD_PARALLELISM": "1",
        "LEDGER_IDEMPOTENCY_LOCK_SECONDS": "1",
    }
    env.pop("LEDGER_CRASH_AT", None)
    if crash:
        env["LEDGER_CRASH_AT"] = "after_append_before_answer:1"
    return subprocess.Popen(
        [sys.executable, "-m", "shared.run", "intake"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_up(proc: subprocess.Popen[str], url: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        assert time.monotonic() < deadline, "service did not come up"
        time.sleep(0.2)


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def test_killed_between_append_and_answer_the_retry_gets_the_first_result(
    ledger: tuple[WebSettings, EventLog],
) -> None:
    settings, log = ledger
    # Operators and a token, made by an app on the same var dir (the processes reuse them).
    app: FastAPI = create(settings)
    async with client(app) as c:
        token = await token_for(c, app, CLERK)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    headers = bearer(token, "crash-1")

    proc = _serve(settings, port, crash=True)
    try:
        _wait_up(proc, url)
        before = await log.head()
        with pytest.raises(httpx.TransportError):
            httpx.post(url + "/complaints", json=COMPLAINT, headers=headers, timeout=30)
        assert proc.wait(timeout=20) == 1  # its service process was killed
        assert f"ended with status {-signal.SIGKILL}" in (proc.stdout.read() if proc.stdout else "")
    finally:
        _stop(proc)
    after_crash = await log.head()
    assert sum(after_crash.values()) == sum(before.values()) + 1  # appended, never answered

    proc = _serve(settings, port, crash=False)
    try:
        _wait_up(proc, url)
        time.sleep(1.1)  # the dead attempt's claim on the key expires (lock: 1 s)
        r = httpx.post(url + "/complaints", json=COMPLAINT, headers=headers, timeout=30)
        assert r.status_code == 201, r.text
        body = r.json()
        again = httpx.post(url + "/complaints", json=COMPLAINT, headers=headers, timeout=30)
        assert again.status_code == 201 and again.json() == body
    finally:
        _stop(proc)
    assert await log.head() == after_crash  # nothing more was written
    [stored] = await records_of(log, body["stream"])
    assert body["events"][0]["id"] == stored["id"]
    p, o = body["events"][0]["partition"], body["events"][0]["offset"]
    assert after_crash[p] == o + 1


# -- read-your-writes --------------------------------------------------------------------------


async def test_a_read_after_a_command_sees_its_effect_and_a_timed_out_wait_says_so(
    tmp_path: Path,
) -> None:
    # A slow poll: without the wait (and the nudge a command gives), the read would miss it.
    settings = fast_settings(
        tmp_path / "var", log_partitions=3, projector_poll_seconds=5.0, read_your_writes_seconds=3
    )
    log = await open_log(settings)
    try:
        await init_ledger(log, settings)
        app = create(settings)
        async with client(app) as c, app.router.lifespan_context(app):
            token = await token_for(c, app, CLERK)
            r = await c.post("/complaints", json=COMPLAINT, headers=bearer(token, "ryw-1"))
            assert r.status_code == 201, r.text
            body = r.json()
            after = ",".join(f"{p}:{n}" for p, n in body["position"].items())
            read = await c.get(
                f"/complaints/{body['stream']}", params={"after": after}, headers=bearer(token)
            )
            assert read.status_code == 200, read.text
            assert read.headers["ledger-read-position"] == "reached"
            assert read.json()["status"] == "received"

            p, n = next(iter(body["position"].items()))
            started = time.monotonic()
            ahead = await c.get(
                f"/complaints/{body['stream']}",
                params={"after": f"{p}:{int(n) + 1000}"},
                headers=bearer(token),
            )
            assert time.monotonic() - started >= 2.9  # it waited the bound, then gave up
            assert ahead.status_code == 200
            assert ahead.headers["ledger-read-position"] == "timeout"
    finally:
        await log.close()


async def test_a_command_without_the_deployment_key_is_a_503_and_missing_key_header_a_422(
    tmp_path: Path,
) -> None:
    """No `ledger init` yet: the service answers, but a command cannot be signed — a 503
    problem saying so (with Retry-After), never a 500; a command without its Idempotency-Key
    is a validation problem whatever the ledger's state."""
    settings = fast_settings(tmp_path / "var")
    app = create(settings)
    async with client(app) as c:
        token = await token_for(c, app, CLERK)
        r = await c.post("/complaints", json=COMPLAINT, headers=bearer(token, "k-1"))
        assert_problem(r, 503, "ledger-unavailable")
        assert r.headers["retry-after"]
        no_key = await c.post(
            "/complaints", json=COMPLAINT, headers={"Authorization": f"Bearer {token}"}
        )
        assert no_key.status_code == 422
        assert no_key.headers["content-type"].startswith("application/problem+json")
    assert not (tmp_path / "var" / "ledger.sqlite3").exists()  # nothing was written
