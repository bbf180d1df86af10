"""The operator files are well-formed and say what the README promises (no Docker engine runs
here, so they are checked, not started)."""

from __future__ import annotations

from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_compose_runs_every_service_on_kafka_and_mongodb() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"kafka", "mongo", "intake", "dispatch", "oversight", "publication"} <= set(services)
    assert services["kafka"]["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    for name in ("intake", "dispatch", "oversight", "publication"):
        env = services[name]["environment"]
        assert env["LEDGER_LOG_BACKEND"] == "kafka"
        assert env["LEDGER_STORE_URL"].startswith("mongodb://")
        assert env["LEDGER_DURABLE_BACKEND"] == "mongo"
        assert env["LEDGER_DURABLE_MONGO_URL"].startswith("mongodb://")
        assert env["LEDGER_INIT_LEDGER"] == "false"
        assert services[name]["command"][-1] == name


def test_the_image_runs_as_an_unprivileged_user() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "USER ledger" in dockerfile and "FROM python:3.11" in dockerfile
