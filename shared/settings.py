"""Settings shared by every process of the ledger (pydantic-settings, prefix ``LEDGER_``).

Every field is documented in the README's configuration table; keep the two in step.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class LedgerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGER_", env_file=".env", extra="ignore")

    var_dir: Path = Field(Path("var"), description="Where keys, the embedded log and stores live")
    log_backend: Literal["sqlite", "kafka"] = Field("sqlite", description="Which event log")
    log_partitions: int = Field(3, ge=1, le=1024, description="Partition count of the log")
    sqlite_log_path: Path | None = Field(
        None, description="Embedded log file (default: <var_dir>/ledger.sqlite3)"
    )
    kafka_bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers")
    kafka_topic: str = Field("supervision-ledger", description="The one topic of the log")
    kafka_min_insync_replicas: int = Field(1, ge=1, description="min.insync.replicas of the topic")
    kafka_replication_factor: int = Field(1, ge=1, description="Replication factor of the topic")
    deployments_file: Path | None = Field(
        None,
        description="TOML file listing the deployments (name, body, service, source, rights, "
        "acts_for, configs, key_dir, port); default: the services' built-in single-body "
        "declarations (shared/ledger/deployments.py)",
    )
    deployment: str | None = Field(
        None,
        description="Which deployment this process is (a name in the deployments file); "
        "`make run` sets it for each service it starts. Default: the service's only one",
    )
    key_check_seconds: float = Field(
        2.0,
        gt=0,
        description="How often a running service re-reads its key folder and the registry "
        "(a rotated key is picked up, a revoked one stops writes)",
    )
    genesis_public_key: str | None = Field(
        None,
        description="Base64url Ed25519 public key that roots the key registry "
        "(default: the one `ledger init` wrote under <var_dir>/keys/)",
    )
    config_defaults_dir: Path | None = Field(
        None,
        description="The default configuration `make run` seeds, one <kind>.json each "
        "(default: deploy/config of the source tree)",
    )

    @property
    def sqlite_log_file(self) -> Path:
        return self.sqlite_log_path or self.var_dir / "ledger.sqlite3"

    @property
    def keys_dir(self) -> Path:
        return self.var_dir / "keys"


@lru_cache
def get_settings() -> LedgerSettings:
    return LedgerSettings()
