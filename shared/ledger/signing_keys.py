"""Which key a running deployment signs with: the newest key of its own folder that the registry
holds valid for it — chosen again before every write, so a rotation needs no restart.

``choose_key`` is the pure part (the keys on disk, the registry the service has read, its
deployment -> the key or why there is none); :class:`KeyRing` is the shell that re-reads the
folder when it changes (one ``stat`` per write). How the service learns of registry changes is
the command path's (``shared/web/command_path.py``): its projector follows the log, the
registry included, and it re-reads the registry itself every ``LEDGER_KEY_CHECK_SECONDS`` and
before refusing a write for want of a valid key.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from shared.crypto.signing import SigningKey
from shared.ledger import keystore
from shared.rules.registry import Registry


class KeyState(StrEnum):
    ok = "ok"  # a key of the folder is registered and valid now
    revoked = "revoked"  # the folder's keys were registered, and every one is revoked
    unregistered = "unregistered"  # keys on disk, none registered for this deployment yet
    missing = "missing"  # no key in the folder at all


@dataclass(frozen=True)
class KeyChoice:
    state: KeyState
    key: SigningKey | None = None  # the key to sign with (state ok)
    kid: str | None = None  # the chosen key, or the newest revoked one
    version: int = 0  # the registry version the choice was made at
    revoked_at: int | None = None

    @property
    def reason(self) -> str:
        """Fixed text for /readyz and the log (key ids and versions only)."""
        if self.state is KeyState.ok:
            return f"signing with key {self.kid} (registry version {self.version})"
        if self.state is KeyState.revoked:
            return (
                f"signing key {self.kid} was revoked at registry version {self.revoked_at}: "
                "writes are refused until a new key is registered"
            )
        if self.state is KeyState.unregistered:
            return f"no key of this deployment is registered (registry version {self.version})"
        return "no signing key in this deployment's key folder"


def choose_key(keys: Sequence[SigningKey], registry: Registry, deployment: str) -> KeyChoice:
    """The newest-registered key of ``keys`` valid for ``deployment`` at the registry's version."""
    version = registry.version
    if not keys:
        return KeyChoice(KeyState.missing, version=version)
    valid: list[tuple[int, SigningKey]] = []
    revoked: list[tuple[int, str]] = []
    for k in keys:
        entry = registry.keys.get(k.kid)
        if entry is None or entry.deployment != deployment:
            continue
        if entry.valid_at(version):
            valid.append((entry.added_at, k))
        elif entry.revoked_at is not None:
            revoked.append((entry.revoked_at, k.kid))
    if valid:
        _, key = max(valid, key=lambda pair: pair[0])
        return KeyChoice(KeyState.ok, key, key.kid, version)
    if revoked:
        at, kid = max(revoked)
        return KeyChoice(KeyState.revoked, None, kid, version, at)
    return KeyChoice(KeyState.unregistered, version=version)


class KeyRing:
    """A deployment's key folder, read again whenever it changes (a key added by rotation)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._stamp: tuple[int, int] | None = None
        self._keys: list[SigningKey] = []

    def read(self) -> list[SigningKey]:
        """The folder's keys, oldest generation first (read again only if it changed)."""
        try:
            st = os.stat(self.directory)
        except FileNotFoundError:
            self._stamp, self._keys = None, []
            return []
        stamp = (st.st_mtime_ns, st.st_ino)
        if stamp != self._stamp:
            self._keys = keystore.keys_in(self.directory)
            self._stamp = stamp
        return self._keys
