"""Durable service stores: what a deployment keeps that the log cannot rebuild.

One port (:mod:`shared.durable.port`), two adapters (SQLite, the default, and MongoDB), one
contract suite; ``ledger rebuild`` never touches them and ``ledger backup`` covers them.
"""

from __future__ import annotations

from shared.durable.port import (
    CorruptBlob,
    DurableError,
    DurableStore,
    Entry,
    InvalidEntry,
)
from shared.durable.settings import (
    DurableSettings,
    deployment_keys_dir,
    deployment_var_dir,
    durable_file,
)

__all__ = [
    "CorruptBlob",
    "DurableError",
    "DurableSettings",
    "DurableStore",
    "Entry",
    "InvalidEntry",
    "deployment_keys_dir",
    "deployment_var_dir",
    "durable_file",
    "open_durable",
]


async def open_durable(settings: DurableSettings, deployment: str) -> DurableStore:
    """The deployment's durable store on the backend the settings name."""
    # Imported here so that a SQLite-only process never loads PyMongo, and vice versa.
    if settings.durable_backend == "mongo":
        from shared.durable.mongo import MongoDurableStore, durable_database

        if not settings.durable_mongo_url:
            raise ValueError("LEDGER_DURABLE_BACKEND=mongo needs LEDGER_DURABLE_MONGO_URL")
        return await MongoDurableStore.open(
            settings.durable_mongo_url,
            durable_database(settings.durable_database_prefix, deployment),
        )
    from shared.durable.sqlite import SqliteDurableStore

    return await SqliteDurableStore.open(durable_file(settings, deployment))
