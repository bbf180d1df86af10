"""Where each service keeps its read model, and the pointer that names the current copy.

A read model is disposable: ``ledger rebuild SERVICE`` builds a fresh copy beside the current
one and, once it has caught up with the log, switches the pointer ``<var>/<service>/read-model
.json``. The service re-reads the pointer, so it answers from the old copy until the switch and
never from a half-built one. The pointer names a copy (a SQLite file name under the service's
directory, or a MongoDB database name), never a URL: URLs may carry credentials.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import orjson
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import LedgerSettings
from shared.store.port import DocumentStore

POINTER = "read-model.json"


class StoreSettings(LedgerSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGER_", env_file=".env", extra="ignore")

    store_url: str = Field(
        "",
        description="Read stores: empty for embedded SQLite files under <var_dir>/<service>/, "
        "or a mongodb:// URL (each service then has its own databases)",
    )
    store_database_prefix: str = Field(
        "ledger",
        pattern=r"^[a-z][a-z0-9_]{0,30}$",
        description="MongoDB read models are databases named <prefix>_<service>_<generation>",
    )
    projector_batch: int = Field(500, ge=1, le=10_000, description="Records per projector batch")
    projector_poll_seconds: float = Field(
        0.5, gt=0, description="How often an idle projector looks for new records"
    )
    projector_max_lag: int = Field(
        1000, ge=0, description="/readyz fails while the projector is more records behind"
    )
    projector_max_streams: int = Field(
        100_000, ge=100, description="Stream states a projector keeps in memory (LRU)"
    )
    projector_trust_seal: bool = Field(
        False,
        description="Let a live projector skip signature checks below the last seal "
        "(rebuilds always may; see shared/ledger/seal.py)",
    )

    def service_dir(self, service: str) -> Path:
        return self.var_dir / service

    def pointer_file(self, service: str) -> Path:
        return self.service_dir(service) / POINTER


@dataclass(frozen=True, slots=True)
class StoreRef:
    """One copy of a service's read model."""

    kind: Literal["sqlite", "mongo"]
    name: str  # file name under <var>/<service>/, or database name
    generation: int

    def as_json(self) -> dict[str, object]:
        return {"kind": self.kind, "name": self.name, "generation": self.generation}

    def describe(self, settings: StoreSettings, service: str) -> str:
        if self.kind == "sqlite":
            return str(settings.service_dir(service) / self.name)
        return f"MongoDB database {self.name}"


def ref_for(settings: StoreSettings, service: str, generation: int) -> StoreRef:
    if settings.store_url:
        return StoreRef(
            "mongo", f"{settings.store_database_prefix}_{service}_{generation}", generation
        )
    return StoreRef("sqlite", f"read-model-{generation}.sqlite3", generation)


def current_ref(settings: StoreSettings, service: str) -> StoreRef:
    """The copy the pointer names (generation 0 before any rebuild)."""
    path = settings.pointer_file(service)
    try:
        raw = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return ref_for(settings, service, 0)
    ref = StoreRef(raw["kind"], raw["name"], int(raw["generation"]))
    wanted = "mongo" if settings.store_url else "sqlite"
    if ref.kind != wanted:
        raise RuntimeError(
            f"{path} names a {ref.kind} read model but LEDGER_STORE_URL selects {wanted}: "
            "rebuild the service's read model after changing the store"
        )
    return ref


def next_ref(settings: StoreSettings, service: str) -> StoreRef:
    return ref_for(settings, service, current_ref(settings, service).generation + 1)


def switch_to(settings: StoreSettings, service: str, ref: StoreRef) -> None:
    """Point the service at ``ref``, atomically (write aside, fsync, rename)."""
    path = settings.pointer_file(service)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    with open(tmp, "wb") as f:
        f.write(orjson.dumps(ref.as_json(), option=orjson.OPT_INDENT_2) + b"\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


async def open_ref(settings: StoreSettings, service: str, ref: StoreRef) -> DocumentStore:
    from shared.store import open_store

    if ref.kind == "mongo":
        return await open_store(settings.store_url, database=ref.name)
    return await open_store(settings.service_dir(service) / ref.name)


async def discard_ref(settings: StoreSettings, service: str, ref: StoreRef) -> None:
    """Remove a copy entirely (a half-built leftover, or an old copy no longer wanted)."""
    if ref.kind == "mongo":
        from shared.store.mongo import MongoStore

        store = await MongoStore.open(settings.store_url, ref.name)
        try:
            await store.drop_database()
        finally:
            await store.close()
        return
    base = settings.service_dir(service) / ref.name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{base}{suffix}").unlink(missing_ok=True)
