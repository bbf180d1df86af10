"""The two rules every timer obeys, on whichever stream holds its deadline (a case, a
conference): it fires only once its due time has passed by the log's own clock, and exactly
once per (stream, unit, due time), whatever its event id."""

from __future__ import annotations

from typing import Any

from shared.rules.act import Act, micros
from shared.rules.verdict import Reason, Verdict, reject


def timer_key(d: dict[str, Any]) -> tuple[str, int]:
    return (d.get("unit") or "", micros(d["due_at"]))


def timer_once(timers: tuple[tuple[str, int], ...], d: dict[str, Any], act: Act) -> Verdict | None:
    """The two rules every timer obeys, on any stream that holds deadlines."""
    key = timer_key(d)
    if act.at < key[1]:
        return reject(Reason.too_early, "the log time is before the due time")
    if key in timers:
        return reject(Reason.duplicate_act, "this deadline has already elapsed")
    return None
