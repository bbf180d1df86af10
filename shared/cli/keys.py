"""``ledger keys``: a body's keys stay with the body; the genesis key signs their registration.

Where the service runs: ``generate`` (the private key, 0600, in the deployment's key folder; only
the public key is printed or written). Where the genesis key is held: ``register`` and
``revoke`` sign a registry file, chained onto the registry head ``list`` printed, without the
log. Where the log is: ``append`` (the rule book judges every record first; a refused file
appends nothing). ``rotate`` does a rotation in one place (the demonstration's way): a new key,
its registration, a grace period in which the running service switches to it, then the old
key's revocation. Without ``--out``, ``register`` and ``revoke`` append at once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import orjson
import typer
from rich.console import Console
from rich.table import Table

from shared.crypto.signing import PublicKey, SigningKey
from shared.ledger import keystore
from shared.ledger.deployments import DeploymentsFileError, DeploymentSpec, configured, spec
from shared.ledger.key_files import (
    KeyFileError,
    RegistryHead,
    append_file,
    read_file,
    registration_file,
    registry_head,
    revocation_file,
    valid_keys_of,
    why,
)
from shared.log.factory import open_log
from shared.log.port import EventLog
from shared.private_files import owner_only
from shared.settings import LedgerSettings

app = typer.Typer(add_completion=False, help="Deployment keys: generate, register, rotate, revoke.")
console = Console()
err = Console(stderr=True)
T = TypeVar("T")

_NAME = Annotated[str, typer.Argument(help="the deployment's name (deployments file)")]
_GENESIS = Annotated[
    Path | None,
    typer.Option(help="the genesis private key (default: <var>/keys/genesis.key)"),
]
_HEAD = Annotated[
    str | None,
    typer.Option(help="the registry head VERSION:HASH the log shows (`ledger keys list`)"),
]
_OUT = Annotated[
    Path | None,
    typer.Option(help="write the signed registry file here (default: append it to the log now)"),
]


@app.callback()
def _owner_only() -> None:
    owner_only()  # key files and folders this command makes are its owner's alone


def _settings() -> LedgerSettings:
    return LedgerSettings()


def _deployment(settings: LedgerSettings, name: str) -> DeploymentSpec:
    try:
        return spec(name, settings)
    except DeploymentsFileError as exc:
        err.print(f"[red]deployments file[/]: {exc}")
        raise typer.Exit(2) from None
    except KeyError:
        names = ", ".join(s.name for s in configured(settings))
        err.print(f"[red]no deployment {name}[/] (configured: {names})")
        raise typer.Exit(2) from None


def _with_log(settings: LedgerSettings, fn: Callable[[EventLog], Awaitable[T]]) -> T:
    async def main() -> T:
        log = await open_log(settings)
        try:
            return await fn(log)
        finally:
            await log.close()

    return asyncio.run(main())


def _genesis_key(settings: LedgerSettings, path: Path | None) -> SigningKey:
    path = path or keystore.key_path(settings, keystore.GENESIS)
    if not path.exists():
        err.print(f"[red]no genesis key at {path}[/]: run this where the genesis key is held")
        raise typer.Exit(2)
    key = SigningKey.load(path)
    try:
        expected = keystore.genesis_public(settings).kid
    except FileNotFoundError:
        expected = key.kid  # no configured genesis key to compare with: the log's rule book will
    if key.kid != expected:
        err.print("[red]that is not this ledger's genesis key[/] (LEDGER_GENESIS_PUBLIC_KEY)")
        raise typer.Exit(2)
    return key


def _public_key(value: str) -> PublicKey:
    """A public key given as text, as a file holding it, or as `generate --out`'s file."""
    text = value
    path = Path(value)
    if path.exists():
        text = path.read_text(encoding="utf-8").strip()
        if text.startswith("{"):
            text = str(json.loads(text).get("public_key", ""))
    try:
        return keystore.public_of(text)
    except ValueError:
        err.print("[red]not a public key[/] (base64url Ed25519, as `ledger keys generate` prints)")
        raise typer.Exit(2) from None


def _head(settings: LedgerSettings, head: str | None) -> RegistryHead:
    if head is not None:
        try:
            return RegistryHead.parse(head)
        except KeyFileError as exc:
            err.print(f"[red]{exc}[/]")
            raise typer.Exit(2) from None
    genesis = keystore.genesis_public(settings)
    found, _ = _with_log(settings, lambda log: registry_head(log, genesis))
    err.print(f"registry head read from the log: {found.text}")
    return found


def _deliver(settings: LedgerSettings, doc: dict[str, Any], out: Path | None) -> None:
    """Write the signed file, or append it now (where the log and the genesis key meet)."""
    if out is not None:
        out.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
        console.print(
            f"signed {doc['kind']} file for {doc['deployment']} written to {out} "
            f"({len(doc['records'])} registry events, chained onto {doc['head']['version']}); "
            "append it where the log is: `ledger keys append FILE`"
        )
        return
    _append(settings, [r.encode("utf-8") for r in doc["records"]], f"{doc['kind']} file")


def _append(settings: LedgerSettings, records: list[bytes], label: str) -> None:
    genesis = keystore.genesis_public(settings)
    outcome = _with_log(settings, lambda log: append_file(log, genesis, records))
    refused = outcome.refused
    if refused is not None:
        state = "appended, then refused on read-back" if outcome.appended else "nothing appended"
        err.print(f"[red]refused[/] {label} ({state}): {why(refused)}")
        raise typer.Exit(1)
    console.print(f"[green]appended[/] {label}: {len(records)} registry events accepted")


@app.command()
def generate(
    name: _NAME,
    out: Annotated[
        Path | None, typer.Option(help="also write the public key (JSON) to this file")
    ] = None,
    next_key: Annotated[
        bool, typer.Option("--next", help="add a key beside the existing ones (a rotation)")
    ] = False,
) -> None:
    """Where the service runs: a new key pair in the deployment's key folder (0600). Only the
    public key is printed: hand it to the genesis key's holder."""
    settings = _settings()
    s = _deployment(settings, name)
    folder = keystore.key_dir(settings, name)
    if keystore.key_files(folder) and not next_key:
        err.print(f"[red]{folder} already holds a key[/]: `--next` adds one (or `rotate`)")
        raise typer.Exit(1)
    key = keystore.generate(settings, name)
    request = {
        "deployment": s.name,
        "source": s.deployment,
        "kid": key.kid,
        "public_key": key.public.text,
    }
    if out is not None:
        out.write_bytes(orjson.dumps(request, option=orjson.OPT_INDENT_2) + b"\n")
    console.print(f"{s.name} ({s.deployment}): new key {key.kid}, private key kept in {folder}")
    console.print(f"public key: {key.public.text}")


@app.command()
def register(
    name: _NAME,
    public_key: Annotated[
        str, typer.Option(help="the public key, a file holding it, or `generate --out`'s file")
    ],
    head: _HEAD = None,
    out: _OUT = None,
    genesis_key: _GENESIS = None,
    key_only: Annotated[
        bool, typer.Option(help="only add this key to a registered deployment (a rotation)")
    ] = False,
) -> None:
    """Where the genesis key is held: sign the deployment's registration (registration, key,
    rights, configuration ownership, from its declaration), or with --key-only one more key."""
    settings = _settings()
    s = _deployment(settings, name)
    public = _public_key(public_key)
    gkey = _genesis_key(settings, genesis_key)
    doc = registration_file(s, public, gkey, _head(settings, head), key_only=key_only)
    _deliver(settings, doc, out)


@app.command()
def revoke(
    name: _NAME,
    kid: Annotated[list[str], typer.Option(help="the key id(s) to revoke")],
    reason: Annotated[str, typer.Option(help="why (kept in the log)")] = "revoked",
    head: _HEAD = None,
    out: _OUT = None,
    genesis_key: _GENESIS = None,
) -> None:
    """Where the genesis key is held: sign the revocation of the deployment's key(s). A revoked
    key stops the running service writing until a newer key of it is registered."""
    settings = _settings()
    s = _deployment(settings, name)
    gkey = _genesis_key(settings, genesis_key)
    doc = revocation_file(s, kid, reason, gkey, _head(settings, head))
    _deliver(settings, doc, out)


@app.command()
def append(files: Annotated[list[Path], typer.Argument(help="signed registry files")]) -> None:
    """Where the log is: append signed registry files, each judged by the rule book first."""
    settings = _settings()
    for f in files:
        try:
            records = read_file(f.read_bytes())
        except (OSError, KeyFileError) as exc:
            err.print(f"[red]{f}[/]: {exc}")
            raise typer.Exit(2) from None
        _append(settings, records, str(f))


@app.command()
def rotate(
    name: _NAME,
    grace_seconds: Annotated[
        float,
        typer.Option(
            help="between registering the new key and revoking the old: the running service "
            "switches within LEDGER_KEY_CHECK_SECONDS (an event signed with the old key after "
            "its revocation is appended is named by `ledger verify`)"
        ),
    ] = 5.0,
    genesis_key: _GENESIS = None,
) -> None:
    """In one place (key folder, genesis key and log): a new key pair, its registration, a grace
    period, then the old key(s) revoked. The service keeps writing, with the new key."""
    settings = _settings()
    s = _deployment(settings, name)
    gkey = _genesis_key(settings, genesis_key)
    genesis = keystore.genesis_public(settings)
    key = keystore.generate(settings, name)
    console.print(f"{s.name}: new key {key.kid} in {keystore.key_dir(settings, name)}")
    head, registry = _with_log(settings, lambda log: registry_head(log, genesis))
    old = valid_keys_of(registry, s.deployment)
    _deliver(settings, registration_file(s, key.public, gkey, head, key_only=True), None)
    if not old:
        return
    console.print(f"waiting {grace_seconds:g} s for the service to switch to the new key")
    asyncio.run(asyncio.sleep(grace_seconds))
    head, _ = _with_log(settings, lambda log: registry_head(log, genesis))
    _deliver(settings, revocation_file(s, old, "rotated", gkey, head), None)
    console.print(f"revoked {', '.join(old)}")


@app.command("list")
def list_keys() -> None:
    """The registry head (for `register --head`) and every deployment's keys."""
    settings = _settings()
    genesis = keystore.genesis_public(settings)
    head, registry = _with_log(settings, lambda log: registry_head(log, genesis))
    console.print(f"registry head: {head.text}")
    by_source = {s.deployment: s for s in configured(settings)}
    table = Table()
    for col in ("deployment", "name", "body", "kid", "added", "revoked", "key here"):
        table.add_column(col)
    for kid, e in sorted(registry.keys.items(), key=lambda item: item[1].added_at):
        s = by_source.get(e.deployment)
        entry = registry.deployments.get(e.deployment)
        local = keystore.key_files(keystore.key_dir(settings, s.name)) if s else []
        here = any(p.name.endswith(f"-{kid}.key") for p in local)
        table.add_row(
            e.deployment,
            s.name if s else "",
            entry.body if entry else "",
            kid,
            str(e.added_at),
            "" if e.revoked_at is None else str(e.revoked_at),
            "yes" if here else "",
        )
    console.print(table)
