"""Where a deployment's durable store lives, and the two places every deployment has.

``deployment_var_dir`` and ``deployment_keys_dir`` are the one place that says where "this
deployment's" files are (``<var_dir>/<deployment>/`` and its key folder); the durable
store, ``ledger backup`` and ``ledger restore`` ask them, never spell the paths themselves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import LedgerSettings

DURABLE_FILE = "durable.sqlite3"


class DurableSettings(LedgerSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGER_", env_file=".env", extra="ignore")

    durable_backend: Literal["sqlite", "mongo"] = Field(
        "sqlite",
        description="Durable service stores: sqlite (one file per deployment under its var "
        "dir) or mongo (one database per deployment at LEDGER_DURABLE_MONGO_URL)",
    )
    durable_mongo_url: str = Field(
        "", description="mongodb:// URL of the durable stores when LEDGER_DURABLE_BACKEND=mongo"
    )
    durable_database_prefix: str = Field(
        "ledger",
        pattern=r"^[a-z][a-z0-9_]{0,30}$",
        description="MongoDB durable stores are databases named <prefix>_<deployment>_durable",
    )


def deployment_var_dir(settings: LedgerSettings, deployment: str) -> Path:
    """This deployment's own directory: identity, idempotency, durable store, secrets."""
    return settings.var_dir / deployment


def deployment_keys_dir(settings: LedgerSettings, deployment: str) -> Path:
    """Where this deployment's private key files are."""
    from shared.ledger.keystore import key_dir

    return key_dir(settings, deployment)


def durable_file(settings: LedgerSettings, deployment: str) -> Path:
    return deployment_var_dir(settings, deployment) / DURABLE_FILE
