"""Shared fixtures: ledger settings in a temp dir, and the log backends of the contract suite.

Real servers only: the Kafka backend needs the broker that tests/infra/with-infra.sh starts
(``LEDGER_TEST_KAFKA_BOOTSTRAP``). Without it the Kafka tests skip with the reason — except
under CI, where a missing server is a failure, not a skip.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shared.ledger.bootstrap import init_ledger
from shared.log.factory import open_log
from shared.log.port import EventLog
from shared.settings import LedgerSettings

IN_CI = os.environ.get("CI", "").lower() == "true"

# The oversight apps of test worlds sign no period figures of their own (the publisher would
# append to a period stream at a moment no test chooses, moving the log's head under tests that
# check nothing was written); tests/integration/test_period_figures.py runs the publisher itself.
os.environ.setdefault("LEDGER_PERIOD_FIGURES_ENABLED", "false")
REPO = Path(__file__).resolve().parents[1]


def require_env(var: str, what: str) -> str:
    """The value of a test-server variable, or skip (fail under CI) saying why it is missing."""
    value = os.environ.get(var)
    if value:
        return value
    reason = os.environ.get(f"LEDGER_INFRA_{what.upper()}_SKIP_REASON", f"{var} is not set")
    message = f"{what} not available: {reason} (run the tests with `make test`)"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


# Backends of the log contract suite: (name, backend, partitions).
LOG_BACKENDS = [("sqlite-1", "sqlite", 1), ("sqlite-3", "sqlite", 3), ("kafka-3", "kafka", 3)]


def settings_for(backend: str, partitions: int, var_dir: Path) -> LedgerSettings:
    env: dict[str, object] = {
        "var_dir": var_dir,
        "log_backend": backend,
        "log_partitions": partitions,
    }
    if backend == "kafka":
        env["kafka_bootstrap"] = require_env("LEDGER_TEST_KAFKA_BOOTSTRAP", "kafka")
        env["kafka_topic"] = f"ledger-test-{uuid.uuid4().hex[:12]}"
    return LedgerSettings(**env)  # type: ignore[arg-type]


def settings_env(settings: LedgerSettings) -> dict[str, str]:
    """Environment for a subprocess that must open the same log."""
    env = dict(os.environ)
    env.update(
        {
            "LEDGER_VAR_DIR": str(settings.var_dir),
            "LEDGER_LOG_BACKEND": settings.log_backend,
            "LEDGER_LOG_PARTITIONS": str(settings.log_partitions),
            "LEDGER_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
            "LEDGER_KAFKA_TOPIC": settings.kafka_topic,
        }
    )
    return env


def ledger_cli(settings: LedgerSettings, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the real `ledger` command against the log these settings name."""
    env = settings_env(settings)
    env["COLUMNS"] = "200"  # rich wraps at the terminal width; tests read whole lines
    return subprocess.run(
        [sys.executable, "-m", "shared.cli.main", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(params=LOG_BACKENDS, ids=[b[0] for b in LOG_BACKENDS])
def log_settings(request: pytest.FixtureRequest, tmp_path: Path) -> LedgerSettings:
    _, backend, partitions = request.param
    return settings_for(backend, partitions, tmp_path / "var")


@pytest.fixture
async def log(log_settings: LedgerSettings) -> AsyncIterator[EventLog]:
    opened = await open_log(log_settings)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def ledger(log: EventLog, log_settings: LedgerSettings) -> EventLog:
    """A log with the default deployments registered (keys under the test's var dir)."""
    await init_ledger(log, log_settings)
    return log


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> LedgerSettings:
    return settings_for("sqlite", 3, tmp_path / "var")
