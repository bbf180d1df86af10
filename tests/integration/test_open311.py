"""Open311 GeoReport v2 through a real intake process (uvicorn on a loopback port) and a real
HTTP client (httpx over TCP, no ASGI shortcut): the service list and definitions in JSON and
XML; ``requests`` POSTed form-encoded as clients send them, in JSON and XML, each exactly one
accepted ``complaint.received`` (channel ``open311``, the client named as platform, the
receiving body, the unit from ``attribute[unit]``, the contact only as a pseudonym); status
lookups with status fields only, never the text; every bad request answered in the spec's
error format, or problem+json where the spec has none, and nothing written."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest

from tests.integration.intake_channels_world import (
    RECEIVED,
    accepted_now,
    head_now,
    intake,
    issue_open311_key,
)
from tests.integration.web_servers import ServiceProcess

__all__ = ["intake"]  # the fixture: a running intake on a ledger with the default directories

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]
PHONE = "13712345678"
TEXT = "市政务服务中心窗口推诿扯皮，让我去找别的部门。"


def _spec_error(r: httpx.Response, code: int, fmt: str) -> str:
    assert r.status_code == code, r.text
    if fmt == "json":
        [err] = r.json()
        assert err["code"] == code
        return str(err["description"])
    root = ET.fromstring(r.content)
    assert root.tag == "errors"
    assert root.findtext("error/code") == str(code)
    return root.findtext("error/description") or ""


def test_open311_clients_file_and_follow_requests(intake: tuple[ServiceProcess, Any]) -> None:
    server, settings = intake
    with httpx.Client(base_url=server.url, timeout=30) as http:
        services = http.get("/open311/v2/services.json")
        assert services.status_code == 200
        codes = {s["service_code"] for s in services.json()}
        assert {"approval_delay", "buck_passing", "other"} <= codes
        xml_services = ET.fromstring(http.get("/open311/v2/services.xml").content)
        assert xml_services.tag == "services"
        assert {s.findtext("service_code") for s in xml_services.findall("service")} == codes
        definition = http.get("/open311/v2/services/buck_passing.json").json()
        assert definition["attributes"][0]["code"] == "unit"
        xml_def = ET.fromstring(http.get("/open311/v2/services/buck_passing.xml").content)
        assert xml_def.findtext("service_code") == "buck_passing"
        _spec_error(http.get("/open311/v2/services/nope.json"), 404, "json")

        key = issue_open311_key(http, server, "civic-app")
        form = {
            "api_key": key,
            "service_code": "buck_passing",
            "description": TEXT,
            "lat": "23.1125",
            "long": "114.4158",
            "phone": PHONE,
            "first_name": "张",
            "last_name": "三",
            "attribute[unit]": "市政务服务中心",
        }
        filed_json = http.post("/open311/v2/requests.json", data=form)
        assert filed_json.status_code == 201, server.log_text()[-3000:]
        [row] = filed_json.json()
        number_json = row["service_request_id"]
        again = http.post("/open311/v2/requests.json", data=form)  # a client's retry
        assert again.json()[0]["service_request_id"] == number_json
        filed_xml = http.post(
            "/open311/v2/requests.xml",
            data={**form, "address_string": "惠城区某路1号", "lat": "", "long": ""},
        )
        assert filed_xml.status_code == 201, filed_xml.text
        number_xml = ET.fromstring(filed_xml.content).findtext("request/service_request_id")
        assert number_xml and number_xml != number_json

        received = {e["data"]["complaint_no"]: e for e in accepted_now(settings, RECEIVED)}
        assert set(received) == {number_json, number_xml}
        for env in received.values():
            d = env["data"]
            assert d["channel"] == "open311" and d["platform"] == "civic-app"
            assert d["received_by"] == "efficiency-office"
            assert d["unit"] == "unit:government-services"  # an alias of the directory
            assert d["category"] == "buck_passing" and TEXT in d["text"]
            assert d["complainant"] and PHONE not in str(env) and "张" not in str(env)
            assert env["actor"] == "efficiency-office/open311.civic-app"
        assert "坐标：23.1125,114.4158" in received[number_json]["data"]["text"]

        status = http.get("/open311/v2/requests.json", params={"service_request_id": number_json})
        [st] = status.json()
        assert st["service_request_id"] == number_json and st["status"] == "open"
        assert set(st) == {
            "service_request_id",
            "status",
            "status_notes",
            "service_code",
            "service_name",
            "requested_datetime",
            "updated_datetime",
        }
        assert TEXT not in status.text and "description" not in status.text
        both = http.get(
            "/open311/v2/requests.xml",
            params={"service_request_id": f"{number_json},{number_xml}"},
        )
        ids = {r.findtext("service_request_id") for r in ET.fromstring(both.content)}
        assert ids == {number_json, number_xml} and TEXT not in both.text
        one = http.get(f"/open311/v2/requests/{number_xml}.json").json()
        assert one[0]["status"] == "open"
        _spec_error(http.get("/open311/v2/requests/TS0123456789AB.xml"), 404, "xml")

        head = head_now(settings)
        for fmt in ("json", "xml"):
            url = f"/open311/v2/requests.{fmt}"
            assert "api_key" in _spec_error(http.post(url, data={**form, "api_key": ""}), 403, fmt)
            _spec_error(http.post(url, data={**form, "api_key": "wrong-key"}), 403, fmt)
            assert "service_code" in _spec_error(
                http.post(url, data={**form, "service_code": "x"}), 400, fmt
            )
            _spec_error(http.post(url, data={**form, "lat": "", "long": ""}), 400, fmt)
            _spec_error(http.post(url, data={**form, "lat": "123.0"}), 400, fmt)
            desc = _spec_error(http.post(url, data={**form, "description": ""}), 400, fmt)
            assert "description" in desc
            _spec_error(http.post(url, data={**form, "attribute[unit]": ""}), 400, fmt)
            _spec_error(http.post(url, json={"api_key": key}), 403, fmt)
            huge = http.post(url, data={**form, "description": "长" * 400_000})
            assert huge.status_code == 413
            assert huge.headers["content-type"].startswith("application/problem+json")
            bad = http.get(url, params={"service_request_id": "13812345678"})
            assert "13812345678" not in _spec_error(bad, 400, fmt)
        assert head_now(settings) == head
        log_text = server.log_text()
        assert PHONE not in log_text and "wrong-key" not in log_text and key not in log_text
