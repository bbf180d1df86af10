"""Intake's vault and the complainant's rights, through HTTP against the real apps (in-process,
each with its projector, on one SQLite log made by ``ledger init``).

- The leak scan: complaints filed with known personal data (API with attachments, and the
  clerk's page form) leave none of it — nor its digit-only and full-width forms — in any file
  under the var directory (the log file, every service's read model, the durable stores, the
  idempotency stores), in any response a unit handler gets, or in any captured log line; the
  log's text carries placeholders, the attachments only their hashes.
- Access (proof: number, tracking code, and the contact given), the clerk's recorded look with
  a reason and the auditor's list of looks, erasure on request; then ``ledger verify`` exits
  0 and ``ledger replay`` still shows the redacted text.
- Retention: a closed case's entry expires (reported, and an event in the log); an orphan
  entry older than the grace is deleted; a refused filing leaves no entry; a retry keeps one.
- The redaction endpoint: publication's signed call for a closed case is answered with the
  vault's known details taken out; unsigned, another deployment, and a case not closed are
  refused.
- A process killed after the vault write and before the append: the retry with the same key
  files once, with one entry.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from services.dispatch.app import create as create_dispatch
from services.intake.app import create as create_intake
from services.intake.commands import complaint_no
from services.intake.vault import VAULT, VIEWS
from services.oversight.app import create as create_oversight
from services.publication.app import create as create_publication
from shared.durable.sqlite import SqliteDurableStore
from shared.ledger.configuration import publish_defaults
from shared.ledger.deployments import spec
from shared.log.factory import open_log
from shared.log.port import read_all
from shared.web.demo_operators import demo_staff_id
from shared.web.roles import Role
from shared.web.settings import WebSettings
from shared.web.signed_calls import service_client
from tests.conftest import REPO
from tests.integration.test_case_life import HTML, follow_up, ledger_cli
from tests.web_fixtures import (
    assert_problem,
    bearer,
    client,
    fast_settings,
    sign_in_page,
    token_for,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

NAME = "欧阳晓梅"
PHONE = "13912345678"
EMAIL = "ouyang.xm@example.com"
ID_NUMBER = "11010119900307421X"
ADDRESS = "北京市朝阳区建国路88号3号楼2单元501室"
OTHER_NAME = "司马建国"  # typed on the page form
OTHER_PHONE = "13698765432"
TEXT = (
    f"我叫{NAME}，住{ADDRESS}，身份证号{ID_NUMBER.lower()}。窗口工作人员长时间离岗，"
    f"请回电１３９ １２３４ ５６７８或发邮件到{EMAIL}。"
)
PAGE_TEXT = f"投诉人{OTHER_NAME}反映：办证大厅无人值守，电话{OTHER_PHONE[:3]}-{OTHER_PHONE[3:]}。"
PICTURE = b"\x89PNG\r\n\x1a\n" + f"{NAME}{PHONE}".encode()
COMPLAINT: dict[str, Any] = {
    "channel": "web_form",
    "unit": "city-housing-bureau",
    "category": "窗口服务",
    "text": TEXT,
    "contact": PHONE,
    "complainant_name": NAME,
    "complainant_phone": PHONE,
    "complainant_email": EMAIL,
    "complainant_id_number": ID_NUMBER,
    "complainant_address": ADDRESS,
    "attachments": [{"media_type": "image/png", "data": base64.b64encode(PICTURE).decode()}],
}
UNIT = "unit:demo-unit"
FULL_WIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})
PERSONAL = (NAME, PHONE, EMAIL, ID_NUMBER, ADDRESS, OTHER_NAME, OTHER_PHONE)


def variants(values: tuple[str, ...]) -> set[str]:
    """Each value, its digits alone (when it has several) and its full-width form."""
    out: set[str] = set()
    for v in values:
        out |= {v, v.lower(), v.translate(FULL_WIDTH)}
        digits = re.sub(r"\D", "", v)
        if len(digits) >= 6:
            out |= {digits, digits.translate(FULL_WIDTH)}
    return out


@dataclass
class Service:
    app: FastAPI
    http: httpx.AsyncClient
    tokens: dict[Role, str]

    def as_(self, role: Role, key: str | None = None) -> dict[str, str]:
        return bearer(self.tokens[role], key)


@dataclass
class World:
    var_dir: Path
    settings: WebSettings
    intake: Service
    dispatch: Service
    oversight: Service
    publication: FastAPI
    unit_answers: list[httpx.Response]

    async def log_records(self) -> list[dict[str, Any]]:
        log = await open_log(self.settings)
        try:
            return [orjson.loads(r.record) async for r in read_all(log)]
        finally:
            await log.close()


def after(answer: dict[str, Any]) -> dict[str, str]:
    return {"after": ",".join(f"{p}:{n}" for p, n in answer["position"].items())}


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    var_dir = tmp_path / "var"
    init = ledger_cli(var_dir, "init")
    assert init.returncode == 0, init.stdout + init.stderr
    settings = fast_settings(var_dir, read_your_writes_seconds=10.0)
    log = await open_log(settings)
    try:  # the default directories, as `make run` publishes them (the clerk's page needs them)
        await publish_defaults(log, settings)
    finally:
        await log.close()
    makers: list[tuple[Callable[[WebSettings], FastAPI], tuple[Role, ...]]] = [
        (create_intake, (Role.INTAKE_CLERK, Role.AUDITOR, Role.ADMIN, Role.SUPERVISOR)),
        (create_dispatch, (Role.DISPATCH_OFFICER,)),
        (create_oversight, (Role.UNIT_HANDLER, Role.SUPERVISOR)),
    ]
    async with contextlib.AsyncExitStack() as stack:
        services = []
        for make, roles in makers:
            app = make(settings)
            http = await stack.enter_async_context(client(app))
            await stack.enter_async_context(app.router.lifespan_context(app))
            tokens = {r: await token_for(http, app, demo_staff_id(r)) for r in roles}
            services.append(Service(app, http, tokens))
        intake, dispatch, oversight = services
        yield World(
            var_dir, settings, intake, dispatch, oversight, create_publication(settings), []
        )


async def file(world: World, body: dict[str, Any], key: str) -> dict[str, Any]:
    r = await world.intake.http.post(
        "/complaints", json=body, headers=world.intake.as_(Role.INTAKE_CLERK, key)
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def close_case(world: World, receipt: dict[str, Any], tag: str) -> None:
    """Screen, assign, the unit's acts, the complainant's confirmation, the closure."""
    intake, dispatch, oversight = world.intake, world.dispatch, world.oversight
    case, number, code = receipt["stream"], receipt["complaint_no"], receipt["tracking_code"]
    r = await intake.http.post(
        f"/complaints/{case}/screening",
        json={"outcome": "new"},
        headers=intake.as_(Role.INTAKE_CLERK, f"s-{tag}"),
    )
    assert r.status_code == 201, r.text
    assign = {
        "lead_unit": UNIT,
        "working_days": 10,
        "urgency": "normal",
        "override_reason": "指定承办",
    }
    r = await dispatch.http.post(
        f"/cases/{case}/assignment",
        json=assign,
        headers=dispatch.as_(Role.DISPATCH_OFFICER, f"a-{tag}"),
    )
    assert r.status_code == 201, r.text
    for path, body in (
        ("acknowledgement", None),
        ("resolution-claim", {"summary": "窗口已恢复正常办理。"}),
    ):
        r = await oversight.http.post(
            f"/workbench/cases/{case}/{path}",
            json=body,
            headers=oversight.as_(Role.UNIT_HANDLER, f"w-{path}-{tag}"),
        )
        assert r.status_code == 201, r.text
        world.unit_answers.append(r)
    async with client(oversight.app) as unit_browser:
        await sign_in_page(unit_browser, oversight.app, demo_staff_id(Role.UNIT_HANDLER))
        bench = await unit_browser.get("/workbench", params=after(r.json()), headers=HTML)
        assert bench.status_code == 200 and number in bench.text
        world.unit_answers.append(bench)
    claimed = r.json()
    seen = await intake.http.get(
        f"/complaints/{case}", params=after(claimed), headers=intake.as_(Role.INTAKE_CLERK)
    )
    assert seen.json()["status"] == "claimed", seen.text
    async with client(intake.app) as citizen:
        done = await follow_up(citizen, complaint_no=number, code=code, action="confirm")
        assert done.status_code == 200, done.text
    close = {"basis": "complainant_confirmed", "finding": "substantiated", "confidential": False}
    r = await oversight.http.post(
        f"/cases/{case}/closure", json=close, headers=oversight.as_(Role.SUPERVISOR, f"c-{tag}")
    )
    assert r.status_code == 201, r.text


async def intake_sees(world: World, answer: dict[str, Any]) -> None:
    """Wait until intake's read model holds ``answer``'s position."""
    r = await world.intake.http.get(
        f"/complaints/{answer['stream']}",
        params=after(answer),
        headers=world.intake.as_(Role.INTAKE_CLERK),
    )
    assert r.status_code == 200, r.text


def files_under(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


async def test_known_personal_data_leaks_nowhere(
    world: World, capfd: pytest.CaptureFixture[str]
) -> None:
    receipt = await file(world, COMPLAINT, "leak-1")
    # The clerk's page form (multipart, a file attached), with other details.
    async with client(world.intake.app) as browser:
        await sign_in_page(browser, world.intake.app, demo_staff_id(Role.INTAKE_CLERK))
        page = await browser.get("/queue", headers=HTML)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        key = re.search(r'name="form_key" value="([^"]+)"', page.text)
        assert token and key
        r = await browser.post(
            "/queue/complaints",
            data={
                "csrf_token": token.group(1),
                "form_key": key.group(1),
                "channel": "visit",
                "unit": "city-housing-bureau",
                "category": "服务态度",
                "text": PAGE_TEXT,
                "contact": OTHER_PHONE,
                "complainant_name": OTHER_NAME,
            },
            files={"attachments": ("photo.jpg", b"\xff\xd8" + OTHER_PHONE.encode(), "image/jpeg")},
            headers=HTML,
        )
        assert r.status_code == 200, r.text
        assert "查询码" in r.text
    await close_case(world, receipt, "leak")
    records = await world.log_records()
    received = [r["data"] for r in records if r["type"] == "ledger.complaint.received.v1"]
    assert len(received) == 2
    first = next(d for d in received if d["complaint_no"] == receipt["complaint_no"])
    for placeholder in ("【姓名1】", "【手机号】", "【邮箱】", "【身份证号】", "【地址】"):
        assert placeholder in first["text"], first["text"]
    assert first["attachments"] == [
        {
            "sha256": hashlib.sha256(PICTURE).hexdigest(),
            "media_type": "image/png",
            "redacted": False,
        }
    ]
    second = next(d for d in received if d is not first)
    assert "【姓名1】" in second["text"] and second["attachments"][0]["media_type"] == "image/jpeg"

    # Every file under var: the log and its WAL, every read model, the durable stores, the
    # idempotency and identity stores, the keys.
    for svc in (world.intake, world.dispatch, world.oversight):
        await svc.app.state.ledger.durable.close()
    stored = files_under(world.var_dir)
    assert world.settings.sqlite_log_file.read_bytes()  # the log file is among them
    captured = capfd.readouterr()
    logged = captured.out + captured.err
    unit_seen = "\n".join(r.text for r in world.unit_answers)
    assert len(world.unit_answers) >= 3
    for value in variants(PERSONAL):
        assert value.encode() not in stored, f"{value!r} in a file under var"
        assert value not in unit_seen, f"{value!r} shown to a unit handler"
        assert value not in logged, f"{value!r} in a log line"


async def test_access_view_erasure_and_the_log_still_verifies(world: World) -> None:
    intake = world.intake
    receipt = await file(world, COMPLAINT, "rights-1")
    case, number, code = receipt["stream"], receipt["complaint_no"], receipt["tracking_code"]
    await intake_sees(world, receipt)
    proof = {"complaint_no": number, "tracking_code": code, "contact": PHONE}

    # Access: a wrong contact, a wrong code, no contact — the same 404; the right proof answers.
    for wrong in (
        {**proof, "contact": "13900000000"},
        {**proof, "tracking_code": "0000-0000-0000-0000"},
        {k: v for k, v in proof.items() if k != "contact"},
    ):
        r = await intake.http.post("/public/vault/access", json=wrong)
        body = assert_problem(r, 404, "not-found")
        assert PHONE not in r.text and NAME not in r.text, body
    width = {**proof, "contact": "１３９-１２３４-５６７８", "tracking_code": code.lower()}
    r = await intake.http.post("/public/vault/access", json=width)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    held = r.json()["held"]
    assert held["text"] == TEXT and held["identity"]["name"] == NAME
    assert held["identity"]["id_number"] == ID_NUMBER
    assert base64.b64decode(held["attachments"][0]["data"]) == PICTURE
    assert r.json()["viewed"] == []

    # The clerk looks with a reason; refused without one, and to other roles.
    no_reason = await intake.http.post(
        f"/complaints/{case}/original", json={}, headers=intake.as_(Role.INTAKE_CLERK)
    )
    assert_problem(no_reason, 422, "validation")
    other = await intake.http.post(
        f"/complaints/{case}/original",
        json={"reason": "回访核实情况"},
        headers=intake.as_(Role.SUPERVISOR),
    )
    assert_problem(other, 403, "forbidden")
    r = await intake.http.post(
        f"/complaints/{case}/original",
        json={"reason": "回访核实情况"},
        headers=intake.as_(Role.INTAKE_CLERK),
    )
    assert r.status_code == 200, r.text
    assert r.json()["text"] == TEXT and r.headers["cache-control"] == "no-store"
    denied = await intake.http.get("/vault/views", headers=intake.as_(Role.INTAKE_CLERK))
    assert_problem(denied, 403, "forbidden")
    r = await intake.http.get(
        "/vault/views", params={"case": case}, headers=intake.as_(Role.AUDITOR)
    )
    assert r.status_code == 200, r.text
    [view] = r.json()
    assert view["staff_id"] == demo_staff_id(Role.INTAKE_CLERK) and view["reason"] == "回访核实情况"
    assert view["role"] == "intake_clerk" and view["at"]
    again = await intake.http.post("/public/vault/access", json=proof)
    assert [v["role"] for v in again.json()["viewed"]] == ["intake_clerk"]

    # Erasure on request: the entry goes, the log records it, nothing personal in it.
    key = {"Idempotency-Key": "6f1d9a3e-6b0c-4d1e-9a57-3c9f3e0b7a11"}
    r = await intake.http.post("/public/vault/erasure", json=proof, headers=key)
    assert r.status_code == 201, r.text
    assert r.json()["events"][0]["type"] == "ledger.complaint.vault_erased.v1"
    repeat = await intake.http.post("/public/vault/erasure", json=proof, headers=key)
    assert repeat.status_code == 201 and repeat.json() == r.json()
    gone = await intake.http.post("/public/vault/access", json=proof)
    assert_problem(gone, 404, "not-found")
    look = await intake.http.post(
        f"/complaints/{case}/original",
        json={"reason": "回访核实情况"},
        headers=intake.as_(Role.INTAKE_CLERK),
    )
    assert_problem(look, 404, "not-found")
    store = await intake.app.state.ledger.durable.store()
    assert await store.get(VAULT, case) is None
    erased = [r for r in await world.log_records() if r["type"].endswith("vault_erased.v1")]
    assert [e["data"] for e in erased] == [{"complaint_no": number, "cause": "request"}]

    verify = ledger_cli(world.var_dir, "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    replay = ledger_cli(world.var_dir, "replay", case)
    assert replay.returncode == 0, replay.stdout + replay.stderr
    listed = re.findall(r"ledger\.[a-z_]+\.[a-z_]+\.v1", replay.stdout)
    assert listed == ["ledger.complaint.received.v1", "ledger.complaint.vault_erased.v1"]
    assert NAME not in replay.stdout
    # The redacted text is still what the log holds, and the case still folds from it.
    [text] = [
        r["data"]["text"]
        for r in await world.log_records()
        if r["subject"] == case and r["type"] == "ledger.complaint.received.v1"
    ]
    assert "【姓名1】" in text and "【手机号】" in text and NAME not in text


async def test_retention_expiry_orphans_refusals_and_retries(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    intake = world.intake
    closed = await file(world, COMPLAINT, "keep-1")
    still_open = await file(world, {**COMPLAINT, "text": "另一件：窗口无人。"}, "keep-2")
    await close_case(world, closed, "ret")

    # A retry with the same key keeps the one entry; a refused filing leaves none.
    again = await file(world, COMPLAINT, "keep-1")
    assert again["stream"] == closed["stream"]
    store = await intake.app.state.ledger.durable.store()
    refused = await intake.http.post(
        "/complaints",
        json={**COMPLAINT, "platform": "人民网"},
        headers=intake.as_(Role.INTAKE_CLERK, "bad-1"),
    )
    assert assert_problem(refused, 409, "conflict")["reason"] == "platform_mismatch"
    entries = [e.key for e in await store.scan(VAULT)]
    assert sorted(entries) == sorted([closed["stream"], still_open["stream"]])

    # An orphan: a vault entry whose complaint never reached the log, written long ago.
    orphan = "case-00000000-0000-4000-8000-00000000dead"
    held = await store.get(VAULT, still_open["stream"])
    assert held is not None
    value = held.value
    await store.put(VAULT, orphan, {**value, "at": "2020-01-01T00:00:00.000000+00:00"})

    denied = await intake.http.post("/vault/expiry", headers=intake.as_(Role.INTAKE_CLERK))
    assert_problem(denied, 403, "forbidden")
    monkeypatch.setenv("LEDGER_VAULT_RETENTION_DAYS", "1")
    r = await intake.http.post("/vault/expiry", headers=intake.as_(Role.ADMIN))
    assert r.status_code == 200, r.text
    assert r.json()["lines"] == [
        {"case": orphan, "complaint_no": complaint_no(orphan), "outcome": "orphan_deleted"}
    ]
    monkeypatch.setenv("LEDGER_VAULT_RETENTION_DAYS", "0")
    r = await intake.http.post("/vault/expiry", headers=intake.as_(Role.ADMIN))
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["retention_days"] == 0 and report["checked"] == 2
    assert report["lines"] == [
        {"case": closed["stream"], "complaint_no": closed["complaint_no"], "outcome": "expired"}
    ]
    assert [e.key for e in await store.scan(VAULT)] == [still_open["stream"]]
    erased = [r for r in await world.log_records() if r["type"].endswith("vault_erased.v1")]
    assert [(e["subject"], e["data"]["cause"]) for e in erased] == [(closed["stream"], "retention")]
    nothing = await intake.http.post("/vault/expiry", headers=intake.as_(Role.ADMIN))
    assert nothing.json()["lines"] == []  # the open case's entry stays
    verify = ledger_cli(world.var_dir, "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr


async def test_the_redaction_endpoint_serves_publication_for_a_closed_case_only(
    world: World,
) -> None:
    closed = await file(world, COMPLAINT, "red-1")
    still_open = await file(world, COMPLAINT, "red-2")
    await close_case(world, closed, "red")
    intake = spec("intake").deployment
    # A name no recogniser knows, only the vault: 欧阳晓梅 written apart.
    asked = f"经核查，{NAME}反映属实，联系电话{PHONE}，邮箱{EMAIL.upper()}。"
    transport = httpx.ASGITransport(app=world.intake.app)
    async with service_client(
        world.publication.state.ledger.writer, "http://intake", target=intake, transport=transport
    ) as c:
        r = await c.post("/internal/redaction", json={"case": closed["stream"], "text": asked})
        assert r.status_code == 200, r.text
        for value in (NAME, PHONE, EMAIL, EMAIL.upper()):
            assert value not in r.text
        assert "【姓名1】" in r.json()["text"] and "【手机号】" in r.json()["text"]
        for case in (still_open["stream"], "case-00000000-0000-4000-8000-0000000000aa"):
            out = await c.post("/internal/redaction", json={"case": case, "text": asked})
            assert_problem(out, 403, "call-case-out-of-scope")
            assert NAME not in out.text and case not in out.text
    unsigned = await world.intake.http.post(
        "/internal/redaction", json={"case": closed["stream"], "text": asked}
    )
    assert_problem(unsigned, 401, "call-unsigned")
    async with service_client(
        world.dispatch.app.state.ledger.writer, "http://intake", target=intake, transport=transport
    ) as c:
        r = await c.post("/internal/redaction", json={"case": closed["stream"], "text": asked})
        assert_problem(r, 403, "call-not-granted")


# -- killed between the vault write and the append --------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(var_dir: Path, port: int, crash: str | None) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "LEDGER_VAR_DIR": str(var_dir),
        "LEDGER_INTAKE_PORT": str(port),
        "LEDGER_PASSWORD_MEMORY_KIB": "64",
        "LEDGER_PASSWORD_TIME_COST": "1",
        "LEDGER_PASSWORD_PARALLELISM": "1",
        "LEDGER_IDEMPOTENCY_LOCK_SECONDS": "1",
    }
    env.pop("LEDGER_CRASH_AT", None)
    if crash:
        env["LEDGER_CRASH_AT"] = crash
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


async def test_killed_after_the_vault_write_the_retry_files_once_with_one_entry(
    tmp_path: Path,
) -> None:
    """(Killed after the append instead: ``test_command_path`` covers the retry; the vault
    entry was written before, so the retry keeps it, as the orphan test shows.)"""
    point = "after_vault_before_append"
    var_dir = tmp_path / "var"
    init = ledger_cli(var_dir, "init")
    assert init.returncode == 0, init.stdout + init.stderr
    settings = fast_settings(var_dir)
    app = create_intake(settings)
    async with client(app) as c:
        token = await token_for(c, app, demo_staff_id(Role.INTAKE_CLERK))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    headers = bearer(token, f"crash-{point}")
    proc = _serve(var_dir, port, f"{point}:1")
    try:
        _wait_up(proc, url)
        with pytest.raises(httpx.TransportError):
            httpx.post(url + "/complaints", json=COMPLAINT, headers=headers, timeout=60)
        assert proc.wait(timeout=20) == 1
    finally:
        _stop(proc)
    proc = _serve(var_dir, port, None)
    try:
        _wait_up(proc, url)
        await asyncio.sleep(1.2)  # the crashed claim's lock runs out
        r = httpx.post(url + "/complaints", json=COMPLAINT, headers=headers, timeout=60)
        assert r.status_code == 201, r.text
        case = r.json()["stream"]
    finally:
        _stop(proc)
    log = await open_log(settings)
    try:
        received = [
            rec async for rec in read_all(log) if b"ledger.complaint.received.v1" in rec.record
        ]
    finally:
        await log.close()
    assert len(received) == 1
    store = await SqliteDurableStore.open(var_dir / "intake" / "durable.sqlite3")
    try:
        assert [e.key for e in await store.scan(VAULT)] == [case]
        assert await store.scan(VIEWS) == []
    finally:
        await store.close()


async def test_the_expiry_command_reports_what_it_erased(world: World) -> None:
    closed = await file(world, COMPLAINT, "cli-1")
    await close_case(world, closed, "cli")
    env = {
        **os.environ,
        "LEDGER_VAR_DIR": str(world.var_dir),
        "LEDGER_VAULT_RETENTION_DAYS": "0",
    }
    env.pop("LEDGER_LOG_BACKEND", None)
    run = subprocess.run(
        [sys.executable, "-m", "services.intake.vault_cli", "expire"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    # The log lines (one per expiry) come first, then the report, indented.
    report = orjson.loads(run.stdout[run.stdout.index('{\n  "') :])
    assert '"event":"vault.expiry"' in run.stdout
    assert report["lines"] == [
        {"case": closed["stream"], "complaint_no": closed["complaint_no"], "outcome": "expired"}
    ]
    assert NAME not in run.stdout + run.stderr and PHONE not in run.stdout + run.stderr
    erased = [r for r in await world.log_records() if r["type"].endswith("vault_erased.v1")]
    assert [(e["data"]["cause"], e["actor"]) for e in erased] == [
        ("retention", "efficiency-office/retention")
    ]
    store = await world.intake.app.state.ledger.durable.store()
    assert await store.get(VAULT, closed["stream"]) is None
