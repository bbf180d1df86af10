"""Configuration by its owners, through real service apps on a real SQLite log: the owner
publishes (signed with its own key, the version number from the registry) and the version in
force changes; a deployment that does not own the kind, a stale base version, content equal to
the version in force and invalid content are refused with a problem, and nothing is written."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi import FastAPI

from services.dispatch.app import create as create_dispatch
from services.oversight.app import create as create_oversight
from shared.ledger import keystore
from shared.ledger.bootstrap import init_ledger
from shared.ledger.configuration import default_contents, publish_defaults
from shared.ledger.deployments import spec
from shared.ledger.reader import fold_log
from shared.ledger.signer import Draft, Signer
from shared.ledger.writer import EventWriter
from shared.log.factory import open_log
from shared.log.port import EventLog, read_all
from shared.rules.stream import REGISTRY_STREAM
from shared.rules.verdict import Reason
from shared.web.settings import WebSettings
from tests.web_fixtures import assert_problem, bearer, client, fast_settings, token_for

ADMIN = "demo-admin"
UNITS = default_contents()["unit_directory"]


@pytest.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[tuple[WebSettings, EventLog]]:
    settings = fast_settings(tmp_path / "var", log_partitions=3)
    log = await open_log(settings)
    await init_ledger(log, settings)
    try:
        yield settings, log
    finally:
        await log.close()


async def registry_events(log: EventLog) -> list[dict[str, Any]]:
    return [orjson.loads(r.record) async for r in read_all(log) if r.stream == REGISTRY_STREAM]


def renamed(content: dict[str, Any], index: int, name: str) -> dict[str, Any]:
    changed = copy.deepcopy(content)
    changed["units"][index]["name"] = name
    return changed


async def publish(c: Any, token: str, kind: str, base: str, content: Any, key: str) -> Any:
    return await c.post(
        f"/admin/config/{kind}",
        params={"base_version": base},
        json=content,
        headers=bearer(token, key),
    )


async def test_the_owner_publishes_and_the_version_in_force_changes(
    ledger: tuple[WebSettings, EventLog],
) -> None:
    settings, log = ledger
    app: FastAPI = create_dispatch(settings)
    async with client(app) as c, app.router.lifespan_context(app):
        token = await token_for(c, app, ADMIN)
        empty = await c.get("/admin/config/unit_directory/versions", headers=bearer(token))
        assert empty.status_code == 200 and empty.json()["in_force"] is None

        r = await publish(c, token, "unit_directory", "0", UNITS, "k-1")
        assert r.status_code == 201, r.text
        assert r.json()["version"] == "1" and r.json()["stream"] == REGISTRY_STREAM
        v2 = renamed(UNITS, 0, "市卫生健康委员会")
        r = await publish(c, token, "unit_directory", "1", v2, "k-2")
        assert r.status_code == 201, r.text
        assert r.json()["version"] == "2"

        got = (await c.get("/admin/config/unit_directory/versions", headers=bearer(token))).json()
        assert got["owner"] == "/bodies/efficiency-office/dispatch"
        assert [v["version"] for v in got["versions"]] == ["1", "2"]
        assert got["in_force"]["version"] == "2"
        assert got["in_force"]["content"]["units"][0]["name"] == "市卫生健康委员会"
        assert got["in_force"]["actor"] == f"efficiency-office/{ADMIN}"
        assert got["in_force"]["appended_at"] is not None

    # Signed by the owner's own key (not the genesis key), and every reader accepts it.
    events = [e for e in await registry_events(log) if e["type"].endswith("config_published.v1")]
    assert [e["data"]["version"] for e in events] == ["1", "2"]
    dispatch_kid = keystore.load(settings, "dispatch").kid
    assert {e["kid"] for e in events} == {dispatch_kid}
    assert {e["source"] for e in events} == {"/bodies/efficiency-office/dispatch"}
    fold = await fold_log(log, keystore.genesis_public(settings))
    assert fold.rejections == []
    assert fold.registry.config_at("unit_directory", fold.registry.version) == v2


async def test_refusals_are_problems_and_write_nothing(
    ledger: tuple[WebSettings, EventLog],
) -> None:
    settings, log = ledger
    dispatch = create_dispatch(settings)
    oversight = create_oversight(settings)
    async with (
        client(dispatch) as c,
        dispatch.router.lifespan_context(dispatch),
        client(oversight) as o,
        oversight.router.lifespan_context(oversight),
    ):
        token = await token_for(c, dispatch, ADMIN)
        assert (await publish(c, token, "unit_directory", "0", UNITS, "k-1")).status_code == 201
        head = await log.head()

        # Not the owner: oversight does not own the unit directory (nor may it read it here).
        o_token = await token_for(o, oversight, ADMIN)
        body = assert_problem(
            await publish(o, o_token, "unit_directory", "1", UNITS, "o-1"), 403, "forbidden"
        )
        assert body["reason"] == "not_owner"
        r = await o.get("/admin/config/unit_directory/versions", headers=bearer(o_token))
        assert_problem(r, 403, "forbidden")
        assert_problem(await publish(o, o_token, "no_such_kind", "1", {}, "o-2"), 404, "not-found")

        # A stale base: the client edited version 0 while version 1 is in force.
        body = assert_problem(
            await publish(
                c, token, "unit_directory", "0", renamed(UNITS, 1, "市民政局（新）"), "k-2"
            ),
            409,
            "conflict",
        )
        assert body["reason"] == "stale_version" and body["version_in_force"] == "1"

        # The same content as the version in force: nothing to publish.
        body = assert_problem(
            await publish(c, token, "unit_directory", "1", UNITS, "k-3"), 409, "conflict"
        )
        assert body["reason"] == "nothing_to_do"

        # Invalid content: 422 naming the field, and never echoing the value.
        missing = copy.deepcopy(UNITS)
        del missing["units"][2]["supervised_by"]
        body = assert_problem(
            await publish(c, token, "unit_directory", "1", missing, "k-4"), 422, "validation"
        )
        assert {"location": ["body", "units", 2, "supervised_by"], "code": "missing"} in [
            {k: e[k] for k in ("location", "code")} for e in body["errors"]
        ]
        secret_name = "某某某" * 30
        r = await publish(c, token, "unit_directory", "1", renamed(UNITS, 0, secret_name), "k-5")
        body = assert_problem(r, 422, "validation")
        assert body["errors"][0]["location"] == ["body", "units", 0, "name"]
        assert secret_name not in r.text
        twice = copy.deepcopy(UNITS)
        twice["units"][1]["id"] = twice["units"][0]["id"]
        assert_problem(
            await publish(c, token, "unit_directory", "1", twice, "k-6"), 422, "validation"
        )
        limits = copy.deepcopy(default_contents()["time_limits"])
        limits["by_urgency"]["urgent"]["handle_within"]["amount"] = 0
        body = assert_problem(
            await publish(c, token, "time_limits", "0", limits, "k-7"), 422, "validation"
        )
        assert body["errors"][0]["location"][-2:] == ["handle_within", "amount"]

        # A supervising body the body directory in force does not list (seeded here first).
        bodies = default_contents()["body_directory"]
        assert (await publish(c, token, "body_directory", "0", bodies, "k-8")).status_code == 201
        head = await log.head()
        orphan = copy.deepcopy(UNITS)
        orphan["units"][4]["supervised_by"] = "no-such-body"
        body = assert_problem(
            await publish(c, token, "unit_directory", "1", orphan, "k-9"), 422, "validation"
        )
        assert [(e["location"], e["code"]) for e in body["errors"]] == [
            (["body", "units", 4, "supervised_by"], "unknown_body")
        ]
        assert "no-such-body" not in str(body)
        # The key stays free for the corrected content.
        fixed = renamed(UNITS, 4, "市场监管局")
        r = await publish(c, token, "unit_directory", "1", fixed, "k-9")
        assert r.status_code == 201, r.text
        head = await log.head()
        again = await publish(c, token, "unit_directory", "1", fixed, "k-10")  # now stale
        assert_problem(again, 409, "conflict")

        assert await log.head() == head  # not one of these refusals wrote anything


async def test_the_diff_shows_what_a_new_version_changes(
    ledger: tuple[WebSettings, EventLog],
) -> None:
    settings, log = ledger
    app = create_dispatch(settings)
    async with client(app) as c, app.router.lifespan_context(app):
        token = await token_for(c, app, ADMIN)
        first = await c.post("/admin/config/unit_directory/diff", json=UNITS, headers=bearer(token))
        assert first.status_code == 200, first.text
        assert first.json()["in_force"] == "0" and first.json()["removed"] == 0
        assert first.json()["next_version"] == "1"
        assert (await publish(c, token, "unit_directory", "0", UNITS, "k-1")).status_code == 201
        head = await log.head()
        r = await c.post(
            "/admin/config/unit_directory/diff",
            json=renamed(UNITS, 0, "市卫生健康委员会"),
            headers=bearer(token),
        )
        d = r.json()
        assert (d["added"], d["removed"], d["in_force"], d["next_version"]) == (1, 1, "1", "2")
        changed = [(line["kind"], line["text"].strip()) for line in d["lines"]]
        assert ("removed", '"name": "市卫生健康局",') in changed
        assert ("added", '"name": "市卫生健康委员会",') in changed
        same = await c.post("/admin/config/unit_directory/diff", json=UNITS, headers=bearer(token))
        assert same.json()["added"] == same.json()["removed"] == 0
        assert same.json()["next_version"] is None
        assert await log.head() == head  # a diff writes nothing


async def test_a_publication_the_rule_book_refuses_never_reaches_the_log(
    ledger: tuple[WebSettings, EventLog],
) -> None:
    """The writer judges registry drafts before signing too: oversight publishing dispatch's
    kind is refused (not_owner) and the log head does not move."""
    settings, log = ledger
    head = await log.head()
    oversight = spec("oversight")
    writer = EventWriter(
        log,
        Signer(oversight.deployment, keystore.load(settings, oversight.name)),
        keystore.genesis_public(settings),
    )
    draft = Draft(
        "ledger.registry.config_published.v1",
        {"kind": "unit_directory", "version": "1", "content": UNITS},
        "efficiency-office/demo-admin",
    )
    result = await writer.submit(REGISTRY_STREAM, lambda state: [draft])
    assert result.refused is not None and result.refused.reason is Reason.not_owner
    assert all(w.position is None for w in result.written)
    assert await log.head() == head


async def test_the_defaults_are_seeded_once_by_their_owners(
    ledger: tuple[WebSettings, EventLog],
) -> None:
    settings, log = ledger
    published = await publish_defaults(log, settings)
    assert sorted(published) == sorted(
        (k, "1")
        for k in (
            "body_directory",
            "unit_directory",
            "routing",
            "time_limits",
            "calendar",
            "escalation_thresholds",
            "penalty_schedule",
            "assessment_weights",
        )
    )
    head = await log.head()
    assert await publish_defaults(log, settings) == []  # a restart: nothing new
    assert await log.head() == head
    events = [e for e in await registry_events(log) if e["type"].endswith("config_published.v1")]
    by_kind = {e["data"]["kind"]: e for e in events}
    assert by_kind["penalty_schedule"]["source"] == "/bodies/efficiency-office/oversight"
    assert by_kind["assessment_weights"]["source"] == "/bodies/efficiency-office/oversight"
    assert by_kind["body_directory"]["source"] == "/bodies/efficiency-office/dispatch"
    assert by_kind["body_directory"]["data"]["content"] == default_contents()["body_directory"]

    # An administrator's later version is never reverted by a restart.
    app = create_dispatch(settings)
    async with client(app) as c, app.router.lifespan_context(app):
        token = await token_for(c, app, ADMIN)
        r = await publish(c, token, "unit_directory", "1", renamed(UNITS, 0, "市卫健委"), "k-1")
        assert r.status_code == 201 and r.json()["version"] == "2"
    assert await publish_defaults(log, settings) == []
    fold = await fold_log(log, keystore.genesis_public(settings))
    assert fold.rejections == []
    in_force = fold.registry.config_entry_at("unit_directory", fold.registry.version)
    assert in_force is not None and in_force[0] == "2"


async def test_make_run_seeds_the_defaults_once(tmp_path: Path) -> None:
    """The start-up path of `make run` (init, then the defaults), run twice on one log."""
    from shared.run import RunSettings, _init_ledger

    settings = RunSettings(var_dir=tmp_path / "var", log_partitions=3)
    await _init_ledger(settings)
    log = await open_log(settings)
    try:
        first = await log.head()
        kinds = {
            e["data"]["kind"]
            for e in await registry_events(log)
            if e["type"].endswith("config_published.v1")
        }
        assert {"body_directory", "unit_directory"} <= kinds
    finally:
        await log.close()
    await _init_ledger(settings)
    log = await open_log(settings)
    try:
        assert await log.head() == first
    finally:
        await log.close()


# ---- the pages (a browser-like client; tests/browser drives real Chromium) ----------------------

HTML = {"accept": "text/html"}


async def _page_client(app: FastAPI, c: Any, staff_id: str = ADMIN) -> str:
    from tests.web_fixtures import csrf_from, sign_in_page

    await sign_in_page(c, app, staff_id)
    r = await c.get("/admin/config/unit_directory", headers=HTML)
    return csrf_from(r.text) if r.status_code == 200 else ""


async def test_the_pages_refuse_what_the_api_refuses_and_a_double_click_publishes_once(
    ledger: tuple[WebSettings, EventLog],
) -> None:
    settings, log = ledger
    await publish_defaults(log, settings)
    app = create_dispatch(settings)
    units = orjson.dumps(renamed(UNITS, 0, "市卫健委")).decode()
    async with client(app) as c, app.router.lifespan_context(app):
        assert (await c.get("/admin/config", headers=HTML)).status_code == 303  # to sign in
        csrf = await _page_client(app, c)
        head = await log.head()

        # A stale base: the preview says so and offers no publish button; publishing is a 409.
        form = {"content": units, "base_version": "0", "csrf_token": csrf}
        r = await c.post("/admin/config/unit_directory/preview", data=form, headers=HTML)
        assert r.status_code == 200 and "发布将被拒绝" in r.text and "确认发布" not in r.text
        r = await c.post(
            "/admin/config/unit_directory/publish",
            data={**form, "idempotency_key": "page-1"},
            headers=HTML,
        )
        assert r.status_code == 409 and "stale_version" in r.text
        # Invalid JSON, invalid content, no CSRF token: refused, nothing written.
        bad = {"content": "{", "base_version": "1", "csrf_token": csrf}
        r = await c.post("/admin/config/unit_directory/preview", data=bad, headers=HTML)
        assert r.status_code == 422 and "JSON 格式错误" in r.text
        bad["content"] = '{"units": [{"id": "unit:x", "level": "municipal"}]}'
        r = await c.post("/admin/config/unit_directory/preview", data=bad, headers=HTML)
        assert r.status_code == 422 and "body.units.0.name" in r.text
        no_csrf = {"content": units, "base_version": "1", "idempotency_key": "page-2"}
        r = await c.post("/admin/config/unit_directory/publish", data=no_csrf, headers=HTML)
        assert r.status_code == 403
        assert await log.head() == head

        # Published once, however often the button is pressed.
        ok = {"content": units, "base_version": "1", "csrf_token": csrf, "idempotency_key": "p-3"}
        first = await c.post("/admin/config/unit_directory/publish", data=ok, headers=HTML)
        again = await c.post("/admin/config/unit_directory/publish", data=ok, headers=HTML)
        assert first.status_code == again.status_code == 303
        assert first.headers["location"] == again.headers["location"]
        assert first.headers["location"] == "/admin/config/unit_directory?published=2"
        page = await c.get(first.headers["location"], headers=HTML)
        assert "已发布第 2 版" in page.text and "市卫健委" in page.text
    versions_ = [
        e["data"]["version"]
        for e in await registry_events(log)
        if e["type"].endswith("config_published.v1") and e["data"]["kind"] == "unit_directory"
    ]
    assert versions_ == ["1", "2"]


async def test_only_administrators_see_the_configuration_pages(
    ledger: tuple[WebSettings, EventLog],
) -> None:
    settings, _ = ledger
    app = create_dispatch(settings)
    async with client(app) as c, app.router.lifespan_context(app):
        await _page_client(app, c, "demo-dispatch-officer")
        assert (await c.get("/admin/config", headers=HTML)).status_code == 403
        assert (await c.get("/admin/config/unit_directory", headers=HTML)).status_code == 403
