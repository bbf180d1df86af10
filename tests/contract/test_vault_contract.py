"""Intake's vault on both durable backends (SQLite and the MongoDB protocol on FerretDB), in the
durable contract's style: sealed at rest, bound to its case, kept once, key rotation and
re-encryption, the guarded orphan delete, recorded looks; and the vault commands (rotate,
re-encrypt, retire) on a real var directory."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from services.intake import vault_keys
from services.intake.vault import VAULT, Vault
from services.intake.vault_content import Held, HeldAttachment, Identity, View
from services.intake.vault_keys import VaultKeyError
from shared.durable.port import DurableStore
from shared.durable.sqlite import SqliteDurableStore
from tests.conftest import REPO
from tests.contract.conftest_store import STORE_BACKENDS
from tests.contract.test_durable_contract import close, open_mongo

CASE = "case-0190a3b2-7c1d-7e4f-8a9b-0123456789ab"
OTHER = "case-0190a3b2-7c1d-7e4f-8a9b-0123456789ac"
NAME = "欧阳晓梅"
PHONE = "13912345678"
HELD = Held(
    complaint_no="TS0190A3B27C1D",
    identity=Identity(name=NAME, phone=PHONE, id_number="11010119900307421X", contact=PHONE),
    text=f"我叫{NAME}，电话{PHONE}。",
    attachments=[HeldAttachment.of(b"\x89PNG" + PHONE.encode(), "image/png")],
)


@pytest.fixture(params=STORE_BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[DurableStore]:
    s: DurableStore = (
        await SqliteDurableStore.open(tmp_path / "var" / "intake" / "durable.sqlite3")
        if request.param == "sqlite"
        else await open_mongo()
    )
    try:
        yield s
    finally:
        await close(s)


def stored_text(value: object) -> str:
    return orjson.dumps(value).decode()


async def test_an_entry_is_sealed_at_rest_and_opens_only_as_its_case(
    store: DurableStore, tmp_path: Path
) -> None:
    keys = vault_keys.load_or_create(tmp_path / "keys.json")
    vault = Vault(store, keys)
    await vault.keep(CASE, HELD)
    assert await vault.read(CASE) == HELD
    entry = await store.get(VAULT, CASE)
    assert entry is not None
    at_rest = stored_text(entry.value)
    for value in (NAME, PHONE, "11010119900307421X", base64.b64encode(PHONE.encode()).decode()):
        assert value not in at_rest
    assert entry.value["sealed"]["kid"] == "k1"
    # The same ciphertext under another case's key does not open.
    await store.put(VAULT, OTHER, entry.value)
    with pytest.raises(VaultKeyError):
        await vault.read(OTHER)
    # Another key file does not open it either.
    stranger = Vault(store, vault_keys.load_or_create(tmp_path / "other.json"))
    with pytest.raises(VaultKeyError):
        await stranger.read(CASE)


async def test_keep_writes_once_and_the_orphan_delete_is_guarded(
    store: DurableStore, tmp_path: Path
) -> None:
    vault = Vault(store, vault_keys.load_or_create(tmp_path / "keys.json"))
    await vault.keep(CASE, HELD)
    first = await store.get(VAULT, CASE)
    await vault.keep(CASE, HELD.model_copy(update={"text": "另一份"}))  # a retry keeps the first
    assert await store.get(VAULT, CASE) == first
    assert await vault.read(CASE) == HELD
    assert first is not None
    # Not older than the cut-off: kept. Older: deleted. A missing entry: nothing to do.
    assert not await vault.discard_unfiled(CASE, written_before="2000-01-01T00:00:00")
    assert await vault.discard_unfiled(CASE, written_before="2999-01-01T00:00:00")
    assert await store.get(VAULT, CASE) is None
    assert not await vault.discard_unfiled(CASE)
    assert await vault.cases() == []


async def test_rotation_seals_new_entries_under_the_new_key_and_re_encrypt_moves_old_ones(
    store: DurableStore, tmp_path: Path
) -> None:
    path = tmp_path / "keys.json"
    old = Vault(store, vault_keys.load_or_create(path))
    await old.keep(CASE, HELD)
    assert vault_keys.rotate(path) == "k2"
    vault = Vault(store, vault_keys.load_or_create(path))
    await vault.keep(OTHER, HELD)
    kids = {e.key: e.value["sealed"]["kid"] for e in await store.scan(VAULT)}
    assert kids == {CASE: "k1", OTHER: "k2"}
    assert await vault.read(CASE) == HELD  # the old key still opens its entry
    with pytest.raises(VaultKeyError):
        vault_keys.retire(path, "k2")  # the current key is never retired
    assert await vault.reencrypt() == (1, 1)
    assert {e.value["sealed"]["kid"] for e in await store.scan(VAULT)} == {"k2"}
    vault_keys.retire(path, "k1")
    retired = Vault(store, vault_keys.load_or_create(path))
    assert await retired.read(CASE) == HELD and await retired.read(OTHER) == HELD
    with pytest.raises(VaultKeyError):
        await old.read(CASE)  # sealed under k2 now: the old key file alone cannot open it


async def test_looks_at_originals_are_listed_oldest_first_and_by_case(
    store: DurableStore, tmp_path: Path
) -> None:
    vault = Vault(store, vault_keys.load_or_create(tmp_path / "keys.json"))
    for case, at in ((CASE, "2026-12-01T08:00:00+00:00"), (OTHER, "2026-12-01T07:00:00+00:00")):
        await vault.record_view(
            View(
                case=case,
                complaint_no="TS1",
                staff_id="C001",
                body="efficiency-office",
                role="intake_clerk",
                reason="回访核实",
                at=at,
            )
        )
    assert [v.case for v in await vault.views()] == [OTHER, CASE]
    assert [v.at for v in await vault.views(CASE)] == ["2026-12-01T08:00:00+00:00"]


def test_the_key_file_is_private_and_malformed_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "intake" / "vault-keys.json"
    keys = vault_keys.load_or_create(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert vault_keys.load_or_create(path).current == keys.current == "k1"
    vault_keys.rotate(path)
    assert path.stat().st_mode & 0o777 == 0o600
    bad = tmp_path / "bad.json"
    bad.write_text('{"current": "k9", "keys": {"k1": "AAAA"}}')
    with pytest.raises(VaultKeyError):
        vault_keys.load_or_create(bad)


def vault_command(var_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LEDGER_VAR_DIR": str(var_dir)}
    return subprocess.run(
        [sys.executable, "-m", "services.intake.vault_cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_the_vault_commands_rotate_re_encrypt_and_retire(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    store = await SqliteDurableStore.open(var_dir / "intake" / "durable.sqlite3")
    try:
        path = var_dir / "intake" / "vault-keys.json"
        await Vault(store, vault_keys.load_or_create(path)).keep(CASE, HELD)
    finally:
        await store.close()
    rotated = vault_command(var_dir, "rotate-key")
    assert rotated.returncode == 0 and "k2" in rotated.stdout, rotated.stderr
    early = vault_command(var_dir, "retire-key", "k1")
    assert early.returncode == 1 and "re-encrypt" in early.stderr
    moved = vault_command(var_dir, "re-encrypt")
    assert moved.returncode == 0 and "re-encrypted 1 entries under k2" in moved.stdout
    retired = vault_command(var_dir, "retire-key", "k1")
    assert retired.returncode == 0, retired.stderr
    assert vault_keys.load_or_create(path).kids == ["k2"]
    store = await SqliteDurableStore.open(var_dir / "intake" / "durable.sqlite3")
    try:
        assert await Vault(store, vault_keys.load_or_create(path)).read(CASE) == HELD
    finally:
        await store.close()
    for out in (rotated, early, moved, retired):
        assert PHONE not in out.stdout + out.stderr and NAME not in out.stdout + out.stderr
