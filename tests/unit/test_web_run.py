"""``python -m shared.run`` (``make run``): one process per declared service on loopback; they
say how to sign in, and Ctrl-C (SIGINT) stops them all."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from shared.service import declared

ROOT = Path(__file__).resolve().parents[2]
PID_LINE = re.compile(r"^\s+(\S+)\s+http://127\.0\.0\.1:(\d+)/ .*\(pid (\d+)\)$", re.M)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_run_starts_one_process_per_service_and_stops_them_all_on_ctrl_c(tmp_path: Path) -> None:
    names = list(declared())
    assert len(names) == 4
    ports = {name: free_port() for name in names}
    env = {
        **os.environ,
        "LEDGER_VAR_DIR": str(tmp_path),
        "LEDGER_PASSWORD_MEMORY_KIB": "64",
        "LEDGER_PASSWORD_TIME_COST": "1",
        "LEDGER_PASSWORD_PARALLELISM": "1",
        **{f"LEDGER_{name.upper()}_PORT": str(port) for name, port in ports.items()},
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "shared.run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        for name, port in ports.items():
            while True:
                try:
                    r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except httpx.TransportError:
                    assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                    assert time.monotonic() < deadline, f"{name} did not come up"
                    time.sleep(0.2)
            assert r.json() == {"status": "ok", "service": name}
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    served = {m.group(1): (int(m.group(2)), int(m.group(3))) for m in PID_LINE.finditer(out)}
    assert {n: port for n, (port, _) in served.items()} == ports
    pids = {pid for _, pid in served.values()}
    assert len(pids) == 4 and proc.pid not in pids  # four processes, none of them the parent
    assert not any(_alive(pid) for pid in pids)  # all stopped
    assert "demo-operators.txt" in out and "/auth/token" in out
    assert out.count("Application shutdown complete") == 4 and "stopped." in out
    assert "Traceback" not in out
    for name in names:
        assert (tmp_path / name / "demo-operators.txt").is_file()
