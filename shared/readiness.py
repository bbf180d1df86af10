"""Readiness checks: what a service must have (the log, its store, a projector that keeps up)
before it answers. Each is an async callable returning a :class:`CheckResult`; ``/readyz``
(``shared/web/health.py``) runs them. Kept outside ``shared.web`` so the parts that supply
checks need not import the web package."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    reason: str = ""


CheckFunction = Callable[[], Awaitable[CheckResult]]


@dataclass(frozen=True)
class ReadinessCheck:
    name: str
    check: CheckFunction


def as_readiness_check(item: ReadinessCheck | CheckFunction) -> ReadinessCheck:
    if isinstance(item, ReadinessCheck):
        return item
    return ReadinessCheck(getattr(item, "__name__", "check"), item)
