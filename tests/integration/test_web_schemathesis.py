"""schemathesis against every service's real app: no generated request, valid or not, signed in
or not, makes a server fail (5xx), and every answer matches the OpenAPI document.

Each generated case is sent twice: without a token, then with a bearer token of an operator
holding every role (so role checks pass and the handlers themselves are reached)."""

from __future__ import annotations

import asyncio
import atexit
import importlib
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from shared.ledger.bootstrap import init_ledger
from shared.ledger.configuration import publish_defaults
from shared.log.factory import open_log
from shared.web import Operator, Role
from shared.web.settings import WebSettings
from tests.web_fixtures import fast_settings

ROOT = Path(__file__).resolve().parents[2]
# Every service the repository has: each is a package under services/ with an app.py.
SERVICES = sorted(p.parent.name for p in (ROOT / "services").glob("*/app.py"))

# The schemas are loaded at collection time, so the apps are built at import, on a throwaway dir.
_VAR = Path(tempfile.mkdtemp(prefix="ledger-schemathesis-"))
atexit.register(shutil.rmtree, _VAR, ignore_errors=True)
# Throttles opened wide: generated requests should reach the handlers, not the 429.
_OPEN = {
    "public_rate_limit": "1000000/minute",
    "signin_rate_limit": "1000000/minute",
    "signin_max_failures_account_client": 1_000_000,
    "signin_max_failures_account": 1_000_000,
    "signin_max_failures_client": 1_000_000,
}


def _initialised(var_dir: Path) -> WebSettings:
    """Settings on a ledger with its keys and deployments (`ledger init`) and the default
    configuration (as `make run` publishes it), so commands that pass every check really reach
    the log."""
    s = fast_settings(var_dir, **_OPEN)

    async def init() -> None:
        log = await open_log(s)
        try:
            await init_ledger(log, s)
            await publish_defaults(log, s)
        finally:
            await log.close()

    asyncio.run(init())
    return s


def _app(service: str) -> tuple[FastAPI, Operator]:
    module = importlib.import_module(f"services.{service}.app")
    app: FastAPI = module.create(_initialised(_VAR / service))
    identity = app.state.ledger.identity
    everyone = identity.add_operator("fuzz-all-roles", "efficiency-office", list(Role), "x" * 16)
    return app, everyone


def _test_for(service: str) -> Callable[..., None]:
    app, operator = _app(service)
    # /readyz answers 503 by design while the read model's projector is not running (it runs
    # in the app's lifespan, which this transport does not start): test_service_read_model.py
    # covers it.
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).exclude(path="/readyz")

    # Configuration contents have rules JSON Schema cannot state (ids listed once, parents in
    # the same directory, no cycles, a repeat never milder, the events' JSON domain): schema-
    # valid content may get its documented 422, so only their positive-data check is skipped.
    # Likewise a complaint's receiving body and a resolved unit must be in the directories in
    # force (and the body one this deployment acts for): a documented 422 too. And an e-mail
    # upload: any bytes are schema-valid, only an RFC 5322 message is one; so with a staff
    # directory import, where only the CSV or JSON Lines format is one.
    def excluded(case: schemathesis.Case) -> list[Any]:
        skip = case.path.startswith(("/admin/config/", "/complaints")) or (
            case.path in ("/mail/messages", "/staff-directory/import")
        )
        return [positive_data_acceptance] if skip else []

    @schema.parametrize()
    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def test_no_server_error(case: schemathesis.Case) -> None:
        anonymous = dict(case.headers or {})
        anonymous.pop("Authorization", None)
        case.call_and_validate(headers=anonymous, excluded_checks=excluded(case))
        # A fresh token per case: /auth/revoke is among the operations and would end a shared
        # one.
        token = app.state.ledger.identity.issue("bearer", operator, 3600).token
        case.call_and_validate(
            headers={**anonymous, "Authorization": f"Bearer {token}"},
            excluded_checks=excluded(case),
        )

    test_no_server_error.__name__ = f"test_{service}_no_server_error"
    return test_no_server_error


for _service in SERVICES:
    globals()[f"test_{_service}_no_server_error"] = _test_for(_service)
