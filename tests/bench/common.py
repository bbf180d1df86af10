"""What every benchmark module shares: rows, timing with CPU accounting, the workspace."""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BENCH_DIR = REPO / "var" / "bench"


@dataclass
class Row:
    key: str  # stable id, e.g. "append.batched"
    benchmark: str
    ours: float
    baseline: float
    unit: str
    target: float | None = None  # minimum ratio; None: no ratio target
    extra_check: bool = True  # a second condition of the target (e.g. "uses every core")
    target_note: str = ""
    notes: dict[str, Any] = field(default_factory=dict)
    lower_is_better: bool = False  # a latency: the ratio is then baseline / ours
    target_max: float | None = None  # a ceiling on ours itself (in ``unit``)

    @property
    def ratio(self) -> float:
        """How close to the raw limit: 1 is the limit, always "higher is better"."""
        num, den = (
            (self.baseline, self.ours) if self.lower_is_better else (self.ours, self.baseline)
        )
        return num / den if den else float("nan")

    @property
    def has_target(self) -> bool:
        return self.target is not None or self.target_max is not None

    @property
    def passed(self) -> bool | None:
        if not self.has_target:
            return None
        ok = self.extra_check
        if self.target is not None:
            ok = ok and self.ratio >= self.target
        if self.target_max is not None:
            ok = ok and self.ours <= self.target_max
        return ok

    def as_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["ratio"] = self.ratio
        d["passed"] = self.passed
        return d


@dataclass
class Timing:
    wall: float
    cpu: float  # this process, every thread
    children_cpu: float = 0.0  # reaped child processes (e.g. a process pool, once shut down)

    def per_core(self, n: int) -> float:
        """n per second of one core: wall time, or CPU time where more than one core worked."""
        return n / max(self.wall, self.cpu, 1e-9)


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self._ch = _children_cpu()
        self._cpu = time.process_time()
        self._t = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.timing = Timing(
            time.perf_counter() - self._t,
            time.process_time() - self._cpu,
            _children_cpu() - self._ch,
        )


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def cores() -> int:
    """Cores this process may run on (what a pool should use)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def fstype(path: Path) -> str:
    """The file system type holding ``path`` (from /proc/self/mountinfo)."""
    real = str(path.resolve())
    best, kind = "", "unknown"
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return kind
    for line in lines:
        left, _, right = line.partition(" - ")
        mount = left.split()[4]
        if (real == mount or real.startswith(mount.rstrip("/") + "/")) and len(mount) >= len(best):
            best, kind = mount, right.split()[0]
    return kind


def remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)


class Workspace:
    """A fresh directory under var/bench/ for one run's files, removed afterwards."""

    def __init__(self, keep: bool = False) -> None:
        self.root = BENCH_DIR / f"run-{os.getpid()}-{int(time.time())}"
        self.keep = keep
        self._n = 0

    def __enter__(self) -> Workspace:
        self.root.mkdir(parents=True, exist_ok=False)
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)

    def db(self, name: str) -> Path:
        """A new database path (never reused within a run)."""
        self._n += 1
        return self.root / f"{self._n:03d}-{name}.sqlite3"
