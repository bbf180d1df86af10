"""Commands are idempotent: a replayed key returns the first result without running again."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from shared.web import Operator, Role, command
from shared.web.demo_operators import demo_staff_id
from tests.web_fixtures import assert_problem, bearer, build_app, client, token_for

OFFICER = demo_staff_id(Role.DISPATCH_OFFICER)


class Assign(BaseModel):
    case: str
    unit: str
    days: int


class Counter:
    def __init__(self) -> None:
        self.runs = 0
        self.delay = 0.0
        self.failures = 0


def counting_router(counter: Counter) -> APIRouter:
    router = APIRouter()

    @router.post("/assignments", status_code=201)
    async def assign(
        body: Assign, operator: Operator = Depends(command(Role.DISPATCH_OFFICER))
    ) -> dict[str, Any]:
        counter.runs += 1
        if counter.delay:
            await asyncio.sleep(counter.delay)
        if counter.failures:
            counter.failures -= 1
            raise RuntimeError("store unavailable")
        return {"assignment": str(uuid.uuid4()), "run": counter.runs, "by": operator.staff_id}

    @router.delete("/assignments/{assignment_id}", status_code=204)
    async def cancel(
        assignment_id: str, operator: Operator = Depends(command(Role.DISPATCH_OFFICER))
    ) -> None:
        counter.runs += 1

    return router


BODY = {"case": "C-1", "unit": "U-7", "days": 5}


async def test_replay_returns_the_first_result_and_runs_once(tmp_path: Path) -> None:
    counter = Counter()
    app = build_app(tmp_path, routers=[counting_router(counter)])
    async with client(app) as c:
        token = await token_for(c, app, OFFICER)
        first = await c.post("/assignments", json=BODY, headers=bearer(token, "key-1"))
        # Same data, other key order and spacing: the same request.
        again = await c.post(
            "/assignments",
            content=b'{"days": 5,  "unit": "U-7", "case": "C-1"}',
            headers={**bearer(token, "key-1"), "content-type": "application/json"},
        )
    assert first.status_code == 201
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert counter.runs == 1


async def test_same_key_other_body_is_a_conflict(tmp_path: Path) -> None:
    counter = Counter()
    app = build_app(tmp_path, routers=[counting_router(counter)])
    async with client(app) as c:
        token = await token_for(c, app, OFFICER)
        await c.post("/assignments", json=BODY, headers=bearer(token, "key-1"))
        r = await c.post("/assignments", json={**BODY, "days": 6}, headers=bearer(token, "key-1"))
        other_path = await c.delete("/assignments/a1", headers=bearer(token, "key-1"))
    assert_problem(r, 409, "idempotency-key-reused")
    assert_problem(other_path, 409, "idempotency-key-reused")
    assert counter.runs == 1


async def test_keys_are_scoped_per_operator(tmp_path: Path) -> None:
    counter = Counter()
    app = build_app(tmp_path, routers=[counting_router(counter)])
    identity = app.state.ledger.identity
    identity.add_operator("officer-2", "efficiency-office", [Role.DISPATCH_OFFICER], "pw-officer-2")
    async with client(app) as c:
        token = await token_for(c, app, OFFICER)
        r2 = await c.post("/auth/token", json={"staff_id": "officer-2", "password": "pw-officer-2"})
        token2 = r2.json()["access_token"]
        a = await c.post("/assignments", json=BODY, headers=bearer(token, "shared-key"))
        b = await c.post(
            "/assignments", json={**BODY, "days": 9}, headers=bearer(token2, "shared-key")
        )
    assert a.status_code == b.status_code == 201
    assert a.json()["by"] == OFFICER and b.json()["by"] == "officer-2"
    assert counter.runs == 2


async def test_missing_or_malformed_key_is_refused(tmp_path: Path) -> None:
    counter = Counter()
    app = build_app(tmp_path, routers=[counting_router(counter)])
    async with client(app) as c:
        token = await token_for(c, app, OFFICER)
        missing = await c.post("/assignments", json=BODY, headers=bearer(token))
        spaced = await c.post("/assignments", json=BODY, headers=bearer(token, "has space"))
    body = assert_problem(missing, 422, "validation")
    assert body["errors"][0]["location"] == ["header", "Idempotency-Key"]
    assert_problem(spaced, 422, "validation")
    assert counter.runs == 0


async def test_concurrent_duplicates_run_once(tmp_path: Path) -> None:
    counter = Counter()
    counter.delay = 0.3
    app = build_app(tmp_path, routers=[counting_router(counter)])
    async with client(app) as c:
        token = await token_for(c, app, OFFICER)
        results = await asyncio.gather(
            *(c.post("/assignments", json=BODY, headers=bearer(token, "race")) for _ in range(4))
        )
    assert counter.runs == 1
    assert {r.status_code for r in results} == {201}
    assert len({r.text for r in results}) == 1


async def test_a_duplicate_that_waits_too_long_gets_409(tmp_path: Path) -> None:
    counter = Counter()
    counter.delay = 0.6
    app = build_app(tmp_path, routers=[counting_router(counter)], idempotency_wait_seconds=0.1)
    async with client(app) as c:
        token = await token_for(c, app, OFFICER)
        first, second = await asyncio.gather(
            c.post("/assignments", json=BODY, headers=bearer(token, "slow")),
            c.post("/assignments", json=BODY, headers=bearer(token, "slow")),
        )
    assert sorted([first.status_code, second.status_code]) == [201, 409]
    loser = first if first.status_code == 409 else second
    assert_problem(loser, 409, "idempotency-in-progress")
    assert counter.runs == 1


async def test_results_survive_a_restart(tmp_path: Path) -> None:
    counter = Counter()
    app = build_app(tmp_path, routers=[counting_router(counter)])
    async with client(app) as c:
        token = await token_for(c, app, OFFICER)
        first = await c.post("/assignments", json=BODY, headers=bearer(token, "durable"))
    restarted = build_app(tmp_path, routers=[counting_router(counter)])
    async with client(restarted) as c:
        token = await token_for(c, restarted, OFFICER)
        again = await c.post("/assignments", json=BODY, headers=bearer(token, "durable"))
    assert again.json() == first.json()
    assert counter.runs == 1
    assert (tmp_path / "testsvc" / "idempotency.sqlite3").is_file()


async def test_an_invalid_body_does_not_use_up_the_key(tmp_path: Path) -> None:
    counter = Counter()
    app = build_app(tmp_path, routers=[counting_router(counter)])
    async with client(app) as c:
        token = await token_for(c, app, OFFICER)
        bad = await c.post("/assignments", json={"case": "C-1"}, headers=bearer(token, "k"))
        good = await c.post("/assignments", json=BODY, headers=bearer(token, "k"))
    assert_problem(bad, 422, "validation")
    assert good.status_code == 201
    assert counter.runs == 1


async def test_a_failed_command_can_be_retried_with_its_key(tmp_path: Path) -> None:
    counter = Counter()
    counter.failures = 1
    app = build_app(tmp_path, routers=[counting_router(counter)])
    async with client(app) as c:
        token = await token_for(c, app, OFFICER)
        failed = await c.post("/assignments", json=BODY, headers=bearer(token, "retry"))
        retried = await c.post("/assignments", json=BODY, headers=bearer(token, "retry"))
        replayed = await c.post("/assignments", json=BODY, headers=bearer(token, "retry"))
    assert_problem(failed, 500, "internal")
    assert retried.status_code == 201 and "idempotent-replayed" not in retried.headers
    assert replayed.json() == retried.json()
    assert counter.runs == 2


async def test_refusals_before_the_command_do_not_use_up_the_key(tmp_path: Path) -> None:
    counter = Counter()
    app = build_app(tmp_path, routers=[counting_router(counter)])
    async with client(app) as c:
        officer = await token_for(c, app, OFFICER)
        clerk = await token_for(c, app, demo_staff_id(Role.INTAKE_CLERK))
        forbidden = await c.post("/assignments", json=BODY, headers=bearer(clerk, "k"))
        form = await c.post("/assignments", data={"case": "x"}, headers=bearer(officer, "k"))
        ok = await c.post("/assignments", json=BODY, headers=bearer(officer, "k"))
    assert_problem(forbidden, 403, "forbidden")
    assert_problem(form, 415, "unsupported-media-type")
    assert ok.status_code == 201


async def test_delete_command_replays_its_empty_result(tmp_path: Path) -> None:
    counter = Counter()
    app = build_app(tmp_path, routers=[counting_router(counter)])
    async with client(app) as c:
        token = await token_for(c, app, OFFICER)
        first = await c.delete("/assignments/a1", headers=bearer(token, "del"))
        again = await c.delete("/assignments/a1", headers=bearer(token, "del"))
    assert first.status_code == again.status_code == 204
    assert again.headers["idempotent-replayed"] == "true"
    assert counter.runs == 1
