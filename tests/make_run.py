"""``python -m shared.run`` (what ``make run`` starts) in a test: started with the given
environment, waited for until every service answers ``/healthz`` on its port as itself, then
stopped with Ctrl-C (SIGINT); it must exit 0."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Ran:
    output: str  # its stdout and stderr, together
    pid: int  # the parent's


def run_until_healthy(env: Mapping[str, str], ports: Mapping[str, int]) -> Ran:
    proc = subprocess.Popen(
        [sys.executable, "-m", "shared.run"],
        cwd=ROOT,
        env=dict(env),
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
    return Ran(out, proc.pid)
