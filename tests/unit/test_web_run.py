"""``python -m shared.run`` (``make run``): one process per declared service on loopback; they
say how to sign in, and Ctrl-C (SIGINT) stops them all."""

from __future__ import annotations

import os
import re
from pathlib import Path

from shared.service import declared
from tests.integration.web_servers import free_port
from tests.make_run import run_until_healthy

PID_LINE = re.compile(r"^\s+(\S+)\s+http://127\.0\.0\.1:(\d+)/ .*\(pid (\d+)\)$", re.M)


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
    ran = run_until_healthy(env, ports)
    out = ran.output
    served = {m.group(1): (int(m.group(2)), int(m.group(3))) for m in PID_LINE.finditer(out)}
    assert {n: port for n, (port, _) in served.items()} == ports
    pids = {pid for _, pid in served.values()}
    assert len(pids) == 4 and ran.pid not in pids  # four processes, none of them the parent
    assert not any(_alive(pid) for pid in pids)  # all stopped
    assert "demo-operators.txt" in out and "/auth/token" in out
    assert out.count("Application shutdown complete") == 4 and "stopped." in out
    assert "Traceback" not in out
    for name in names:
        assert (tmp_path / name / "demo-operators.txt").is_file()
