"""Nothing personal travels where it should not. An ID number and a phone number go into
X-Request-ID, Idempotency-Key, the query strings of pages that redirect to sign-in, and every
field of every form (sign-in, the public form, the token and anonymous JSON endpoints); then no
response header or body, no log line of the real server process, and no file under its var
directory holds either of them."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx
import pytest

from shared.web import Role
from shared.web.demo_operators import demo_staff_id
from tests.integration.web_servers import start_service
from tests.web_fixtures import DEMO_BODY

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

ID_NUMBER = "110101199003074218"
PHONE = "13812345678"
VALUES = (ID_NUMBER, PHONE)
HTML = {"accept": "text/html"}
FAST = {
    "LEDGER_PASSWORD_TIME_COST": "1",
    "LEDGER_PASSWORD_MEMORY_KIB": "64",
    "LEDGER_PASSWORD_PARALLELISM": "1",
}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_token(html: str) -> str:
    match = CSRF.search(html)
    assert match
    return match.group(1)


def everything(r: httpx.Response) -> str:
    head = "\n".join(f"{k}: {v}" for k, v in r.headers.multi_items())
    return f"{r.status_code}\n{head}\n{r.content.decode('utf-8', 'replace')}"


def test_personal_values_appear_nowhere(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    server = start_service("intake", var_dir, FAST)
    seen: list[httpx.Response] = []
    try:
        passwords = server.demo_passwords()
        clerk = demo_staff_id(Role.INTAKE_CLERK)
        with httpx.Client(base_url=server.url, timeout=30) as c:

            def keep(r: httpx.Response) -> httpx.Response:
                seen.append(r)
                return r

            token = keep(
                c.post("/auth/token", json={"staff_id": clerk, "password": passwords[clerk]})
            ).json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            for value in VALUES:
                # X-Request-ID on a page, an API call, an error.
                for path in ("/healthz", "/public", "/no/such/page", "/auth/me"):
                    keep(c.get(path, headers={"X-Request-ID": value, **HTML}))
                # Idempotency-Key on a signed-in command (twice: stored, then replayed) and on
                # an anonymous submission (refused: not a UUID).
                for _ in range(2):
                    keep(
                        c.post(
                            "/api/demo/commands",
                            json=DEMO_BODY,
                            headers={**auth, "Idempotency-Key": value, "X-Request-ID": value},
                        )
                    )
                keep(
                    c.post(
                        "/api/public/demo-submissions",
                        json={"content": value, "contact": value},
                        headers={"Idempotency-Key": value},
                    )
                )
                # Every JSON field of an accepted anonymous submission.
                keep(
                    c.post(
                        "/api/public/demo-submissions",
                        json={"content": value, "contact": value},
                        headers={"Idempotency-Key": str(uuid.uuid4())},
                    )
                )
                # Query strings of pages that send a browser to sign in, followed through.
                with httpx.Client(base_url=server.url, timeout=30) as browser:
                    for query in (f"q={value}", f"{value}=1", f"phone={value}&id={value}"):
                        r = keep(browser.get(f"/?{query}", headers=HTML))
                        assert r.status_code == 303
                        keep(browser.get(r.headers["location"], headers=HTML))
                    keep(browser.get(f"/signin?next=/%3Fq%3D{value}", headers=HTML))
                    # Every field of the sign-in form: as staff id and password (enough times
                    # to be locked out, so lockouts are written), as next, as the token.
                    form = keep(browser.get("/signin", headers=HTML))
                    for i in range(12):
                        r = keep(
                            browser.post(
                                "/signin",
                                data={
                                    "staff_id": value,
                                    "password": value,
                                    "next": f"/?q={value}",
                                    "csrf_token": form_token(form.text),
                                },
                                headers=HTML,
                            )
                        )
                        form = r if i % 2 == 0 else form
                    keep(
                        browser.post(
                            "/signin",
                            data={"staff_id": value, "password": value, "csrf_token": value},
                            headers=HTML,
                        )
                    )
                    # Every field of the public form, twice with one token (filed, replayed),
                    # then with a forged token.
                    page = keep(browser.get("/public/demo-form", headers=HTML))
                    fields = {"content": value, "contact": value}
                    for _ in range(2):
                        keep(
                            browser.post(
                                "/public/demo-form",
                                data={**fields, "csrf_token": form_token(page.text)},
                                headers=HTML,
                            )
                        )
                    keep(
                        browser.post(
                            "/public/demo-form", data={**fields, "csrf_token": value}, headers=HTML
                        )
                    )
                    keep(
                        browser.post(
                            "/public/demo-form",
                            data={"content": value * 200, "csrf_token": form_token(page.text)},
                            headers=HTML,
                        )
                    )
                # The token endpoint's fields, to lockout and beyond.
                for _ in range(12):
                    keep(c.post("/auth/token", json={"staff_id": value, "password": value}))
    finally:
        server.stop()

    statuses = {r.status_code for r in seen}
    assert {200, 201, 303, 401, 403, 404, 422, 429} <= statuses, statuses
    for r in seen:
        text = everything(r)
        for value in VALUES:
            assert value not in text, (r.request.method, r.request.url.path, r.status_code)
    log = server.log_text()
    assert '"event":"signin.failed"' in log and '"event":"signin.locked"' in log
    for value in VALUES:
        assert value not in log
    files = [p for p in var_dir.rglob("*") if p.is_file()]
    assert any(p.name == "idempotency.sqlite3" for p in files)
    for path in files:
        data = path.read_bytes()
        for value in VALUES:
            assert value.encode() not in data, path
