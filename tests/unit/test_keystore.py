"""A key folder per deployment: generations kept in order, never overwritten; a deployment secret
that outlives rotations (a retried command derives the same event ids after one); a folder from
before (``<var>/keys/<name>.key``) adopted with its ids unchanged; a configured ``key_dir``
honoured; two processes creating a deployment's first key at once make one."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from shared.crypto.signing import SigningKey
from shared.ledger import keystore
from shared.ledger.signing_keys import KeyRing
from shared.settings import LedgerSettings

PURPOSE = "command-event-ids"


def test_generations_accumulate_and_the_secret_outlives_a_rotation(tmp_path: Path) -> None:
    s = LedgerSettings(var_dir=tmp_path / "var")
    first = keystore.load_or_create(s, "intake")
    assert keystore.load_or_create(s, "intake").kid == first.kid  # created once
    secret = keystore.deployment_secret(s, "intake", PURPOSE)
    ring = KeyRing(keystore.key_dir(s, "intake"))
    assert [k.kid for k in ring.read()] == [first.kid]
    second = keystore.generate(s, "intake")
    assert [k.kid for k in ring.read()] == [first.kid, second.kid]  # the folder re-read
    assert keystore.load(s, "intake").kid == second.kid
    assert keystore.deployment_secret(s, "intake", PURPOSE) == secret
    assert keystore.deployment_secret(s, "intake", "other") != secret
    assert secret != first.derived_secret(PURPOSE) != second.derived_secret(PURPOSE)
    names = sorted(p.name for p in keystore.key_dir(s, "intake").iterdir())
    assert names == [
        ".lock",
        f"0001-{first.kid}.key",
        f"0001-{first.kid}.pub",
        f"0002-{second.kid}.key",
        f"0002-{second.kid}.pub",
        keystore.SECRET_FILE,
    ]


def test_a_key_from_before_key_folders_is_adopted_with_its_ids(tmp_path: Path) -> None:
    s = LedgerSettings(var_dir=tmp_path / "var")
    old = SigningKey.generate()
    old.save(s.keys_dir / "intake.key")
    assert keystore.load(s, "intake").kid == old.kid  # still found where it was
    assert keystore.load_or_create(s, "intake").kid == old.kid  # moved in, not replaced
    assert not (s.keys_dir / "intake.key").exists()
    # Its ids are the ones it derived before, and stay so after a rotation.
    assert keystore.deployment_secret(s, "intake", PURPOSE) == old.derived_secret(PURPOSE)
    keystore.generate(s, "intake")
    assert keystore.deployment_secret(s, "intake", PURPOSE) == old.derived_secret(PURPOSE)


def test_a_configured_key_dir_is_where_the_key_lives(tmp_path: Path) -> None:
    file = tmp_path / "deployments.toml"
    elsewhere = tmp_path / "body-b-keys"
    file.write_text(
        '[[deployment]]\nname = "intake-b"\nservice = "intake"\nbody = "petitions-office"\n'
        f'key_dir = "{elsewhere}"\n',
        encoding="utf-8",
    )
    s = LedgerSettings(var_dir=tmp_path / "var", deployments_file=file)
    key = keystore.load_or_create(s, "intake-b")
    assert keystore.key_dir(s, "intake-b") == elsewhere
    assert keystore.key_path(s, "intake-b").parent == elsewhere
    assert not (s.keys_dir / "intake-b").exists()
    assert keystore.load(s, "intake-b").kid == key.kid


def _first_key(var: str, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    out.put(keystore.load_or_create(LedgerSettings(var_dir=Path(var)), "dispatch").kid)


def test_two_processes_creating_the_first_key_at_once_make_one(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_first_key, args=(str(tmp_path / "var"), out)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    kids = {out.get(timeout=5) for _ in procs}
    s = LedgerSettings(var_dir=tmp_path / "var")
    assert len(kids) == 1 and len(keystore.key_files(keystore.key_dir(s, "dispatch"))) == 1
