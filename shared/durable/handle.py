"""A deployment's durable store as a running service holds it: opened on first use (a service
that keeps nothing there opens nothing), closed with the app."""

from __future__ import annotations

import asyncio

from shared.durable import open_durable
from shared.durable.port import DurableStore
from shared.durable.settings import DurableSettings


class DurableHandle:
    def __init__(self, settings: DurableSettings, deployment: str) -> None:
        self.settings = settings
        self.deployment = deployment
        self._store: DurableStore | None = None
        self._lock = asyncio.Lock()

    async def store(self) -> DurableStore:
        if self._store is None:
            async with self._lock:
                if self._store is None:
                    self._store = await open_durable(self.settings, self.deployment)
        return self._store

    @property
    def opened(self) -> bool:
        return self._store is not None

    async def close(self) -> None:
        store, self._store = self._store, None
        if store is not None:
            await store.close()
