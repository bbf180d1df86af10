"""Bounded password hashing. argon2id is meant to be expensive (64 MiB and three passes by
default); run unbounded, 40 concurrent sign-ins cost 40 × 64 MiB and every core. So each process
checks passwords on a small pool of its own (``password_hash_concurrency`` threads, never the
shared thread pool that token and session look-ups need), lets ``password_hash_queue`` more
wait, and turns the rest away at once with 503 ``busy``. The pool's threads run at a lowered CPU
priority (``password_hash_nice``; argon2's lane threads inherit it), so on a shared machine a
flood of password checks yields the CPU to every other service's requests: it costs a bounded
amount of memory, and its own sign-ins queue, but nothing else slows."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from shared.web.problems import BUSY, ProblemError

T = TypeVar("T")


def _lower_priority(nice: int) -> Callable[[], None]:
    def initializer() -> None:
        # Linux keeps a nice value per thread (and new threads inherit it); elsewhere this
        # lowers the whole process, so only do it where threads are tasks.
        if nice > 0 and hasattr(os, "setpriority") and os.uname().sysname == "Linux":
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)

    return initializer


class PasswordGate:
    def __init__(self, concurrency: int, queue: int, nice: int = 0) -> None:
        self.concurrency = concurrency
        self.queue = queue
        self._pool = ThreadPoolExecutor(
            max_workers=concurrency,
            thread_name_prefix="password-check",
            initializer=_lower_priority(nice),
        )
        self._inside = 0  # checking or waiting to
        self._running = 0
        self._running_lock = threading.Lock()
        self.refused = 0

    @property
    def in_use(self) -> int:
        return self._running

    def _counted(self, check: Callable[..., T], *args: object) -> T:
        with self._running_lock:
            self._running += 1
        try:
            return check(*args)
        finally:
            with self._running_lock:
                self._running -= 1

    async def run(self, check: Callable[..., T], *args: object) -> T:
        """``check(*args)`` on the gate's pool, or 503 busy when its queue is full."""
        if self._inside >= self.concurrency + self.queue:
            self.refused += 1
            raise ProblemError(BUSY, "登录请求过多，请稍后再试", headers={"Retry-After": "1"})
        self._inside += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, self._counted, check, *args)
        finally:
            self._inside -= 1

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
