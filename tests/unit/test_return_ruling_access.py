"""Only dispatch officers rule on returns: every route of the dispatch app that rules on a
return (found in the route table, not listed by hand) refuses every other role — by token on
the API, by session on the board's form — and lets a dispatch officer through the role check;
and only a unit handler asks to return, on oversight's workbench."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from services.dispatch.app import create as create_dispatch
from services.oversight.app import create as create_oversight
from shared.web.demo_operators import demo_staff_id
from shared.web.problems import CSRF, FORBIDDEN
from shared.web.roles import Role
from shared.web.routes import served_api_routes
from tests.web_fixtures import bearer, client, csrf_from, sign_in_page, token_for

CASE = "case-0192f0c4-7a1b-7c2d-8e3f-405162738495"
HTML = {"accept": "text/html"}
RULING = {"unit": "unit:demo-unit", "granted": False, "ruling": "不予退单"}


def routes_matching(app: FastAPI, word: str) -> list[tuple[str, bool]]:
    """(path, whether it is a page's form) of every POST route whose path names ``word``."""
    return sorted(
        (r.path.replace("{case_id}", CASE), not r.include_in_schema)
        for r in served_api_routes(app)
        if word in r.path and "POST" in r.methods
    )


async def answer_as(app: FastAPI, role: Role, path: str, form: bool) -> httpx.Response:
    async with client(app) as c:
        if not form:
            token = await token_for(c, app, demo_staff_id(role))
            headers = bearer(token, f"k-{uuid.uuid4()}")
            return await c.post(path, json=RULING, headers=headers)
        await sign_in_page(c, app, demo_staff_id(role))
        home: httpx.Response = await c.get("/", headers=HTML)
        data = {
            **RULING,
            "decision": "refuse",
            "csrf_token": csrf_from(home.text),
            "form_key": str(uuid.uuid4()),
        }
        data.pop("granted")
        return await c.post(path, data=data, headers=HTML)


@pytest.fixture
def dispatch(tmp_path: Path) -> FastAPI:
    from tests.web_fixtures import fast_settings

    return create_dispatch(fast_settings(tmp_path))


async def test_every_return_ruling_route_is_for_dispatch_officers_only(dispatch: FastAPI) -> None:
    routes = routes_matching(dispatch, "return-ruling")
    assert sorted(form for _, form in routes) == [False, True]  # the API and the board's form
    for path, form in routes:
        for role in Role:
            r = await answer_as(dispatch, role, path, form)
            if role == Role.DISPATCH_OFFICER:  # past the role check (and the CSRF check)
                assert r.status_code != 403, (path, role)
            else:  # refused for the role, not for anything else
                assert r.status_code == 403, (path, role, r.status_code)
                assert FORBIDDEN.title in r.text and CSRF.title not in r.text


async def test_only_a_unit_handler_asks_to_return(tmp_path: Path) -> None:
    from tests.web_fixtures import fast_settings

    app = create_oversight(fast_settings(tmp_path))
    path = f"/workbench/cases/{CASE}/return-request"
    assert (path.replace(CASE, "{case_id}"), True) in [
        (r.path, r.include_in_schema) for r in served_api_routes(app) if "POST" in r.methods
    ]
    async with client(app) as c:
        for role in (Role.DISPATCH_OFFICER, Role.SUPERVISOR):
            token = await token_for(c, app, demo_staff_id(role))
            r = await c.post(path, json={"reason": "r"}, headers=bearer(token, f"k-{role}"))
            assert r.status_code == 403, role
