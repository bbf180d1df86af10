"""E-mail and bulk import end to end, into the log, through a real intake process over HTTP.

* The import client (``ledger import complaints``, a real subprocess) is killed with SIGKILL
  once 500 of 1,000 rows are in the log; the rerun resumes and the log then holds exactly 1,000
  accepted ``complaint.received`` (counted by reading the log), each with its channel.
* A file with bad rows of every kind: every good row is filed, each bad row reported by number
  and kind (CLI output, the run's error report), and no bad value is shown anywhere.
* An ``.eml`` upload (twice: one complaint) and a maildir read (then rerun, and a message put
  back into ``new/`` as if the reader died before moving it): channel ``email``, attachments by
  hash, and no header value (address, name, Message-ID) nor the signature in the log, the
  server's log lines or the client's output.
"""

from __future__ import annotations

import asyncio
import hashlib
import mailbox
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from shared.ledger import keystore
from shared.ledger.backup import BackupSettings
from shared.ledger.reader import fold_log
from shared.log.factory import open_log
from shared.log.port import read_all
from shared.settings import LedgerSettings
from tests.conftest import REPO, ledger_cli
from tests.integration.web_servers import ServiceProcess, start_service

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

CLERK = "demo-intake-clerk"
RECEIVED = "ledger.complaint.received.v1"
FAST = {
    "LEDGER_LOG_PARTITIONS": "3",
    "LEDGER_PASSWORD_MEMORY_KIB": "64",
    "LEDGER_PASSWORD_TIME_COST": "1",
    "LEDGER_PASSWORD_PARALLELISM": "1",
}
UNIT = "unit:housing-bureau"


def settings(var: Path) -> LedgerSettings:
    return LedgerSettings(var_dir=var, log_partitions=3)


def received(var: Path) -> dict[str, dict[str, Any]]:
    """Every accepted ``complaint.received`` in the log, by event id (read from the log)."""

    async def read() -> dict[str, dict[str, Any]]:
        log = await open_log(settings(var))
        try:
            fold = await fold_log(log, keystore.genesis_public(settings(var)))
            accepted = {i for name, st in fold.streams.items() for i in st.seen_ids}
            found: dict[str, dict[str, Any]] = {}
            async for rec in read_all(log):
                env = orjson.loads(rec.record)
                if env["type"] == RECEIVED and env["id"] in accepted:
                    found[env["id"]] = env
            return found
        finally:
            await log.close()

    return asyncio.run(read())


def raw_count(var: Path) -> int:
    """Records of type complaint.received in the log now (cheap: for polling)."""

    async def count() -> int:
        log = await open_log(settings(var))
        try:
            return sum(
                [b'"ledger.complaint.received.v1"' in rec.record async for rec in read_all(log)]
            )
        finally:
            await log.close()

    return asyncio.run(count())


def log_text(var: Path) -> str:
    async def read() -> str:
        log = await open_log(settings(var))
        try:
            return "\n".join([rec.record.decode() async for rec in read_all(log)])
        finally:
            await log.close()

    return asyncio.run(read())


@pytest.fixture
def intake(tmp_path: Path) -> Iterator[ServiceProcess]:
    var = tmp_path / "var"
    init = ledger_cli(BackupSettings(var_dir=var, log_partitions=3), "init")
    assert init.returncode == 0, init.stdout + init.stderr
    svc = start_service("intake", var, FAST)
    try:
        yield svc
    finally:
        svc.stop()


def client_env(svc: ServiceProcess) -> dict[str, str]:
    return {
        **os.environ,
        "LEDGER_IMPORT_URL": svc.url,
        "LEDGER_IMPORT_STAFF_ID": CLERK,
        "LEDGER_IMPORT_PASSWORD": svc.demo_passwords()[CLERK],
        "COLUMNS": "200",
    }


def ledger(svc: ServiceProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shared.cli.main", *args],
        cwd=REPO,
        env=client_env(svc),
        capture_output=True,
        text=True,
        timeout=500,
    )


def token(svc: ServiceProcess) -> dict[str, str]:
    r = httpx.post(
        svc.url + "/auth/token",
        json={"staff_id": CLERK, "password": svc.demo_passwords()[CLERK]},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


# -- bulk import ---------------------------------------------------------------------------------


def test_killed_at_row_500_and_rerun_gives_exactly_1000(
    intake: ServiceProcess, tmp_path: Path
) -> None:
    export = tmp_path / "hotline-export.csv"
    with export.open("w", encoding="utf-8", newline="") as f:
        f.write("channel,platform,unit,category,text,contact\n")
        for i in range(1, 1001):
            platform = "人民网留言板" if i % 3 == 0 else ""
            channel = "online_platform" if platform else "hotline_12345"
            f.write(f"{channel},{platform},{UNIT},办事拖延,第{i}号：窗口长时间无人办理。,\n")
    var = intake.var_dir
    proc = subprocess.Popen(
        [sys.executable, "-m", "shared.cli.main", "import", "complaints", str(export)],
        cwd=REPO,
        env=client_env(intake),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 300
        while raw_count(var) < 500:
            assert proc.poll() is None, "the import ended before row 500"
            assert time.monotonic() < deadline, "500 rows were not filed in time"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    at_kill = len(received(var))
    assert 500 <= at_kill < 1000, at_kill

    rerun = ledger(intake, "import", "complaints", str(export))
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "resuming at row" in rerun.stderr
    assert "1000 rows, 1000 filed, 0 bad" in rerun.stdout

    complaints = received(var)
    assert len(complaints) == 1000
    assert len({e["subject"] for e in complaints.values()}) == 1000  # 1,000 case streams
    texts = sorted(e["data"]["text"] for e in complaints.values())
    assert texts == sorted(f"第{i}号：窗口长时间无人办理。" for i in range(1, 1001))
    channels = {
        e["data"]["text"]: (e["data"]["channel"], e["data"].get("platform"))
        for e in complaints.values()
    }
    assert channels["第3号：窗口长时间无人办理。"] == ("online_platform", "人民网留言板")
    assert channels["第4号：窗口长时间无人办理。"] == ("hotline_12345", None)
    assert {e["data"]["received_by"] for e in complaints.values()} == {"efficiency-office"}

    # A third run files nothing, and the run's record says it is complete.
    again = ledger(intake, "import", "complaints", str(export))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "nothing new" in again.stderr
    assert len(received(var)) == 1000
    sha = hashlib.sha256(export.read_bytes()).hexdigest()
    run = httpx.get(f"{intake.url}/imports/{sha}", headers=token(intake), timeout=30).json()
    assert (run["filed"], run["errors"], run["rows_total"], run["next_row"]) == (
        1000,
        0,
        1000,
        1001,
    )


def test_intake_killed_mid_import_and_restarted_the_client_carries_on(tmp_path: Path) -> None:
    """The other end: intake itself killed with SIGKILL mid-import and started again on the same
    port; the client, retrying meanwhile, finishes the file with exactly 1,000 complaints."""
    var = tmp_path / "var"
    init = ledger_cli(BackupSettings(var_dir=var, log_partitions=3), "init")
    assert init.returncode == 0, init.stdout + init.stderr
    export = tmp_path / "export.jsonl"
    rows = (
        {"channel": "hotline_12345", "unit": UNIT, "category": "不作为", "text": f"第{i}号。"}
        for i in range(1, 1001)
    )
    export.write_bytes(b"\n".join(orjson.dumps(r) for r in rows))
    svc = start_service("intake", var, FAST)
    proc = subprocess.Popen(
        [sys.executable, "-m", "shared.cli.main", "import", "complaints", str(export)],
        cwd=REPO,
        env=client_env(svc),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 300
        while raw_count(var) < 300:
            assert proc.poll() is None, "the import ended before row 300"
            assert time.monotonic() < deadline, "300 rows were not filed in time"
            time.sleep(0.05)
        svc.proc.kill()  # SIGKILL, mid-batch
        svc.proc.wait(30)
        assert len(received(var)) < 1000
        svc = start_service("intake", var, FAST, port=svc.port)
        stdout, stderr = proc.communicate(timeout=400)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        svc.stop()
    assert proc.returncode == 0, stdout + stderr
    assert "1000 rows, 1000 filed, 0 bad" in stdout
    complaints = received(var)
    assert len(complaints) == 1000
    assert sorted(e["data"]["text"] for e in complaints.values()) == sorted(
        f"第{i}号。" for i in range(1, 1001)
    )


SECRET_TEXT = "机密内容不应出现在错误报告里"
BAD_PHONE = "13912345678"


def test_bad_rows_are_reported_by_number_and_kind_and_every_good_row_is_filed(
    intake: ServiceProcess, tmp_path: Path
) -> None:
    good = {"channel": "hotline_12345", "unit": UNIT, "category": "不作为"}
    lines: list[bytes] = []

    def row(value: object) -> None:
        lines.append(value if isinstance(value, bytes) else orjson.dumps(value))

    row({**good, "text": "好行一：窗口无人。"})  # 1
    row(b'{"channel": "hotline_12345", "text": "' + SECRET_TEXT.encode() + b'"')  # 2 unreadable
    row({"channel": "hotline_12345", "category": "x", "text": SECRET_TEXT})  # 3 missing unit
    row({**good, "channel": "visit", "text": SECRET_TEXT})  # 4 invalid channel
    row({**good, "text": SECRET_TEXT, "name": BAD_PHONE})  # 5 unknown field
    row({**good, "text": "长" * 20_001})  # 6 invalid text (too long)
    row({**good, "text": "好行二：材料退回无理由。", "contact": BAD_PHONE})  # 7
    row({**good, "platform": "人民网", "text": SECRET_TEXT})  # 8 refused: platform_mismatch
    row({**good, "unit": "市住建局 " + BAD_PHONE, "text": SECRET_TEXT})  # 9 invalid unit
    row([SECRET_TEXT])  # 10 unreadable (not an object)
    row({**good, "text": 12345})  # 11 invalid text (not a string)
    row({**good, "channel": "online_platform", "platform": "奥一网", "text": "好行三：推诿。"})
    export = tmp_path / "platform-export.jsonl"
    export.write_bytes(b"\n".join(lines) + b"\n\n")
    out = ledger(intake, "import", "complaints", str(export))
    assert out.returncode == 1, out.stdout + out.stderr
    assert "12 rows, 3 filed, 9 bad" in out.stdout
    expected = [
        (2, "unreadable", None),
        (3, "missing", "unit"),
        (4, "invalid", "channel"),
        (5, "unknown_field", "name"),
        (6, "invalid", "text"),
        (8, "refused", "platform_mismatch"),
        (9, "invalid", "unit"),
        (10, "unreadable", None),
        (11, "invalid", "text"),
    ]
    report = [ln.split("│") for ln in out.stdout.splitlines() if ln.count("│") == 4]
    shown = [tuple(c.strip() for c in cells[1:4]) for cells in report if cells[1].strip()]
    assert shown == [(str(n), k, f or "") for n, k, f in expected]
    sha = hashlib.sha256(export.read_bytes()).hexdigest()
    auth = token(intake)
    errors = httpx.get(f"{intake.url}/imports/{sha}/errors", headers=auth, timeout=30).json()
    assert [(e["row"], e["kind"], e["field"]) for e in errors] == expected
    run = httpx.get(f"{intake.url}/imports/{sha}", headers=auth, timeout=30).json()
    assert run["errors_by_kind"] == {
        "invalid": 4,
        "missing": 1,
        "refused": 1,
        "unknown_field": 1,
        "unreadable": 2,
    }
    texts = sorted(e["data"]["text"] for e in received(intake.var_dir).values())
    assert texts == sorted(["好行一：窗口无人。", "好行二：材料退回无理由。", "好行三：推诿。"])
    # No bad value anywhere: the client's output, the server's log lines, the log.
    everywhere = out.stdout + out.stderr + intake.log_text() + log_text(intake.var_dir)
    for value in (SECRET_TEXT, BAD_PHONE, "市住建局"):
        assert value not in everywhere

    # A CSV with a row of more fields than the header and a row that is not UTF-8.
    csv_file = tmp_path / "hotline.csv"
    csv_file.write_bytes(
        "channel,unit,category,text\n"
        f"hotline_12345,{UNIT},不作为,好行四。\n"
        f"hotline_12345,{UNIT},不作为,多一列,{BAD_PHONE}\n".encode()
        + f"hotline_12345,{UNIT},不作为,".encode()
        + "坏编码".encode("gbk")
        + b"\n"
        + f"hotline_12345,{UNIT},不作为,好行五。\n".encode()
    )
    out = ledger(intake, "import", "complaints", str(csv_file))
    assert out.returncode == 1, out.stdout + out.stderr
    assert "4 rows, 2 filed, 2 bad" in out.stdout
    assert BAD_PHONE not in out.stdout + out.stderr + intake.log_text()
    assert len(received(intake.var_dir)) == 5


# -- e-mail --------------------------------------------------------------------------------------

SENDER = "zhang.wei.private@example.net"
SENDER_NAME = "张伟"
REPLY_TO = "reply.here@example.org"
SIGNATURE_PHONE = "13700001111"


def message(n: int, *, html: bool = False, attachment: bytes | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"{SENDER_NAME} <{SENDER}>"
    msg["Reply-To"] = REPLY_TO
    msg["To"] = "xiaoneng@example.gov.cn"
    msg["Subject"] = f"投诉第{n}件：审批拖延"
    msg["Message-ID"] = f"<complaint-{n}.{SENDER}>"
    body = f"第{n}件：营业执照变更申请递交三个月仍未办结。"
    if html:  # HTML only: turned into text
        msg.set_content(
            f"<html><head><style>p{{}}</style></head><body><p>{body}</p>"
            f"<p>-- <br>{SENDER_NAME} 电话 {SIGNATURE_PHONE}</p></body></html>",
            subtype="html",
        )
    else:
        msg.set_content(f"{body}\n\n-- \n{SENDER_NAME}\n电话 {SIGNATURE_PHONE}\n")
    if attachment is not None:
        msg.add_attachment(attachment, maintype="image", subtype="png", filename="photo.png")
    return msg


def header_values() -> tuple[str, ...]:
    return (SENDER, SENDER_NAME, REPLY_TO, SIGNATURE_PHONE, "complaint-", "xiaoneng@")


def test_eml_upload_files_one_complaint_without_any_header_value(
    intake: ServiceProcess,
) -> None:
    picture = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    raw = message(1, attachment=picture).as_bytes()
    auth = token(intake)
    answers = []
    for _ in range(2):  # the same message twice: one complaint
        r = httpx.post(
            f"{intake.url}/mail/messages",
            params={"unit": UNIT, "category": "办事拖延"},
            content=raw,
            headers={**auth, "content-type": "message/rfc822"},
            timeout=60,
        )
        assert r.status_code == 201, r.text
        answers.append(r.json())
    assert answers[0]["complaint_no"] == answers[1]["complaint_no"]
    assert answers[0]["tracking_code"] == answers[1]["tracking_code"]
    [event] = received(intake.var_dir).values()
    data = event["data"]
    assert (data["channel"], data["received_by"]) == ("email", "efficiency-office")
    assert data["text"].startswith("投诉第1件：审批拖延\n\n第1件：营业执照变更申请")
    assert data["attachments"] == [
        {
            "sha256": hashlib.sha256(picture).hexdigest(),
            "media_type": "image/png",
            "redacted": False,
        }
    ]
    assert len(data["complainant"]) == 64  # the Reply-To address's keyed pseudonym
    everywhere = log_text(intake.var_dir) + intake.log_text()
    for value in header_values():
        assert value not in everywhere, value

    # Bad input: a 4xx problem, nothing written.
    for content, ctype, status in (
        (raw, "text/plain", 415),
        (b"\x00\x01 not a message", "message/rfc822", 422),
        (b"From: a@b.c\r\n\r\n", "message/rfc822", 422),
    ):
        r = httpx.post(
            f"{intake.url}/mail/messages",
            params={"unit": UNIT},
            content=content,
            headers={**auth, "content-type": ctype},
            timeout=60,
        )
        assert r.status_code == status, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "a@b.c" not in r.text
    assert len(received(intake.var_dir)) == 1


def test_maildir_is_read_once_and_a_rerun_files_nothing_twice(
    intake: ServiceProcess, tmp_path: Path
) -> None:
    root = tmp_path / "Maildir"
    box = mailbox.Maildir(str(root), create=True)
    for n in (1, 2, 3):
        box.add(mailbox.MaildirMessage(message(n, html=n == 2)))
    first_names = sorted(os.listdir(root / "new"))
    args = ("import", "mail", str(root), "--unit", UNIT)
    out = ledger(intake, *args)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "3 filed, 0 refused" in out.stdout
    assert os.listdir(root / "new") == []
    assert sorted(os.listdir(root / "cur")) == sorted(f"{n}:2,S" for n in first_names)
    complaints = received(intake.var_dir)
    assert len(complaints) == 3
    assert {e["data"]["channel"] for e in complaints.values()} == {"email"}
    by_text = {e["data"]["text"].split("：", 1)[0]: e["data"]["text"] for e in complaints.values()}
    assert (
        by_text["投诉第2件"] == "投诉第2件：审批拖延\n\n第2件：营业执照变更申请递交三个月仍未办结。"
    )

    # A rerun: nothing new. The reader died before moving message 1: it is back in new/.
    again = ledger(intake, *args)
    assert "0 filed, 0 refused" in again.stdout
    name = first_names[0]
    os.replace(root / "cur" / f"{name}:2,S", root / "new" / name)
    box.add(mailbox.MaildirMessage(message(4)))
    third = ledger(intake, *args)
    assert third.returncode == 0, third.stdout + third.stderr
    assert "2 filed, 0 refused" in third.stdout
    assert len(received(intake.var_dir)) == 4
    everywhere = (
        log_text(intake.var_dir) + intake.log_text() + out.stdout + out.stderr + third.stdout
    )
    for value in header_values():
        assert value not in everywhere, value
