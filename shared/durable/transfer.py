"""Copy one durable store's whole content into another, through the port: how a MongoDB store
is exported into a backup, restored from one, or a deployment moved between backends."""

from __future__ import annotations

from collections.abc import Callable

from shared.durable.port import SCAN_PAGE, DurableStore


async def copy_store(
    source: DurableStore, target: DurableStore, *, progress: Callable[[int], None] | None = None
) -> int:
    """Every entry (versions kept) and every blob of ``source`` into ``target``; returns how
    many items were copied. Per entry consistent; a point-in-time copy only if nothing writes
    to ``source`` meanwhile (MongoDB without transactions has no cheaper snapshot)."""
    copied = 0
    for coll in await source.collections():
        after: str | None = None
        while page := await source.scan(coll, after=after, limit=SCAN_PAGE):
            copied += await target.load(page)
            after = page[-1].key
            if progress is not None:
                progress(len(page))
    after = None
    while digests := await source.blobs(after=after, limit=SCAN_PAGE):
        for digest in digests:
            data = await source.get_blob(digest)
            if data is not None:  # deleted meanwhile
                await target.put_blob(data)
                copied += 1
        after = digests[-1]
        if progress is not None:
            progress(len(digests))
    return copied


async def is_empty(store: DurableStore) -> bool:
    return not await store.collections() and not await store.blobs(limit=1)
