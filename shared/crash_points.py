"""Test-only crash injection: ``LEDGER_CRASH_AT=<point>:<n>`` kills the process with SIGKILL the
n-th time the named point is reached, so the crash tests kill real processes at the exact
moments that matter. Unset (always, outside those tests), a crash point does nothing.
"""

from __future__ import annotations

import os
import signal

PROJECTOR_POINTS = ("after_doc_before_position", "between_docs_of_one_event", "mid_batch")
COMMAND_POINTS = (
    "after_append_before_answer",  # appended, not yet answered
    "after_vault_before_append",  # intake's vault entry written, the complaint not yet appended
)
DELIVERY_POINTS = (
    "delivery_after_send_before_mark",  # the SMTP server took the e-mail, its row not marked
    "delivery_before_event",  # a cause's deliveries done, their events not yet appended
)
POINTS = frozenset((*PROJECTOR_POINTS, *COMMAND_POINTS, *DELIVERY_POINTS))


def plan() -> tuple[str, int] | None:
    spec = os.environ.get("LEDGER_CRASH_AT", "")
    if not spec:
        return None
    point, _, n = spec.partition(":")
    if point not in POINTS:
        raise ValueError(f"LEDGER_CRASH_AT names no crash point: {point}")
    return point, int(n or 1)


class Crasher:
    """Counts arrivals at the planned point; SIGKILLs this process at the planned one."""

    def __init__(self, planned: tuple[str, int] | None) -> None:
        self.point, self.at = planned if planned else ("", 0)
        self.seen = 0

    def __call__(self, point: str) -> None:
        if point == self.point:
            self.seen += 1
            if self.seen == self.at:
                os.kill(os.getpid(), signal.SIGKILL)


_process: Crasher | None = None


def crash_point(point: str) -> None:
    """The process-wide crasher (planned from the environment on first use)."""
    global _process
    if _process is None:
        _process = Crasher(plan())
    _process(point)
