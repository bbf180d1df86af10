"""Arrows point inward: the core imports no adapter, shared imports no service, and no service
imports another. The contracts live in pyproject.toml (``[tool.importlinter]``); these tests run
import-linter on the repository, and the same contracts on planted trees that must fail."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

CORE = "The core (events, rules, crypto) imports no adapter"
SHARED = "The shared library imports no service"
SERVICES = "No service imports another"
REPORTS = "The independent report fold imports no projection code"
CONTRACTS = (CORE, SHARED, SERVICES, REPORTS)

# A skeleton of the repository's layout: every package the contracts name.
PACKAGES = [
    "shared",
    *(
        f"shared.{p}"
        for p in (
            "events",
            "rules",
            "crypto",
            "log",
            "store",
            "durable",
            "web",
            "ledger",
            "cli",
            "readside",
            "readside.projections",
            "reports",
        )
    ),
    "services",
    *(f"services.{s}" for s in ("intake", "dispatch", "oversight", "publication")),
]


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}  # the tree under test wins over the install
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(root / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def verdicts(output: str) -> dict[str, str]:
    """Contract name -> KEPT | BROKEN, from import-linter's summary lines."""
    found = {}
    for line in output.splitlines():
        for name in CONTRACTS:
            if line.startswith(name + " ") and line.rsplit(" ", 1)[-1] in ("KEPT", "BROKEN"):
                found[name] = line.rsplit(" ", 1)[-1]
    return found


def planted_tree(root: Path, modules: dict[str, str]) -> Path:
    """The skeleton plus ``modules`` (dotted name -> source), checked by the repository's own
    contracts, copied verbatim from pyproject.toml."""
    for package in PACKAGES:
        d = root.joinpath(*package.split("."))
        d.mkdir(parents=True, exist_ok=True)
        (d / "__init__.py").write_text("")
    for name, source in modules.items():
        root.joinpath(*name.split(".")).with_suffix(".py").write_text(source)
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    (root / "pyproject.toml").write_text(toml_of_importlinter(config))
    return root


def toml_of_importlinter(config: dict[str, object]) -> str:
    """The ``[tool.importlinter]`` table back as TOML (strings, booleans, string lists)."""

    def value(v: object) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = ["[tool.importlinter]"]
    contracts = config.get("contracts", [])
    assert isinstance(contracts, list)
    lines += [f"{k} = {value(v)}" for k, v in config.items() if k != "contracts"]
    for contract in contracts:
        lines += ["", "[[tool.importlinter.contracts]]"]
        lines += [f"{k} = {value(v)}" for k, v in contract.items()]
    return "\n".join(lines) + "\n"


def test_the_repository_keeps_every_layering_contract() -> None:
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert verdicts(result.stdout) == dict.fromkeys(CONTRACTS, "KEPT")


def test_a_clean_planted_tree_passes(tmp_path: Path) -> None:
    """The control: the skeleton with allowed imports only keeps every contract."""
    root = planted_tree(
        tmp_path,
        {
            "shared.rules.fine": "from shared.events import fine\nimport orjson\n",
            "shared.events.fine": "from shared.crypto import fine\n",
            "shared.crypto.fine": "import hashlib\n",
            "shared.web.fine": "import fastapi\nfrom shared.rules import fine\n",
            "services.intake.fine": "from shared.web import fine\n",
            "shared.reports.fine": "from shared.rules import fine\nimport orjson\n",
        },
    )
    result = lint_imports(root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert verdicts(result.stdout) == dict.fromkeys(CONTRACTS, "KEPT")


@pytest.mark.parametrize(
    ("modules", "broken"),
    [
        ({"shared.rules.planted": "from shared.log import port\n"}, CORE),
        ({"shared.events.planted": "import shared.store\n"}, CORE),
        ({"shared.rules.planted": "from shared.durable import port\n"}, CORE),
        ({"shared.crypto.planted": "from shared.web import app\n"}, CORE),
        ({"shared.rules.planted": "from shared.ledger import signer\n"}, CORE),
        ({"shared.events.planted": "import shared.cli\n"}, CORE),
        ({"shared.events.planted": "import fastapi\n"}, CORE),
        ({"shared.rules.planted": "from aiokafka import AIOKafkaProducer\n"}, CORE),
        ({"shared.crypto.planted": "import pymongo\n"}, CORE),
        ({"shared.rules.planted": "from starlette.requests import Request\n"}, CORE),
        ({"shared.events.planted": "import uvicorn\n"}, CORE),
        # indirect: the core reaches the log through a module that is itself allowed
        (
            {
                "shared.rules.planted": "from shared.events import bridge\n",
                "shared.events.bridge": "def f() -> None:\n    import shared.log\n",
            },
            CORE,
        ),
        ({"shared.store.planted": "import services.intake\n"}, SHARED),
        ({"shared.planted": "from services.dispatch import app\n"}, SHARED),
        ({"services.dispatch.planted": "from services.intake import app\n"}, SERVICES),
        ({"services.publication.planted": "import services.oversight\n"}, SERVICES),
        ({"shared.reports.planted": "from shared.readside import case_table\n"}, REPORTS),
        ({"shared.reports.planted": "import shared.store\n"}, REPORTS),
        # indirect: the fold reaches a projection through a module that is itself allowed
        (
            {
                "shared.reports.planted": "from shared.rules import bridge\n",
                "shared.rules.bridge": "def f() -> None:\n    import shared.readside.projections\n",
            },
            REPORTS,
        ),
    ],
)
def test_a_planted_forbidden_import_fails(
    tmp_path: Path, modules: dict[str, str], broken: str
) -> None:
    result = lint_imports(planted_tree(tmp_path, modules))
    assert result.returncode == 1, result.stdout + result.stderr
    got = verdicts(result.stdout)
    assert got[broken] == "BROKEN"
    assert [name for name, v in got.items() if v == "BROKEN"] == [broken]
