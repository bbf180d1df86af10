"""The service's own secret (``var/<service>/service-secret.key``, 32 random bytes, mode 0600)
and the keyed hashes made with it.

Whatever a client chooses and the service must remember — idempotency keys, anonymous form
tokens, the account a failed sign-in named, the client it came from — is stored and logged only
as an HMAC under this secret: equal inputs still match, but a copied file or a log line does not
give back a phone number someone typed into a key field, and short values cannot be recovered by
hashing every candidate without the secret. Each use names its purpose, so one hash never stands
in for another.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

SECRET_BYTES = 32


def load_or_create(path: Path) -> bytes:
    """Read the secret, or create it 0600 from the start (no moment of wider access)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        data = path.read_bytes()
        if len(data) != SECRET_BYTES:
            raise RuntimeError(f"{path} is not a {SECRET_BYTES}-byte service secret") from None
        return data
    data = secrets.token_bytes(SECRET_BYTES)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return data


class ServiceSecret:
    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def at(cls, path: Path) -> ServiceSecret:
        return cls(load_or_create(path))

    def digest(self, purpose: str, *parts: str | bytes) -> str:
        mac = hmac.new(self._key, purpose.encode() + b"\x00", hashlib.sha256)
        for part in parts:
            raw = part if isinstance(part, bytes) else part.encode("utf-8", "surrogatepass")
            # Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
            mac.update(len(raw).to_bytes(8, "big") + raw)
        return mac.hexdigest()

    def label(self, purpose: str, value: str) -> str:
        """A short keyed hash for log lines: enough to see one account attacked, nothing to
        read back."""
        return self.digest(purpose, value)[:16]
