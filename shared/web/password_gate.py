"""Bounded password hashing. argon2id is meant to be expensive (64 MiB and three passes by
default); run unbounded, 40 concurrent sign-ins cost 40 × 64 MiB and every core. So each process
checks at most ``password_hash_concurrency`` passwords at once on threads of its own (never the
shared thread pool, which token and session look-ups need), lets ``password_hash_queue`` more
wait, and turns the rest away at once with 503 ``busy``: a flood costs a bounded amount of memory
and CPU, and the other services on the machine keep answering."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread

from shared.web.problems import BUSY, ProblemError

T = TypeVar("T")


class PasswordGate:
    def __init__(self, concurrency: int, queue: int) -> None:
        self.concurrency = concurrency
        self.queue = queue
        self._limiter = anyio.CapacityLimiter(concurrency)
        self._inside = 0  # checking or waiting to
        self.refused = 0

    @property
    def in_use(self) -> int:
        return int(self._limiter.borrowed_tokens)

    async def run(self, check: Callable[..., T], *args: object) -> T:
        """``check(*args)`` on a gated worker thread, or 503 busy when the queue is full."""
        if self._inside >= self.concurrency + self.queue:
            self.refused += 1
            raise ProblemError(BUSY, "登录请求过多，请稍后再试", headers={"Retry-After": "1"})
        self._inside += 1
        try:
            return await anyio.to_thread.run_sync(check, *args, limiter=self._limiter)
        finally:
            self._inside -= 1
