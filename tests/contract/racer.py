"""A writer process for the racing-writers contract test.

It reads the state of every stream first (so its decisions are made against that state), says
``ready`` and waits for the parent's ``go`` (sent once every racer has read its heads, so a
racer started late under load cannot read the other's winners), then appends one assignment
per stream signed against the head it read, and learns by reading back whether it won. Prints
one JSON line per stream.
"""

from __future__ import annotations

import asyncio
import sys

import orjson

from shared.ledger import keystore
from shared.ledger.deployments import spec
from shared.ledger.reader import fold_stream
from shared.ledger.signer import Signer
from shared.ledger.writer import EventWriter
from shared.log.factory import open_log
from shared.settings import LedgerSettings
from tests.samples import draft


async def main(streams: list[str], unit: str) -> None:
    settings = LedgerSettings()
    log = await open_log(settings)
    try:
        signer = Signer(spec("dispatch").deployment, keystore.load(settings, "dispatch"))
        writer = EventWriter(log, signer, keystore.genesis_public(settings))
        fold = await writer.registry()
        heads = {s: (await fold_stream(log, fold, s)).head for s in streams}
        reg = fold.registry
        _, d = draft("ledger.dispatch.assigned.v1", lead_unit=unit, co_units=[])
        pending = [
            signer.sign_chain(
                s, [d], head=heads[s], regseq=reg.version, reghash=reg.hash_at(reg.version)
            )
            for s in streams
        ]
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        if sys.stdin.readline().strip() != "go":
            raise SystemExit("racer: no go from the parent")
        for s, signed in zip(streams, pending, strict=True):
            written = (await writer.submit_signed(s, signed))[0]
            line = {"stream": s, "id": written.event_id, "verdict": str(written.verdict.reason)}
            sys.stdout.write(orjson.dumps(line).decode() + "\n")
            sys.stdout.flush()
    finally:
        await log.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[2].split(","), sys.argv[1]))
