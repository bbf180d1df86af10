"""Read stores: the DocumentStore port, its SQLite and MongoDB adapters, and a factory."""

from __future__ import annotations

from pathlib import Path

from shared.store.port import (
    ASC,
    DESC,
    Direction,
    Doc,
    DocumentStore,
    Filter,
    IndexSpec,
    InvalidQuery,
    Scalar,
    SortSpec,
    StoreError,
)

__all__ = [
    "ASC",
    "DESC",
    "Direction",
    "Doc",
    "DocumentStore",
    "Filter",
    "IndexSpec",
    "InvalidQuery",
    "Scalar",
    "SortSpec",
    "StoreError",
    "open_store",
]

_MONGO_SCHEMES = ("mongodb://", "mongodb+srv://")


async def open_store(url_or_path: str | Path, *, database: str | None = None) -> DocumentStore:
    """A MongoDB store for a ``mongodb://`` URL (database: ``database``, else the URL's, else
    ``ledger``), otherwise the embedded SQLite store at that file path."""
    # Imported here so that a SQLite-only process never loads PyMongo, and vice versa.
    if isinstance(url_or_path, str) and url_or_path.startswith(_MONGO_SCHEMES):
        from shared.store.mongo import MongoStore

        return await MongoStore.open(url_or_path, database)
    from shared.store.sqlite import SqliteStore

    return await SqliteStore.open(url_or_path)
