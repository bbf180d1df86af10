"""The vault's encryption keys: AES-256-GCM (``cryptography``), by key id, with rotation.

The key file (``vault_settings``) is JSON, private from its creation::

    {"current": "k2", "keys": {"k1": "<base64url 32 bytes>", "k2": "…"}}

New entries are sealed under ``current``; every key still listed opens what it sealed, so a
rotation (:func:`rotate`: a new key becomes current) needs no downtime, and the re-encrypt
command moves old entries to the current key, after which an old key may be dropped. Each
sealed value binds its associated data (the entry's collection, key and key id), so a
ciphertext copied under another case's key does not open.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, ConfigDict, Field

from shared.private_files import private_dir

KEY_BYTES = 32
NONCE_BYTES = 12
KID_PATTERN = r"^k[0-9]{1,6}$"


class VaultKeyError(Exception):
    """The key file is missing a key, malformed, or a sealed value does not open."""


class Sealed(BaseModel):
    """A value sealed under one vault key (what the durable store keeps)."""

    model_config = ConfigDict(frozen=True)

    kid: str = Field(pattern=KID_PATTERN)
    nonce: str  # base64url, 12 bytes
    ct: str  # base64url ciphertext with the GCM tag


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class VaultKeys:
    """The keys of a key file: ``current`` seals, any listed key opens."""

    def __init__(self, current: str, keys: dict[str, bytes]) -> None:
        if current not in keys or any(len(k) != KEY_BYTES for k in keys.values()):
            raise VaultKeyError("vault key file: current key missing or a key of wrong length")
        self.current = current
        self._keys = keys

    @property
    def kids(self) -> list[str]:
        return sorted(self._keys, key=lambda k: int(k[1:]))

    def seal(self, plaintext: bytes, aad: bytes) -> Sealed:
        nonce = secrets.token_bytes(NONCE_BYTES)
        ct = AESGCM(self._keys[self.current]).encrypt(nonce, plaintext, aad + self.current.encode())
        return Sealed(kid=self.current, nonce=_b64(nonce), ct=_b64(ct))

    def open(self, sealed: Sealed, aad: bytes) -> bytes:
        key = self._keys.get(sealed.kid)
        if key is None:
            raise VaultKeyError("sealed under a key this key file no longer holds")
        try:
            return AESGCM(key).decrypt(
                _unb64(sealed.nonce), _unb64(sealed.ct), aad + sealed.kid.encode()
            )
        except (InvalidTag, ValueError):
            raise VaultKeyError("a sealed vault value does not open") from None

    def to_json(self) -> bytes:
        return orjson.dumps(
            {"current": self.current, "keys": {k: _b64(v) for k, v in self._keys.items()}},
            option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2,
        )

    @classmethod
    def from_json(cls, raw: bytes) -> VaultKeys:
        try:
            doc = orjson.loads(raw)
            keys = {str(k): _unb64(str(v)) for k, v in doc["keys"].items()}
            return cls(str(doc["current"]), keys)
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError, ValueError):
            raise VaultKeyError("vault key file is malformed") from None


def _staged(path: Path, keys: VaultKeys) -> Path:
    """The key file's new content in a temporary file beside it, 0600 from the start."""
    private_dir(path.parent)
    tmp = path.with_name(path.name + f".{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(keys.to_json())
        fh.flush()
        os.fsync(fh.fileno())
    return tmp


def _write(path: Path, keys: VaultKeys) -> None:
    """Replace the key file atomically."""
    os.replace(_staged(path, keys), path)


def load_or_create(path: Path) -> VaultKeys:
    """The key file's keys; a missing file is created with one fresh key (``k1``). Two first
    uses at once agree: only one file is ever linked in place, and both read it."""
    if not path.exists():
        tmp = _staged(path, VaultKeys("k1", {"k1": secrets.token_bytes(KEY_BYTES)}))
        try:
            os.link(tmp, path)  # never replaces a key file someone else just created
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return VaultKeys.from_json(path.read_bytes())


def rotate(path: Path) -> str:
    """Add a fresh key and make it current (older keys stay, to open older entries)."""
    old = load_or_create(path)
    kid = f"k{int(old.kids[-1][1:]) + 1}"
    keys = {k: old._keys[k] for k in old.kids} | {kid: secrets.token_bytes(KEY_BYTES)}
    _write(path, VaultKeys(kid, keys))
    return kid


def retire(path: Path, kid: str) -> None:
    """Drop a key that is not current (after re-encryption no entry needs it)."""
    old = load_or_create(path)
    if kid == old.current or kid not in old.kids:
        raise VaultKeyError("only a listed key that is not current can be retired")
    _write(path, VaultKeys(old.current, {k: old._keys[k] for k in old.kids if k != kid}))
