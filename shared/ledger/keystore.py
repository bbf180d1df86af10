"""Private keys on disk: one owner-only folder per deployment, never committed, never overwritten.

A deployment's folder (its ``key_dir`` in the deployments file, default ``<var>/keys/<name>/``,
mode 0700) holds its key pairs, one file per generation (``0001-<kid>.key``, mode 0600; the
public half beside it as ``.pub``), and ``deployment.secret``: a random secret made with the first
key, from which the deployment's keyed event ids and snapshot seals are derived — so a rotation
changes the signing key, never the ids a retried command derives. Which key signs is the
registry's business (``shared/ledger/signing_keys.py``): the newest one of this folder that the
registry holds valid.

The genesis key (which signs registrations) is the custodian's: ``<var>/keys/genesis.key`` in
the single-machine demonstration (``make run``), elsewhere wherever its holder keeps it offline.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shared.crypto.signing import PublicKey, SigningKey, b64u, unb64u
from shared.private_files import private_dir, write_private
from shared.settings import LedgerSettings

GENESIS = "genesis"
SECRET_FILE = "deployment.secret"
_KEY_FILE = re.compile(r"^(\d{4,})-([0-9a-f]{32})\.key$")


def key_dir(settings: LedgerSettings, name: str) -> Path:
    """The folder of deployment ``name``'s keys (its configured ``key_dir``, else the default)."""
    from shared.ledger.deployments import DeploymentsFileError, configured

    try:
        for s in configured(settings):
            if s.name == name and s.key_dir is not None:
                return s.key_dir
    except DeploymentsFileError:
        pass  # a broken file is reported by whoever runs the deployments; keys stay findable
    return settings.keys_dir / name


def key_path(settings: LedgerSettings, name: str) -> Path:
    """The genesis key's file; for a deployment, the file of its newest key."""
    if name == GENESIS:
        return settings.keys_dir / f"{GENESIS}.key"
    files = key_files(key_dir(settings, name))
    if not files:
        raise FileNotFoundError(f"no key in {key_dir(settings, name)}")
    return files[-1]


def key_files(directory: Path) -> list[Path]:
    """The key files of a deployment's folder, oldest generation first."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    found = [(int(m.group(1)), n) for n in names if (m := _KEY_FILE.match(n))]
    return [directory / n for _, n in sorted(found)]


def _generation(path: Path) -> int:
    m = _KEY_FILE.match(path.name)
    assert m is not None  # key_files lists only matching names
    return int(m.group(1))


def keys_in(directory: Path) -> list[SigningKey]:
    """Every key of a deployment's folder, oldest generation first."""
    return [SigningKey.load(p) for p in key_files(directory)]


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """One process at a time adds keys to a folder (two `ledger init` at once make one key)."""
    private_dir(directory)
    fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _add_key(directory: Path) -> SigningKey:
    """A new key pair as the folder's next generation (and the folder's secret, if first)."""
    existing = key_files(directory)
    generation = _generation(existing[-1]) + 1 if existing else 1
    key = SigningKey.generate()
    path = directory / f"{generation:04d}-{key.kid}.key"
    key.save(path)
    write_private(path.with_suffix(".pub"), key.public.text + "\n")
    if not existing:
        write_private(directory / SECRET_FILE, b64u(secrets.token_bytes(32)) + "\n")
    return key


def generate(settings: LedgerSettings, name: str) -> SigningKey:
    """A new key pair for deployment ``name`` in its folder; older ones stay (until revoked,
    the registry may still hold them valid)."""
    directory = key_dir(settings, name)
    with _locked(directory):
        return _add_key(directory)


def _adopt_legacy(settings: LedgerSettings, name: str, directory: Path) -> None:
    """A key from before per-deployment folders (``<var>/keys/<name>.key``) moves in as the
    first generation, so an existing demonstration keeps its registered keys."""
    legacy = settings.keys_dir / f"{name}.key"
    if legacy.exists() and not key_files(directory):
        key = SigningKey.load(legacy)
        os.replace(legacy, directory / f"0001-{key.kid}.key")
        write_private(directory / f"0001-{key.kid}.pub", key.public.text + "\n")


def load_or_create(settings: LedgerSettings, name: str) -> SigningKey:
    """The genesis key, or a deployment's newest key, created on first use."""
    if name == GENESIS:
        path = key_path(settings, GENESIS)
        private_dir(path.parent)
        if path.exists():
            return SigningKey.load(path)
        key = SigningKey.generate()
        try:
            key.save(path)
        except FileExistsError:  # another process created it first: use theirs
            return SigningKey.load(path)
        write_private(path.with_suffix(".pub"), key.public.text + "\n")
        return key
    directory = key_dir(settings, name)
    with _locked(directory):
        _adopt_legacy(settings, name, directory)
        files = key_files(directory)
        return SigningKey.load(files[-1]) if files else _add_key(directory)


def load(settings: LedgerSettings, name: str) -> SigningKey:
    """The genesis key, or deployment ``name``'s newest key."""
    try:
        path = key_path(settings, name)
    except FileNotFoundError:
        path = settings.keys_dir / f"{name}.key"  # from before per-deployment folders
    if not path.exists():
        raise FileNotFoundError(
            f"no key for {name} in {key_dir(settings, name)}: run `ledger init` "
            f"or `ledger keys generate {name}` first"
        )
    return SigningKey.load(path)


def deployment_secret(settings: LedgerSettings, name: str, purpose: str) -> bytes:
    """A secret for ``purpose`` (keyed event ids, snapshot seals) derived from the deployment's
    own secret, which outlives its key rotations. A folder made before there was one derives
    it from its first key (kept there, so the ids it already derived stay the same)."""
    directory = key_dir(settings, name)
    path = directory / SECRET_FILE
    if not path.exists():
        files = key_files(directory)
        if not files:
            raise FileNotFoundError(f"no key in {directory}")
        return SigningKey.load(files[0]).derived_secret(purpose)
    raw = unb64u(path.read_text().strip())
    return hmac.new(raw, b"ledger/" + purpose.encode(), hashlib.sha256).digest()


def public_of(text: str) -> PublicKey:
    """A public key as ``ledger keys generate`` prints it (base64url), or raise ValueError."""
    try:
        return PublicKey.from_text(text.strip())
    except ValueError as exc:  # binascii.Error is one
        raise ValueError("not a base64url Ed25519 public key") from exc


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
