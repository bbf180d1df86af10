"""The delivery worker: every event that reaches complainants (``delivery.NOTICES``: a unit's
reply, the closing finding, an extension ruling, a reopening) goes to every complainant linked
to the case — its own complaint and each gathered duplicate — on their own channel, and each
delivery is recorded as ``complaint.delivered`` (channel and cause, never the address).

It follows the log from its start (``shared/readside/follower.py``: every case record judged by
the rule book). A cause waits with the case's complainants as they were when it was accepted;
this deployment delivers to the complaints it received itself (their contacts are in its own
vault), another intake deployment to its own. For each (cause, complaint) not yet delivered:
the outbox row, then the channel's effect (``delivery_channels``: e-mail sent by SMTP; the
call list, letter export and platform export *are* the row), then the event, whose id derives
from (cause, complaint). A worker killed at any point and restarted re-reads the log, finds
the deliveries still missing, finds their rows already there, and writes each event once; a
second worker beside it derives the same ids (a copy is a replay the rule book rejects).

Run it with the intake app (``router``, included in ``app.py``) with
``LEDGER_DELIVERY_ENABLED=true``, or alone: ``python -m services.intake.delivery_worker``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosmtplib
import anyio
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from services.intake import vault_keys
from services.intake.delivery import (
    DELIVERED,
    NOTICES,
    REPLIED,
    Filed,
    Recipient,
    channel_for,
    delivery_id,
    message,
    recipients,
)
from services.intake.delivery_channels import (
    DeliverySettings,
    Outbox,
    OutboxRow,
    SmtpSender,
    mail_of,
)
from services.intake.redaction import redact_complaint
from services.intake.vault import Vault
from services.intake.vault_content import Identity
from services.intake.vault_settings import VaultSettings
from shared.crash_points import crash_point
from shared.durable import open_durable
from shared.durable.port import DurableStore
from shared.durable.settings import DurableSettings
from shared.events.catalog import Channel, DeliveryChannel
from shared.ledger import keystore
from shared.ledger.deployments import spec
from shared.ledger.signer import Draft
from shared.ledger.writer import Decide, EventWriter
from shared.log.factory import open_log
from shared.log.port import StoredRecord
from shared.readside.follower import LogFollower, follow_forever, idle, written_here
from shared.rules.case.state import CaseState
from shared.rules.stream import StreamState
from shared.web.command_path import ServiceWriter
from shared.web.log_worker import run_alone, worker_router

log = logging.getLogger(__name__)

KINDS = frozenset({"case"})
RECEIVED = "ledger.complaint.received.v1"
SNAPSHOTS_FILE = "delivery-snapshots.sqlite3"
ACTOR_PERSON = "delivery"
OpenStore = Callable[[], Awaitable[DurableStore]]


@dataclass(frozen=True)
class Waiting:
    stream: str
    type: str
    data: dict[str, Any]
    recipients: tuple[Recipient, ...]


class Delivery:
    """The worker; see the module docstring."""

    def __init__(
        self,
        settings: DurableSettings,
        key_name: str,
        deployment: str,
        config: DeliverySettings | None = None,
        *,
        store: OpenStore | None = None,
        vault_key_file: Path | None = None,
    ) -> None:
        self.settings = settings
        self.key_name = key_name
        self.deployment = deployment
        self.config = config or DeliverySettings()
        self.actor = f"{spec(key_name, settings).body}/{ACTOR_PERSON}"
        self._store = store
        self.vault_key_file = vault_key_file or VaultSettings().key_file(settings.var_dir, key_name)
        self.sender = SmtpSender(self.config)
        self.follower: LogFollower | None = None
        self.caught_up = asyncio.Event()
        self.waiting: dict[str, Waiting] = {}  # cause id -> the cause and its complainants
        self.filed: dict[str, Filed] = {}  # complaint no -> as received here
        self.delivered = 0  # deliveries this process appended and read back accepted
        self.mails = 0  # e-mails this process handed to the SMTP server
        self._mine: dict[str, str] = {}

    # -- reading ----------------------------------------------------------------------------

    def _accepted(self, rec: StoredRecord, env: dict[str, Any], state: StreamState) -> None:
        kind, data = env.get("type", ""), env.get("data", {})
        if kind == RECEIVED and env.get("source") == self.deployment:
            self.filed[data["complaint_no"]] = Filed(
                rec.stream, Channel(data["channel"]), data.get("platform")
            )
        elif kind in NOTICES and isinstance(state.domain, CaseState):
            people = tuple(recipients(state.domain))
            if people:
                self.waiting[env["id"]] = Waiting(rec.stream, kind, data, people)
        elif kind == DELIVERED:
            self.delivered += int(written_here(self._mine, rec, env))

    # -- the effects ------------------------------------------------------------------------

    async def _identity(self, vault: Vault, case: str) -> Identity:
        held = await vault.read(case)  # None once erased: then the status page only
        return held.identity if held is not None else Identity()

    async def deliver(
        self, outbox: Outbox, vault: Vault, cause_id: str, w: Waiting, r: Recipient
    ) -> OutboxRow:
        """The outbox row for one (cause, complaint), and its effect on its channel."""
        did = delivery_id(cause_id, r.complaint_no)
        filed = self.filed[r.complaint_no]
        found = await outbox.get(did)
        identity: Identity | None = None
        if found is None:
            identity = await self._identity(vault, filed.case)
            channel = channel_for(filed, identity, self.config.smtp)
            reply = ""
            if w.type == REPLIED:
                redacted = await anyio.to_thread.run_sync(
                    redact_complaint, str(w.data["text"]), identity
                )
                reply = redacted.text
            text = message(w.type, w.data, r.complaint_no, reply)
            row = OutboxRow(
                id=did,
                case=filed.case,
                stream=w.stream,
                cause=cause_id,
                cause_type=w.type,
                complaint_no=r.complaint_no,
                channel=channel,
                what=NOTICES[w.type],
                platform=filed.platform,
                subject=text.subject,
                body=text.body,
                at=datetime.now(UTC).isoformat(timespec="microseconds"),
                sent=channel != DeliveryChannel.email,
            )
            found = await outbox.add(row)
        row, version = found
        if row.channel == DeliveryChannel.email and not row.sent:
            identity = identity or await self._identity(vault, filed.case)
            to = identity.email or identity.contact or ""
            await self.sender.send(mail_of(row, to, self.config.mail_from))
            self.mails += 1
            crash_point("delivery_after_send_before_mark")
            await outbox.mark_sent(row, version)
            row = row.model_copy(update={"sent": True})
        return row

    # -- running ----------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        await follow_forever(stop, lambda: self._session(stop), "delivery")

    async def _open_store(self) -> tuple[DurableStore, bool]:
        if self._store is not None:
            return await self._store(), False
        return await open_durable(self.settings, self.key_name), True

    async def _session(self, stop: asyncio.Event) -> None:
        log_ = await open_log(self.settings)
        service = ServiceWriter(
            self.settings,
            self.key_name,
            self.deployment,
            live=lambda: self.follower.live if self.follower is not None else None,
            snapshots_path=self.settings.var_dir / self.key_name / SNAPSHOTS_FILE,
        )
        store, owned = await self._open_store()
        try:
            vault = Vault(store, vault_keys.load_or_create(self.vault_key_file))
            outbox = Outbox(store)
            self.waiting.clear()
            self.filed.clear()
            genesis = keystore.genesis_public(self.settings)
            self.follower = LogFollower(log_, genesis, KINDS, self._accepted)
            await self.follower.start()
            await self.follower.catch_up()
            self.caught_up.set()
            writer = await service.writer()
            while not stop.is_set():
                if not await self.round(writer, outbox, vault):
                    await idle(stop, self.config.poll_seconds)
        finally:
            await service.close()
            await log_.close()
            if owned:
                await store.close()

    async def round(self, writer: EventWriter, outbox: Outbox, vault: Vault) -> bool:
        """Read what is new; deliver what waits (up to a round's worth) and append the events
        in one append; whether anything was appended."""
        follower = self.follower
        assert follower is not None
        await follower.catch_up()
        jobs: list[tuple[str, Decide]] = []
        planned = 0
        for cause_id, w in list(self.waiting.items()):
            if planned >= self.config.round_size:
                break
            seen = (await follower.tracked(writer, w.stream)).state.seen_ids
            drafts: list[Draft] = []
            held_back = False
            for r in w.recipients:
                did = delivery_id(cause_id, r.complaint_no)
                if did in seen or r.complaint_no not in self.filed:
                    continue  # delivered already, or another intake's complainant
                try:
                    row = await self.deliver(outbox, vault, cause_id, w, r)
                except (aiosmtplib.SMTPException, OSError) as exc:
                    log.warning("delivery: e-mail not sent (%s); retrying", type(exc).__name__)
                    held_back = True
                    continue
                data = {
                    "complaint_no": r.complaint_no,
                    "channel": row.channel.value,
                    "cause": cause_id,
                    "what": row.what,
                }
                drafts.append(Draft(DELIVERED, data, self.actor, id=did))
            crash_point("delivery_before_event")
            if not drafts:
                if not held_back:
                    self.waiting.pop(cause_id, None)  # nothing left to deliver for it
                continue
            planned += len(drafts)
            jobs.append((w.stream, _unseen(drafts)))
        signed = await follower.write(writer, jobs)
        self._mine.update((s.id, s.hash) for s in signed)
        if signed:
            await follower.catch_up()
        return bool(signed)


def _unseen(drafts: list[Draft]) -> Decide:
    def decide(state: StreamState) -> list[Draft]:
        return [d for d in drafts if d.id not in state.seen_ids]

    return decide


# -- metrics ---------------------------------------------------------------------------------


class DeliveryCollector(Collector):
    def __init__(self, source: Callable[[], Delivery | None], service: str) -> None:
        self.source = source
        self.service = service

    def collect(self) -> Iterator[CounterMetricFamily]:
        d = self.source()
        if d is None:
            return
        delivered = CounterMetricFamily(
            "ledger_delivery_delivered",
            "complaint.delivered this process wrote",
            labels=["service"],
        )
        delivered.add_metric([self.service], d.delivered)
        mails = CounterMetricFamily(
            "ledger_delivery_mails", "e-mails this process handed to SMTP", labels=["service"]
        )
        mails.add_metric([self.service], d.mails)
        yield from (delivered, mails)


# -- with the app ----------------------------------------------------------------------------


def _started(context: Any) -> Delivery | None:
    config = DeliverySettings()
    if not config.enabled:
        return None
    return Delivery(
        context.settings,
        context.writer.key_name,
        context.writer.deployment,
        config,
        store=context.durable.store,
        vault_key_file=VaultSettings().key_file(context.settings.var_dir, context.service),
    )


router = worker_router("delivery", _started, DeliveryCollector)
"""No routes: included in the intake app, it runs the delivery worker while the app runs."""


# -- alone -----------------------------------------------------------------------------------


async def main() -> None:
    from services.intake.app import SERVICE
    from shared.ledger.deployments import of_service

    settings = DurableSettings()
    config = DeliverySettings()
    mine = of_service(SERVICE.name, settings)
    delivery = Delivery(settings, mine.name, mine.deployment, config)
    await run_alone(
        delivery,
        SERVICE.name,
        DeliveryCollector,
        config.metrics_port,
        lambda _: {"caught_up": True},
    )


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    asyncio.run(main())
