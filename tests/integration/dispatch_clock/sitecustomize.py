"""Test-only: dispatch's assignment clock, set back by the seconds written in the file that
``LEDGER_TEST_DISPATCH_CLOCK_FILE`` names (read on every assignment; no file: no shift).

The end-to-end test puts this directory on ``PYTHONPATH`` of the service processes, so a case
assigned while the file says a month makes dispatch compute its due time from a month ago:
the case is past due the moment it is assigned, and the real scheduler (in oversight, on the
real clock) fires its timer. Nothing else in any process is touched: the log, its clock and
every other clock stay real."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, tzinfo

_PATH = os.environ.get("LEDGER_TEST_DISPATCH_CLOCK_FILE")

if _PATH and os.environ.get("LEDGER_DEPLOYMENT") == "dispatch":
    import services.dispatch.api as _api

    class _SetBack(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
            try:
                with open(_PATH, encoding="ascii") as f:
                    back = float(f.read().strip() or 0)
            except OSError:
                back = 0.0
            return datetime.now(tz) - timedelta(seconds=back)

    _api.datetime = _SetBack  # type: ignore[misc]
