"""One case's life, end to end, through the four services as real processes started the way
``make run`` starts them (``python -m shared.run``: ``ledger init``, the default directories,
one process per deployment on its own port), driven only through HTTP with the demo operators
``make run`` creates. A second case is left past its due time: the real scheduler inside the
oversight process fires its timer, the supervision dashboard shows the lead unit overdue and
the case is escalated. Afterwards, with the services stopped: ``ledger verify`` exits 0,
``ledger replay`` lists each case's event types in order, and each service's read model, built
live by its process, equals a fresh ``ledger rebuild``'s.

Twice: on the SQLite log with SQLite stores, and on Kafka (3 partitions) with the
MongoDB-protocol store.

The second case's due time is in the past when it is assigned: dispatch's assignment clock is
set back a month for that one assignment (``dispatch_clock/sitecustomize.py``, test-only). The
log's clock, the scheduler's and every other stay real, so the timer fires as it would a month
on.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REPO, require_env
from tests.integration.web_servers import free_port

SERVICES = ("intake", "dispatch", "oversight", "publication")
UNIT = "unit:demo-unit"  # the demo unit handler's unit
COMPLAINT: dict[str, Any] = {
    "channel": "web_form",
    "unit": "city-housing-bureau",
    "category": "窗口服务",
    "text": "窗口工作人员长时间离岗，群众排队无人办理。",
    "contact": "13812345678",
}
LIFE = [
    "ledger.complaint.received.v1",
    "ledger.complaint.screened.v1",
    "ledger.dispatch.assigned.v1",
    "ledger.handling.first_shown.v1",  # the workbench showed the unit its new case
    "ledger.handling.acknowledged.v1",
    "ledger.handling.replied.v1",
    "ledger.handling.resolution_claimed.v1",
    "ledger.complainant.confirmed.v1",
    "ledger.handling.closed.v1",
    "ledger.publication.drafted.v1",
    "ledger.publication.published.v1",
]
PAST_DUE = [
    "ledger.complaint.received.v1",
    "ledger.complaint.screened.v1",
    "ledger.dispatch.assigned.v1",
    "ledger.deadline.elapsed.v1",
    "ledger.supervision.escalated.v1",  # 督办单, at the due time
    "ledger.supervision.escalated.v1",  # 挂牌督办, the default thresholds' 3 working days on
]
HTML = {"accept": "text/html"}
MONTH = 31 * 24 * 3600
WAIT = 60.0  # s: the longest any step waits for another service's read model


@dataclass
class Ledger:
    """``make run``'s parent and its four children, and the environment they share."""

    var_dir: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes]
    output: Path
    ports: dict[str, int]
    clock_file: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def passwords(self, service: str) -> dict[str, str]:
        text = (self.var_dir / service / "demo-operators.txt").read_text(encoding="utf-8")
        rows = [ln.split("\t") for ln in text.splitlines() if ln and not ln.startswith("#")]
        return {row[0]: row[1] for row in rows}

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "shared.cli.main", *args],
            cwd=REPO,
            env={**self.env, "COLUMNS": "240"},
            capture_output=True,
            text=True,
            timeout=300,
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # the parent forwards it to every child
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.send_signal(signal.SIGTERM)  # a second one: at once
                self.proc.wait(15)


def backend_env(kind: str) -> dict[str, str]:
    if kind == "sqlite":
        return {"LEDGER_LOG_BACKEND": "sqlite", "LEDGER_LOG_PARTITIONS": "3"}
    return {
        "LEDGER_LOG_BACKEND": "kafka",
        "LEDGER_LOG_PARTITIONS": "3",
        "LEDGER_KAFKA_BOOTSTRAP": require_env("LEDGER_TEST_KAFKA_BOOTSTRAP", "kafka"),
        "LEDGER_KAFKA_TOPIC": f"ledger-e2e-{uuid.uuid4().hex[:12]}",
        "LEDGER_STORE_URL": require_env("LEDGER_TEST_MONGO_URL", "mongo"),
        "LEDGER_STORE_DATABASE_PREFIX": f"e2e{uuid.uuid4().hex[:8]}",
    }


def wait_ready(ledger: Ledger, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    pending = set(SERVICES)
    while pending:
        if ledger.proc.poll() is not None:
            raise AssertionError(f"make run ended: {ledger.output.read_text()[-3000:]}")
        assert time.monotonic() < deadline, (
            f"not ready in {timeout} s: {pending}\n{ledger.output.read_text()[-3000:]}"
        )
        for service in list(pending):
            try:
                if httpx.get(ledger.url(service) + "/readyz", timeout=2).status_code == 200:
                    pending.discard(service)
            except httpx.HTTPError:
                pass
        time.sleep(0.3)


def start_ledger(tmp_path: Path, kind: str) -> Ledger:
    var_dir = tmp_path / "var"
    ports = {s: free_port() for s in SERVICES}
    clock_file = tmp_path / "dispatch-clock-set-back-seconds"
    env = {
        **os.environ,
        **backend_env(kind),
        "LEDGER_VAR_DIR": str(var_dir),
        **{f"LEDGER_{s.upper()}_PORT": str(p) for s, p in ports.items()},
        # The cheapest argon2id: make run hashes one demo password per role per service.
        "LEDGER_PASSWORD_TIME_COST": "1",
        "LEDGER_PASSWORD_MEMORY_KIB": "64",
        "LEDGER_PASSWORD_PARALLELISM": "1",
        "LEDGER_SCHEDULER_POLL_SECONDS": "0.2",
        "LEDGER_SCHEDULER_RETRY_SECONDS": "0.5",
        "LEDGER_TEST_DISPATCH_CLOCK_FILE": str(clock_file),
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests/integration/dispatch_clock")]),
    }
    env.pop("LEDGER_DEPLOYMENT", None)
    if kind == "sqlite":
        for var in ("LEDGER_STORE_URL", "LEDGER_KAFKA_BOOTSTRAP", "LEDGER_KAFKA_TOPIC"):
            env.pop(var, None)
    output = tmp_path / "make-run.log"
    with output.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "shared.run"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    ledger = Ledger(var_dir, env, proc, output, ports, clock_file)
    try:
        wait_ready(ledger)
    except BaseException:
        ledger.stop()
        raise
    return ledger


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("kafka", id="kafka-mongo", marks=[pytest.mark.kafka, pytest.mark.mongo]),
    ]
)
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    running = start_ledger(tmp_path, request.param)
    try:
        yield running
    finally:
        running.stop()
        print(f"\nmake run's output: {running.output}")


def api(ledger: Ledger, service: str, role: str) -> httpx.Client:
    """A client of one service signed in (bearer token) as that service's demo ``role``."""
    staff = "demo-" + role.replace("_", "-")
    c = httpx.Client(base_url=ledger.url(service), timeout=30)
    password = ledger.passwords(service)[staff]
    r = c.post("/auth/token", json={"staff_id": staff, "password": password})
    assert r.status_code == 200, r.text
    c.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return c


def page_session(ledger: Ledger, service: str, role: str) -> httpx.Client:
    """A browser-like client signed in through the sign-in form."""
    staff = "demo-" + role.replace("_", "-")
    c = httpx.Client(base_url=ledger.url(service), timeout=30, headers=HTML)
    form = c.get("/signin")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert form.status_code == 200 and csrf, form.text
    r = c.post(
        "/signin",
        data={
            "staff_id": staff,
            "password": ledger.passwords(service)[staff],
            "csrf_token": csrf[1],
            "next": "/",
        },
    )
    assert r.status_code == 303, r.text
    return c


def post(c: httpx.Client, path: str, body: Any = None, **params: str) -> dict[str, Any]:
    r = c.post(path, json=body, params=params, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code == 201, (path, r.text)
    answer: dict[str, Any] = r.json()
    return answer


def after(answer: dict[str, Any]) -> str:
    return ",".join(f"{p}:{n}" for p, n in answer["position"].items())


def eventually(c: httpx.Client, path: str, pattern: str, **params: str) -> str:
    """The page once it shows ``pattern`` (another service's step reaches this one's read model
    within its projector's poll)."""
    deadline = time.monotonic() + WAIT
    while True:
        r = c.get(path, params=params)
        assert r.status_code == 200, (path, r.text)
        if re.search(pattern, r.text):
            return r.text
        assert time.monotonic() < deadline, f"{path} never showed {pattern!r}:\n{r.text[-3000:]}"
        time.sleep(0.2)


def follow_up(c: httpx.Client, **fields: str) -> httpx.Response:
    page = c.get("/public/follow-up")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert page.status_code == 200 and csrf, page.text
    return c.post("/public/follow-up", data={"csrf_token": csrf[1], **fields})


def event_types(replay: subprocess.CompletedProcess[str]) -> list[str]:
    assert replay.returncode == 0, replay.stdout + replay.stderr
    return re.findall(r"ledger\.[a-z_]+\.[a-z_]+\.v1", replay.stdout)


def live_case(ledger: Ledger) -> tuple[str, str]:
    """Case 1's whole life; returns its stream and complaint number."""
    clerk = api(ledger, "intake", "intake_clerk")
    receipt = post(clerk, "/complaints", COMPLAINT)
    case, number, code = receipt["stream"], receipt["complaint_no"], receipt["tracking_code"]
    post(clerk, f"/complaints/{case}/screening", {"outcome": "new"})

    officer = api(ledger, "dispatch", "dispatch_officer")
    board = page_session(ledger, "dispatch", "dispatch_officer")
    eventually(board, "/board", re.escape(number))  # screened: on dispatch's board
    assign = {"lead_unit": UNIT, "working_days": 10, "override_reason": "示范单位承办"}
    deadline = time.monotonic() + WAIT
    while True:  # dispatch's own read of the case follows the log: wait for the screening
        r = officer.post(
            f"/cases/{case}/assignment",
            json=assign,
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        if r.status_code == 201 or time.monotonic() > deadline:
            break
        assert r.status_code == 409 and r.json()["reason"] == "unscreened", r.text
        time.sleep(0.2)
    assert r.status_code == 201, r.text
    eventually(board, "/board", r"办理中（1 件", after=after(r.json()))

    handler = api(ledger, "oversight", "unit_handler")
    bench = page_session(ledger, "oversight", "unit_handler")
    eventually(bench, "/workbench", re.escape(number))
    post(handler, f"/workbench/cases/{case}/acknowledgement")
    post(handler, f"/workbench/cases/{case}/replies", {"text": "已约谈窗口负责人，恢复正常排班。"})
    claimed = post(handler, f"/workbench/cases/{case}/resolution-claim", {"summary": "已恢复。"})
    eventually(bench, "/workbench", "单位报办结", after=after(claimed))

    citizen = httpx.Client(base_url=ledger.url("intake"), timeout=30, headers=HTML)
    deadline = time.monotonic() + WAIT
    while "单位报办结" not in (status := follow_up(citizen, complaint_no=number, code=code)).text:
        assert time.monotonic() < deadline, status.text
        time.sleep(0.3)
    done = follow_up(citizen, complaint_no=number, code=code, action="confirm")
    assert done.status_code == 200 and "您已确认问题已解决" in done.text, done.text

    supervisor = api(ledger, "oversight", "supervisor")
    dash = page_session(ledger, "oversight", "supervisor")
    eventually(dash, "/dashboard", "投诉人已确认")
    close = {"basis": "complainant_confirmed", "finding": "substantiated", "confidential": False}
    closed = post(supervisor, f"/cases/{case}/closure", close)
    eventually(dash, "/dashboard", 'data-status="closed">1<', after=after(closed))

    reviewer = api(ledger, "publication", "publication_reviewer")
    review = page_session(ledger, "publication", "publication_reviewer")
    eventually(review, "/review", r"已办结待起草（1 件")
    fields = {"unit": COMPLAINT["unit"], "category": COMPLAINT["category"]}
    drafted = post(reviewer, f"/cases/{case}/notice", {**fields, "finding": "substantiated"})
    published = post(reviewer, f"/cases/{case}/notice/publication", after=after(drafted))
    eventually(review, "/review", "近期已公开", after=after(published))
    public = httpx.Client(base_url=ledger.url("publication"), timeout=30, headers=HTML)
    notices = eventually(public, "/public/notices", "经核查，群众反映的问题属实")
    assert COMPLAINT["unit"] in notices and COMPLAINT["category"] in notices
    return case, number


def past_due_case(ledger: Ledger) -> str:
    """Case 2: assigned with its due time already a month past; the real scheduler fires."""
    clerk = api(ledger, "intake", "intake_clerk")
    receipt = post(clerk, "/complaints", {**COMPLAINT, "category": "办事效率"})
    case = receipt["stream"]
    post(clerk, f"/complaints/{case}/screening", {"outcome": "new"})
    officer = api(ledger, "dispatch", "dispatch_officer")
    ledger.clock_file.write_text(str(MONTH), encoding="ascii")
    try:
        deadline = time.monotonic() + WAIT
        while True:
            r = officer.post(
                f"/cases/{case}/assignment",
                json={"lead_unit": UNIT, "working_days": 1, "override_reason": "示范单位承办"},
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )
            if r.status_code == 201 or time.monotonic() > deadline:
                break
            assert r.status_code == 409 and r.json()["reason"] == "unscreened", r.text
            time.sleep(0.2)
        assert r.status_code == 201, r.text
    finally:
        ledger.clock_file.unlink()
    dash = page_session(ledger, "oversight", "supervisor")
    # the tab's count and the units table are counted apart on a moving read model: wait for both
    both = r'(?s)^(?=.*超时件（1 件）)(?=.*class="overdue-unit"><td>unit:demo-unit</td>)'
    text = eventually(dash, "/dashboard", both)
    assert re.search(r'class="overdue-unit"><td>unit:demo-unit</td><td class="state-bad">1<', text)
    assert "超时件（1 件）" in text
    board = page_session(ledger, "dispatch", "dispatch_officer")
    eventually(board, "/board", "已超时")
    deadline = time.monotonic() + WAIT
    while (replayed := ledger.cli("replay", case)).stdout.count(
        "ledger.supervision.escalated.v1"
    ) < 2:
        assert time.monotonic() < deadline, replayed.stdout + replayed.stderr
        time.sleep(0.5)
    return case


@pytest.mark.slow
def test_one_life_and_one_late_case_through_the_running_services(ledger: Ledger) -> None:
    case, _ = live_case(ledger)
    late = past_due_case(ledger)
    ledger.stop()
    assert ledger.proc.returncode == 0, ledger.output.read_text()[-3000:]

    verify = ledger.cli("verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert event_types(ledger.cli("replay", case)) == LIFE
    assert event_types(ledger.cli("replay", late)) == PAST_DUE
    for service in SERVICES:
        rebuilt = ledger.cli("rebuild", service)
        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
        assert "identical" in rebuilt.stdout, rebuilt.stdout
