"""Operating intake's vault: ``python -m services.intake.vault_cli rotate-key | re-encrypt |
retire-key KID | expire`` (settings from the environment, as the service reads them).

- ``rotate-key``: a fresh AES-256 key becomes current in the deployment's key file; older keys
  stay and still open their entries. A running service picks the new key up at its next
  vault use (it re-reads the file when it changes).
- ``re-encrypt``: every entry not under the current key is sealed anew under it (guarded by
  the entry's version: an entry changed meanwhile is left for the next run).
- ``retire-key KID``: drop an old key — only once ``re-encrypt`` reports no entry under it.
- ``expire``: the retention expiry run (``rights.expire``), as ``POST /vault/expiry`` does it,
  signed by the deployment as its ``retention`` staff id; prints the report.

It lives with intake (the shared ``ledger`` command names no service).
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import orjson
import typer

from services.intake import rights, vault_keys
from services.intake.vault import VAULT, Vault
from services.intake.vault_settings import VaultSettings
from shared.durable import open_durable
from shared.ledger.deployments import of_service, spec
from shared.web.command_path import ServiceWriter
from shared.web.logging import configure_logging
from shared.web.settings import WebSettings

app = typer.Typer(add_completion=False, help="受理保管库 — intake's vault keys and retention.")


@app.callback()
def _logs() -> None:
    """The services' JSON log lines, on stdout (each expiry is one: ``vault.expiry``)."""
    configure_logging(WebSettings().log_level)


Deployment = Annotated[
    str | None,
    typer.Option(help="The intake deployment (default: the configured one)"),
]


def _deployment(name: str | None, settings: WebSettings) -> str:
    return name or of_service("intake", settings).name


@app.command("rotate-key")
def rotate_key(deployment: Deployment = None) -> None:
    """Add a fresh key and make it current."""
    settings = WebSettings()
    path = VaultSettings().key_file(settings.var_dir, _deployment(deployment, settings))
    typer.echo(f"current vault key: {vault_keys.rotate(path)}")


@app.command("retire-key")
def retire_key(kid: str, deployment: Deployment = None) -> None:
    """Drop an old key (after re-encrypt left no entry under it)."""
    settings = WebSettings()
    name = _deployment(deployment, settings)
    path = VaultSettings().key_file(settings.var_dir, name)

    async def still_used() -> int:
        store = await open_durable(settings, name)
        try:
            n, after = 0, None
            while page := await store.scan(VAULT, after=after):
                n += sum(1 for e in page if e.value["sealed"]["kid"] == kid)
                after = page[-1].key
            return n
        finally:
            await store.close()

    used = asyncio.run(still_used())
    if used:
        typer.echo(f"{used} entries are still sealed under {kid}: run re-encrypt first", err=True)
        raise typer.Exit(1)
    vault_keys.retire(path, kid)
    typer.echo(f"retired {kid}")


@app.command("re-encrypt")
def re_encrypt(deployment: Deployment = None) -> None:
    """Seal every entry under the current key."""
    settings = WebSettings()
    name = _deployment(deployment, settings)
    keys = vault_keys.load_or_create(VaultSettings().key_file(settings.var_dir, name))

    async def go() -> tuple[int, int]:
        store = await open_durable(settings, name)
        try:
            return await Vault(store, keys).reencrypt()
        finally:
            await store.close()

    moved, kept = asyncio.run(go())
    typer.echo(f"re-encrypted {moved} entries under {keys.current}; {kept} were already")


@app.command("expire")
def expire(deployment: Deployment = None) -> None:
    """Run the retention expiry once and print its report (JSON)."""
    settings = WebSettings()
    name = _deployment(deployment, settings)
    declared = spec(name, settings)
    vault_settings = VaultSettings()
    keys = vault_keys.load_or_create(vault_settings.key_file(settings.var_dir, name))

    async def go() -> rights.ExpiryReport:
        store = await open_durable(settings, name)
        writer = ServiceWriter(settings, name, declared.deployment)
        try:
            return await rights.expire(
                writer,
                Vault(store, keys),
                f"{declared.body}/retention",
                retention_days=vault_settings.vault_retention_days,
                orphan_grace_seconds=vault_settings.vault_orphan_grace_seconds,
            )
        finally:
            await writer.close()
            await store.close()

    report = asyncio.run(go())
    typer.echo(orjson.dumps(report.model_dump(), option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    app()
