"""Keys under ``<var>/keys/``: created on first run, never committed, never overwritten."""

from __future__ import annotations

from pathlib import Path

from shared.crypto.signing import PublicKey, SigningKey
from shared.settings import LedgerSettings

GENESIS = "genesis"


def key_path(settings: LedgerSettings, name: str) -> Path:
    return settings.keys_dir / f"{name}.key"


def load_or_create(settings: LedgerSettings, name: str) -> SigningKey:
    path = key_path(settings, name)
    if path.exists():
        return SigningKey.load(path)
    key = SigningKey.generate()
    try:
        key.save(path)
    except FileExistsError:  # another process created it first: use theirs
        return SigningKey.load(path)
    if name == GENESIS:
        path.with_suffix(".pub").write_text(key.public.text + "\n")
    return key


def load(settings: LedgerSettings, name: str) -> SigningKey:
    path = key_path(settings, name)
    if not path.exists():
        raise FileNotFoundError(f"no key {path}: run `ledger init` first")
    return SigningKey.load(path)


def genesis_public(settings: LedgerSettings) -> PublicKey:
    """The genesis public key: from settings, else the one `ledger init` wrote."""
    if settings.genesis_public_key:
        return PublicKey.from_text(settings.genesis_public_key)
    pub = settings.keys_dir / f"{GENESIS}.pub"
    if not pub.exists():
        raise FileNotFoundError(
            f"no genesis key: set LEDGER_GENESIS_PUBLIC_KEY or run `ledger init` ({pub})"
        )
    return PublicKey.from_text(pub.read_text().strip())
