"""A city on one log for the screening tests: a district body's intake, a municipal body's
intake and dispatch (which publishes the directories of the labelled duplicate set)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.intake.commands import complaint_no
from shared.ledger import keystore
from shared.ledger.bootstrap import init_ledger
from shared.ledger.configuration import publish_defaults
from shared.ledger.deployments import spec
from shared.ledger.signer import Draft, Signer
from shared.ledger.writer import EventWriter
from shared.log.factory import open_log
from shared.log.port import EventLog
from shared.settings import LedgerSettings
from tests.data.duplicates.labelled_set import Labelled, directories
from tests.samples import new_case

DISTRICT, CITY = "huicheng-efficiency", "efficiency-office"
DEPLOYMENTS = f"""
[[deployment]]
name = "intake-district"
service = "intake"
body = "{DISTRICT}"

[[deployment]]
name = "intake-city"
service = "intake"
body = "{CITY}"
port = 8101

[[deployment]]
name = "dispatch"
service = "dispatch"
body = "{CITY}"
"""
DISTRICT_BODIES = {"huicheng-efficiency", "huicheng-petitions"}
RECEIVED = "ledger.complaint.received.v1"


@dataclass
class City:
    settings: LedgerSettings
    log: EventLog
    writers: dict[str, EventWriter]  # by deployment name

    def deployment_for(self, c: Labelled) -> str:
        return "intake-district" if c.received_by in DISTRICT_BODIES else "intake-city"

    async def file(self, c: Labelled) -> str:
        """File a labelled complaint with the deployment of its level; its case id."""
        name = self.deployment_for(c)
        body = DISTRICT if name == "intake-district" else CITY
        stream = new_case()
        data: dict[str, Any] = {
            "complaint_no": complaint_no(stream),
            "channel": c.channel,
            "received_by": body,
            "unit": c.unit,
            "category": c.category,
            "text": c.text,
            "tracking_code_hash": "0" * 64,
            "stated_received_at": c.received_at,
        }
        if c.platform is not None:
            data["platform"] = c.platform
        if c.pseudonym is not None:
            data["complainant"] = c.pseudonym
        result = await self.writers[name].submit(
            stream, lambda state: [Draft(RECEIVED, data, f"{body}/S001")]
        )
        assert result.refused is None, result.refused
        return stream


async def open_city(var: Path, backend: str = "sqlite", **extra: Any) -> City:
    var.mkdir(parents=True, exist_ok=True)
    file = var.parent / "deployments.toml"
    file.write_text(DEPLOYMENTS, encoding="utf-8")
    config = var.parent / "config"
    config.mkdir(exist_ok=True)
    import orjson

    for kind, content in directories().items():
        (config / f"{kind}.json").write_bytes(orjson.dumps(content))
    settings = LedgerSettings(
        var_dir=var, log_backend=backend, log_partitions=3, deployments_file=file, **extra
    )
    log = await open_log(settings)
    await init_ledger(log, settings)
    await publish_defaults(log, settings, directory=config)
    genesis = keystore.genesis_public(settings)
    writers = {
        name: EventWriter(
            log, Signer(spec(name, settings).deployment, keystore.load(settings, name)), genesis
        )
        for name in ("intake-district", "intake-city")
    }
    return City(settings, log, writers)


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "not within the time allowed"
        await asyncio.sleep(0.1)
