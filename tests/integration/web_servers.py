"""Real service processes for the web integration tests: ``python -m uvicorn
services.<name>.app:create --factory`` on a free loopback port, its stdout (the JSON log) kept
in a file, stopped by its PID."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServiceProcess:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    var_dir: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def demo_passwords(self) -> dict[str, str]:
        text = (self.var_dir / self.name / "demo-operators.txt").read_text(encoding="utf-8")
        rows = [ln.split("\t") for ln in text.splitlines() if ln and not ln.startswith("#")]
        return {row[0]: row[1] for row in rows}

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def start_service(
    name: str,
    var_dir: Path,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    port: int | None = None,
) -> ServiceProcess:
    """``port``: a fixed one (a restart where its clients wait), else a free one."""
    port = port or free_port()
    log_path = var_dir.parent / f"{name}-{port}.log"
    full_env = {
        **os.environ,
        "LEDGER_VAR_DIR": str(var_dir),
        "LEDGER_PORT": str(port),
        **(env or {}),
    }
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                f"services.{name}.app:create",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=ROOT,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = ServiceProcess(name, port, proc, log_path, var_dir)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited: {server.log_text()[-2000:]}")
        try:
            if httpx.get(server.url + "/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{name} did not answer /healthz within {timeout} s")
