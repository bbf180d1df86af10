"""Read-your-writes: a read that names a log position waits, bounded, for the service's read
model to reach it, and says when it gave up.

A command answers with ``position`` (``{partition: next offset}``); a client passes it back as
``?after=0:17,2:4`` on a read. The dependency :data:`FreshRead` waits at most
``LEDGER_READ_YOUR_WRITES_SECONDS`` for the projector to have applied the log that far, then
lets the handler answer from the read model either way, with the header
``Ledger-Read-Position: reached`` or ``Ledger-Read-Position: timeout`` (pages show a notice on
a timeout; the data may not yet show the command's effect).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request, Response

from shared.web.context import get_context

HEADER = "Ledger-Read-Position"
AFTER_PATTERN = r"^\d{1,4}:\d{1,15}(,\d{1,4}:\d{1,15}){0,63}$"
_PAIR = re.compile(r"(\d+):(\d+)")


@dataclass(frozen=True)
class Freshness:
    asked: bool  # the read named a position
    reached: bool  # the read model holds it (True when nothing was asked)
    waited_seconds: float

    @property
    def gave_up(self) -> bool:
        return self.asked and not self.reached


def parse_after(text: str) -> dict[int, int]:
    out: dict[int, int] = {}
    for p, n in _PAIR.findall(text):
        out[int(p)] = max(out.get(int(p), 0), int(n))
    return out


async def fresh_read(
    request: Request,
    response: Response,
    after: Annotated[
        str | None,
        Query(
            pattern=AFTER_PATTERN,
            description="A command's position (partition:next offset, comma-separated): wait, "
            "bounded, until the read model has applied the log that far",
        ),
    ] = None,
) -> Freshness:
    if after is None:
        return Freshness(False, True, 0.0)
    ctx = get_context(request)
    served = ctx.served
    started = time.monotonic()
    timeout = ctx.settings.read_your_writes_seconds
    reached = served is not None and await served.wait_for(parse_after(after), timeout)
    waited = time.monotonic() - started
    response.headers[HEADER] = "reached" if reached else "timeout"
    return Freshness(True, reached, waited)


FreshRead = Annotated[Freshness, Depends(fresh_read)]
