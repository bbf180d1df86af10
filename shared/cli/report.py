"""``ledger report --period 2026-11``: every unit's figures rebuilt from the log alone by the
independent fold (``shared/reports/``), compared with the live read model and with the signed
period figures, every difference named by unit and figure (exit 1 if any); and ``ledger
correct-figures``, a correction of the signed figures from the log."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from shared.reports.compare import Difference, differences
from shared.reports.periods import Period, period
from shared.reports.rates import Figures
from shared.reports.signed import figures_of_event

report_app = typer.Typer(add_completion=False)
console = Console()
err = Console(stderr=True)

PeriodOption = Annotated[str, typer.Option("--period", help="a month 2026-11 or a quarter 2026-Q4")]


def _period(text: str) -> Period:
    try:
        return period(text)
    except ValueError:
        raise typer.BadParameter(
            "expected a month such as 2026-11 or a quarter such as 2026-Q4"
        ) from None


async def _from_log(log: Any, settings: Any, p: Period) -> Any:
    from shared.cli.main import progress_bar
    from shared.ledger import keystore
    from shared.ledger.period_replay import replay_period

    started = time.perf_counter()
    with progress_bar("report") as bar:
        task = bar.add_task("report", total=None, rate="")

        def step(done: int, total: int) -> None:
            rate = done / max(time.perf_counter() - started, 1e-9)
            bar.update(task, completed=done, total=total, rate=f"{rate:,.0f} records/s")

        return await replay_period(log, keystore.genesis_public(settings), p, step)


async def _live(p: Period) -> dict[str, Figures]:
    """Each declared read model's figures for the period (the services that keep them)."""
    from shared.readside.copies import StoreSettings
    from shared.readside.read_model import ReadModel
    from shared.service import declared

    found: dict[str, Figures] = {}
    for name, d in declared().items():
        if d.period_figures is None:
            continue
        rm = ReadModel(StoreSettings(), name)
        try:
            found[name] = await d.period_figures(await rm.store(), p.start, p.end)
        finally:
            await rm.close()
    return found


def _rates_keeper() -> Any:
    """The deployment of the declared service that keeps the rates (and signs their figures)."""
    from shared.service import declared

    keepers = [d.deployment for d in declared().values() if d.period_figures is not None]
    if not keepers:
        raise typer.BadParameter("no declared service keeps the rates")
    return keepers[0]


def _print(title: str, diffs: list[Difference]) -> None:
    table = Table(title=title)
    for col in ("unit", "figure", "from the log", "compared"):
        table.add_column(col)
    for d in diffs:
        table.add_row(d.unit, d.figure, _ratio(d.ours), _ratio(d.theirs))
    console.print(table)


def _ratio(r: tuple[int, int] | None) -> str:
    return "—" if r is None else f"{r[0]}/{r[1]}"


@report_app.command()
def report(
    period_id: PeriodOption,
    live: Annotated[bool, typer.Option(help="Compare with the live read model")] = True,
) -> None:
    """Rebuild every unit's figures for the period from the log alone, and compare them with
    the live read model and the signed period figures; exit 1 on any difference."""
    from shared.cli.main import _run

    p = _period(period_id)

    async def go(log: Any, s: Any) -> tuple[Any, dict[str, Figures]]:
        replay = await _from_log(log, s, p)
        return replay, (await _live(p) if live else {})

    replay, models = _run(go)
    ours = replay.fold.figures()
    console.print(
        f"{p.id}: {replay.records} records read, {len(ours)} units"
        + ("" if replay.trusted else " (every signature checked: no seal trusted)")
    )
    table = Table(title=f"{p.id} figures from the log")
    table.add_column("unit")
    names = sorted({f for row in ours.values() for f in row})
    for f in names:
        table.add_column(f)
    for unit, row in ours.items():
        table.add_row(unit, *(_ratio(row.get(f)) for f in names))
    console.print(table)
    failed = False
    for name, figures in models.items():
        diffs = differences(ours, figures)
        if diffs:
            failed = True
            _print(f"{name} read model differs", diffs)
        else:
            console.print(f"[green]{name} read model agrees[/]")
    signed = replay.latest_signed
    if signed is None:
        if p.end <= replay.log_time:
            failed = True
            console.print(f"[red]no signed figures for {p.id}[/] (the period has ended)")
        else:
            console.print(f"no signed figures for {p.id} yet (the period has not ended)")
    else:
        diffs = differences(ours, figures_of_event(signed))
        label = f"signed figures version {signed['version']}"
        if diffs:
            failed = True
            _print(f"{label} differs", diffs)
        else:
            console.print(f"[green]{label} agrees[/]")
    if failed:
        raise typer.Exit(1)


@report_app.command("correct-figures")
def correct_figures(
    period_id: PeriodOption,
    reason: Annotated[str, typer.Option(help="why the signed figures are corrected")],
    staff: Annotated[str, typer.Option(help="the supervisor's staff id")],
) -> None:
    """Sign, as the service that keeps the rates, the figures the log gives now as the next
    version of the period's figures, replacing the version in force (nothing is written if
    they agree with it)."""
    from shared.cli.main import _run
    from shared.ledger import keystore
    from shared.ledger.deployments import BODY
    from shared.ledger.period_publish import publish
    from shared.ledger.signer import Signer
    from shared.ledger.writer import EventWriter

    p = _period(period_id)
    if not reason.strip():
        raise typer.BadParameter("a correction states its reason")

    async def go(log: Any, s: Any) -> str:
        replay = await _from_log(log, s, p)
        ours = replay.fold.figures()
        signed = replay.latest_signed
        if signed is not None and not differences(ours, figures_of_event(signed)):
            return f"version {signed['version']} agrees with the log: nothing to correct"
        keeper = _rates_keeper()
        signer = Signer(keeper.deployment, keystore.load(s, keeper.name))
        writer = EventWriter(log, signer, keystore.genesis_public(s))
        sub = await publish(writer, p.id, ours, f"{BODY}/{staff}", correction=reason.strip())
        if not sub.accepted:
            raise typer.Exit(1)
        version = (signed["version"] if signed else 0) + 1
        return f"version {version} of {p.id} signed"

    console.print(_run(go))
