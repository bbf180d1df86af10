"""``make bench`` = ``python -m tests.bench.run``: one table, each row beside its baseline.

Every baseline is measured in the same run, on the same bytes, with the same durability, on
the project's own disk (a fresh directory under ``var/bench/``, never tmpfs). Rows with a
target compute pass/fail as the ratio ours / baseline; the command exits 0 regardless
(benchmarks report, they do not gate) unless ``--strict``. The table is also written as JSON
to ``var/bench/last.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import os
import platform
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from tests.bench import (
    append,
    backup,
    calendar,
    commands,
    corpus,
    dispatch,
    duplicates,
    intake,
    kafka,
    ledger,
    oversight_dashboard,
    peer,
    pipeline,
    projection,
    ranking,
    redaction,
    store_query,
    timers,
)
from tests.bench import rates_pages as rates_pages_bench
from tests.bench import report as report_bench
from tests.bench.common import BENCH_DIR, Row, Workspace, cores, fstype

GROUPS = (
    "append",
    "pipeline",
    "ledger",
    "peer",
    "kafka",
    "store",
    "command",
    "calendar",
    "redaction",
    "intake",
    "backup",
    "timers",
    "duplicates",
    "dispatch",
    "report",
    "oversight_dashboard",
    "rates_pages",
    "ranking",
)
# Groups that need no signed corpus: with only these, none is built.
CORPUS_FREE = frozenset(
    {"calendar", "redaction", "intake", "backup", "timers", "duplicates", "dispatch"}
    | {"oversight_dashboard"}
    | {"rates_pages"}
    | {"ranking"}
    | {"report"}  # report builds (and caches) its own sealed corpus
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="make bench", description=__doc__.splitlines()[0])
    p.add_argument(
        "--events",
        type=int,
        default=20_000,
        help="events in the corpus (batched append, replay, verify); default 20000",
    )
    p.add_argument(
        "--single",
        type=int,
        default=300,
        help="events appended one per call / one per transaction; default 300",
    )
    p.add_argument(
        "--rounds",
        type=int,
        default=30,
        help="rounds of 32 concurrent one-event appends; default 30",
    )
    p.add_argument("--writers", type=int, default=32, help="concurrent asyncio writers")
    p.add_argument("--saves", type=int, default=30, help="peer 100-event saves; default 30")
    p.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="alternating rounds per measurement (median taken); default 3",
    )
    p.add_argument(
        "--only",
        default=",".join(GROUPS),
        help=f"comma-separated groups to run, of {', '.join(GROUPS)}",
    )
    p.add_argument(
        "--docs",
        type=int,
        default=100_000,
        help="case documents behind the heaviest page query; default 100000",
    )
    p.add_argument(
        "--ferret-events",
        type=int,
        default=5_000,
        help="events projected into FerretDB (each update costs it a scan); default 5000",
    )
    p.add_argument(
        "--dues",
        type=int,
        default=2_000,
        help="due times computed (15 working days each); default 2000",
    )
    p.add_argument(
        "--restart-events",
        type=int,
        default=1_000_000,
        help="records in the log behind the first-command-after-restart rows; default 1000000",
    )
    p.add_argument(
        "--backup-records",
        type=int,
        default=100_000,
        help="records in the SQLite log a backup copies; default 100000",
    )
    p.add_argument(
        "--timers-pending",
        type=int,
        default=100_000,
        help="cases past due in the scheduler's log (all pending at once); default 100000",
    )
    p.add_argument(
        "--timers-fired",
        type=int,
        default=2_000,
        help="deadlines fired per measured round of the scheduler; default 2000",
    )
    p.add_argument(
        "--duplicates-index",
        type=int,
        default=1_000_000,
        help="complaints in the duplicate index the lookup rows search; default 1000000",
    )
    p.add_argument(
        "--report-events",
        type=int,
        default=1_000_000,
        help="events in the sealed corpus `ledger report` reads (cached under var/bench/cache);"
        " default 1000000",
    )
    p.add_argument("--json", type=Path, default=BENCH_DIR / "last.json", help="JSON output")
    p.add_argument("--keep", action="store_true", help="keep the run's database files")
    p.add_argument("--strict", action="store_true", help="exit 1 if a row misses its target")
    p.add_argument("--allow-tmpfs", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.only = {g.strip() for g in args.only.split(",") if g.strip()}
    unknown = args.only - set(GROUPS)
    if unknown:
        p.error(f"unknown group(s): {', '.join(sorted(unknown))}")
    return args


def _take(records: list[Any], n: int) -> list[Any]:
    return (records * (1 + n // max(1, len(records))))[:n]


async def measure(args: argparse.Namespace, ws: Workspace, console: Console) -> list[Row]:
    rows: list[Row] = []
    say = console.log
    if "calendar" in args.only:
        say(f"{args.dues:,} due times on the statutory calendar")
        cal = calendar.run(args.dues, args.repeat)
        rows.append(
            Row(
                "calendar.due",
                f"due times, {cal['working_days']} working days (raw: package's is_workday loop)",
                cal["ours"],
                cal["raw"],
                "dues/s/core",
                notes=cal,
            )
        )
        if not cal["agree"]:
            console.print("[red]due_at and the package's own loop disagree")
    if "redaction" in args.only:
        say("redaction on the labelled set's held-out half")
        rows += redaction.rows(args.repeat)
    if "intake" in args.only:
        say(f"complaints accepted through HTTP by one intake worker, {args.writers} connections")
        rows += await intake.rows(ws, args.writers, args.repeat)
    if "backup" in args.only:
        say(f"backup's online copy of a {args.backup_records:,}-record SQLite log")
        bk = await backup.run(ws.root / "backup", args.backup_records, args.repeat)
        rows.append(
            Row(
                "backup.sqlite_copy",
                "backup of a SQLite part: online copy in one snapshot + SHA-256 "
                "(raw: sqlite3 backup in one step)",
                bk["ours"],
                bk["raw"],
                "MB/s",
                target=0.4,
                target_note="the manifest's SHA-256 is the one pass beyond the raw copy",
                notes=bk,
            )
        )
    if "timers" in args.only:
        say(f"the scheduler over {args.timers_pending:,} pending deadlines (building the log)")
        tm = await timers.run(ws, args.timers_pending, args.timers_fired, args.repeat)
        rows.append(
            Row(
                "timers.fire",
                f"deadlines fired, {tm['pending']:,} pending (bare signed appends, same count)",
                tm["ours"],
                tm["raw"],
                "deadlines/s",
                notes=tm,
            )
        )
        rows.append(
            Row(
                "timers.startup",
                f"scheduler start-up over {tm['records']:,} records (bare replay of the log)",
                tm["startup_s"],
                tm["replay_s"],
                "s",
                lower_is_better=True,
                notes=tm,
            )
        )
    if "duplicates" in args.only:
        say(f"duplicate screening: the labelled set, {args.duplicates_index:,} indexed")
        rows += await duplicates.rows_async(ws.root / "duplicates", args.duplicates_index)
    if "dispatch" in args.only:
        rows += await measure_dispatch(args, ws, console)
    if "oversight_dashboard" in args.only:
        say(f"the supervision dashboard over {args.docs:,} cases (SQLite read store)")
        rows.append(oversight_dashboard.row(await oversight_dashboard.page(ws, args.docs)))
    if "rates_pages" in args.only:
        say(f"the rates pages' first read over {args.docs:,} cases (SQLite read store)")
        rows.append(await rates_pages_bench.row(ws, args.docs, args.repeat))
    if "ranking" in args.only:
        say(f"the assessment ranking page over {args.docs:,} cases (SQLite read store)")
        rows += ranking.rows(await ranking.page(ws, args.docs))
    if "report" in args.only:  # `ledger report` beside raw read-and-decode
        rows += await report_bench.rows(ws, args.report_events, args.repeat, say)
    if not args.only - CORPUS_FREE:
        return rows  # nothing below needs the signed corpus
    say(f"signing a corpus of {args.events:,} events in {corpus.PARTITIONS} partitions")
    c, log = await corpus.build(ws.root / "ledger", args.events)
    records = c.records
    say(
        f"{len(c.cases):,} case streams, {len(records):,} events, "
        f"{sum(len(r) for _, r in records) // len(records)} bytes each on average"
    )
    P = corpus.PARTITIONS
    try:
        if "append" in args.only:
            say("batched append")
            b = await append.batched(ws, records, args.repeat, P)
            rows.append(
                Row(
                    "append.batched",
                    "batched append, 1,000/call (raw: 1,000/txn)",
                    b["ours"],
                    b["raw"],
                    "events/s",
                    0.5,
                    notes=b,
                )
            )
            say("single append")
            single = await append.single(ws, _take(records, args.single), args.repeat, P)
            rows.append(
                Row(
                    "append.single",
                    "single append, 1/call (raw: 1 txn/event)",
                    single["ours"],
                    single["raw"],
                    "events/s",
                    notes=single,
                )
            )
            say(f"{args.writers} concurrent appends")
            cc = await append.concurrent(
                ws, _take(records, args.writers * args.rounds), args.repeat, args.writers, P
            )
            rows.append(
                Row(
                    "append.concurrent",
                    f"{args.writers} concurrent appends, 1 event each (raw: 1 txn/event)",
                    cc["ours"],
                    cc["raw"],
                    "events/s",
                    3.0,
                    target_note=f"{cc['events_per_commit']:.1f} events/commit",
                    notes=cc,
                )
            )

        if "pipeline" in args.only:
            say("command pipeline")
            pl = pipeline.run(c, min(len(records), 5000), args.repeat)
            rows.append(
                Row(
                    "pipeline.sign",
                    "command pipeline per core (bare Ed25519 sign)",
                    pl["ours"],
                    pl["bare"],
                    "events/s/core",
                    notes=pl,
                )
            )

        sealed = False
        if "ledger" in args.only:
            say("filling the ledger log")
            await ledger.fill(log, c)
            say("ledger verify")
            v, report = await ledger.verify(log, c, args.repeat)
            n = cores()
            rows.append(
                Row(
                    "verify",
                    f"ledger verify per core, {v['pool']} of {n} cores (bare Ed25519 verify)",
                    v["ours"],
                    v["bare"],
                    "events/s/core",
                    0.6,
                    extra_check=v["pool"] >= n,
                    target_note=f"and every core; CPU-time ratio {v['cpu_time_ratio']:.2f}",
                    notes=v,
                )
            )
            await ledger.seal(log, c, report, ws)
            sealed = True
            say("eventsourcing peer: storing the same cases")
            reads = peer.Reads(ws.db("eventsourcing-reads"), c.cases)
            try:
                say("replay for rebuilds")
                rp = await ledger.replay(log, c, args.repeat, reads)
                rp["peer_pragmas"] = reads.pragmas
                rows.append(
                    Row(
                        "replay.sealed",
                        "replay for rebuilds, sealed (eventsourcing decoded reads)",
                        rp["ours"],
                        rp["peer"],
                        "events/s/core",
                        1.0,
                        notes=rp,
                    )
                )
                ru = await ledger.replay(log, c, 1, reads, trust_seal=False)
                # The seal only lets the rebuild skip signature checks: same state either way.
                rp["same_state_as_unsealed"] = rp["state_digest"] == ru["state_digest"]
                if not rp["same_state_as_unsealed"]:
                    console.print("[red]sealed and unsealed replays reached different states")
                rows.append(
                    Row(
                        "replay.unsealed",
                        "replay, no seal: all signatures checked (eventsourcing reads)",
                        ru["ours"],
                        ru["peer"],
                        "events/s/core",
                        notes=ru,
                    )
                )
                dr = await ledger.decoded_reads(log, args.repeat, reads)
                rows.append(
                    Row(
                        "peer.reads",
                        "decoded reads: ours vs eventsourcing notification log",
                        dr["ours"],
                        dr["peer"],
                        "events/s/core",
                        notes=dr,
                    )
                )
            finally:
                reads.close()

        bootstrap = os.environ.get("LEDGER_TEST_KAFKA_BOOTSTRAP")
        if "kafka" in args.only and not bootstrap:
            say("kafka rows skipped: no broker (run through `make bench`, which starts one)")
        elif "kafka" in args.only and bootstrap:
            n = min(len(records), 10_000)
            say(f"kafka batched append ({n:,} events)")
            kb = await kafka.batched(bootstrap, records[:n], args.repeat, P)
            rows.append(
                Row(
                    "kafka.batched",
                    "Kafka batched append, 1,000/call (bare aiokafka producer)",
                    kb["ours"],
                    kb["raw"],
                    "events/s",
                    0.5,
                    notes=kb,
                )
            )
            say("kafka replay for rebuilds")
            registry = [(r.stream, r.record) async for r in log.read_stream("registry")]
            kr = await kafka.replay(
                bootstrap,
                records[:n],
                registry,
                c.genesis,
                c.signers["auditor"],
                ws.root / "kafka-seals",
                args.repeat,
                P,
            )
            rows.append(
                Row(
                    "kafka.replay",
                    "Kafka replay for rebuilds, sealed (bare aiokafka consumer)",
                    kr["ours"],
                    kr["raw"],
                    "events/s/core",
                    notes=kr,
                )
            )

        if "store" in args.only:
            if not sealed:
                say("filling and sealing the ledger log")
                await ledger.fill(log, c)
                _, report = await ledger.verify(log, c, 1)
                await ledger.seal(log, c, report, ws)
            rows += await measure_stores(args, ws, console, c, log)

        if "command" in args.only:
            rows += await measure_commands(args, ws, console)

        if "peer" in args.only:
            say("eventsourcing peer: saves")
            first = next(iter(c.cases.values()))
            ps = await peer.saves_vs_ours(
                ws, records, first, saves=args.single, per_save=1, partitions=P
            )
            rows.append(
                Row(
                    "peer.single",
                    "single saves: ours 1 event/append vs eventsourcing",
                    ps["ours"],
                    ps["peer"],
                    "saves/s",
                    notes=ps,
                )
            )
            ph = await peer.saves_vs_ours(
                ws, records, first, saves=args.saves, per_save=100, partitions=P
            )
            rows.append(
                Row(
                    "peer.hundred",
                    "100-event saves: ours 100 events/append vs eventsourcing",
                    ph["ours"],
                    ph["peer"],
                    "saves/s",
                    notes=ph,
                )
            )
    finally:
        await log.close()
    return rows


async def measure_commands(args: argparse.Namespace, ws: Workspace, console: Console) -> list[Row]:
    """The command path: HTTP vs a bare endpoint, a long case vs a new one, restarts."""
    say = console.log
    rows: list[Row] = []
    say(f"HTTP command under {args.writers} concurrent connections")
    h = await commands.http(ws, workers=args.writers, repeat=args.repeat)
    rows.append(
        Row(
            "command.http",
            f"HTTP command, {args.writers} connections (bare FastAPI endpoint, same body)",
            h["ours"],
            h["bare"],
            "requests/s",
            0.5,
            target_note=f"p99 {h['ours_p99_ms']:,.0f} ms (bare {h['bare_p99_ms']:,.0f} ms)",
            notes=h,
        )
    )
    say("command on a 200-event case vs a new case")
    lv = await commands.long_vs_new(ws)
    rows.append(
        Row(
            "command.long_case",
            f"command on a {lv['long_events']}-event case (one on a new case)",
            lv["ours"],
            lv["new"],
            "ms median",
            0.8,
            lower_is_better=True,
            target_note=f"first on the long case {lv['first_on_long_ms']:,.1f} ms",
            notes=lv,
        )
    )
    n = args.restart_events
    backends: list[tuple[str, str | None]] = [("SQLite", None)]
    bootstrap = os.environ.get("LEDGER_TEST_KAFKA_BOOTSTRAP")
    if bootstrap:
        backends.append(("Kafka", bootstrap))
    else:
        say("Kafka restart row skipped: no broker (run through `make bench`)")
    for name, boot in backends:
        say(f"first command after a restart over {n:,} records on {name} (building the log)")
        rs = await commands.restart(ws, n, boot)
        note = (
            f"start-up {rs['start_up_ms']:,.0f} ms; very first start (no snapshot"
            f"{', no index' if boot else ''}): start-up {rs['first_ever_start_up_ms']:,.0f} ms,"
            f" first command {rs['first_ever_ms']:,.0f} ms"
        )
        rows.append(
            Row(
                f"command.restart.{name.lower()}",
                f"first command after restart, {n:,}-record log, {name} (the 100th)",
                rs["ours"],
                rs["hundredth"],
                "ms",
                lower_is_better=True,
                target_note=note,
                notes=rs,
            )
        )
    return rows


async def measure_dispatch(args: argparse.Namespace, ws: Workspace, console: Console) -> list[Row]:
    """Assignments through dispatch's API vs a bare endpoint; routing one case."""
    console.log(f"dispatch assignments under {args.writers} concurrent connections")
    h = await dispatch.http(ws, workers=args.writers, repeat=args.repeat)
    console.log("routing one case against the shipped catalogue")
    rt = dispatch.route(repeat=args.repeat)
    return [
        Row(
            "dispatch.http",
            f"assignments via the API, {args.writers} connections (bare endpoint, same body)",
            h["ours"],
            h["bare"],
            "assignments/s",
            0.5,
            target_note=f"p99 {h['ours_p99_ms']:,.0f} ms (bare {h['bare_p99_ms']:,.0f} ms)",
            notes=h,
        ),
        Row(
            "dispatch.route",
            f"route one case, {rt['entries']}-entry catalogue (one dict look-up)",
            rt["ours"],
            rt["raw"],
            "µs/case",
            lower_is_better=True,
            target_note=f"linear scan {rt['scan_us']:,.1f} µs; index built once "
            f"in {rt['index_build_ms']:,.1f} ms",
            notes=rt,
        ),
    ]


async def measure_stores(
    args: argparse.Namespace, ws: Workspace, console: Console, c: corpus.Corpus, log: Any
) -> list[Row]:
    """Projection throughput and the heaviest page query, on SQLite and (if one runs) FerretDB."""
    from shared.store.mongo import MongoStore
    from shared.store.sqlite import SqliteStore

    say = console.log
    rows: list[Row] = []

    def projection_row(key: str, name: str, pr: dict[str, Any]) -> Row:
        return Row(
            key,
            f"projection into {name}, {pr['records']:,} events (same bulk writes, unguarded)",
            pr["ours"],
            pr["raw"],
            "events/s",
            0.3,
            notes=pr,
        )

    def query_row(key: str, name: str, q: dict[str, Any], ceiling: float | None) -> Row:
        ours, raw = q["ours"], q["raw"]
        return Row(
            key,
            f"heaviest page query p99 on {name}, {ours['n']:,} cases ({raw['baseline']})",
            ours["p99_ms"],
            raw["p99_ms"],
            "ms p99",
            lower_is_better=True,
            target_max=ceiling,
            target_note=f"{ours['runs']} pages, p50 {ours['p50_ms']:,.1f} ms",
            notes=q,
        )

    say(f"projection into SQLite ({args.events:,} events)")
    sq = await SqliteStore.open(ws.db("projection"))
    try:
        pr = await projection.bench_projection(sq, log, args.events, genesis=c.genesis)
    finally:
        await sq.close()
    rows.append(projection_row("store.projection.sqlite", "SQLite", pr))

    say(f"heaviest page query on SQLite ({args.docs:,} cases)")
    qdir = ws.root / "query"
    qdir.mkdir(parents=True, exist_ok=True)
    q = await store_query.sqlite_pair(qdir, args.docs, runs=200)
    q["raw"]["baseline"] = "hand-written SQL, real columns"
    rows.append(query_row("store.query.sqlite", "SQLite", q, 50.0))

    url = os.environ.get("LEDGER_TEST_MONGO_URL")
    if not url:
        say("FerretDB rows skipped: no server (run through `make bench`, which starts one)")
        return rows
    n = min(args.events, args.ferret_events)
    say(f"projection into FerretDB ({n:,} events)")
    fm = await MongoStore.open(url, f"bench_{os.getpid()}_projection")
    try:
        fr = await projection.bench_projection(fm, log, n, genesis=c.genesis)
    finally:
        await fm.drop_database()
        await fm.close()
    rows.append(projection_row("store.projection.ferretdb", "FerretDB v1", fr))

    say(f"heaviest page query on FerretDB ({args.docs:,} cases; it scans, so few pages)")
    fq = await store_query.mongo_pair(url, args.docs, runs=5, warmup=1, budget=30.0, min_runs=5)
    fq["raw"]["baseline"] = "PyMongo's own count and find"
    rows.append(query_row("store.query.ferretdb", "FerretDB v1", fq, None))
    return rows


def _num(x: float) -> str:
    if x != x:  # nan
        return "—"
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def render(rows: list[Row], title: str) -> Table:
    t = Table(title=title)
    for col, just in (
        ("benchmark", "left"),
        ("ours", "right"),
        ("baseline (raw limit)", "right"),
        ("unit", "left"),
        ("ratio", "right"),
        ("target", "left"),
        ("pass?", "center"),
    ):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for r in rows:
        goals = []
        if r.target is not None:
            goals.append(f"≥ {r.target:g}")
        if r.target_max is not None:
            goals.append(f"≤ {r.target_max:g} {r.unit.split()[0]}")
        target = " and ".join(goals) or "info"
        if r.target_note:
            target += f" ({r.target_note})"
        passed = {None: "—", True: "[green]yes[/]", False: "[red]NO[/]"}[r.passed]
        t.add_row(
            r.benchmark, _num(r.ours), _num(r.baseline), r.unit, f"{r.ratio:.2f}", target, passed
        )
    return t


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # In a log file or CI rich would fall back to 80 columns: give the table room there.
    probe = Console()
    console = probe if probe.is_terminal else Console(width=180)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    fs = fstype(BENCH_DIR)
    if fs in ("tmpfs", "ramfs") and not args.allow_tmpfs:
        console.print(f"[red]{BENCH_DIR} is on {fs}: benchmarks must run on the project's disk")
        return 2
    machine: dict[str, Any] = {
        "cores": cores(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "eventsourcing": importlib.metadata.version("eventsourcing"),
        "fs": fs,
        "dir": str(BENCH_DIR),
        "load_before": os.getloadavg(),
    }
    console.print(
        f"machine: {machine['cores']} cores, Python {machine['python']}, SQLite "
        f"{machine['sqlite']}, eventsourcing {machine['eventsourcing']}; files under "
        f"{BENCH_DIR} ({fs}); load {machine['load_before'][0]:.2f}"
    )
    started = time.time()
    with Workspace(keep=args.keep) as ws:
        rows = asyncio.run(measure(args, ws, console))
    machine["load_after"] = os.getloadavg()
    elapsed = time.time() - started
    title = (
        f"Supervision Ledger benchmarks — {machine['cores']} cores, "
        f"{args.events:,} events, {elapsed:.0f} s"
    )
    console.print(render(rows, title))
    failed = [r.key for r in rows if r.passed is False]
    console.print(
        f"{len([r for r in rows if r.has_target]) - len(failed)} of "
        f"{len([r for r in rows if r.has_target])} targets met"
        + (f"; missed: {', '.join(failed)}" if failed else "")
        + f". JSON: {args.json}"
    )
    out = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "elapsed_s": elapsed,
        "machine": machine,
        "params": {
            k: (sorted(v) if isinstance(v, set) else v)
            for k, v in vars(args).items()
            if k not in ("json",)
        },
        "columns": [
            "benchmark",
            "ours",
            "baseline (raw limit)",
            "unit",
            "ratio",
            "target",
            "pass?",
        ],
        "rows": [r.as_json() for r in rows],
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_bytes(orjson.dumps(out, option=orjson.OPT_INDENT_2, default=str))
    return 1 if (args.strict and failed) else 0


if __name__ == "__main__":
    sys.exit(main())
