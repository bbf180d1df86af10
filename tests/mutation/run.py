"""Mutation testing of the core: ``python -m tests.mutation.run [PATH ...]`` (``make mutation``).

1. A baseline run of the fast tests (``tests/unit``, ``tests/property``; no Kafka, MongoDB or
   browser) records, per test, which lines of the target files it executes (a line tracer on the
   target files only) and how long it takes. Lines run only while modules are imported (module
   level: rule tables, constants) are attributed to every test that touches that file.
2. Each mutant (``tests/mutation/mutate.py``) is compiled in memory and run in a forked child
   of this process, which has already imported the third-party libraries: an import hook serves
   the mutated module, and ``pytest -x`` runs only the tests covering the mutated lines, fastest
   first, under a per-mutant timeout. No source file is written, so other work in the tree is
   never disturbed. Children run in parallel (``--jobs``, default: every core).
3. It prints a score per file (killed / mutants) and every survivor (file:line, mutation), and
   writes a JSON report to ``var/mutation/last.json`` (and a timestamped copy).

The deployment table (``default_deployments()``: plain data each service's ``app.py`` declares,
which nothing under ``shared/rules`` or ``shared/events`` shapes) is read once, in a child, and
handed to every run: otherwise each mutant would import all four services' web apps just to
learn it (most of a mutant's time).

A test failure (or a collection error, a crash) kills the mutant; a timeout kills it too (an
endless loop is noticed). A mutant no test executes survives as ``no_tests``.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib
import importlib.abc
import importlib.util
import json
import os
import pickle
import signal
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from types import CodeType, FrameType, ModuleType
from typing import Any

from tests.mutation.mutate import Mutation, mutant_code, mutations

REPO = Path(__file__).resolve().parents[2]
DEFAULT_PATHS = ["shared/rules", "shared/events"]
DEFAULT_TESTS = ["tests/unit", "tests/property"]
# Tests that say nothing about the core's behaviour in-process (they run subprocesses).
EXCLUDED_TESTS = ["tests/unit/test_layering.py"]
MARKERS = "not kafka and not mongo and not browser and not slow"
# Imported once in the parent so every forked child starts warm. Never `shared` itself.
PRELOAD = [
    "pytest",
    "hypothesis",
    "_pytest.python",
    "pydantic",
    "pydantic_settings",
    "orjson",
    "rfc8785",
    "cryptography.hazmat.primitives.asymmetric.ed25519",
    "uuid6",
    "cloudevents.http",
    "structlog",
    "fastapi",
    "starlette.testclient",
    "httpx",
    "jinja2",
    "argon2",
    "typer",
    "rich",
    "prometheus_client",
    "aiokafka",
    "pymongo",
    "pytest_asyncio",
]
KILLED = ("killed", "timeout")


@dataclass
class Result:
    file: str
    index: int
    line: int
    operator: str
    description: str
    status: str  # killed | timeout | survived | no_tests | error
    seconds: float
    tests: int


# -- the child side --------------------------------------------------------------------------


class _MutantFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves one module from a mutated code object; everything else imports as usual."""

    def __init__(self, name: str, path: Path, code: CodeType) -> None:
        self.name, self.path, self.code = name, path, code

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != self.name:
            return None
        return importlib.util.spec_from_file_location(fullname, self.path, loader=self)

    def create_module(self, spec: Any) -> None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        exec(self.code, module.__dict__)


def _hypothesis_profile() -> None:
    """Deterministic examples, no example database (a mutant's failures must not be replayed
    in ordinary runs), no deadlines (the machine is shared)."""
    from hypothesis import settings

    settings.register_profile(
        "mutation", derandomize=True, database=None, deadline=None, print_blob=False
    )
    settings.load_profile("mutation")


# Plugins the fast tests do not use, each costing seconds per mutant to load (schemathesis's
# plugin alone imports and assert-rewrites ~150 modules), and the unraisable-exception hook's
# forced garbage collections at exit.
UNUSED_PLUGINS = ["cacheprovider", "schemathesis", "timeout", "unraisableexception"]


def _pytest_args(tests: list[str], extra: list[str]) -> list[str]:
    """The same options for the baseline and every mutant. Asserts are plain (not rewritten):
    a failing assert fails the same; only its message is shorter, and no one reads it."""
    return [
        "-q",
        *(a for name in UNUSED_PLUGINS for a in ("-p", f"no:{name}")),
        "--assert=plain",
        "--no-header",
        "-o",
        "addopts=",
        "-m",
        MARKERS,
        "--rootdir",
        str(REPO),
        *extra,
        *tests,
    ]


def _deployment_table(logs: Path) -> bytes:
    """The pickled ``default_deployments()``, computed in a child (the parent imports no
    ``shared``)."""
    out = logs / "deployments.pickle"

    def run() -> int:
        from shared.ledger.deployments import default_deployments

        out.write_bytes(pickle.dumps(default_deployments()))
        return 0

    pid = os.fork()
    if pid == 0:
        _child(logs / "deployments.log", run)
    rc, _ = _wait(pid, time.monotonic() + 600)
    if rc != 0 or not out.exists():
        raise SystemExit(f"reading the deployment table failed; see {logs / 'deployments.log'}")
    return out.read_bytes()


def _use_deployment_table(table: bytes) -> None:
    """In a child: ``default_deployments()`` answers from the table read once."""
    import shared.ledger.deployments as deployments

    specs = pickle.loads(table)
    deployments.default_deployments = lambda: specs  # type: ignore[assignment]


def _child(log: Path, run: Any) -> None:
    """In a forked child: own process group, output to ``log``, exit with ``run()``'s code."""
    rc = 3
    try:
        os.setpgid(0, 0)
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.chdir(REPO)
        rc = int(run())
    except BaseException:  # the child must never return into the parent's code
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(rc)


class _Coverage:
    """Pytest plugin for the baseline: which target lines each test executes, and its time."""

    def __init__(self, targets: set[str]) -> None:
        self.targets = targets
        self.current = -1  # -1: importing / collecting
        self.tests: list[str] = []
        self.lines: dict[tuple[str, int], set[int]] = defaultdict(set)
        self.durations: dict[str, float] = defaultdict(float)
        self.failed: set[str] = set()

    def _local(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line":
            self.lines[(frame.f_code.co_filename, frame.f_lineno)].add(self.current)
        return self._local

    def _global(self, frame: FrameType, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename in self.targets:
            self.lines[(frame.f_code.co_filename, frame.f_lineno)].add(self.current)
            return self._local
        return None

    def pytest_sessionstart(self, session: Any) -> None:
        import threading

        threading.settrace(self._global)
        sys.settrace(self._global)

    def pytest_sessionfinish(self, session: Any) -> None:
        import threading

        sys.settrace(None)
        threading.settrace(None)  # type: ignore[arg-type]

    def pytest_runtest_setup(self, item: Any) -> None:
        self.tests.append(item.nodeid)
        self.current = len(self.tests) - 1
        sys.settrace(self._global)  # in case a test reset it

    def pytest_runtest_logreport(self, report: Any) -> None:
        self.durations[report.nodeid] += report.duration
        if report.failed:
            self.failed.add(report.nodeid)

    def pytest_runtest_teardown(self, item: Any) -> None:
        sys.settrace(self._global)


# -- the parent side -------------------------------------------------------------------------


def _preload() -> None:
    for name in PRELOAD:
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    assert "shared" not in sys.modules, "the parent must not import the code under test"


def _targets(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        path = (REPO / p).resolve()
        if path.is_dir():
            files += sorted(f for f in path.rglob("*.py") if "__pycache__" not in f.parts)
        elif path.suffix == ".py":
            files.append(path)
        else:
            raise SystemExit(f"not a Python file or directory: {p}")
    return [f for f in files if f.read_text().strip()]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _wait(pid: int, deadline: float) -> tuple[int | None, bool]:
    """Exit code of a child (None if killed by a signal) and whether it timed out."""
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return (os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else None), False
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None, True
        time.sleep(0.02)


def baseline(
    tests: list[str], targets: list[Path], logs: Path, exclude: list[str], table: bytes
) -> dict[str, Any]:
    """Run the tests once, unmutated, in a child; return their coverage of the targets."""
    out = logs / "baseline.json"

    def run() -> int:
        _hypothesis_profile()
        _use_deployment_table(table)
        import pytest

        plugin = _Coverage({str(t) for t in targets})
        ignore = [f"--ignore={REPO / t}" for t in EXCLUDED_TESTS + exclude]
        # From before pytest loads the conftest, which already imports the core: lines run
        # only then (rule tables, closures built at import) count as run while importing.
        sys.settrace(plugin._global)
        rc = pytest.main(_pytest_args(tests, ignore), plugins=[plugin])
        by_file: dict[str, dict[int, list[int]]] = defaultdict(dict)
        for (file, line), who in plugin.lines.items():
            by_file[file][line] = sorted(who)
        out.write_text(
            json.dumps(
                {
                    "tests": plugin.tests,
                    "lines": by_file,
                    "durations": plugin.durations,
                    "failed": sorted(plugin.failed),
                    "rc": int(rc),
                }
            )
        )
        return 0

    pid = os.fork()
    if pid == 0:
        _child(logs / "baseline.log", run)
    rc, _ = _wait(pid, time.monotonic() + 3600)
    if rc != 0 or not out.exists():
        raise SystemExit(f"baseline run failed; see {logs / 'baseline.log'}")
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def _importers(tests: list[str]) -> dict[str, set[int]]:
    """Module name -> indexes of the tests whose test module imports it directly."""
    by_file: dict[str, list[int]] = defaultdict(list)
    for i, nodeid in enumerate(tests):
        by_file[nodeid.split("::", 1)[0]].append(i)
    importers: dict[str, set[int]] = defaultdict(set)
    for test_file, indexes in by_file.items():
        tree = ast.parse((REPO / test_file).read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for name in names:
                importers[name].update(indexes)
    return importers


class Selection:
    """Which tests to run against a mutant, fastest first, and how long to allow."""

    def __init__(self, base: dict[str, Any], floor: float, factor: float) -> None:
        self.tests: list[str] = base["tests"]
        self.importers = _importers(self.tests)
        self.durations: dict[str, float] = base["durations"]
        failed = set(base["failed"])
        self._ok = {i for i, t in enumerate(self.tests) if t not in failed}
        self.failed = sorted(failed)
        self.lines: dict[str, dict[int, set[int]]] = {
            f: {int(line): set(who) for line, who in per.items()}
            for f, per in base["lines"].items()
        }
        self.floor, self.factor = floor, factor

    def _file_tests(self, file: str) -> set[int]:
        return {i for who in self.lines.get(file, {}).values() for i in who if i >= 0}

    def for_mutant(self, file: str, m: Mutation) -> list[str]:
        per = self.lines.get(file, {})
        who: set[int] = set()
        for line in range(m.line, m.end_line + 1):
            who |= per.get(line, set())
        if not who and m.statement_line:
            # a part of a statement spanning lines (``if x in (\n a,\n b,\n):``): the tracer
            # reports the lines it stops at, so take those of the whole statement so far
            for line in range(m.statement_line, m.end_line + 1):
                who |= per.get(line, set())
        if m.module_level or (-1 in who and not who - {-1}):
            # runs at import: every test that runs this file's code, or whose module imports
            # it (a test may only read a constant), may notice
            who = self._file_tests(file) | self.importers.get(_module_name(Path(file)), set())
        chosen = [i for i in who if i in self._ok]
        chosen.sort(key=lambda i: (self.durations.get(self.tests[i], 0.0), i))
        return [self.tests[i] for i in chosen]

    def timeout(self, tests: list[str]) -> float:
        total = sum(self.durations.get(t, 0.0) for t in tests)
        return max(self.floor, self.factor * total + 15.0)


def run_mutants(
    jobs: list[tuple[Path, Mutation, CodeType, list[str], float]],
    workers: int,
    logs: Path,
    progress: bool,
    table: bytes,
) -> list[Result]:
    results: list[Result] = []
    running: dict[int, tuple[Path, Mutation, list[str], float, float]] = {}
    queue = list(jobs)
    total = len(queue)

    def start(path: Path, m: Mutation, code: CodeType, tests: list[str], limit: float) -> None:
        name = _module_name(path)
        log = logs / f"{name}-{m.index}.log"

        def run() -> int:
            sys.meta_path.insert(0, _MutantFinder(name, path, code))
            _hypothesis_profile()
            _use_deployment_table(table)
            import pytest

            return int(pytest.main(_pytest_args(tests, ["-x"])))

        pid = os.fork()
        if pid == 0:
            _child(log, run)
        now = time.monotonic()
        running[pid] = (path, m, tests, now, now + limit)

    def finish(pid: int, rc: int | None, timed_out: bool) -> None:
        path, m, tests, began, _ = running.pop(pid)
        if timed_out:
            status = "timeout"
        elif rc == 0:
            status = "survived"
        elif rc in (1, 2, 3, 4) or rc is None:
            # a test failed; collection was interrupted; pytest's internal error; the tests
            # the baseline collected are not found (their module no longer imports); a crash
            status = "killed"
        else:
            status = "error"  # no tests collected: the tool's fault
        rel = str(path.relative_to(REPO))
        results.append(
            Result(
                rel,
                m.index,
                m.line,
                m.operator,
                m.description,
                status,
                round(time.monotonic() - began, 2),
                len(tests),
            )
        )
        if progress and (status not in KILLED or len(results) % 25 == 0):
            print(f"[{len(results)}/{total}] {rel}:{m.line} {status}: {m.description}", flush=True)

    while queue or running:
        while queue and len(running) < workers:
            start(*queue.pop(0))
        for pid in list(running):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                rc = os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else None
                finish(pid, rc, False)
            elif time.monotonic() > running[pid][4]:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                finish(pid, None, True)
        time.sleep(0.02)
    return results


def summarise(results: list[Result], files: list[str]) -> dict[str, dict[str, Any]]:
    per: dict[str, dict[str, Any]] = {}
    for f in files:
        mine = [r for r in results if r.file == f]
        counts = {s: sum(r.status == s for r in mine) for s in (*KILLED, "survived", "no_tests")}
        counts["error"] = sum(r.status == "error" for r in mine)
        killed = counts["killed"] + counts["timeout"]
        scored = len(mine) - counts["error"]
        per[f] = {
            "mutants": len(mine),
            **counts,
            "score": round(100.0 * killed / scored, 1) if scored else None,
        }
    return per


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("paths", nargs="*", default=DEFAULT_PATHS, help="files or directories")
    ap.add_argument("--tests", nargs="+", default=DEFAULT_TESTS, help="the fast test pool")
    ap.add_argument(
        "--exclude", action="append", default=[], help="a test file or directory not to use"
    )
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--timeout", type=float, default=30.0, help="least seconds per mutant")
    ap.add_argument(
        "--timeout-factor", type=float, default=3.0, help="x the tests' baseline time, + 15 s"
    )
    ap.add_argument("--limit", type=int, default=0, help="run only the first N mutants")
    ap.add_argument("--report-dir", default="var/mutation")
    ap.add_argument("--keep-logs", action="store_true", help="keep each mutant's pytest output")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args(argv)

    began = time.monotonic()
    report_dir = REPO / args.report_dir
    report_dir.mkdir(parents=True, exist_ok=True)
    targets = _targets(args.paths)
    _preload()
    with tempfile.TemporaryDirectory(prefix="logs-", dir=report_dir) as tmp:
        logs = Path(tmp)
        table = _deployment_table(logs)
        base = baseline(args.tests, targets, logs, args.exclude, table)
        select = Selection(base, args.timeout, args.timeout_factor)
        if select.failed:
            print(f"baseline failures, not used: {', '.join(select.failed)}")
        baseline_seconds = round(time.monotonic() - began, 1)
        jobs = []
        for path in targets:
            source = path.read_text()
            for m in mutations(source):
                _, code = mutant_code(source, path, m.index)
                tests = select.for_mutant(str(path), m)
                jobs.append((path, m, code, tests, select.timeout(tests)))
        if args.limit:
            jobs = jobs[: args.limit]
        untested = [
            Result(str(p.relative_to(REPO)), m.index, m.line, m.operator, m.description,
                   "no_tests", 0.0, 0)
            for p, m, _, tests, _ in jobs
            if not tests
        ]  # fmt: skip
        to_run = [j for j in jobs if j[3]]
        print(
            f"{len(jobs)} mutants in {len(targets)} files; {len(to_run)} to run on "
            f"{args.jobs} workers ({len(untested)} executed by no test)",
            flush=True,
        )
        results = untested + run_mutants(to_run, args.jobs, logs, not args.quiet, table)
        if args.keep_logs:
            kept = report_dir / "logs"
            kept.mkdir(exist_ok=True)
            for f in logs.iterdir():
                f.replace(kept / f.name)
    results.sort(key=lambda r: (r.file, r.index))
    files = [str(t.relative_to(REPO)) for t in targets]
    per_file = summarise(results, files)
    seconds = round(time.monotonic() - began, 1)
    killed = sum(r.status in KILLED for r in results)
    scored = sum(r.status != "error" for r in results)
    score = round(100.0 * killed / scored, 1) if scored else None

    print("\nfile                                   mutants  killed  timeout  survived  score")
    for f, s in per_file.items():
        print(
            f"{f:<38} {s['mutants']:>7} {s['killed']:>7} {s['timeout']:>8} "
            f"{s['survived'] + s['no_tests']:>9}  {s['score']}%"
        )
    print(f"{'total':<38} {len(results):>7}   score {score}%   in {seconds} s")
    survivors = [r for r in results if r.status in ("survived", "no_tests", "error")]
    if survivors:
        print("\nsurvivors:")
        for r in survivors:
            tag = "" if r.status == "survived" else f" [{r.status}]"
            print(f"  {r.file}:{r.line}  {r.operator}: {r.description}{tag}")
    report = {
        "paths": args.paths,
        "tests": args.tests,
        "excluded_tests": EXCLUDED_TESTS + args.exclude,
        "jobs": args.jobs,
        "mutants": len(results),
        "score": score,
        "seconds": seconds,
        "baseline_seconds": baseline_seconds,
        "baseline_failures": select.failed,
        "files": per_file,
        "results": [asdict(r) for r in results],
    }
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    for name in ("last.json", f"report-{stamp}.json"):
        (report_dir / name).write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    shown = report_dir / "last.json"
    print(f"\nreport: {shown.relative_to(REPO) if shown.is_relative_to(REPO) else shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
