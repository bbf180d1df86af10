"""Fixtures of the store contract suite: each DocumentStore adapter, fresh per test.

SQLite lives in the test's tmp dir. MongoDB is the real MongoDB-protocol server that
tests/infra/ferretdb/ferretdb.sh starts (``LEDGER_TEST_MONGO_URL``), with a fresh database per
test, dropped afterwards. Without that server the Mongo cases skip with the reason, except under
``CI=true``, where a missing server fails them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shared.store.mongo import MongoStore
from shared.store.port import DocumentStore
from shared.store.sqlite import SqliteStore

MONGO_ENV = "LEDGER_TEST_MONGO_URL"

STORE_BACKENDS = ["sqlite", pytest.param("mongo", marks=pytest.mark.mongo)]


def mongo_url() -> str:
    url = os.environ.get(MONGO_ENV)
    if url:
        return url
    why = os.environ.get("LEDGER_INFRA_FERRETDB_SKIP_REASON", f"{MONGO_ENV} is not set")
    message = (
        f"MongoDB-protocol server not available: {why} "
        '(start it: eval "$(bash tests/infra/ferretdb/ferretdb.sh start)", or run `make test`)'
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


async def open_sqlite(tmp_path: Path) -> SqliteStore:
    return await SqliteStore.open(tmp_path / "store.sqlite3")


async def open_mongo() -> MongoStore:
    # A fresh database per test: tests never see each other's collections.
    return await MongoStore.open(mongo_url(), f"t_{uuid.uuid4().hex[:16]}")


async def close_store(store: DocumentStore) -> None:
    if isinstance(store, MongoStore):
        await store.drop_database()
    await store.close()


@pytest.fixture(params=STORE_BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[DocumentStore]:
    s: DocumentStore = (
        await open_sqlite(tmp_path) if request.param == "sqlite" else await open_mongo()
    )
    try:
        yield s
    finally:
        await close_store(s)


@pytest.fixture
async def both_stores(tmp_path: Path) -> AsyncIterator[tuple[SqliteStore, MongoStore]]:
    """One store of each kind, for properties that compare the adapters."""
    mongo = await open_mongo()
    sqlite = await open_sqlite(tmp_path)
    try:
        yield sqlite, mongo
    finally:
        await close_store(sqlite)
        await close_store(mongo)
