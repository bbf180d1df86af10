"""``ledger import complaints FILE`` and ``ledger import mail MAILDIR``: the importing client.

It files through the receiving service's HTTP API with an operator's credentials (an intake
clerk's staff id and password), so every complaint takes the service's one filing path
(redaction, vault, signing, append) and no key or vault leaves the service machine.

* ``complaints``: the file is read as a stream, twice — once for its SHA-256 and row count,
  once to send its rows, in order, in batches. The service names the run by the hash and tells
  where it stands (``next_row``); a rerun after a kill resumes there, and a row sent twice
  (the kill came after the service filed it, before it answered) is filed under the same key
  (hash and row number) and written once. Bad rows come back by number and kind; the report
  never shows a value.
* ``mail``: each message in the maildir's ``new/`` is sent as ``message/rfc822``; once filed it
  is moved to ``cur/`` with the Seen flag. A rerun sends only what is still in ``new/``, and a
  message sent twice (a kill between filing and moving) is the same complaint (its Message-ID).
"""

from __future__ import annotations

import csv
import hashlib
import io
import mailbox
import os
import sys
import time
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated, Any

import httpx
import orjson
import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    help="Import complaints: platform and hotline exports (CSV, JSON Lines) and e-mail (maildir), "
    "through the receiving service's HTTP API.",
    no_args_is_help=True,
)
console = Console()
err = Console(stderr=True)


class Format(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


BATCH_ROWS = 100
BATCH_BYTES = 256 * 1024
SEEN = "S"

UrlOption = Annotated[
    str,
    typer.Option("--url", envvar="LEDGER_IMPORT_URL", help="Base URL of the receiving service"),
]
StaffOption = Annotated[
    str, typer.Option("--staff-id", envvar="LEDGER_IMPORT_STAFF_ID", help="工号 of a clerk")
]
PasswordOption = Annotated[
    str,
    typer.Option(
        "--password",
        envvar="LEDGER_IMPORT_PASSWORD",
        prompt=True,
        hide_input=True,
        help="The clerk's password (prompted for when not in the environment)",
    ),
]
WaitOption = Annotated[
    float,
    typer.Option(
        "--wait", help="Seconds to keep retrying while the service is away (restart, 5xx)"
    ),
]


class ServiceClient:
    """The service's API with a clerk's token: signs in again when the token expires, and
    retries while the service is away (connection refused, 5xx, 429) for up to ``wait`` s."""

    def __init__(self, url: str, staff_id: str, password: str, wait: float) -> None:
        self.http = httpx.Client(base_url=url.rstrip("/"), timeout=120)
        self.staff_id, self.password, self.wait = staff_id, password, wait
        self.token = ""

    def sign_in(self) -> None:
        r = self._retrying(
            "POST", "/auth/token", json={"staff_id": self.staff_id, "password": self.password}
        )
        if r.status_code != 200:
            fail(f"sign-in refused ({r.status_code} {problem_name(r)})")
        self.token = str(r.json()["access_token"])

    def _retrying(self, method: str, path: str, **kw: Any) -> httpx.Response:
        deadline = time.monotonic() + self.wait
        delay = 0.5
        while True:
            try:
                r = self.http.request(method, path, **kw)
                if r.status_code < 500 and r.status_code != 429:
                    return r
                pause = float(r.headers.get("retry-after", delay))
            except httpx.TransportError:
                pause = delay
            if time.monotonic() + pause > deadline:
                fail("the service did not answer in time; run the same command again to resume")
            time.sleep(pause)
            delay = min(delay * 2, 10)

    def call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        if not self.token:
            self.sign_in()
        extra = kw.pop("headers", {})
        for _ in range(2):
            headers = {**extra, "Authorization": f"Bearer {self.token}"}
            r = self._retrying(method, path, headers=headers, **kw)
            if r.status_code != 401:
                return r
            self.sign_in()
        return r

    def close(self) -> None:
        self.http.close()


def fail(message: str) -> None:
    err.print(f"[red]error[/]: {message}", highlight=False)
    raise typer.Exit(2)


def problem_name(r: httpx.Response) -> str:
    try:
        body = r.json()
    except ValueError:
        return "no problem body"
    if not isinstance(body, dict):
        return "no problem body"
    slug = str(body.get("type", "")).rsplit("/", 1)[-1]
    reason = body.get("reason")
    return f"{slug}: {reason}" if reason else slug


# -- reading an export as a stream ---------------------------------------------------------------


class HashingReader(io.RawIOBase):
    """A binary file that feeds SHA-256 with every byte read through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.sha = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        self.sha.update(data)
        buffer[: len(data)] = data
        return len(data)


def _csv_rows(binary: IO[bytes]) -> Iterator[dict[str, Any]]:
    # Undecodable bytes survive as surrogates, so the one bad row is reported, not the file.
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")
    try:
        yield from _csv_records(csv.DictReader(text))
    finally:
        text.detach()  # the caller's file stays open (the survey reads on to hash the rest)


def _csv_records(reader: csv.DictReader[str]) -> Iterator[dict[str, Any]]:
    n = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error:
            n += 1
            yield {"row": n, "unreadable": True}
            continue
        n += 1
        values = [v for v in record.values() if isinstance(v, str)]
        keys = [k for k in record if k is not None]
        if None in record or any(_undecodable(s) for s in [*values, *keys]):
            yield {"row": n, "unreadable": True}
            continue
        yield {"row": n, "fields": {k: v for k, v in record.items() if v is not None}}


def _undecodable(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _jsonl_rows(binary: IO[bytes]) -> Iterator[dict[str, Any]]:
    n = 0
    for line in binary:
        if not line.strip():
            continue  # blank lines are not rows
        n += 1
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            value = None
        if isinstance(value, dict):
            yield {"row": n, "fields": value}
        else:
            yield {"row": n, "unreadable": True}


def read_rows(binary: IO[bytes], fmt: Format) -> Iterator[dict[str, Any]]:
    """The export's rows in order, numbered from 1, as the service's row batch takes them."""
    return _csv_rows(binary) if fmt is Format.csv else _jsonl_rows(binary)


def survey(path: Path, fmt: Format) -> tuple[str, int]:
    """The file's SHA-256 and its number of rows, in one streamed pass."""
    with path.open("rb") as f:
        hashing = HashingReader(f)
        buffered = io.BufferedReader(hashing)
        count = sum(1 for _ in read_rows(buffered, fmt))
        while buffered.read(1 << 16):  # whatever the parser left unread still counts
            pass
        return hashing.sha.hexdigest(), count


def batches(rows: Iterator[dict[str, Any]], start: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    size = 0
    for row in rows:
        if row["row"] < start:
            continue
        encoded = len(orjson.dumps(row))
        if encoded > BATCH_BYTES:  # reported as too large, never dropping the rows after it
            row, encoded = {"row": row["row"], "oversized": True}, 40
        if batch and (len(batch) >= BATCH_ROWS or size + encoded > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(row)
        size += encoded
    if batch:
        yield batch


def _guess_format(path: Path) -> Format:
    return Format.jsonl if path.suffix.lower() in (".jsonl", ".ndjson") else Format.csv


@app.command("complaints")
def import_complaints(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    url: UrlOption,
    staff_id: StaffOption,
    password: PasswordOption,
    fmt: Annotated[
        Format | None,
        typer.Option("--format", help="csv or jsonl (default: from the file's suffix)"),
    ] = None,
    wait: WaitOption = 300.0,
) -> None:
    """Import a platform or hotline export: resumable, each bad row reported by number and kind.

    Exit 0 when every row is filed, 1 when some rows were bad (listed), 2 on failure."""
    from shared.cli.main import progress_bar  # the command line's one progress bar

    chosen: Format = fmt or _guess_format(file)
    sha, total = survey(file, chosen)
    client = ServiceClient(url, staff_id, password, wait)
    try:
        r = client.call(
            "POST",
            "/imports",
            json={"sha256": sha, "name": file.name[-200:], "format": chosen.value},
        )
        if r.status_code != 200:
            fail(f"the import was refused ({r.status_code} {problem_name(r)})")
        run = r.json()
        start = int(run["next_row"])
        if start > total:
            err.print("every row was imported before: nothing new to send", highlight=False)
        elif start > 1:
            err.print(f"resuming at row {start} of {total}", highlight=False)
        with progress_bar("importing") as bar, file.open("rb") as f:
            task = bar.add_task("rows", total=total, completed=start - 1, rate="")
            for batch in batches(read_rows(f, chosen), start):
                r = client.call("POST", f"/imports/{sha}/rows", json={"rows": batch})
                if r.status_code != 200:
                    fail(f"rows refused ({r.status_code} {problem_name(r)})")
                run = r.json()["run"]
                bar.update(
                    task,
                    completed=int(run["next_row"]) - 1,
                    rate=f"filed {run['filed']}, bad {run['errors']}",
                )
        r = client.call("POST", f"/imports/{sha}/finish", json={"rows_total": total})
        if r.status_code != 200:
            fail(f"the run could not be finished ({r.status_code} {problem_name(r)})")
        run = r.json()
        errors = _all_errors(client, sha) if run["errors"] else []
    finally:
        client.close()
    console.print(
        f"{file.name}: {total} rows, {run['filed']} filed, {run['errors']} bad (sha256 {sha})",
        highlight=False,
    )
    if errors:
        table = Table(title="bad rows (values never shown)")
        for col in ("row", "kind", "field or reason"):
            table.add_column(col)
        for e in errors:
            table.add_row(str(e["row"]), str(e["kind"]), str(e.get("field") or ""))
        console.print(table)
        raise typer.Exit(1)


def _all_errors(client: ServiceClient, sha: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        after = found[-1]["row"] if found else 0
        r = client.call("GET", f"/imports/{sha}/errors", params={"after_row": after})
        page = r.json() if r.status_code == 200 else []
        if not page:
            return found
        found.extend(page)


@app.command("mail")
def import_mail(
    maildir: Annotated[Path, typer.Argument(exists=True, file_okay=False)],
    url: UrlOption,
    staff_id: StaffOption,
    password: PasswordOption,
    unit: Annotated[str, typer.Option(help="The unit complained about (this mailbox's unit)")],
    category: Annotated[str, typer.Option(help="问题类别")] = "其他",
    wait: WaitOption = 300.0,
) -> None:
    """File every message in the maildir's new/ as one complaint each; move it to cur/ (Seen).

    A message the service refuses stays in new/ and is listed (by file name, exit 1)."""
    box = mailbox.Maildir(str(maildir), factory=None, create=False)
    new = maildir / "new"
    names = sorted(n for n in os.listdir(new) if not n.startswith("."))
    client = ServiceClient(url, staff_id, password, wait)
    refused: list[tuple[str, str]] = []
    filed = 0
    try:
        for name in names:
            key = name.split(box.colon, 1)[0]
            r = client.call(
                "POST",
                "/mail/messages",
                params={"unit": unit, "category": category},
                content=box.get_bytes(key),
                headers={"content-type": "message/rfc822"},
            )
            if r.status_code != 201:
                refused.append((name, f"{r.status_code} {problem_name(r)}"))
                continue
            os.replace(new / name, maildir / "cur" / f"{key}{box.colon}2,{SEEN}")
            filed += 1
            console.print(f"{name}: {r.json()['complaint_no']}", highlight=False)
    finally:
        client.close()
    console.print(f"{filed} filed, {len(refused)} refused", highlight=False)
    for name, why in refused:
        err.print(f"refused {name}: {why}", highlight=False)
    if refused:
        raise typer.Exit(1)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
