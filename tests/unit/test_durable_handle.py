"""A service app holds its deployment's durable store: opened on first use, at the
deployment's own place, and closed with the app; an app that keeps nothing there opens nothing."""

from __future__ import annotations

from pathlib import Path

from shared.durable.settings import durable_file
from shared.durable.sqlite import SqliteDurableStore
from tests.web_fixtures import build_app


async def test_the_app_opens_its_durable_store_on_use_and_closes_it(tmp_path: Path) -> None:
    app = build_app(tmp_path / "var", service="intake")
    ctx = app.state.ledger
    assert ctx.durable is not None and ctx.durable.deployment == "intake"
    path = durable_file(ctx.settings, "intake")
    async with app.router.lifespan_context(app):
        assert not path.exists()  # nothing opened until something is kept
        store = await ctx.durable.store()
        assert await ctx.durable.store() is store
        await store.put("vault", "person-1", {"name": "张三"})
    assert not ctx.durable.opened
    assert path == tmp_path / "var" / "intake" / "durable.sqlite3"
    reopened = await SqliteDurableStore.open(path)
    try:
        entry = await reopened.get("vault", "person-1")
        assert entry is not None and entry.value == {"name": "张三"}
    finally:
        await reopened.close()


async def test_an_app_that_keeps_nothing_opens_nothing(tmp_path: Path) -> None:
    app = build_app(tmp_path / "var", service="dispatch")
    async with app.router.lifespan_context(app):
        pass
    assert not durable_file(app.state.ledger.settings, "dispatch").exists()
