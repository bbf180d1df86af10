"""A small world for the delivery tests: one SQLite log made by ``init_ledger`` with the default
deployments, complaints filed with their vault entries (as the receipt writes them), one case
gathering duplicates, its history written by each deployment that owns it — and a real SMTP
server (aiosmtpd) that keeps every message it is handed."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from services.intake import tracking_code, vault_keys
from services.intake.commands import complaint_no
from services.intake.vault import Vault
from services.intake.vault_content import Held, Identity
from services.intake.vault_settings import VaultSettings
from shared.durable import open_durable
from shared.ledger import keystore
from shared.ledger.bootstrap import init_ledger
from shared.ledger.configuration import publish_defaults
from shared.ledger.deployments import spec
from shared.ledger.signer import Draft, Signer
from shared.ledger.writer import EventWriter
from shared.log.factory import open_log
from shared.log.port import EventLog
from shared.web.settings import WebSettings
from tests.samples import CLERK, HANDLER, OFFICER, SAMPLES, SUPERVISOR, UNIT, new_case
from tests.web_fixtures import fast_settings

RECEIVED = "ledger.complaint.received.v1"


def pseudonym_of(contact: str) -> str:
    return hashlib.sha256(contact.encode()).hexdigest()


@dataclass
class Filed:
    case: str
    number: str
    code: str  # as the complainant types it
    pseudonym: str


@dataclass
class World:
    settings: WebSettings
    log: EventLog
    writers: dict[str, EventWriter]

    async def write(
        self, name: str, stream: str, event_type: str, data: dict[str, Any], actor: str
    ) -> None:
        result = await self.writers[name].submit(
            stream, lambda st: [Draft(event_type, data, actor)]
        )
        assert result.refused is None, (event_type, result.refused)

    async def file(
        self,
        channel: str,
        identity: Identity,
        *,
        platform: str | None = None,
        case: str | None = None,
    ) -> Filed:
        """A complaint received by intake, its vault entry first (as the receipt does)."""
        stream = case or new_case()
        number = complaint_no(stream)
        code = tracking_code.from_seed(stream)
        contact = identity.contact or identity.phone or identity.email or ""
        who = pseudonym_of(contact)
        store = await open_durable(self.settings, "intake")
        try:
            keys = vault_keys.load_or_create(
                VaultSettings().key_file(self.settings.var_dir, "intake")
            )
            held = Held(complaint_no=number, identity=identity, text="原文")
            await Vault(store, keys).keep(stream, held)
        finally:
            await store.close()
        data: dict[str, Any] = {
            **SAMPLES[RECEIVED],
            "complaint_no": number,
            "channel": channel,
            "complainant": who,
            "tracking_code_hash": tracking_code.code_hash(code),
        }
        data.pop("attachments")
        if platform is not None:
            data["platform"] = platform
        await self.write("intake", stream, RECEIVED, data, CLERK)
        return Filed(stream, number, tracking_code.display(code), who)

    async def gather(self, target: Filed, duplicate: Filed) -> None:
        link = {"target": target.case, "complaint_no": duplicate.number, "basis": "同一事项"}
        await self.write(
            "intake", duplicate.case, "ledger.complaint.linked_as_duplicate.v1", link, CLERK
        )
        gathered = {
            "source": duplicate.case,
            "complaint_no": duplicate.number,
            "complainant": duplicate.pseudonym,
        }
        await self.write("intake", target.case, "ledger.complaint.gathered.v1", gathered, CLERK)

    async def assign(self, case: Filed) -> None:
        screened = SAMPLES["ledger.complaint.screened.v1"]
        await self.write("intake", case.case, "ledger.complaint.screened.v1", screened, CLERK)
        assigned = {**SAMPLES["ledger.dispatch.assigned.v1"], "co_units": []}
        await self.write("dispatch", case.case, "ledger.dispatch.assigned.v1", assigned, OFFICER)

    async def reply(self, case: Filed, text: str) -> None:
        data = {"unit": UNIT, "text": text}
        await self.write("oversight", case.case, "ledger.handling.replied.v1", data, HANDLER)

    async def claim(self, case: Filed) -> None:
        data = {"unit": UNIT, "summary": "已整改"}
        await self.write(
            "oversight", case.case, "ledger.handling.resolution_claimed.v1", data, HANDLER
        )

    async def confirm(self, case: Filed) -> None:
        data = {"complaint_no": case.number}
        actor = f"complainant/{case.pseudonym}"
        await self.write("intake", case.case, "ledger.complainant.confirmed.v1", data, actor)

    async def close(self, case: Filed) -> None:
        data = {**SAMPLES["ledger.handling.closed.v1"], "basis": "complainant_confirmed"}
        await self.write("oversight", case.case, "ledger.handling.closed.v1", data, SUPERVISOR)


async def open_world(var: Path, **overrides: Any) -> World:
    settings = fast_settings(var, **overrides)
    log = await open_log(settings)
    await init_ledger(log, settings)
    await publish_defaults(log, settings)
    genesis = keystore.genesis_public(settings)
    writers = {
        name: EventWriter(
            log, Signer(spec(name).deployment, keystore.load(settings, name)), genesis
        )
        for name in ("intake", "dispatch", "oversight")
    }
    return World(settings, log, writers)


# -- a real SMTP server ----------------------------------------------------------------------


@dataclass
class Mailbox:
    messages: list[Message] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.content if isinstance(envelope.content, bytes) else b""
        self.messages.append(message_from_bytes(raw))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()
