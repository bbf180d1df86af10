"""The attacker of tests/integration/test_web_flood.py, in a process of its own (so its event
loop and GIL are not the prober's): N concurrent clients post wrong passwords for S seconds,
then print the status counts as JSON. ``python -m tests.integration.flood_client URL S N``."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter

import httpx


async def flood(url: str, seconds: float, concurrency: int, staff_id: str) -> Counter[int]:
    statuses: Counter[int] = Counter()
    stop_at = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as c:

        async def attacker(n: int) -> None:
            i = 0
            while time.monotonic() < stop_at:
                i += 1
                try:
                    r = await c.post(
                        "/auth/token", json={"staff_id": staff_id, "password": f"g{n}-{i}"}
                    )
                    statuses[r.status_code] += 1
                except httpx.HTTPError:
                    statuses[0] += 1

        await asyncio.gather(*(attacker(n) for n in range(concurrency)))
    return statuses


if __name__ == "__main__":
    url, seconds, concurrency, staff_id = sys.argv[1:5]
    counts = asyncio.run(flood(url, float(seconds), int(concurrency), staff_id))
    print(json.dumps({str(k): v for k, v in counts.items()}))
