"""Deployment keys: base64url without padding, key ids from the public key, Ed25519 signatures,
and key files that only their owner can read and nothing overwrites."""

from __future__ import annotations

import base64
import hashlib
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.crypto.signing import (
    ALG,
    PublicKey,
    SigningKey,
    b64u,
    key_id,
    unb64u,
    verify,
)

SEED = bytes(range(32))  # a fixed key, so ids and signatures are known values


def test_the_algorithm_name() -> None:
    assert ALG == "ed25519-sha256"


@pytest.mark.parametrize("n", range(10))
def test_base64url_drops_padding_and_reads_it_back(n: int) -> None:
    data = bytes(range(250, 250 - n, -1))
    text = b64u(data)
    assert "=" not in text and "+" not in text and "/" not in text
    assert text == base64.urlsafe_b64encode(data).decode().rstrip("=")
    assert unb64u(text) == data


def test_base64url_uses_the_url_alphabet() -> None:
    assert b64u(b"\xfb\xff") == "-_8"
    assert unb64u("-_8") == b"\xfb\xff"


def test_a_key_id_is_the_first_16_bytes_of_the_sha256_of_the_public_key() -> None:
    key = SigningKey.from_raw(SEED)
    raw = key.public.raw
    assert len(raw) == 32
    assert key_id(raw) == hashlib.sha256(raw).hexdigest()[:32]
    assert len(key.kid) == 32 and key.kid == key.public.kid == key_id(raw)
    assert key.kid == "56475aa75463474c0285df5dbf2bcab7"


def test_a_public_key_round_trips_through_its_text() -> None:
    public = SigningKey.from_raw(SEED).public
    assert public.text == b64u(public.raw) and len(public.text) == 43
    assert PublicKey.from_text(public.text) == public


@pytest.mark.parametrize("n", [0, 31, 33, 64])
def test_a_public_key_is_exactly_32_bytes(n: int) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        PublicKey.from_text(b64u(b"\x01" * n))


def test_signatures_verify_only_for_the_same_key_and_message() -> None:
    key, other = SigningKey.from_raw(SEED), SigningKey.generate()
    sig = key.sign(b"message")
    assert len(unb64u(sig)) == 64
    assert sig == key.sign(b"message")  # Ed25519 is deterministic
    assert verify(key.public.loaded(), b"message", sig) is True
    assert verify(key.public.loaded(), b"messagE", sig) is False
    assert verify(other.public.loaded(), b"message", sig) is False
    assert verify(key.public.loaded(), b"message", other.sign(b"message")) is False
    assert verify(key.public.loaded(), b"message", "not base64 at all!") is False
    assert verify(key.public.loaded(), b"message", b64u(b"short")) is False
    assert verify(key.public.loaded(), b"message", "AAAAA") is False  # not decodable at all


def test_the_private_key_round_trips_through_its_raw_bytes() -> None:
    key = SigningKey.from_raw(SEED)
    assert key.raw() == SEED
    again = SigningKey(Ed25519PrivateKey.from_private_bytes(key.raw()))
    assert again.kid == key.kid and again.sign(b"x") == key.sign(b"x")
    assert SigningKey.generate().kid != SigningKey.generate().kid


def test_a_saved_key_is_owner_only_loads_back_and_is_never_overwritten(tmp_path: Path) -> None:
    key = SigningKey.from_raw(SEED)
    path = tmp_path / "keys" / "nested" / "intake.key"
    key.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == b64u(SEED) + "\n"
    assert SigningKey.load(path).raw() == SEED
    with pytest.raises(FileExistsError):
        SigningKey.generate().save(path)
    assert SigningKey.load(path).kid == key.kid


def test_keys_of_several_deployments_share_one_directory(tmp_path: Path) -> None:
    SigningKey.from_raw(SEED).save(tmp_path / "keys" / "intake.key")
    SigningKey.generate().save(tmp_path / "keys" / "dispatch.key")
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == ["dispatch.key", "intake.key"]
