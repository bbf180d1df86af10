"""Ed25519 keys of deployments: create, store under var/, sign, verify.

A key id (``kid``) is derived from the public key, so a registry entry cannot name one key and
carry another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

ALG = "ed25519-sha256"


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_FROM_URLSAFE = str.maketrans("-_", "+/")


def unb64u(text: str) -> bytes:
    """``base64.urlsafe_b64decode`` of unpadded text, without its wrappers (verify decodes
    every signature)."""
    return binascii.a2b_base64((text + "=" * (-len(text) % 4)).translate(_FROM_URLSAFE))


def key_id(public_raw: bytes) -> str:
    """Stable id of a public key: the first 16 bytes of its SHA-256, hex."""
    return hashlib.sha256(public_raw).hexdigest()[:32]


@dataclass(frozen=True)
class PublicKey:
    raw: bytes

    @property
    def kid(self) -> str:
        return key_id(self.raw)

    @property
    def text(self) -> str:
        return b64u(self.raw)

    @classmethod
    def from_text(cls, text: str) -> PublicKey:
        raw = unb64u(text)
        if len(raw) != 32:
            raise ValueError("an Ed25519 public key is 32 bytes")
        return cls(raw)

    def loaded(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(self.raw)


class SigningKey:
    """A deployment's private key."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public = PublicKey(private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_raw(cls, raw: bytes) -> SigningKey:
        return cls(Ed25519PrivateKey.from_private_bytes(raw))

    @property
    def kid(self) -> str:
        return self.public.kid

    def sign(self, message: bytes) -> str:
        sig = b64u(self._private.sign(message))
        _signed_here(sig, self.public.raw, message)
        return sig

    def raw(self) -> bytes:
        return self._private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())

    def derived_secret(self, purpose: str) -> bytes:
        """A secret for another purpose (e.g. keyed event ids), derived from this key: only
        the key's holder can compute it, and it reveals nothing about the key."""
        return hmac.new(self.raw(), b"ledger/" + purpose.encode(), hashlib.sha256).digest()

    def save(self, path: Path) -> None:
        """Write the key with owner-only permissions; never overwrite an existing key."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(b64u(self.raw()) + "\n")

    @classmethod
    def load(cls, path: Path) -> SigningKey:
        return cls.from_raw(unb64u(path.read_text().strip()))


# Signatures this process made, to skip verifying them again (a writer checks its record
# before appending, reads it back, and its projector judges it: three verifications of bytes
# it signed itself). Keyed by the signature; the entry holds the public key and the message's
# SHA-256, so only the very bytes signed here, under that key, skip the check. Ed25519 is
# deterministic: anything else is verified as before. Bounded, oldest dropped first.
SIGNED_HERE_MAX = 65_536
_SIGNED_HERE: OrderedDict[str, tuple[bytes, bytes]] = OrderedDict()


def _signed_here(sig: str, public_raw: bytes, message: bytes) -> None:
    _SIGNED_HERE[sig] = (public_raw, hashlib.sha256(message).digest())
    if len(_SIGNED_HERE) > SIGNED_HERE_MAX:
        _SIGNED_HERE.popitem(last=False)


def verify(public: Ed25519PublicKey, message: bytes, sig: str) -> bool:
    mine = _SIGNED_HERE.get(sig)
    if mine is not None:
        raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
        if mine == (raw, hashlib.sha256(message).digest()):
            return True
    try:
        public.verify(unb64u(sig), message)
    except (InvalidSignature, ValueError):
        return False
    return True
