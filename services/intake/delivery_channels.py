"""Where a delivery goes: the outbox in intake's durable store, and each channel's way out.

Every delivery is first an **outbox row** (durable collection ``delivery_outbox``), keyed by
its derived id (``delivery.delivery_id``: cause and complaint), written only if absent — so a
restarted or second worker finds the row and never makes a second one. The row holds the
channel, the cause, the text and the complaint's own case (the vault entry's key); never an
address: the pages read the phone number or postal address from the vault as they list it.

* **e-mail** — sent by SMTP (:class:`SmtpSender`, aiosmtplib) when ``LEDGER_DELIVERY_SMTP_HOST``
  is set. Record, then send, then mark the row sent: a crash after the server took the message
  and before the mark sends it once more on restart (at least once, never lost). The repeat
  carries the same ``Message-ID`` (derived from the delivery id), so a mail system that
  collapses duplicates by it shows one message. The other side — mark first, send after —
  would lose the message in the same crash; a complainant missing a finding is worse.
* **phone** — the row is the call list's entry: clerks work through it (page and CSV).
* **letter** — the row is the letter export's entry: a printable A4 page per letter.
* **online platform / Open311** — the row is the export file's line back to the platform
  (CSV or JSON Lines per platform).
* **web** — nobody to reach elsewhere: the status page shows it (the row records it).

Only after the row (and for e-mail the sending) is ``complaint.delivered`` appended.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import orjson
from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.durable.port import DurableStore
from shared.events.catalog import DeliveryChannel

OUTBOX = "delivery_outbox"


class DeliverySettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LEDGER_DELIVERY_", env_file=".env", extra="ignore"
    )

    enabled: bool = Field(False, description="run the delivery worker with the intake app")
    poll_seconds: float = Field(0.5, gt=0, description="longest wait between looks at the log")
    round_size: int = Field(256, ge=1, description="deliveries decided per round (one append)")
    smtp_host: str = Field("", description="SMTP server for e-mail replies (empty: no e-mail)")
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_starttls: bool = Field(False, description="upgrade the connection with STARTTLS")
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_timeout_seconds: float = Field(30.0, gt=0)
    mail_from: str = Field("noreply@efficiency-office.invalid", description="the From address")
    metrics_port: int | None = Field(None, description="standalone: serve /metrics on this port")

    @property
    def smtp(self) -> bool:
        return bool(self.smtp_host)


class OutboxRow(BaseModel):
    """One delivery, as intake keeps it (no address: that stays in the vault)."""

    id: str = Field(description="the derived id of its complaint.delivered")
    case: str = Field(description="the complaint's own case: its vault entry")
    stream: str = Field(description="the case the cause is on")
    cause: str
    cause_type: str
    complaint_no: str
    channel: DeliveryChannel
    what: str
    platform: str | None = None
    subject: str
    body: str
    at: str = Field(description="when the row was written (UTC)")
    sent: bool = Field(description="done on its channel (e-mail: the SMTP server took it)")


class Outbox:
    def __init__(self, store: DurableStore) -> None:
        self.store = store

    async def get(self, delivery_id: str) -> tuple[OutboxRow, int] | None:
        entry = await self.store.get(OUTBOX, delivery_id)
        if entry is None:
            return None
        return OutboxRow.model_validate(entry.value), entry.version

    async def add(self, row: OutboxRow) -> tuple[OutboxRow, int]:
        """Write the row if absent; the row as stored (a racing copy's, if it came first)."""
        version = await self.store.compare_and_set(OUTBOX, row.id, row.model_dump(mode="json"), 0)
        if version is not None:
            return row, version
        found = await self.get(row.id)
        assert found is not None
        return found

    async def mark_sent(self, row: OutboxRow, version: int) -> None:
        done = row.model_copy(update={"sent": True}).model_dump(mode="json")
        await self.store.compare_and_set(OUTBOX, row.id, done, version)

    async def rows(self, *channels: DeliveryChannel) -> list[OutboxRow]:
        """Every row of these channels, oldest first."""
        out: list[OutboxRow] = []
        after: str | None = None
        while page := await self.store.scan(OUTBOX, after=after):
            out += [OutboxRow.model_validate(e.value) for e in page]
            after = page[-1].key
        wanted = set(channels)
        return sorted((r for r in out if r.channel in wanted), key=lambda r: (r.at, r.id))


def mail_of(row: OutboxRow, to: str, sender: str) -> EmailMessage:
    """The e-mail for a row: its Message-ID derived from the delivery id (a repeat after a
    crash is recognisably the same message)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = row.subject
    domain = sender.rpartition("@")[2] or "localhost"
    msg["Message-ID"] = f"<{row.id}@{domain}>"
    msg.set_content(row.body)
    return msg


class SmtpSender:
    def __init__(self, settings: DeliverySettings) -> None:
        self.settings = settings

    async def send(self, msg: EmailMessage) -> None:
        s = self.settings
        await aiosmtplib.send(
            msg,
            hostname=s.smtp_host,
            port=s.smtp_port,
            start_tls=s.smtp_starttls,
            username=s.smtp_username or None,
            password=s.smtp_password or None,
            timeout=s.smtp_timeout_seconds,
        )


# -- the exports (pure: rows and the contact each needs, to text) -----------------------------

CALL_LIST_COLUMNS = ("投诉编号", "联系电话", "称呼", "事由", "内容", "登记时间")
PLATFORM_COLUMNS = ("complaint_no", "what", "subject", "body", "at")


def call_list_csv(rows: Iterable[tuple[OutboxRow, dict[str, Any]]]) -> str:
    """The call list as CSV (UTF-8 with BOM, as spreadsheet programs here expect it)."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(CALL_LIST_COLUMNS)
    for row, contact in rows:
        w.writerow(
            [
                row.complaint_no,
                contact.get("phone") or "",
                contact.get("name") or "",
                row.subject,
                row.body,
                row.at,
            ]
        )
    return "\ufeff" + out.getvalue()


def platform_lines(rows: Iterable[OutboxRow]) -> list[dict[str, Any]]:
    """What goes back to a platform: the complaint number and the text (no contact at all:
    the platform knows its own user)."""
    return [{c: getattr(r, c) for c in PLATFORM_COLUMNS} for r in rows]


def platform_csv(rows: Iterable[OutboxRow]) -> str:
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=PLATFORM_COLUMNS)
    w.writeheader()
    w.writerows(platform_lines(rows))
    return "\ufeff" + out.getvalue()


def platform_jsonl(rows: Iterable[OutboxRow]) -> bytes:
    return b"".join(orjson.dumps(line) + b"\n" for line in platform_lines(rows))
