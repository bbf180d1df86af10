"""Guessing against a real service process at its default settings: one client guesses one
account's password as fast as it can for 20 s. Printed (``-s``): how many guesses reached the
password check per second, and how many failures came before the lockout; the right password
is then refused too."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from shared.web import Role
from shared.web.demo_operators import demo_staff_id
from shared.web.settings import WebSettings
from tests.integration.web_servers import start_service

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

GUESS_SECONDS = 20.0


def test_guesses_that_get_through(tmp_path: Path) -> None:
    server = start_service("oversight", tmp_path / "var")
    target = demo_staff_id(Role.SUPERVISOR)
    statuses: list[int] = []
    try:
        right = server.demo_passwords()[target]
        with httpx.Client(base_url=server.url, timeout=30) as c:
            stop_at = time.monotonic() + GUESS_SECONDS
            i = 0
            while time.monotonic() < stop_at:
                i += 1
                r = c.post("/auth/token", json={"staff_id": target, "password": f"guess-{i}"})
                statuses.append(r.status_code)
            after = c.post("/auth/token", json={"staff_id": target, "password": right})
    finally:
        server.stop()
    checked = statuses.count(401)
    before_lockout = statuses.index(429) if 429 in statuses else len(statuses)
    defaults = WebSettings()
    long_run = defaults.signin_max_failures_account_client / defaults.signin_lockout_seconds
    print(
        f"\nguessing: {len(statuses)} guesses in {GUESS_SECONDS:g} s, {checked} reached the"
        f" password check ({checked / GUESS_SECONDS:.2f}/s), {before_lockout} failures before"
        f" the lockout; afterwards the right password gets {after.status_code}; long-run bound"
        f" per account and client {long_run:.4f} guesses/s"
    )
    assert before_lockout == defaults.signin_max_failures_account_client
    assert checked == defaults.signin_max_failures_account_client
    assert after.status_code == 429 and int(after.headers["retry-after"]) > 0
