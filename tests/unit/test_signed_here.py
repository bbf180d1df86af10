"""A signature this process made is not verified again (shared/crypto/signing.py): only the very
bytes it signed, under the key that signed them, skip the check; anything else is verified."""

from __future__ import annotations

from unittest import mock

from shared.crypto import signing
from shared.crypto.signing import SigningKey, verify


def test_bytes_signed_here_skip_the_check_and_nothing_else_does() -> None:
    key, other = SigningKey.generate(), SigningKey.generate()
    message = b'{"type":"ledger.complaint.received.v1"}'
    sig = key.sign(message)
    public = key.public.loaded()
    assert sig in signing._SIGNED_HERE
    assert verify(public, message, sig)
    assert not verify(public, message + b" ", sig)  # other bytes: verified, and refused
    assert not verify(other.public.loaded(), message, sig)  # another key: refused
    signing._SIGNED_HERE.clear()
    assert verify(public, message, sig)  # not remembered: verified the usual way


def test_the_memo_is_bounded_oldest_first() -> None:
    key = SigningKey.generate()
    signing._SIGNED_HERE.clear()
    with mock.patch.object(signing, "SIGNED_HERE_MAX", 3):
        sigs = [key.sign(bytes([i])) for i in range(5)]
    assert list(signing._SIGNED_HERE) == sigs[-3:]
