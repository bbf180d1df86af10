"""schemathesis against a real service app (dispatch): no generated request, valid or not,
signed in or not, makes the server fail (5xx), and every answer matches the OpenAPI document."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings

from services.dispatch.app import create
from shared.web import Role
from shared.web.demo_operators import demo_staff_id
from tests.web_fixtures import demo_passwords, fast_settings

# The schema is loaded at collection time, so the app is built at import, on a throwaway dir.
_VAR = Path(tempfile.mkdtemp(prefix="ledger-schemathesis-"))
atexit.register(shutil.rmtree, _VAR, ignore_errors=True)
app = create(fast_settings(_VAR))
_officer = app.state.ledger.identity.authenticate(
    demo_staff_id(Role.DISPATCH_OFFICER), demo_passwords(app)[demo_staff_id(Role.DISPATCH_OFFICER)]
)
assert _officer is not None

# /readyz answers 503 by design while the read model's projector is not running (it runs in
# the app's lifespan, which this transport does not start): test_service_read_model.py covers it.
schema = schemathesis.openapi.from_asgi("/openapi.json", app).exclude(path="/readyz")


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error(case: schemathesis.Case) -> None:
    # A fresh token per case: /auth/revoke is among the operations and would end a shared one.
    token = app.state.ledger.identity.issue("bearer", _officer, 3600).token
    headers = dict(case.headers or {})
    headers["Authorization"] = f"Bearer {token}"
    case.call_and_validate(headers=headers)
