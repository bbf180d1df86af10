"""Every intake channel of this part into the log through a running intake process (uvicorn on
a loopback port, real HTTP over TCP): the clerk's page entry of a visit, a letter and a call
(signed in with a session cookie and the form's CSRF token), the clerk's JSON API, the public
form, and an Open311 client's POST — each exactly one accepted ``complaint.received`` with its
channel, receiving body and unit; a bad filing on each is a 4xx problem that writes nothing."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx

from tests.integration.intake_channels_world import (
    NUMBER,
    RECEIVED,
    accepted_now,
    head_now,
    intake,
    issue_open311_key,
)
from tests.integration.web_servers import ServiceProcess
from tests.web_fixtures import csrf_from

__all__ = ["intake"]  # the fixture: a running intake on a ledger with the default directories

HTML = {"accept": "text/html"}


def _sign_in(http: httpx.Client, server: ServiceProcess, staff: str) -> None:
    form = http.get("/signin", headers=HTML)
    r = http.post(
        "/signin",
        data={
            "staff_id": staff,
            "password": server.demo_passwords()[staff],
            "csrf_token": csrf_from(form.text),
            "next": "/",
        },
        headers=HTML,
    )
    assert r.status_code == 303, r.text


def test_every_channel_through_a_running_server(intake: tuple[ServiceProcess, Any]) -> None:
    server, settings = intake
    expected: dict[str, tuple[str, str]] = {}  # number -> (channel, unit)
    with httpx.Client(base_url=server.url, timeout=30) as clerk:
        _sign_in(clerk, server, "demo-intake-clerk")
        for channel in ("visit", "letter", "phone"):
            token = csrf_from(clerk.get("/queue", headers=HTML).text)
            key = re.search(r'name="form_key" value="([^"]+)"', clerk.get("/queue").text)
            assert key
            r = clerk.post(
                "/queue/complaints",
                data={
                    "csrf_token": token,
                    "form_key": key[1],
                    "channel": channel,
                    "received_by": "efficiency-office",
                    "stated_received_at": "2026-12-01T10:00",
                    "unit": "市人社局",
                    "text": "社保窗口推诿扯皮，让我来回跑。",
                },
                headers=HTML,
            )
            assert r.status_code == 200, r.text
            number = re.search(rf'class="case-no">({NUMBER})<', r.text)
            assert number
            expected[number[1]] = (channel, "unit:human-resources")
        head = head_now(settings)
        token = csrf_from(clerk.get("/queue", headers=HTML).text)
        bad = clerk.post(
            "/queue/complaints",
            data={
                "csrf_token": token,
                "form_key": str(uuid.uuid4()),
                "channel": "visit",
                "unit": "x",
            },
        )
        assert bad.status_code == 422
        assert bad.headers["content-type"].startswith("application/problem+json")
        assert head_now(settings) == head

    with httpx.Client(base_url=server.url, timeout=30) as api:
        password = server.demo_passwords()["demo-intake-clerk"]
        token = api.post(
            "/auth/token", json={"staff_id": "demo-intake-clerk", "password": password}
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        body = {
            "channel": "phone",
            "unit": "unit:civil-affairs",
            "category": "inaction",
            "text": "低保申请三个月无人处理。",
        }
        r = api.post("/complaints", json=body, headers={**auth, "Idempotency-Key": "api-1"})
        assert r.status_code == 201, r.text
        expected[r.json()["complaint_no"]] = ("phone", "unit:civil-affairs")
        r = api.post(
            "/complaints",
            json={**body, "received_by": "petitions-office"},
            headers={**auth, "Idempotency-Key": "api-2"},
        )
        assert r.status_code == 422
        assert r.headers["content-type"].startswith("application/problem+json")

    with httpx.Client(base_url=server.url, timeout=30) as citizen:
        page = citizen.get("/public/complaint", headers=HTML)
        r = citizen.post(
            "/public/complaint",
            data={
                "csrf_token": csrf_from(page.text),
                "unit": "市民政局",
                "text": "婚姻登记处工作人员态度恶劣。",
            },
            headers=HTML,
        )
        assert r.status_code == 200, r.text
        number = re.search(rf'class="case-no">({NUMBER})<', r.text)
        assert number
        expected[number[1]] = ("web_form", "unit:civil-affairs")
        r = citizen.post("/public/complaint", data={"unit": "市民政局", "text": "没有表单令牌"})
        assert r.status_code == 403
        assert r.headers["content-type"].startswith("application/problem+json")

    with httpx.Client(base_url=server.url, timeout=30) as app:
        key = issue_open311_key(app, server, "hotline-app")
        r = app.post(
            "/open311/v2/requests.json",
            data={
                "api_key": key,
                "service_code": "approval_delay",
                "description": "施工许可审批超期未办。",
                "address_string": "惠城区",
                "attribute[unit]": "市住房和城乡建设局",
            },
        )
        assert r.status_code == 201, r.text
        expected[r.json()[0]["service_request_id"]] = ("open311", "unit:housing-bureau")

    received = {e["data"]["complaint_no"]: e["data"] for e in accepted_now(settings, RECEIVED)}
    assert set(received) == set(expected)  # exactly one accepted receipt per filing
    for number, (channel, unit) in expected.items():
        d = received[number]
        assert (d["channel"], d["unit"], d["received_by"]) == (channel, unit, "efficiency-office")
