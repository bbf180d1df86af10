"""Settings of a web service (pydantic-settings, prefix ``LEDGER_``).

Extends :class:`shared.readside.copies.StoreSettings` (the ledger's settings and the read
model's) and :class:`shared.durable.settings.DurableSettings`; every field here is listed in the
README's configuration table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from shared.durable.settings import DurableSettings
from shared.readside.copies import StoreSettings


class WebSettings(StoreSettings, DurableSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGER_", env_file=".env", extra="ignore")

    host: str = Field("127.0.0.1", description="Address a service listens on")
    port: int = Field(8000, ge=1, le=65535, description="Port a service listens on")
    token_ttl_seconds: int = Field(
        8 * 3600, ge=60, le=30 * 86400, description="Lifetime of an API bearer token"
    )
    session_ttl_seconds: int = Field(
        8 * 3600, ge=60, le=30 * 86400, description="Lifetime of a page sign-in session"
    )
    cookie_secure: bool = Field(
        False, description="Mark session cookies Secure (set true behind HTTPS)"
    )
    demo_operators: bool = Field(
        True,
        description="On first run (no operator yet) create one demo operator per role with a "
        "random password, printed once and written to <var_dir>/<service>/demo-operators.txt",
    )
    demo_body: str = Field("efficiency-office", description="Body the demo operators belong to")
    demo_unit: str = Field(
        "demo-unit", description="Unit the demo unit_handler operator belongs to"
    )
    identity_db_path: Path | None = Field(
        None,
        description="Operators, tokens, sessions (default: <var_dir>/<service>/identity.sqlite3)",
    )
    idempotency_db_path: Path | None = Field(
        None,
        description="Stored command results (default: <var_dir>/<service>/idempotency.sqlite3)",
    )
    idempotency_ttl_seconds: int = Field(
        86400, ge=60, description="How long a command's result is kept for replay"
    )
    idempotency_lock_seconds: float = Field(
        60.0, gt=0, description="After this, an unfinished command's key may be taken over"
    )
    idempotency_wait_seconds: float = Field(
        5.0, ge=0, description="How long a duplicate waits for the first to finish before 409"
    )
    max_body_bytes: int = Field(1_048_576, ge=1024, description="Largest accepted request body")
    read_your_writes_seconds: float = Field(
        5.0, ge=0, le=60, description="How long a read naming a command's position waits for it"
    )
    readiness_timeout_seconds: float = Field(
        2.0, gt=0, description="Time limit of each readiness check"
    )
    password_time_cost: int = Field(3, ge=1, description="argon2id iterations")
    password_memory_kib: int = Field(65536, ge=8, description="argon2id memory (KiB)")
    password_parallelism: int = Field(4, ge=1, description="argon2id lanes")
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Lowest level written to the JSON log"
    )
    # --- guessing and floods (shared/web/throttle.py, password_gate.py, ratelimit.py) -----------
    rate_limit_storage: str = Field(
        "async+memory://",
        description="Where rate-limit counters live (a `limits` async storage URI; "
        "async+redis://… to share them between processes)",
    )
    signin_rate_limit: str = Field(
        "30/minute",
        description="Sign-in attempts per client address, counted before any password is hashed",
    )
    signin_failure_window_seconds: int = Field(
        900, ge=1, description="Window in which failed sign-ins are counted"
    )
    signin_max_failures_account_client: int = Field(
        10, ge=1, description="Failures of one account from one client before that pair is locked"
    )
    signin_max_failures_account: int = Field(
        50, ge=1, description="Failures of one account from any client before it is locked"
    )
    signin_max_failures_client: int = Field(
        30, ge=1, description="Failures from one client over any accounts before it is locked"
    )
    signin_lockout_seconds: int = Field(
        900, ge=1, description="How long a lockout lasts (an administrator can lift it sooner)"
    )
    password_hash_concurrency: int = Field(
        2, ge=1, description="Password checks (argon2id) running at once in one process"
    )
    password_hash_queue: int = Field(
        16, ge=0, description="Password checks allowed to wait for a slot; more get 503 busy"
    )
    password_hash_nice: int = Field(
        10, ge=0, le=19, description="CPU priority (nice) of the password-check threads (Linux)"
    )
    public_rate_limit: str = Field(
        "20/minute",
        description="Anonymous form views and submissions per client address (public kit)",
    )
    public_form_ttl_seconds: int = Field(
        3600, ge=60, description="How long an issued anonymous form token can be submitted"
    )
    metrics_token: SecretStr | None = Field(
        None, description="If set, /metrics requires `Authorization: Bearer <this token>`"
    )

    @field_validator("signin_rate_limit", "public_rate_limit")
    @classmethod
    def _rate_limit_notation(cls, value: str) -> str:
        from limits import parse_many

        parse_many(value)  # raises ValueError on a malformed limit
        return value

    def service_dir(self, service: str) -> Path:
        return self.var_dir / service

    def identity_file(self, service: str) -> Path:
        return self.identity_db_path or self.service_dir(service) / "identity.sqlite3"

    def idempotency_file(self, service: str) -> Path:
        return self.idempotency_db_path or self.service_dir(service) / "idempotency.sqlite3"

    def secret_file(self, service: str) -> Path:
        return self.service_dir(service) / "service-secret.key"

    def forms_file(self, service: str) -> Path:
        return self.service_dir(service) / "forms.sqlite3"

    def demo_operators_file(self, service: str) -> Path:
        return self.service_dir(service) / "demo-operators.txt"
