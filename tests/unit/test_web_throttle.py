"""Password guessing through HTTP: the 11th wrong password for one account from one client gets
429 with Retry-After, the right one is refused until the lockout ends or an administrator lifts
it, other accounts and other clients are unaffected; per-client attempt rates, client-wide and
account-wide lockouts; failures logged with the account hashed and the client address."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from shared.web import ProblemError, Role
from shared.web.demo_operators import demo_staff_id
from shared.web.password_gate import PasswordGate
from shared.web.problems import BUSY
from tests.web_fixtures import (
    assert_problem,
    bearer,
    build_app,
    csrf_from,
    demo_passwords,
    log_lines,
)

AUDITOR = demo_staff_id(Role.AUDITOR)
CLERK = demo_staff_id(Role.INTAKE_CLERK)
ADMIN = demo_staff_id(Role.ADMIN)
HTML = {"accept": "text/html"}


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def from_client(app: FastAPI, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(address, 40000)),
        base_url="http://testserver",
    )


async def sign_in(c: httpx.AsyncClient, staff_id: str, password: str) -> httpx.Response:
    return await c.post("/auth/token", json={"staff_id": staff_id, "password": password})


async def test_eleventh_wrong_password_is_429_and_locks_only_that_pair(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = Clock()
    app = build_app(tmp_path, clock=clock)
    right = demo_passwords(app)
    capsys.readouterr()
    async with (
        from_client(app, "203.0.113.7") as attacker,
        from_client(app, "198.51.100.9") as owner,
    ):
        for i in range(10):
            r = await sign_in(attacker, AUDITOR, f"guess-{i}")
            assert_problem(r, 401, "invalid-credentials")
        eleventh = await sign_in(attacker, AUDITOR, "guess-10")
        body = assert_problem(eleventh, 429, "too-many-requests")
        retry = int(eleventh.headers["retry-after"])
        assert 850 <= retry <= 900 and body["retry_after"] == retry
        # The right password is refused too, from the attacker's address…
        assert_problem(await sign_in(attacker, AUDITOR, right[AUDITOR]), 429, "too-many-requests")
        # …while another account from that address, and the owner elsewhere, sign in.
        assert (await sign_in(attacker, CLERK, right[CLERK])).status_code == 200
        assert (await sign_in(owner, AUDITOR, right[AUDITOR])).status_code == 200
        # The lockout ends by itself.
        clock.now += 901
        assert (await sign_in(attacker, AUDITOR, right[AUDITOR])).status_code == 200

    lines = log_lines(capsys.readouterr().out)
    failed = [line for line in lines if line["event"] == "signin.failed"]
    assert len(failed) == 10
    assert {line["client"] for line in failed} == {"203.0.113.7"}
    assert len({line["account"] for line in failed}) == 1
    assert AUDITOR not in str(failed)  # the account is a keyed hash, never the typed id
    locked = [line for line in lines if line["event"] == "signin.locked"]
    assert [line["scope"] for line in locked] == ["account_client"]


async def test_an_administrator_lifts_a_lockout(tmp_path: Path) -> None:
    app = build_app(tmp_path)
    right = demo_passwords(app)
    async with from_client(app, "203.0.113.7") as attacker, from_client(app, "10.1.1.1") as desk:
        for i in range(10):
            await sign_in(attacker, AUDITOR, f"guess-{i}")
        assert_problem(await sign_in(attacker, AUDITOR, right[AUDITOR]), 429, "too-many-requests")

        admin = (await sign_in(desk, ADMIN, right[ADMIN])).json()["access_token"]
        auditor = (await sign_in(desk, AUDITOR, right[AUDITOR])).json()["access_token"]
        listed = await desk.get("/auth/lockouts", headers=bearer(admin))
        assert listed.status_code == 200
        [lock] = listed.json()
        assert lock["staff_id"] == AUDITOR and lock["client"] and lock["account"]
        # Only an administrator may see or lift lockouts.
        assert_problem(await desk.get("/auth/lockouts", headers=bearer(auditor)), 403, "forbidden")
        refused = await desk.post(
            "/auth/lockouts/lift",
            json={"kind": "account", "staff_id": AUDITOR},
            headers=bearer(auditor, "l0"),
        )
        assert_problem(refused, 403, "forbidden")

        lifted = await desk.post(
            "/auth/lockouts/lift",
            json={"kind": "account", "staff_id": AUDITOR},
            headers=bearer(admin, "l1"),
        )
        assert lifted.status_code == 200 and lifted.json() == {"lifted": 1}
        assert (await desk.get("/auth/lockouts", headers=bearer(admin))).json() == []
        assert (await sign_in(attacker, AUDITOR, right[AUDITOR])).status_code == 200
        # The count was lifted with the lock: one more slip is not a new lockout.
        assert_problem(await sign_in(attacker, AUDITOR, "slip"), 401, "invalid-credentials")
        assert (await sign_in(attacker, AUDITOR, right[AUDITOR])).status_code == 200


async def test_guessing_spread_over_clients_locks_the_account(tmp_path: Path) -> None:
    app = build_app(tmp_path, signin_max_failures_account=6)
    right = demo_passwords(app)
    for n in range(3):
        async with from_client(app, f"192.0.2.{n}") as c:
            for i in range(2):
                await sign_in(c, AUDITOR, f"g{n}{i}")
    async with from_client(app, "192.0.2.200") as fresh:
        r = await sign_in(fresh, AUDITOR, right[AUDITOR])
        assert_problem(r, 429, "too-many-requests")
        assert (await sign_in(fresh, CLERK, right[CLERK])).status_code == 200


async def test_spraying_many_accounts_locks_the_client(tmp_path: Path) -> None:
    app = build_app(tmp_path, signin_max_failures_client=3)
    right = demo_passwords(app)
    async with from_client(app, "203.0.113.50") as sprayer, from_client(app, "10.0.0.2") as other:
        for staff_id in ("a-1", "a-2", "a-3"):
            assert_problem(await sign_in(sprayer, staff_id, "x"), 401, "invalid-credentials")
        assert_problem(await sign_in(sprayer, CLERK, right[CLERK]), 429, "too-many-requests")
        assert (await sign_in(other, CLERK, right[CLERK])).status_code == 200
        # An office behind one address is locked out with the sprayer; an administrator lifts
        # the client's lockout by the address the log names.
        admin = (await sign_in(other, ADMIN, right[ADMIN])).json()["access_token"]
        lifted = await other.post(
            "/auth/lockouts/lift",
            json={"kind": "client", "client": "203.0.113.50"},
            headers=bearer(admin, "lift-client"),
        )
        assert lifted.json() == {"lifted": 1}
        assert (await sign_in(sprayer, CLERK, right[CLERK])).status_code == 200


async def test_attempt_rate_is_limited_per_client_before_hashing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = build_app(tmp_path, signin_rate_limit="3/minute")
    right = demo_passwords(app)
    capsys.readouterr()
    async with from_client(app, "203.0.113.8") as fast, from_client(app, "10.0.0.3") as other:
        for _ in range(3):
            await sign_in(fast, "nobody", "x")
        r = await sign_in(fast, CLERK, right[CLERK])
        assert_problem(r, 429, "too-many-requests")
        assert 1 <= int(r.headers["retry-after"]) <= 60
        assert (await sign_in(other, CLERK, right[CLERK])).status_code == 200
    lines = log_lines(capsys.readouterr().out)
    assert [line["event"] for line in lines].count("signin.failed") == 3
    assert any(line["event"] == "signin.throttled" for line in lines)


async def test_the_sign_in_page_is_throttled_too(tmp_path: Path) -> None:
    app = build_app(tmp_path)
    right = demo_passwords(app)
    async with from_client(app, "203.0.113.9") as browser:
        form = await browser.get("/signin", headers=HTML)
        token = csrf_from(form.text)
        for i in range(10):
            r = await browser.post(
                "/signin",
                data={"staff_id": AUDITOR, "password": f"g{i}", "csrf_token": token},
                headers=HTML,
            )
            assert r.status_code == 401
            token = csrf_from(r.text)
        r = await browser.post(
            "/signin",
            data={"staff_id": AUDITOR, "password": right[AUDITOR], "csrf_token": token},
            headers=HTML,
        )
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert "锁定" in r.text and '<html lang="zh-CN">' in r.text
    assert "ledger_testsvc_session" not in r.headers.get("set-cookie", "")


async def test_token_responses_are_not_stored(tmp_path: Path) -> None:
    app = build_app(tmp_path)
    async with from_client(app, "10.0.0.4") as c:
        ok = await sign_in(c, CLERK, demo_passwords(app)[CLERK])
        bad = await sign_in(c, CLERK, "wrong")
    for r in (ok, bad):
        assert r.headers["cache-control"] == "no-store"
        assert r.headers["pragma"] == "no-cache"


async def test_password_gate_bounds_concurrency_and_queue() -> None:
    gate = PasswordGate(concurrency=1, queue=1)
    release = threading.Event()
    running: list[int] = []
    peak = 0

    def check(n: int) -> int:
        nonlocal peak
        running.append(n)
        peak = max(peak, len(running))
        release.wait(5)
        running.remove(n)
        return n

    first = asyncio.create_task(gate.run(check, 1))
    second = asyncio.create_task(gate.run(check, 2))
    await asyncio.sleep(0.1)
    with pytest.raises(ProblemError) as refused:
        await gate.run(check, 3)
    assert refused.value.problem is BUSY and refused.value.headers["Retry-After"] == "1"
    assert gate.in_use == 1
    release.set()
    assert await asyncio.gather(first, second) == [1, 2]
    assert peak == 1 and gate.refused == 1


async def test_concurrent_guesses_cannot_overshoot_the_lockout(tmp_path: Path) -> None:
    app = build_app(tmp_path, password_hash_concurrency=2, password_hash_queue=64)
    async with from_client(app, "203.0.113.77") as attacker:
        answers = await asyncio.gather(
            *(sign_in(attacker, AUDITOR, f"burst-{i}") for i in range(30))
        )
    statuses = [r.status_code for r in answers]
    assert statuses.count(401) == 10  # exactly the threshold reached the password check
    assert statuses.count(429) == 20
