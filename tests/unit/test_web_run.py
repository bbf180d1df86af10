"""``python -m shared.run``: the services come up on loopback, say how to sign in, and stop
cleanly on Ctrl-C (SIGINT)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_run_starts_serves_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "LEDGER_VAR_DIR": str(tmp_path),
        "LEDGER_DISPATCH_PORT": str(port),
        "LEDGER_PASSWORD_MEMORY_KIB": "64",
        "LEDGER_PASSWORD_TIME_COST": "1",
        "LEDGER_PASSWORD_PARALLELISM": "1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "shared.run", "dispatch"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                assert time.monotonic() < deadline, "service did not come up"
                time.sleep(0.2)
        assert r.json() == {"status": "ok", "service": "dispatch"}
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    assert f"http://127.0.0.1:{port}/" in out
    assert "demo-operators.txt" in out and "/auth/token" in out
    assert "Application shutdown complete" in out and "stopped." in out
    assert "Traceback" not in out
    assert (tmp_path / "dispatch" / "demo-operators.txt").is_file()
