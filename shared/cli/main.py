"""The auditor's command line: ``ledger init | verify | acknowledge | digest | replay | tail``.

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

from shared.cli.backup import backup_app
from shared.cli.intake_import import app as import_app
from shared.cli.keys import app as keys_app
from shared.cli.operators import app as operators_app
from shared.cli.report import report_app
from shared.ledger import keystore
from shared.ledger.acknowledge import acknowledge_bad_records
from shared.ledger.bootstrap import init_ledger
from shared.ledger.deployments import spec
from shared.ledger.digests import record_digests
from shared.ledger.reader import fold_stream, registry_fold
from shared.ledger.seal import record_seal
from shared.ledger.signer import Signer
from shared.ledger.verify import VerifyReport, verify_log
from shared.log.factory import open_log
from shared.log.port import EventLog
from shared.log.sqlite import LogStorageError
from shared.rules.verdict import Outcome
from shared.settings import LedgerSettings

app = typer.Typer(add_completion=False, help="效能监督账本 — the auditor's tools.")
app.add_typer(backup_app)  # `ledger backup DEST`, `ledger restore SRC`
console = Console()
err = Console(stderr=True)
SHANGHAI = ZoneInfo("Asia/Shanghai")
T = TypeVar("T")


def _run(fn: Callable[[EventLog, Any], Awaitable[T]], settings: LedgerSettings | None = None) -> T:
    """Open the log the settings name, run ``fn(log, settings)``, close the log. Storage that
    no honest writer leaves (a row beyond a head, a wrong column type) is named, exit 1."""
    chosen = settings or LedgerSettings()

    async def main() -> T:
        log = await open_log(chosen)
        try:
            return await fn(log, chosen)
        finally:
            await log.close()

    try:
        return asyncio.run(main())
    except LogStorageError as exc:
        console.print(f"[red]TAMPERED[/] storage: {exc}", highlight=False)
        raise typer.Exit(1) from None


def progress_bar(label: str) -> Progress:
    """The bar long commands show on stderr: done of total, rate, elapsed."""
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


def _auditor(settings: LedgerSettings) -> Signer:
    """The auditor deployment's signer: seals and digests are signed with its key."""
    return Signer(spec("auditor").deployment, keystore.load(settings, "auditor"))


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
        list[Path] | None,
        typer.Option(
            help="The auditor's directory of digest copies kept outside the log: it must hold "
            "at least one valid copy (default: var/digests/, checked where present)"
        ),
    ] = None,
    seal: Annotated[bool, typer.Option(help="On success, write a signed seal")] = True,
    workers: Annotated[int | None, typer.Option(help="Signature-checking processes")] = None,
) -> None:
    """Check every chain, signature, right and digest; exit non-zero naming the first bad event."""

    async def go(log: EventLog, s: LedgerSettings) -> VerifyReport:
        genesis = keystore.genesis_public(s)
        try:
            total: int | None = sum((await log.head()).values())
        except LogStorageError:  # verify names what is wrong with the heads itself
            total = None
        with progress_bar("verifying") as bar:
            task = bar.add_task("verify", total=total, rate="")
            started = asyncio.get_running_loop().time()
            done = 0

            def progress(n: int) -> None:
                nonlocal done
                done += n
                elapsed = max(asyncio.get_running_loop().time() - started, 1e-9)
                bar.update(task, advance=n, rate=f"{done / elapsed:,.0f} events/s")

            report = await verify_log(
                log,
                genesis,
                digest_dirs=[] if digests else [s.var_dir / "digests"],
                require_copies=list(digests or []),
                workers=workers,
                progress=progress,
            )
        if report.ok and seal:
            path = await record_seal(log, _auditor(s), genesis, report, s.var_dir / "seals")
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
        mark = "[yellow]acknowledged[/]" if report.failure_acknowledged(f) else "[red]TAMPERED[/]"
        console.print(
            f"{mark} partition {f.partition}: {f.reason} "
            f"(digest of {f.count} records from {f.source})",
            highlight=False,
        )
    for why in report.copy_problems:
        console.print(f"[red]TAMPERED[/] outside digest copy {why}", highlight=False)
    for fd in report.findings:
        mark = "[yellow]acknowledged[/]" if report.finding_acknowledged(fd) else "[red]TAMPERED[/]"
        console.print(
            f"{mark} {fd.where()}: {fd.kind}: {fd.detail}"
            + (f" (stream {fd.stream} id {fd.event_id or '-'})" if fd.stream else ""),
            highlight=False,
        )
    for j in report.all_tampered:
        if report.judged_acknowledged(j):
            console.print(
                f"[yellow]acknowledged[/] bad event: partition {j.partition} offset {j.offset} "
                f"stream {j.stream} id {j.event_id or '-'}: {j.verdict.reason}",
                highlight=False,
            )
    first = next(iter(report.tampered), None)
    if first is not None:
        console.print(
            f"[red]TAMPERED[/] first bad event: partition {first.partition} offset {first.offset} "
            f"stream {first.stream} id {first.event_id or '-'}: "
            f"{first.verdict.reason} ({first.verdict.detail})",
            highlight=False,
        )
        for j in report.tampered[1:50]:
            console.print(
                f"[red]TAMPERED[/] bad event: partition {j.partition} offset {j.offset} "
                f"stream {j.stream} id {j.event_id or '-'}: {j.verdict.reason}",
                highlight=False,
            )
    if report.ok:
        console.print(
            "[green]OK[/] the log is intact"
            + (", but for the bad events the auditor acknowledged" if report.acknowledged else "")
        )


@app.command()
def acknowledge(
    positions: Annotated[
        list[str], typer.Argument(help="Bad records by partition:offset, as verify names them")
    ],
    reason: Annotated[str, typer.Option(help="Why: the incident, its ticket, what was done")],
) -> None:
    """Sign an audit event acknowledging named bad records (a known incident): verify still
    lists them, and passes (and seals) once every bad record is acknowledged."""
    named: list[tuple[int, int]] = []
    for text in positions:
        p, _, o = text.partition(":")
        if not (p.isdigit() and o.isdigit()):
            raise typer.BadParameter("positions are partition:offset, e.g. 2:17")
        named.append((int(p), int(o)))

    async def go(log: EventLog, s: LedgerSettings) -> None:
        written = await acknowledge_bad_records(
            log, _auditor(s), keystore.genesis_public(s), named, reason
        )
        for p, o, h in written:
            what = f"record {h[:16]}…" if h else "no record (missing)"
            console.print(f"acknowledged partition {p} offset {o}: {what}")

    _run(go)


@app.command()
def digest() -> None:
    """Write a signed digest per partition into the log, and a copy under var/digests/."""

    async def go(log: EventLog, s: LedgerSettings) -> None:
        claims = await record_digests(
            log, _auditor(s), keystore.genesis_public(s), s.var_dir / "digests"
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
        await _print_readable(log, stream, seen, cutoff, fold.registry)
        console.print_json(orjson.dumps(state.summary()).decode())

    _run(go)


async def _print_readable(
    log: EventLog,
    stream: str,
    seen: dict[tuple[int, int], Any],
    cutoff: int | None,
    registry: Any,
) -> None:
    """The stream's readable account, where a declared service writes one for its kind (a
    conference's minutes): its accepted events only, in Chinese, on any terminal."""
    from shared.events.envelope import stream_kind
    from shared.service import declared

    writers = [
        d.replay_text[k] for d in declared().values() if (k := stream_kind(stream)) in d.replay_text
    ]
    if not writers:
        return
    accepted: list[tuple[int, dict[str, Any]]] = []
    async for rec in log.read_stream(stream):
        if cutoff is not None and rec.appended_at > cutoff:
            break
        v = seen.get((rec.partition, rec.offset))
        if v is not None and v.accepted:
            accepted.append((rec.appended_at, orjson.loads(rec.record)))
    if (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "") != "utf8":
        sys.stdout.reconfigure(encoding="utf-8")  # type: ignore[union-attr]
    for write in writers:
        console.print()
        for line in write(stream, accepted, registry):
            console.print(line, highlight=False, markup=False, soft_wrap=True)


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


# -- read models: project, rebuild, dead letters -------------------------------------------------


def _read_model_names() -> list[str]:
    """Every name with a read model: the configured deployments of declared services (with the
    built-in deployments, the services' own names)."""
    from shared.ledger.deployments import configured
    from shared.service import declared

    return [d.name for d in configured() if d.service in declared()]


def _service(service: str) -> str:
    from shared.service import declared

    names = _read_model_names()
    if service not in names and service not in declared():
        raise typer.BadParameter(f"one of {', '.join(names)}")
    return service


def _run_read_model(fn: Callable[[EventLog, Any], Awaitable[T]]) -> T:
    """``_run`` with the read-store settings (``LEDGER_STORE_*``, ``LEDGER_PROJECTOR_*``)."""
    from shared.readside.copies import StoreSettings

    return _run(fn, StoreSettings())


@app.command()
def project(
    service: Annotated[str, typer.Argument(help="a declared service (shared/service.py)")],
    follow: Annotated[bool, typer.Option(help="Keep following the log")] = False,
) -> None:
    """Project the log into the service's read model (up to the head, or following it)."""
    from shared.readside.copies import StoreSettings
    from shared.readside.projections import projections_for
    from shared.readside.read_model import ProjectorRunner, ReadModel

    _service(service)

    async def go(log: EventLog, s: StoreSettings) -> None:
        genesis = keystore.genesis_public(s)
        rm = ReadModel(s, service)
        try:
            if follow:
                runner = ProjectorRunner(s, log, rm, projections_for(service), genesis)
                await runner.run(asyncio.Event())
                return
            from shared.ledger.seal import checked_seal
            from shared.readside.projector import Projector

            trust = s.projector_trust_seal and (await checked_seal(log, genesis)).trusted
            p = Projector(
                log,
                await rm.store(),
                projections_for(service),
                genesis,
                batch=s.projector_batch,
                trust_seal=trust,
            )
            await p.start()
            await p.catch_up()
            st = p.stats
            console.print(
                f"{service}: {st.records} records read, {st.applied} events applied, "
                f"{st.dead_letters} dead letters, lag {p.lag}"
            )
        finally:
            await rm.close()

    try:
        _run_read_model(go)
    except KeyboardInterrupt:
        sys.exit(0)


@app.command()
def rebuild(
    service: Annotated[str, typer.Argument(help="a declared service (shared/service.py)")],
    drop_old: Annotated[
        bool, typer.Option(help="Remove the old copy once its digests match the new one's")
    ] = False,
    switch_if_different: Annotated[
        bool,
        typer.Option(
            help="Switch to the new copy even if it differs from the old one (the old one was "
            "built by other code, or edited); exit 1 all the same"
        ),
    ] = False,
) -> None:
    """Replay the log into a fresh copy of SERVICE's read model, compare, then switch to it.

    The copy is caught up with the log head and compared with the old copy at one position
    before anything is switched; a copy that differs is not switched to (exit 1) unless
    --switch-if-different. The last seal is trusted only if its digests match the records."""
    from shared.readside.copies import StoreSettings, discard_ref
    from shared.readside.projections import projections_for
    from shared.readside.read_model import Rebuilt
    from shared.readside.read_model import rebuild as do_rebuild

    _service(service)

    async def go(log: EventLog, s: StoreSettings) -> Rebuilt:
        with progress_bar(f"rebuilding {service}") as bar:
            task = bar.add_task("rebuild", total=None, rate="")
            started = asyncio.get_running_loop().time()

            def progress(done: int, total: int) -> None:
                elapsed = max(asyncio.get_running_loop().time() - started, 1e-9)
                bar.update(task, completed=done, total=total, rate=f"{done / elapsed:,.0f} rec/s")

            result = await do_rebuild(
                s,
                service,
                log,
                projections_for(service),
                keystore.genesis_public(s),
                progress=progress,
                switch_if_different=switch_if_different,
            )
        if drop_old and result.same:
            await discard_ref(s, service, result.old)
        return result

    result = _run_read_model(go)
    s = StoreSettings()
    serving = result.new if result.switched else result.old
    console.print(
        f"{service}: replayed {result.events:,} records in {result.seconds:.1f} s "
        f"({result.events / max(result.seconds, 1e-9):,.0f} records/s); now serving "
        f"{serving.describe(s, service)}",
        highlight=False,
    )
    if result.seal_divergence:
        console.print(
            f"[red]TAMPERED[/] the last seal is not trusted: {result.seal_divergence}; "
            "every signature was checked",
            highlight=False,
        )
    if result.sealed_records:
        console.print(f"verdicts trusted below the last seal: {result.sealed_records:,} records")
    if result.acknowledged_skipped:
        console.print(
            f"skipped {result.acknowledged_skipped:,} bad records the auditor acknowledged "
            "(listed in the last seal)"
        )
    if not result.compared:
        console.print("no earlier copy to compare with")
        if result.seal_divergence:
            raise typer.Exit(1)
        return
    at = ", ".join(f"{p}:{n}" for p, n in sorted(result.position.items()))
    table = Table(title=f"{service} read model: old and new copy, both at log position {at}")
    for col in ("collection", "old", "new", ""):
        table.add_column(col)
    for coll, new_digest in result.new_digests.items():
        old_digest = result.old_digests.get(coll, "-")
        mark = "[green]=[/]" if old_digest == new_digest else "[red]≠[/]"
        table.add_row(coll, old_digest[:24] + "…", new_digest[:24] + "…", mark)
    console.print(table)
    if result.same:
        kept = "removed" if drop_old else "kept"
        console.print(f"[green]identical[/]; old copy {result.old.describe(s, service)} {kept}")
        if result.seal_divergence:
            raise typer.Exit(1)
        return
    if result.switched:
        console.print(
            "[red]the copies differ[/]; switched to the new copy as asked "
            f"(old copy {result.old.describe(s, service)} kept)",
            highlight=False,
        )
    else:
        console.print(
            "[red]the copies differ[/] (the old one was built by other code, or edited): "
            f"still serving the old copy; the new one is kept at {result.new.describe(s, service)} "
            "(--switch-if-different to switch to it)",
            highlight=False,
        )
    raise typer.Exit(1)


dead_letters_app = typer.Typer(
    help="Events a projection could not apply, and the streams parked behind them.",
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(dead_letters_app, name="dead-letters")
app.add_typer(keys_app, name="keys")
app.add_typer(operators_app, name="operators")
app.add_typer(report_app)  # `ledger report --period P`, `ledger correct-figures --period P`
app.add_typer(import_app, name="import")  # `ledger import complaints FILE`, `… mail DIR`

_SERVICE_OPTION = typer.Option(
    "--service", "-s", help="Only this service (default: every service with a read model)"
)


def _services_with_read_models(only: str | None) -> list[str]:
    from shared.readside.copies import StoreSettings

    if only is not None:
        return [_service(only)]
    s = StoreSettings()
    if s.store_url:
        return _read_model_names()
    return [x for x in _read_model_names() if s.service_dir(x).exists()]


@dead_letters_app.callback()
def dead_letters_list(
    ctx: typer.Context, service: Annotated[str | None, _SERVICE_OPTION] = None
) -> None:
    """List dead letters (stream, position, event, error) and how many events wait behind each."""
    if ctx.invoked_subcommand is not None:
        return
    from shared.readside.copies import StoreSettings
    from shared.readside.dead_letters import dead_letters
    from shared.readside.read_model import ReadModel

    async def go(log: EventLog, s: StoreSettings) -> list[tuple[str, list[dict[str, Any]]]]:
        out = []
        for name in _services_with_read_models(service):
            rm = ReadModel(s, name)
            try:
                out.append((name, await dead_letters(await rm.store())))
            finally:
                await rm.close()
        return out

    found = _run_read_model(go)
    table = Table(title="dead letters")
    for col in ("service", "stream", "partition:offset", "event", "type", "error", "parked"):
        table.add_column(col)
    total = 0
    for name, letters in found:
        for d in letters:
            total += 1
            table.add_row(
                name,
                d["stream"],
                f"{d['partition']}:{d['offset']}",
                d["event_id"],
                d["type"],
                f"{d['projection']}: {d['error']}: {d['message']}",
                str(d["parked"]),
            )
    if total:
        console.print(table)
    console.print(f"{total} dead letter(s)")


@dead_letters_app.command("retry")
def dead_letters_retry(
    service: Annotated[str | None, _SERVICE_OPTION] = None,
    stream: Annotated[str | None, typer.Option(help="Only this stream")] = None,
) -> None:
    """Reapply dead letters, then their streams' parked events, in order.

    A stream whose events all apply is unparked. Run it after deploying the fix."""
    from shared.readside.copies import StoreSettings
    from shared.readside.dead_letters import DeadLetter
    from shared.readside.projections import projections_for
    from shared.readside.projector import Projector
    from shared.readside.read_model import ReadModel

    async def go(log: EventLog, s: StoreSettings) -> int:
        genesis = keystore.genesis_public(s)
        failed = 0
        for name in _services_with_read_models(service):
            rm = ReadModel(s, name)
            try:
                p = await Projector(log, await rm.store(), projections_for(name), genesis).start()

                def report(st: str, dead: DeadLetter | None, name: str = name) -> None:
                    nonlocal failed
                    if dead is None:
                        console.print(f"[green]applied[/] {name} {st}: unparked")
                    else:
                        failed += 1
                        console.print(
                            f"[red]still failing[/] {name} {st} at {dead.partition}:"
                            f"{dead.offset} ({dead.type}): {dead.error}: {dead.message}"
                        )

                await p.retry(stream, report=report)
            finally:
                await rm.close()
        return failed

    if _run_read_model(go):
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
