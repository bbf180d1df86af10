"""``ledger backup DEST`` and ``ledger restore SRC`` (the logic: ``shared/ledger/backup.py``)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.table import Table

if TYPE_CHECKING:
    from shared.ledger.backup import Manifest

backup_app = typer.Typer(add_completion=False)
console = Console()
err = Console(stderr=True)

KEYS_WARNING = (
    "[bold yellow]This archive holds private keys[/] (deployment signing keys, service "
    "secrets{genesis}): whoever has it can sign as these deployments. It is owner-only "
    "(0700/0600); keep it so, encrypted at rest and away from the service machine."
)


def _bytes_bar(label: str) -> Progress:
    return Progress(
        TextColumn(label),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[what]}"),
        console=err,
        transient=True,
    )


def _source_bytes(path: Path) -> int:
    total = 0
    for suffix in ("", "-wal"):
        p = Path(f"{path}{suffix}")
        if p.exists():
            total += p.stat().st_size
    return total


def _print_manifest(manifest: Manifest, title: str) -> None:
    table = Table(title=title)
    for col in ("part", "kind", "deployment", "bytes", "sha256"):
        table.add_column(col, justify="right" if col == "bytes" else "left")
    for p in manifest.parts:
        table.add_row(p.path, p.kind, p.deployment or "-", f"{p.bytes:,}", p.sha256[:16] + "…")
    console.print(table)
    at = ", ".join(f"{p}:{n}" for p, n in sorted(manifest.log.position.items()))
    console.print(
        f"log ({manifest.log.backend}, {manifest.log.partitions} partitions) at position {at}: "
        f"{manifest.log.records:,} records",
        highlight=False,
    )


def _fail(exc: Exception) -> typer.Exit:
    for line in str(exc).splitlines():
        console.print(f"[red]refused[/] {line}", highlight=False)
    return typer.Exit(1)


@backup_app.command()
def backup(
    dest: Annotated[
        Path, typer.Argument(help="A new directory, or a file ending in .tar, .tar.gz or .tgz")
    ],
    snapshots: Annotated[
        bool, typer.Option(help="Include stream snapshots (rebuildable; left out by default)")
    ] = False,
) -> None:
    """Back up the log (when embedded), every deployment's durable store, identity and
    idempotency stores, keys and service secrets into one owner-only archive with a manifest,
    consistent while the services run. Read models are left out: the log rebuilds them."""
    # Imported here: the backup logic loads the web settings, which other commands never need.
    from shared.ledger.backup import BackupError, BackupSettings, plan, take_backup

    settings = BackupSettings()

    async def go() -> Manifest:
        total = sum(_source_bytes(s.source) for s in plan(settings, snapshots=snapshots))
        with _bytes_bar("backing up") as bar:
            task = bar.add_task("backup", total=total or None, what="")

            def progress(what: str, n: int) -> None:
                bar.update(task, advance=n, what=what)

            return await take_backup(settings, dest, snapshots=snapshots, progress=progress)

    try:
        manifest = asyncio.run(go())
    except BackupError as exc:
        raise _fail(exc) from None
    _print_manifest(manifest, f"ledger backup → {dest}")
    for line in manifest.excluded:
        console.print(f"not in the archive: {line}", highlight=False)
    if manifest.holds_private_keys:
        genesis = any(p.path.endswith("/genesis.key") for p in manifest.parts)
        console.print(
            KEYS_WARNING.format(genesis=", and the genesis key" if genesis else ""),
            highlight=False,
        )


@backup_app.command()
def restore(
    src: Annotated[Path, typer.Argument(help="A backup directory or .tar/.tar.gz archive")],
    force: Annotated[
        bool,
        typer.Option(help="Restore even into a non-empty var dir: it is moved aside first"),
    ] = False,
    var_dir: Annotated[
        Path | None, typer.Option(help="Restore into this var dir (default: LEDGER_VAR_DIR)")
    ] = None,
) -> None:
    """Check every part of SRC against its manifest (size, SHA-256), then restore it into a
    fresh var dir. Afterwards `ledger verify` passes and the services read their old cases."""
    from shared.ledger.backup import (
        ArchiveError,
        BackupError,
        BackupSettings,
        RestoreRefused,
        restore_backup,
    )

    settings = BackupSettings() if var_dir is None else BackupSettings(var_dir=var_dir)

    async def go() -> None:
        with _bytes_bar("restoring") as bar:
            task = bar.add_task("restore", total=None, what="checking the manifest")

            def progress(what: str, n: int) -> None:
                bar.update(task, advance=n, what=what)

            result = await restore_backup(settings, src, force=force, progress=progress)
        for aside in result.moved_aside:
            console.print(f"moved the old {aside.name.split('.before-restore-')[0]} to {aside}")
        _print_manifest(result.manifest, f"ledger restore {src} → {settings.var_dir}")
        console.print(
            "[green]restored[/]; read models are rebuilt from the log as each service starts. "
            "Run `ledger verify` to check the restored log."
        )

    try:
        asyncio.run(go())
    except (ArchiveError, RestoreRefused, BackupError) as exc:
        raise _fail(exc) from None
