"""Upcasting: old versions of an event are read as the newest, never rewritten.

Verify first (the signature covers the stored, old bytes), then upcast for the fold. An
upcaster maps the payload of ``base.vN`` to that of ``base.vN+1``; chains apply in order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.events.envelope import split_type

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

_UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def register(base: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    def deco(fn: Upcaster) -> Upcaster:
        _UPCASTERS[(base, from_version)] = fn
        return fn

    return deco


def upcast(event_type: str, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The newest (type, payload) reachable from this one."""
    if not _UPCASTERS:  # nothing shipped needs upcasting yet: the replay hot path
        return event_type, data
    base, version = split_type(event_type)
    while (fn := _UPCASTERS.get((base, version))) is not None:
        data = fn(data)
        version += 1
    return f"{base}.v{version}", data
