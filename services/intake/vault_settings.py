"""Intake's vault settings (prefix ``LEDGER_``, listed in the README's configuration table).

Two key files, each private (0600 in a 0700 folder), neither in the log nor in a read model:

* the **vault key file** of one intake deployment (AES-256-GCM keys by key id, and which one
  encrypts new entries): ``<var>/<deployment>/vault-keys.json`` unless set;
* the **pseudonym key** the city's intake deployments share (HMAC-SHA256, 32 bytes), so the
  same complainant carries the same pseudonym at every body's intake and nowhere else:
  ``<var>/intake-shared/pseudonym.key`` unless set. It is distinct from each deployment's
  own service secret; where bodies run on separate machines the operators copy this one file.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

VAULT_KEY_FILE = "vault-keys.json"
SHARED_DIR = "intake-shared"
PSEUDONYM_KEY_FILE = "pseudonym.key"


class VaultSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGER_", env_file=".env", extra="ignore")

    vault_key_file: Path | None = Field(
        None,
        description="AES-GCM keys of intake's vault (default <var>/<deployment>/vault-keys.json)",
    )
    pseudonym_key_file: Path | None = Field(
        None,
        description="HMAC key shared by the city's intake deployments for complainant "
        "pseudonyms (default <var>/intake-shared/pseudonym.key)",
    )
    vault_retention_days: int = Field(
        730,
        ge=0,
        description="Days after a case ends (closed, withdrawn, declined) until its "
        "vault entries expire",
    )
    vault_orphan_grace_seconds: int = Field(
        3600,
        ge=0,
        description="Age after which a vault entry whose complaint never reached the log is "
        "deleted by the expiry run",
    )

    def key_file(self, var_dir: Path, deployment: str) -> Path:
        return self.vault_key_file or var_dir / deployment / VAULT_KEY_FILE

    def pseudonym_file(self, var_dir: Path) -> Path:
        return self.pseudonym_key_file or var_dir / SHARED_DIR / PSEUDONYM_KEY_FILE
