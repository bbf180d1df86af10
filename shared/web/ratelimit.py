"""Per-client rate limits on the ``limits`` library (sliding-window counters; memory storage by
default, any ``limits`` async storage by URI), the client address they count by, and the 429
answer. Sliding-window counters, not the moving window: the async memory storage's moving
window races its own expiry task when a key is cleared (a KeyError in a background task), and
a successful sign-in clears its count; the counters have no such race.

A client is its address as the server sees it (``request.client``; put the service behind a
proxy only with uvicorn's ``--proxy-headers --forwarded-allow-ips`` so that is the real one).
IPv6 clients count by their /64, since one host is given a whole /64.
"""

from __future__ import annotations

import ipaddress
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.aio.storage import Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string
from starlette.requests import HTTPConnection

from shared.web.problems import TOO_MANY_REQUESTS, ProblemError


def client_address(conn: HTTPConnection) -> str:
    host = conn.client.host if conn.client else ""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


@dataclass(frozen=True)
class Refusal:
    retry_after: int  # whole seconds, at least 1


def too_many(refusal: Refusal, detail: str | None = None) -> ProblemError:
    return ProblemError(
        TOO_MANY_REQUESTS,
        detail,
        headers={"Retry-After": str(refusal.retry_after)},
        extensions={"retry_after": refusal.retry_after},
    )


class RateLimits:
    """One limiter over one storage for the app; limits are parsed once from settings."""

    def __init__(self, storage_uri: str) -> None:
        storage = storage_from_string(storage_uri)
        if not isinstance(storage, Storage):
            raise ValueError("LEDGER_RATE_LIMIT_STORAGE must be an async storage (async+…://)")
        self.storage = storage
        self.limiter = SlidingWindowCounterRateLimiter(storage)

    @staticmethod
    def parse(notation: str) -> tuple[RateLimitItem, ...]:
        return tuple(parse_many(notation))

    async def spend(self, items: tuple[RateLimitItem, ...], *key: str) -> Refusal | None:
        """Count one hit against every limit; the refusal of the first one exhausted."""
        for item in items:
            if not await self.limiter.hit(item, *key):
                return await self.refusal(item, *key)
        return None

    async def exhausted(self, items: tuple[RateLimitItem, ...], *key: str) -> Refusal | None:
        """Whether a limit is already used up, without counting a hit."""
        for item in items:
            if not await self.limiter.test(item, *key):
                return await self.refusal(item, *key)
        return None

    async def refusal(self, item: RateLimitItem, *key: str) -> Refusal:
        stats = await self.limiter.get_window_stats(item, *key)
        return Refusal(max(1, math.ceil(stats.reset_time - time.time())))

    async def clear(self, items: tuple[RateLimitItem, ...], *key: str) -> None:
        for item in items:
            await self.limiter.clear(item, *key)
