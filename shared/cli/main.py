"""The auditor's command line: ``ledger init | verify | digest | replay | tail``.

The log is chosen by settings (``LEDGER_LOG_BACKEND`` and friends), so the same commands
audit the embedded SQLite log and Apache Kafka.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shared.ledger import keystore
from shared.ledger.bootstrap import init_ledger
from shared.ledger.deployments import spec
from shared.ledger.digests import record_digests
from shared.ledger.reader import fold_stream, registry_fold
from shared.ledger.seal import record_seal
from shared.ledger.signer import Signer
from shared.ledger.verify import VerifyReport, verify_log
from shared.log.factory import open_log
from shared.log.port import EventLog
from shared.rules.verdict import Outcome
from shared.settings import LedgerSettings

app = typer.Typer(add_completion=False, help="效能监督账本 — the auditor's tools.")
console = Console()
err = Console(stderr=True)
SHANGHAI = ZoneInfo("Asia/Shanghai")
T = TypeVar("T")


def _run(fn: Callable[[EventLog, LedgerSettings], Awaitable[T]]) -> T:
    settings = LedgerSettings()

    async def main() -> T:
        log = await open_log(settings)
        try:
            return await fn(log, settings)
        finally:
            await log.close()

    return asyncio.run(main())


def log_time(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6, SHANGHAI).isoformat(timespec="milliseconds")


def parse_time(text: str) -> int:
    """ISO 8601; a time without offset is read in Asia/Shanghai."""
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            "expected an ISO 8601 time, e.g. 2026-11-26T15:00:00+08:00"
        ) from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=SHANGHAI)
    return int(t.timestamp() * 1_000_000)


@app.command()
def init() -> None:
    """Create this deployment's keys under var/keys/ and register them in the log."""

    async def go(log: EventLog, s: LedgerSettings) -> None:
        result = await init_ledger(log, s)
        for d in result.registered:
            console.print(f"[green]registered[/] {d}")
        for d in result.already:
            console.print(f"already registered {d}")

    _run(go)


@app.command()
def verify(
    digests: Annotated[
        list[Path] | None, typer.Option(help="Directories of digest copies kept outside the log")
    ] = None,
    seal: Annotated[bool, typer.Option(help="On success, write a signed seal")] = True,
    workers: Annotated[int | None, typer.Option(help="Signature-checking processes")] = None,
) -> None:
    """Check every chain, signature, right and digest; exit non-zero naming the first bad event."""

    async def go(log: EventLog, s: LedgerSettings) -> VerifyReport:
        genesis = keystore.genesis_public(s)
        total = sum((await log.head()).values())
        with Progress(
            TextColumn("verifying"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as bar:
            task = bar.add_task("verify", total=total, rate="")
            started = asyncio.get_running_loop().time()
            done = 0

            def progress(n: int) -> None:
                nonlocal done
                done += n
                elapsed = max(asyncio.get_running_loop().time() - started, 1e-9)
                bar.update(task, advance=n, rate=f"{done / elapsed:,.0f} events/s")

            dirs = digests if digests is not None else [s.var_dir / "digests"]
            report = await verify_log(
                log, genesis, digest_dirs=dirs, workers=workers, progress=progress
            )
        if report.ok and seal:
            auditor = Signer(spec("auditor").deployment, keystore.load(s, "auditor"))
            path = await record_seal(log, auditor, genesis, report, s.var_dir / "seals")
            console.print(f"seal written to the log and to {path}")
        return report

    report = _run(go)
    _print_report(report)
    if not report.ok:
        raise typer.Exit(1)


def _print_report(report: VerifyReport) -> None:
    table = Table(title="ledger verify")
    table.add_column("partition")
    table.add_column("records", justify="right")
    table.add_column("digest")
    for p, d in sorted(report.digests.items()):
        table.add_row(str(p), str(d.count), d.digest[:16] + "…")
    console.print(table)
    counts = report.fold.counts
    console.print(
        f"{report.records} records: {counts[Outcome.accepted]} accepted, "
        f"{counts[Outcome.conflict]} normal conflicts, {counts[Outcome.tamper]} tampered; "
        f"{report.claims_checked} digest claims checked"
    )
    if report.conflicts:
        t = Table(title="normal conflicts (not alarms)")
        for col in ("partition", "offset", "stream", "event", "reason"):
            t.add_column(col)
        for j in report.conflicts[:50]:
            t.add_row(
                str(j.partition), str(j.offset), j.stream, j.event_id or "-", j.verdict.reason
            )
        console.print(t)
        if len(report.conflicts) > 50:
            console.print(f"… and {len(report.conflicts) - 50} more")
    for f in report.digest_failures:
        console.print(
            f"[red]TAMPERED[/] partition {f.partition}: {f.reason} "
            f"(digest of {f.count} records from {f.source})"
        )
    first = report.fold.first_tamper
    if first is not None:
        console.print(
            f"[red]TAMPERED[/] first bad event: partition {first.partition} offset {first.offset} "
            f"stream {first.stream} id {first.event_id or '-'}: "
            f"{first.verdict.reason} ({first.verdict.detail})"
        )
    if report.ok:
        console.print("[green]OK[/] the log is intact")


@app.command()
def digest() -> None:
    """Write a signed digest per partition into the log, and a copy under var/digests/."""

    async def go(log: EventLog, s: LedgerSettings) -> None:
        auditor = Signer(spec("auditor").deployment, keystore.load(s, "auditor"))
        claims = await record_digests(
            log, auditor, keystore.genesis_public(s), s.var_dir / "digests"
        )
        for c in claims:
            console.print(f"partition {c.partition}: {c.count} records, digest {c.digest}")

    _run(go)


@app.command()
def replay(
    stream: str,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Log time (ISO 8601)")] = None,
) -> None:
    """Print a stream's timeline (log time) and its state at that moment."""
    cutoff = parse_time(as_of) if as_of else None

    async def go(log: EventLog, s: LedgerSettings) -> None:
        fold = await registry_fold(log, keystore.genesis_public(s))
        seen: dict[tuple[int, int], Any] = {}
        state = await fold_stream(log, fold, stream, as_of=cutoff, observe=seen)
        table = Table(title=f"{stream}" + (f" as of {log_time(cutoff)}" if cutoff else ""))
        for col in ("log time", "offset", "type", "actor", "verdict"):
            table.add_column(col)
        async for rec in log.read_stream(stream):
            if cutoff is not None and rec.appended_at > cutoff:
                break
            env = orjson.loads(rec.record)
            v = seen.get((rec.partition, rec.offset))
            verdict = "accepted" if v is not None and v.accepted else f"{v.reason if v else '?'}"
            table.add_row(
                log_time(rec.appended_at),
                str(rec.offset),
                env.get("type", "?"),
                env.get("actor", "?"),
                verdict,
            )
        console.print(table)
        if state.accepted == 0 and stream != "registry":
            console.print(f"no accepted events in {stream}")
        console.print_json(orjson.dumps(state.summary()).decode())

    _run(go)


@app.command()
def tail(
    from_start: Annotated[bool, typer.Option(help="Print the existing log first")] = False,
    poll: Annotated[float, typer.Option(help="Seconds between polls")] = 0.5,
    limit: Annotated[int | None, typer.Option(help="Stop after this many records")] = None,
) -> None:
    """Follow the log, printing each record as it is appended."""

    async def go(log: EventLog, s: LedgerSettings) -> None:
        pos = {p: 0 for p in range(log.partitions)} if from_start else await log.head()
        printed = 0
        while True:
            batch = await log.read(pos, limit=500)
            for rec in batch:
                pos[rec.partition] = rec.offset + 1
                env = orjson.loads(rec.record)
                console.print(
                    f"{log_time(rec.appended_at)} p{rec.partition}:{rec.offset} {rec.stream} "
                    f"{env.get('type')} {env.get('actor')}",
                    highlight=False,
                )
                printed += 1
                if limit is not None and printed >= limit:
                    return
            if not batch:
                await asyncio.sleep(poll)

    try:
        _run(go)
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    app()
