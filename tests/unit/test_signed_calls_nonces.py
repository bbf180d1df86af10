"""The replay store of signed calls: a (key, nonce) is accepted once while it is live, forgotten
once it expires, kept across a restart (a new store on the same file), bounded, owner-only."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from shared.web.signed_calls.nonces import NonceStore, NonceStoreFull

NOW = 1_790_000_000


def test_a_nonce_is_accepted_once_while_live(tmp_path: Path) -> None:
    store = NonceStore(tmp_path / "svc" / "call-nonces.sqlite3")
    assert store.first_use("k1", "n1", expires=NOW + 61, now=NOW)
    assert not store.first_use("k1", "n1", expires=NOW + 61, now=NOW + 30)
    # Another key's equal nonce is another call.
    assert store.first_use("k2", "n1", expires=NOW + 61, now=NOW + 30)
    mode = stat.S_IMODE((tmp_path / "svc" / "call-nonces.sqlite3").stat().st_mode)
    assert mode == 0o600


def test_a_restart_inside_the_window_still_refuses_the_replay(tmp_path: Path) -> None:
    path = tmp_path / "call-nonces.sqlite3"
    first = NonceStore(path)
    assert first.first_use("k1", "n1", expires=NOW + 61, now=NOW)
    first.close()
    again = NonceStore(path)
    assert not again.first_use("k1", "n1", expires=NOW + 61, now=NOW + 10)


def test_expired_nonces_are_forgotten_as_new_ones_arrive(tmp_path: Path) -> None:
    store = NonceStore(tmp_path / "call-nonces.sqlite3")
    for i in range(5):
        assert store.first_use("k", f"n{i}", expires=NOW + 61, now=NOW)
    assert store.count() == 5
    assert store.first_use("k", "later", expires=NOW + 200, now=NOW + 62)
    assert store.count() == 1


def test_a_full_store_refuses_rather_than_grows(tmp_path: Path) -> None:
    store = NonceStore(tmp_path / "call-nonces.sqlite3", max_entries=3)
    for i in range(3):
        assert store.first_use("k", f"n{i}", expires=NOW + 61, now=NOW)
    with pytest.raises(NonceStoreFull):
        store.first_use("k", "n3", expires=NOW + 61, now=NOW + 1)
    assert store.count() == 3
    # Once the old ones expire there is room again.
    assert store.first_use("k", "n3", expires=NOW + 200, now=NOW + 62)
