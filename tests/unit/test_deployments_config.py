"""Deployments are configuration: the TOML file, its defaults from the services' declarations,
the refusals that keep one signer per act and one owner per kind of configuration, which
deployment a process is, and which key it signs with (the pure choice)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.crypto.signing import SigningKey
from shared.ledger.deployments import (
    AUDITOR,
    DeploymentsFileError,
    configured,
    default_deployments,
    of_service,
    read_file,
    spec,
)
from shared.ledger.key_files import KeyFileError, RegistryHead
from shared.ledger.signing_keys import KeyState, choose_key
from shared.rules.registry import Registry
from shared.service import declared
from shared.settings import LedgerSettings

TWO_INTAKES = """
[[deployment]]
name = "intake-a"
service = "intake"
body = "efficiency-office"

[[deployment]]
name = "intake-b"
service = "intake"
body = "petitions-office"
port = 8101
key_dir = "/srv/keys/intake-b"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "deployments.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_without_a_file_the_built_in_declarations_are_the_deployments(tmp_path: Path) -> None:
    specs = configured(LedgerSettings(var_dir=tmp_path))
    assert specs == default_deployments()
    assert [s.name for s in specs] == [*declared(), "auditor"]
    assert all(s.name == s.service for s in specs)  # so each keeps var/<service>/


def test_a_second_body_gets_the_service_s_rights_with_its_own_body(tmp_path: Path) -> None:
    a, b, auditor = read_file(write(tmp_path, TWO_INTAKES))
    declared_intake = declared()["intake"].deployment
    assert (a.deployment, b.deployment) == (
        "/bodies/efficiency-office/intake",
        "/bodies/petitions-office/intake",
    )
    assert a.rights == b.rights == declared_intake.rights
    assert a.acts_for == ("efficiency-office", "complainant")
    assert b.acts_for == ("petitions-office", "complainant")  # never the other body
    assert (a.port, b.port) == (declared()["intake"].port, 8101)
    assert b.key_dir == Path("/srv/keys/intake-b") and a.key_dir is None
    assert auditor == AUDITOR


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (TWO_INTAKES.replace("port = 8101\n", ""), "needs its own port"),
        (TWO_INTAKES.replace('"intake-b"', '"intake-a"'), "name intake-a is already"),
        (
            TWO_INTAKES.replace('body = "petitions-office"', 'body = "efficiency-office"'),
            "source /bodies/efficiency-office/intake is already",
        ),
        (TWO_INTAKES.replace('service = "intake"', 'service = "nosuch"', 1), "unknown service"),
        (TWO_INTAKES + 'colour = "red"\n', "colour"),
        (TWO_INTAKES.replace('body = "petitions-office"', 'body = "信访部门"'), "body"),
        ("[[deployment]\n", "not TOML"),
        (
            TWO_INTAKES.replace('"intake"', '"dispatch"')
            + '\n[[deployment]]\nname = "x"\nservice = "oversight"\nbody = "b"\n'
            'configs = ["routing"]\n',
            "configuration kind routing is already",
        ),
    ],
)
def test_a_file_that_would_break_a_rule_is_refused_naming_it(
    tmp_path: Path, text: str, says: str
) -> None:
    with pytest.raises(DeploymentsFileError, match=says):
        read_file(write(tmp_path, text))


def test_a_process_is_the_deployment_the_settings_name(tmp_path: Path) -> None:
    file = write(tmp_path, TWO_INTAKES)
    both = LedgerSettings(var_dir=tmp_path, deployments_file=file)
    with pytest.raises(DeploymentsFileError, match="set LEDGER_DEPLOYMENT"):
        of_service("intake", both)
    b = LedgerSettings(var_dir=tmp_path, deployments_file=file, deployment="intake-b")
    assert of_service("intake", b).body == "petitions-office"
    wrong = LedgerSettings(var_dir=tmp_path, deployments_file=file, deployment="auditor")
    with pytest.raises(DeploymentsFileError, match="not a deployment of intake"):
        of_service("intake", wrong)
    assert spec("intake-b", both).port == 8101
    with pytest.raises(KeyError):
        spec("intake-b")  # not a built-in one


def _registry_with(*deployments: str) -> Registry:
    reg = Registry.rooted_in(SigningKey.generate().public)
    for deployment in deployments:
        reg.apply(
            "ledger.registry.deployment_registered.v1",
            {"deployment": deployment, "body": "b", "service": "intake", "acts_for": ["b"]},
            "0" * 64,
        )
    return reg


def _add(reg: Registry, deployment: str, key: SigningKey) -> None:
    reg.apply(
        "ledger.registry.key_added.v1",
        {"deployment": deployment, "kid": key.kid, "public_key": key.public.text},
        "1" * 64,
    )


def _revoke(reg: Registry, key: SigningKey) -> None:
    reg.apply("ledger.registry.key_revoked.v1", {"kid": key.kid, "reason": "r"}, "2" * 64)


def test_the_newest_registered_valid_key_of_the_folder_signs() -> None:
    old, new, unregistered, foreign = (SigningKey.generate() for _ in range(4))
    reg = _registry_with("/d/a", "/d/b")
    assert choose_key([], reg, "/d/a").state is KeyState.missing
    assert choose_key([unregistered], reg, "/d/a").state is KeyState.unregistered
    _add(reg, "/d/b", foreign)
    assert choose_key([foreign], reg, "/d/a").state is KeyState.unregistered  # not its key
    _add(reg, "/d/a", old)
    assert choose_key([old, new, unregistered], reg, "/d/a").kid == old.kid
    _add(reg, "/d/a", new)
    # The registry's order decides, not the folder's: the newest registration signs.
    assert choose_key([new, old], reg, "/d/a").kid == new.kid
    _revoke(reg, new)
    assert choose_key([old, new], reg, "/d/a").kid == old.kid
    _revoke(reg, old)
    choice = choose_key([old, new], reg, "/d/a")
    assert choice.state is KeyState.revoked and choice.key is None
    assert choice.kid == old.kid and choice.revoked_at == reg.version
    assert "revoked" in choice.reason and str(reg.version) in choice.reason


@pytest.mark.parametrize("text", ["3", "x:-", "1:-", "0:" + "a" * 64, "2:abc"])
def test_a_registry_head_is_version_and_hash(text: str) -> None:
    with pytest.raises(KeyFileError):
        RegistryHead.parse(text)
    assert RegistryHead.parse("0:-") == RegistryHead(0, None)
    assert RegistryHead.parse("4:" + "a" * 64).text == "4:" + "a" * 64
