"""``ledger rebuild`` drops read-model copies and never touches the durable store beside them:
on SQLite (the store's file sits in the same service directory as the copies) and on MongoDB
(its database sits on the same server, under the same prefix, as the read-model databases)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from shared.durable import DurableSettings, open_durable
from shared.durable.mongo import MongoDurableStore
from shared.ledger import keystore
from shared.ledger.bootstrap import init_ledger
from shared.log.factory import open_log
from shared.readside.copies import StoreSettings, discard_ref, ref_for
from shared.readside.projections import projections_for
from shared.readside.read_model import rebuild
from tests.contract.conftest_store import STORE_BACKENDS, mongo_url


class Settings(StoreSettings, DurableSettings):
    pass


@pytest.mark.parametrize("backend", STORE_BACKENDS)
async def test_rebuild_with_drop_old_leaves_the_durable_store_whole(
    backend: str, tmp_path: Path
) -> None:
    extra: dict[str, object] = {}
    if backend == "mongo":
        prefix = f"t{uuid.uuid4().hex[:12]}"
        url = mongo_url()
        extra = {
            "store_url": url,
            "store_database_prefix": prefix,
            "durable_backend": "mongo",
            "durable_mongo_url": url,
            "durable_database_prefix": prefix,  # the same prefix as the read models: no clash
        }
    s = Settings(var_dir=tmp_path / "var", log_partitions=3, **extra)  # type: ignore[arg-type]
    log = await open_log(s)
    durable = await open_durable(s, "intake")
    try:
        await init_ledger(log, s)
        await durable.put("vault", "person-1", {"name": "张三"})
        await durable.put("staff", "s-1", {"posts": ["科长"]})
        await durable.put_blob(b"evidence")
        before = await durable.digest()
        genesis = keystore.genesis_public(s)
        for _ in range(3):  # each rebuild makes a new copy; drop the old one, as --drop-old
            result = await rebuild(s, "intake", log, projections_for("intake"), genesis)
            await discard_ref(s, "intake", result.old)
        assert result.new.generation == 3
        assert await durable.digest() == before
        assert (await durable.get("vault", "person-1")) is not None
        if backend == "sqlite":
            left = sorted(p.name for p in (s.var_dir / "intake").iterdir())
            assert "durable.sqlite3" in left
            assert not any(n.startswith("read-model-") and "-3." not in n for n in left), left
        else:
            assert isinstance(durable, MongoDurableStore)
            names = await durable._client.list_database_names()
            assert durable.database in names
            assert f"{prefix}_intake_3" in names and f"{prefix}_intake_2" not in names
    finally:
        if isinstance(durable, MongoDurableStore):
            await durable.drop_database()
            for generation in range(4):
                await discard_ref(s, "intake", ref_for(s, "intake", generation))
        await durable.close()
        await log.close()
