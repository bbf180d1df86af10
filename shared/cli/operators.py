"""``ledger operators``: the operators of one service's identity store, administered from the
machine it runs on (the identity file under the service's var dir, or
``LEDGER_IDENTITY_DB_PATH``). Every change goes through the same rules as the admin page and is
recorded with the actor ``cli:<os user>``; a temporary password is printed once."""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from shared.web.identity import Applied, IdentityStore
from shared.web.operator_changes import ACTION_LABELS, Refusal
from shared.web.pages import cn_datetime
from shared.web.roles import Role, role_label
from shared.web.settings import WebSettings

app = typer.Typer(
    help="Operators of a service: list, add, disable, enable, reset-password, roles, body, "
    "changes (the record of changes).",
    no_args_is_help=True,
)
console = Console()
err = Console(stderr=True)

ServiceOption = Annotated[
    str, typer.Option("--service", "-s", help="The service whose identity store to administer")
]
StaffIdArgument = Annotated[str, typer.Argument(help="工号 (staff id)")]
RolesOption = Annotated[
    list[Role], typer.Option("--role", "-r", help="A role (repeat for several)")
]


def cli_actor() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name: the uid says who it was
        user = f"uid{os.getuid()}"
    return f"cli:{user}"


def _store(service: str) -> IdentityStore:
    from shared.service import declared
    from shared.web.factory import password_hasher

    settings = WebSettings()
    path = settings.identity_file(service)
    if service not in declared() and not path.exists():
        raise typer.BadParameter(
            f"no identity store for {service!r} (a declared service: {', '.join(declared())})",
            param_hint="--service",
        )
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return IdentityStore(path, password_hasher(settings), service=service)


def _done(change: Callable[[], Applied | Refusal]) -> Applied:
    """Run one change; a refusal or invalid input is named (never echoed) and exits non-zero."""
    try:
        outcome = change()
    except ValidationError as exc:
        fields = sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]})
        err.print(f"[red]invalid[/]: {', '.join(fields) or 'input'}", highlight=False)
        raise typer.Exit(2) from None
    if isinstance(outcome, Refusal):
        err.print(f"[red]refused[/] ({outcome.kind.value}): {outcome.message}", highlight=False)
        raise typer.Exit(1)
    record = outcome.record
    console.print(
        f"{ACTION_LABELS[record.action]} {record.staff_id}: change #{record.seq} by {record.actor}",
        highlight=False,
    )
    return outcome


def _print_password(applied: Applied) -> None:
    console.print(
        "temporary password (shown once; the person chooses a new one at the next sign-in):",
        highlight=False,
    )
    # Plain, on a line of its own, so it can be piped to where it is handed over.
    print(applied.password, flush=True)


@app.command("list")
def list_operators(service: ServiceOption) -> None:
    """The operators, with body or unit, roles and status."""
    table = Table(title=f"{service}: operators")
    for col in ("staff id", "name", "body", "roles", "status"):
        table.add_column(col)
    for op in _store(service).operators():
        status = "disabled" if op.disabled else "enabled"
        if op.must_change_password:
            status += ", must change password"
        table.add_row(
            op.staff_id,
            op.display_name or "",
            op.body,
            ", ".join(f"{r.value} ({role_label(r)})" for r in sorted(op.roles)),
            status,
        )
    console.print(table)


@app.command("add")
def add(
    service: ServiceOption,
    staff_id: StaffIdArgument,
    body: Annotated[str, typer.Option(help="Body id, or unit:<unit id> for a unit's handler")],
    role: RolesOption,
    name: Annotated[str | None, typer.Option(help="Display name")] = None,
) -> None:
    """Create an operator with a temporary password (printed once)."""
    store = _store(service)
    _print_password(_done(lambda: store.create(staff_id, body, role, cli_actor(), name)))


@app.command("disable")
def disable(service: ServiceOption, staff_id: StaffIdArgument) -> None:
    """Disable: every token and session of the operator stops working at once."""
    store = _store(service)
    _done(lambda: store.disable(staff_id, cli_actor()))


@app.command("enable")
def enable(service: ServiceOption, staff_id: StaffIdArgument) -> None:
    """Re-enable (old tokens and sessions stay revoked: the person signs in again)."""
    store = _store(service)
    _done(lambda: store.enable(staff_id, cli_actor()))


@app.command("reset-password")
def reset_password(service: ServiceOption, staff_id: StaffIdArgument) -> None:
    """A temporary password (printed once); every token and session ends."""
    store = _store(service)
    _print_password(_done(lambda: store.reset_password(staff_id, cli_actor())))


@app.command("roles")
def roles(service: ServiceOption, staff_id: StaffIdArgument, role: RolesOption) -> None:
    """Set the operator's roles (the full set, replacing the old one)."""
    store = _store(service)
    _done(lambda: store.set_roles(staff_id, role, cli_actor()))


@app.command("body")
def body(
    service: ServiceOption,
    staff_id: StaffIdArgument,
    new_body: Annotated[str, typer.Argument(help="Body id, or unit:<unit id>")],
) -> None:
    """Move the operator to another body or unit."""
    store = _store(service)
    _done(lambda: store.set_body(staff_id, new_body, cli_actor()))


@app.command("changes")
def changes(
    service: ServiceOption,
    staff_id: Annotated[str | None, typer.Option(help="Only this operator")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first")] = 200,
) -> None:
    """The record of changes: who changed which operator, when, from what to what."""
    table = Table(title=f"{service}: record of changes")
    for col in ("#", "when (Asia/Shanghai)", "actor", "operator", "change", "fields"):
        table.add_column(col)
    for c in _store(service).changes(staff_id, limit):
        fields = "; ".join(f"{k}: {old} → {new}" for k, (old, new) in c.fields.items())
        table.add_row(
            str(c.seq),
            cn_datetime(datetime.fromtimestamp(c.at, UTC)),
            c.actor,
            c.staff_id,
            c.action,
            fields,
        )
    console.print(table)
