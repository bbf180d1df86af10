"""The unit workbench on a real SQLite log, with oversight's app (its projector and scheduler
running): unit isolation on every unit-facing route of the app's route table, the first showing
recorded once per unit per round (a second view, a race, a reopen), evidence files with a claim
(hashes in the log, bytes in oversight's durable store, nothing kept on a refusal), progress and
extension requests. Cases are written straight into the log, signed by the deployments that own
each step (``tests/timer_logs.Histories``); one world serves the module."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import re
import typing
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from fastapi.routing import APIRoute

from services.oversight.app import create as create_oversight
from services.oversight.evidence import EVIDENCE, MAX_FILE_BYTES
from shared.calendar import SHANGHAI
from shared.durable.port import DurableStore
from shared.ledger.bootstrap import init_ledger
from shared.ledger.configuration import publish_defaults
from shared.ledger.signer import Draft
from shared.ledger.writer import EventWriter
from shared.log.factory import open_log
from shared.log.port import EventLog, read_all
from shared.web.auth import route_access
from shared.web.demo_operators import demo_staff_id, demo_unit_body
from shared.web.roles import Role
from shared.web.routes import served_api_routes
from shared.web.settings import WebSettings
from tests.samples import SUPERVISOR, H
from tests.timer_logs import Histories, judged, of_type
from tests.web_fixtures import (
    assert_problem,
    bearer,
    client,
    csrf_from,
    demo_passwords,
    fast_settings,
    sign_in_page,
)

HTML = {"accept": "text/html"}
OTHER_UNIT = "unit:other-bureau"
THIRD_UNIT = "unit:third-bureau"  # leads a case the demo unit is a co-unit on
OTHER_STAFF, OTHER_PASSWORD = "other-h1", "另一单位-" + uuid.uuid4().hex
FIRST_SHOWN = "ledger.handling.first_shown.v1"
CLAIMED = "ledger.handling.resolution_claimed.v1"
OPENED = [
    "ledger.complaint.received.v1",
    "ledger.complaint.screened.v1",
    "ledger.dispatch.assigned.v1",
]
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(17) + b"evidence-photo"
PDF = b"%PDF-1.4\n% evidence report\n"
pytestmark = [pytest.mark.timeout(300), pytest.mark.asyncio(loop_scope="module")]


@dataclass(frozen=True)
class Complainant:
    """What identifies a case's complainant: none of it may reach a unit."""

    pseudonym: str
    tracking_code: str
    name: str
    phone: str

    @property
    def code_hash(self) -> str:
        return hashlib.sha256(self.tracking_code.encode()).hexdigest()

    def values(self) -> list[str]:
        return [self.pseudonym, self.code_hash, self.tracking_code, self.name, self.phone]


@dataclass
class World:
    settings: WebSettings
    app: FastAPI
    log: EventLog
    history: Histories
    unit: str
    mine: httpx.AsyncClient  # the demo unit handler's bearer API
    other: httpx.AsyncClient  # another unit's handler
    page: httpx.AsyncClient  # the demo unit handler's signed-in browser
    token: str
    other_token: str
    complainants: list[Complainant]
    keys: itertools.count[int]

    def as_mine(self) -> dict[str, str]:
        return bearer(self.token, f"k-{next(self.keys)}")

    def as_other(self) -> dict[str, str]:
        return bearer(self.other_token, f"o-{next(self.keys)}")

    async def writer(self) -> EventWriter:
        return await self.app.state.ledger.writer.signing_writer()

    async def durable(self) -> DurableStore:
        store: DurableStore = await self.app.state.ledger.durable.store()
        return store

    async def head(self) -> dict[int, int]:
        return await self.log.head()

    async def written(self, *streams: str) -> list[int]:
        """How many records each of ``streams`` holds: what a request on those cases could
        write. The whole log's head is no measure here: the scheduler and the proposal worker
        append to other streams (period figures, proposals) while the app runs."""
        counts = dict.fromkeys(streams, 0)
        async for rec in read_all(self.log):
            if rec.stream in counts:
                counts[rec.stream] += 1
        return [counts[s] for s in streams]

    async def new_case(
        self,
        unit: str,
        days: int = 14,
        pseudonym: str | None = None,
        co_units: tuple[str, ...] = (),
    ) -> str:
        """A case received, screened and assigned to ``unit`` (with ``co_units``), due ``days``
        on."""
        n = len(self.complainants) + 1
        who = Complainant(
            pseudonym=pseudonym or hashlib.sha256(f"pseudonym-{n}".encode()).hexdigest(),
            tracking_code=f"7K2M-9QX4-{n:04d}-ZP8R",
            name=f"王{n}明",
            phone=f"1391234{n:04d}",
        )
        self.complainants.append(who)
        case = f"case-{uuid.uuid4()}"
        due = (datetime.now(UTC) + timedelta(days=days)).astimezone(SHANGHAI).isoformat()
        await self.history.write(
            case,
            OPENED,
            {
                "ledger.complaint.received.v1": {
                    "complaint_no": f"XN2026-{n:06d}",
                    "complainant": who.pseudonym,
                    "tracking_code_hash": who.code_hash,
                },
                "ledger.dispatch.assigned.v1": {
                    "lead_unit": unit,
                    "due_at": due,
                    "co_units": [{"unit": u, "due_at": due} for u in co_units],
                },
            },
        )
        await self.read_model_reached()
        return case

    async def read_model_reached(self) -> None:
        """Wait until oversight's projector has read the log to its head (dispatch's
        assignment reaches the workbench within one poll)."""
        served = self.app.state.ledger.served
        assert await served.wait_for(await self.head(), 10.0)

    async def judged_of(self, case: str, event_type: str) -> tuple[list[dict[str, Any]], int]:
        records = [
            (r, e, v) for r, e, v in await judged(self.log, self.settings) if r.stream == case
        ]
        accepted, refused = of_type(records, event_type)
        return [e for _, e in accepted], refused


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    var_dir = tmp_path_factory.mktemp("workbench") / "var"
    settings = fast_settings(
        var_dir,
        projector_poll_seconds=0.05,
        read_your_writes_seconds=10.0,
        max_body_bytes=16 * 1024 * 1024,  # room for a file past the evidence limit
    )
    log = await open_log(settings)
    await init_ledger(log, settings)
    await publish_defaults(log, settings)
    history = await Histories(log, settings).start()
    app = create_oversight(settings)
    app.state.ledger.identity.add_operator(
        OTHER_STAFF, OTHER_UNIT, [Role.UNIT_HANDLER], OTHER_PASSWORD
    )
    async with (
        client(app) as mine,
        client(app) as other,
        client(app) as page,
        app.router.lifespan_context(app),
    ):
        staff = demo_staff_id(Role.UNIT_HANDLER)
        tokens = []
        for c, sid, pw in (
            (mine, staff, demo_passwords(app)[staff]),
            (other, OTHER_STAFF, OTHER_PASSWORD),
        ):
            r = await c.post("/auth/token", json={"staff_id": sid, "password": pw})
            assert r.status_code == 200, r.text
            tokens.append(r.json()["access_token"])
        await sign_in_page(page, app, staff)
        yield World(
            settings,
            app,
            log,
            history,
            demo_unit_body(settings),
            mine,
            other,
            page,
            tokens[0],
            tokens[1],
            [],
            itertools.count(),
        )
    await log.close()


# -- the route table -----------------------------------------------------------------------------

# Signed-in routes any operator may use that hold no case: what each answers a unit is scanned,
# but nothing of a case can be named through them. A new one must be added here knowingly.
ANY_OPERATOR_NOT_CASES = {
    ("GET", "/"),
    ("GET", "/account/password"),
    ("POST", "/account/password"),
    ("POST", "/signout"),
}


def _dependants(dependant: Any) -> Iterable[Any]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def _calls(dependant: Any) -> Iterable[Any]:
    return (d.call for d in _dependants(dependant))


def admits(route: APIRoute) -> str | None:
    """'unit' when a unit handler's role is named, 'any' when any signed-in operator is let in,
    None for routes of other roles (and public ones)."""
    names = [getattr(c, "__name__", "") for c in _calls(route.dependant)]
    auth = [n for n in names if re.match(r"^(page_command|page|command|require_roles)_", n)]
    if any("unit_handler" in n for n in auth):
        return "unit"
    if any(n.endswith("_any") for n in auth):
        return "any"
    return None


def unit_facing(app: FastAPI) -> list[tuple[str, APIRoute]]:
    """(method, route) of every route of the app's table a unit handler may call."""
    out = []
    for served in served_api_routes(app):
        route = served.route
        if route_access(served.dependant) not in (None, "public") and admits(route) is not None:
            out.extend((m, route) for m in sorted(served.methods) if m != "HEAD")
    return out


ITEM_PARAMS = {"notice_id": "00000000-0000-4000-8000-000000000000"}
"""Path parameters naming an item inside a case, with an id no item has: another unit's case and
no case must still be 404 with them; on the unit's own case a 404 is then the right answer
(the ladder's test reads a real notice's document as its unit)."""


def has_item_param(route: APIRoute) -> bool:
    return any(p.name in ITEM_PARAMS for d in _dependants(route.dependant) for p in d.path_params)


def path_choices(route: APIRoute, case: str) -> list[str]:
    """The route's path with ``case`` as its case, once per value of its other path parameters
    (each a Literal: every act is tried)."""
    values: list[list[tuple[str, str]]] = []
    params = {p.name: p for d in _dependants(route.dependant) for p in d.path_params}
    for param in params.values():
        if param.name == "case_id":
            values.append([("case_id", case)])
            continue
        choices = typing.get_args(param.field_info.annotation)
        if not choices:  # an item inside the case (a notice): a well-formed id of none
            assert param.name in ITEM_PARAMS, f"{route.path}: {param.name} has no fixed values"
            values.append([(param.name, ITEM_PARAMS[param.name])])
            continue
        values.append([(param.name, str(v)) for v in choices])
    return [route.path.format(**dict(combo)) for combo in itertools.product(*values)]


async def call(w: World, method: str, route: APIRoute, path: str, own: bool) -> httpx.Response:
    """``path`` as the demo unit's handler would send it (``own``) or another unit's."""
    access = route_access(route.dependant)
    if access == "session":
        if not own:
            raise AssertionError("the other unit signs in by bearer only here")
        if method == "GET":
            return await w.page.get(path, headers=HTML)
        token = csrf_from((await w.page.get("/workbench", headers=HTML)).text)
        data = {"csrf_token": token, "form_key": str(uuid.uuid4()), "text": "另一单位的尝试"}
        return await w.page.post(path, data=data, headers=HTML)
    headers = w.as_mine() if own else w.as_other()
    if method == "GET":
        return await (w.mine if own else w.other).get(path, headers=headers)
    return await (w.mine if own else w.other).post(path, json={}, headers=headers)


def assert_no_identity(w: World, *texts: str) -> None:
    for who in w.complainants:
        for value in who.values():
            for text in texts:
                assert value not in text, "a complainant's identity reached a unit"


async def test_unit_isolation_on_every_unit_facing_route(world: World) -> None:
    w = world
    mine, theirs = await w.new_case(w.unit), await w.new_case(OTHER_UNIT)
    helping = await w.new_case(THIRD_UNIT, co_units=(w.unit,))  # the demo unit co-handles
    missing = f"case-{uuid.uuid4()}"
    routes = unit_facing(w.app)
    paths = {(m, r.path) for m, r in routes}
    # The filter finds the workbench (else the checks below would be vacuous).
    for expected in (
        ("GET", "/workbench"),
        ("GET", "/workbench/cases/{case_id}"),
        ("POST", "/workbench/cases/{case_id}/resolution-claim"),
        ("POST", "/workbench/{case_id}/{act}"),
    ):
        assert expected in paths, expected
    # Both units see their new case at once (the first showing is recorded for each).
    page = await w.page.get("/workbench", headers=HTML)
    assert page.status_code == 200 and mine in page.text and theirs not in page.text
    assert helping in page.text  # a co-unit's case is on its workbench too
    listed = await w.other.get("/workbench/cases", headers=bearer(w.other_token))
    assert [c["case_id"] for c in listed.json()] == [theirs]  # not the co-handled case
    own = await w.mine.get("/workbench/cases", headers=bearer(w.token))
    by_id = {c["case_id"]: c for c in own.json()}
    assert by_id[mine]["lead"] and not by_id[helping]["lead"] and theirs not in by_id
    assert by_id[helping]["due_at"] is not None
    shown, _ = await w.judged_of(helping, FIRST_SHOWN)
    assert [e["data"]["unit"] for e in shown] == [w.unit]  # shown to the co-unit at once
    assert_no_identity(w, page.text, listed.text)

    tried = 0
    for method, route in routes:
        if "{case_id}" not in route.path:
            assert method == "GET" or (method, route.path) in ANY_OPERATOR_NOT_CASES, (
                f"{method} {route.path}: a unit-facing command without a case; cover it here"
            )
            if method == "GET":
                r = await call(w, method, route, route.path, own=True)
                assert r.status_code in (200, 303), (route.path, r.status_code)
                assert theirs not in r.text, route.path
                assert_no_identity(w, r.text)
            continue
        assert admits(route) == "unit", f"{route.path}: a case route open to any operator"
        # The demo unit on the other unit's case and on none; the other unit on the demo's.
        attempts = [(True, p) for p in path_choices(route, theirs) + path_choices(route, missing)]
        if route_access(route.dependant) == "bearer":
            attempts += [(False, p) for p in path_choices(route, mine)]
        for own, path in attempts:
            before = await w.written(mine, theirs, missing)
            r = await call(w, method, route, path, own=own)
            assert r.status_code in (403, 404), (method, path, own, r.status_code, r.text)
            assert await w.written(mine, theirs, missing) == before, (method, path, "wrote")
            assert_no_identity(w, r.text)
            tried += 1
        # Its own case: whatever the answer (done, refused, invalid), no identity in it.
        for path in path_choices(route, mine):
            r = await call(w, method, route, path, own=True)
            assert r.status_code != 404 or has_item_param(route), (method, path, r.text)
            assert_no_identity(w, r.text)
    assert tried >= 10
    # The other unit's case was never touched: only its assignment and first showing.
    shown, _ = await w.judged_of(theirs, FIRST_SHOWN)
    assert [e["data"]["unit"] for e in shown] == [OTHER_UNIT]
    assert shown[0]["actor"] == f"{OTHER_UNIT}/{OTHER_STAFF}"
    records = [r for r, _, _ in await judged(w.log, w.settings) if r.stream == theirs]
    assert len(records) == len(OPENED) + 1


async def test_first_shown_once_per_unit_per_round(world: World) -> None:
    w = world
    case = await w.new_case(w.unit, days=9, pseudonym=H)  # the samples' complainant disputes
    # Several views at once, then again: one first showing.
    views = await asyncio.gather(
        *(w.mine.get(f"/workbench/cases/{case}", headers=bearer(w.token)) for _ in range(4))
    )
    assert all(v.status_code == 200 for v in views), [v.text for v in views]
    again = await w.mine.get(f"/workbench/cases/{case}", headers=bearer(w.token))
    shown, _ = await w.judged_of(case, FIRST_SHOWN)
    assert len(shown) == 1
    first = shown[0]
    assert first["data"] == {
        "unit": w.unit,
        "due_at": first["data"]["due_at"],
        "assignment": 1,
        "reopened": 0,
    }
    assert first["actor"] == f"{w.unit}/{demo_staff_id(Role.UNIT_HANDLER)}"
    view = again.json()
    assert view["first_shown_at"] is not None and view["assigned_at"] is not None
    assert view["assigned_at"] <= view["first_shown_at"]
    assert view["due_at"] == first["data"]["due_at"] and 4 <= view["working_days_left"] <= 8
    assert "complainant" not in view

    # Claimed, disputed, reopened with a fresh due time: a new round, shown anew.
    r = await w.mine.post(
        f"/workbench/cases/{case}/resolution-claim", json={"summary": "已整改"}, headers=w.as_mine()
    )
    assert r.status_code == 201, r.text
    writer = await w.writer()
    w.history.heads[case] = (await writer.live.tracked(case, writer.snapshots)).state.head
    number = f"XN2026-{len(w.complainants):06d}"
    await w.history.write(
        case,
        ["ledger.complainant.disputed.v1"],
        {"ledger.complainant.disputed.v1": {"complaint_no": number}},
    )
    fresh_due = (datetime.now(UTC) + timedelta(days=20)).astimezone(SHANGHAI).isoformat()
    reopen = Draft(
        "ledger.handling.reopened.v1",
        {"reason": "投诉人不满意", "units": [{"unit": w.unit, "due_at": fresh_due}]},
        SUPERVISOR,
    )
    result = await writer.submit(case, lambda st: [reopen])
    assert result.accepted, result.refused
    await w.read_model_reached()
    # The page records it for the unit's view, once.
    for _ in range(2):
        page = await w.page.get("/workbench", headers=HTML)
        assert page.status_code == 200 and case in page.text
    shown, _ = await w.judged_of(case, FIRST_SHOWN)
    assert [(e["data"]["assignment"], e["data"]["reopened"]) for e in shown] == [(1, 0), (1, 1)]
    assert shown[1]["data"]["due_at"] == fresh_due
    # A view recorded for a past round is refused by the rule book.
    stale = Draft(FIRST_SHOWN, {**first["data"]}, first["actor"])
    refused = await writer.submit(case, lambda st: [stale])
    assert not refused.accepted and refused.written[0].position is None


def _upload(media_type: str, data: bytes) -> dict[str, str]:
    return {"media_type": media_type, "data": base64.b64encode(data).decode()}


async def test_claim_with_evidence_files(world: World) -> None:
    w = world
    case = await w.new_case(w.unit)
    store = await w.durable()
    claim = f"/workbench/cases/{case}/resolution-claim"
    bad_files: list[tuple[list[dict[str, str]], int, str]] = [
        ([_upload("image/png", b"not a picture at all")], 415, "unsupported-media-type"),
        ([_upload("text/plain", b"plain words")], 415, "unsupported-media-type"),
        ([_upload("image/png", PNG + bytes(MAX_FILE_BYTES))], 413, "payload-too-large"),
        ([_upload("application/pdf", PDF)] * 6, 422, "validation"),
        ([{"media_type": "image/png", "data": "@@not base64@@"}], 422, "validation"),
    ]
    for files, status, slug in bad_files:
        before = await w.written(case)
        r = await w.mine.post(
            claim, json={"summary": "已整改", "evidence": files}, headers=w.as_mine()
        )
        assert_problem(r, status, slug)
        assert "not a picture" not in r.text and "plain words" not in r.text
        assert await w.written(case) == before
    assert await store.scan(EVIDENCE, prefix=case) == []

    good = {
        "summary": "窗口已恢复正常办理，附整改照片与报告。",
        "evidence": [_upload("image/png", PNG), _upload("application/pdf", PDF)],
    }
    key = w.as_mine()
    r = await w.mine.post(claim, json=good, headers=key)
    assert r.status_code == 201, r.text
    retried = await w.mine.post(claim, json=good, headers=key)  # the same command again
    assert retried.status_code == 201 and retried.json() == r.json()
    [claimed], _ = await w.judged_of(case, CLAIMED)
    digests = [hashlib.sha256(PNG).hexdigest(), hashlib.sha256(PDF).hexdigest()]
    assert claimed["data"]["evidence"] == digests
    assert await store.get_blob(digests[0]) == PNG and await store.get_blob(digests[1]) == PDF
    kept = {e.key: e.value for e in await store.scan(EVIDENCE, prefix=case)}
    assert kept[f"{case}/{digests[1]}"] == {
        "media_type": "application/pdf",
        "size": len(PDF),
        "unit": w.unit,
    }
    # A second claim is refused by the case's state: its new file is not kept.
    other_pdf = PDF + b"% a second report\n"
    again = await w.mine.post(
        claim,
        json={"summary": "再次报办结", "evidence": [_upload("application/pdf", other_pdf)]},
        headers=w.as_mine(),
    )
    assert assert_problem(again, 409, "conflict")["reason"] == "part_done"
    assert not await store.has_blob(hashlib.sha256(other_pdf).hexdigest())


async def test_progress_and_extension_request(world: World) -> None:
    w = world
    case = await w.new_case(w.unit)
    r = await w.mine.post(
        f"/workbench/cases/{case}/progress", json={"note": "已调取监控录像"}, headers=w.as_mine()
    )
    assert r.status_code == 201, r.text
    ask = {"working_days": 5, "reason": "需调取外单位档案"}
    r = await w.mine.post(
        f"/workbench/cases/{case}/extension-request", json=ask, headers=w.as_mine()
    )
    assert r.status_code == 201, r.text
    [asked], _ = await w.judged_of(case, "ledger.handling.extension_requested.v1")
    view = (await w.mine.get(f"/workbench/cases/{case}", headers=bearer(w.token))).json()
    due = datetime.fromisoformat(view["due_at"])
    until = datetime.fromisoformat(asked["data"]["until"])
    # Five working days past the due time's last day: 00:00 after the fifth (weekends, holidays).
    assert until.time() == time(0) and 6 <= (until.date() - due.date()).days <= 14
    assert asked["data"]["unit"] == w.unit and asked["data"]["reason"] == ask["reason"]
    twice = await w.mine.post(
        f"/workbench/cases/{case}/extension-request", json=ask, headers=w.as_mine()
    )
    assert assert_problem(twice, 409, "conflict")["reason"] == "extension_pending"
    too_long = await w.mine.post(
        f"/workbench/cases/{case}/extension-request",
        json={**ask, "working_days": 61},
        headers=w.as_mine(),
    )
    assert_problem(too_long, 422, "validation")
    # From the page's form: progress, then the page shows the case with its countdown.
    page = await w.page.get("/workbench", headers=HTML)
    form = {"csrf_token": csrf_from(page.text), "form_key": str(uuid.uuid4()), "text": "已约谈"}
    r = await w.page.post(f"/workbench/{case}/progress", data=form, headers=HTML)
    assert r.status_code == 303, r.text
    notes, _ = await w.judged_of(case, "ledger.handling.progress.v1")
    assert [e["data"]["note"] for e in notes] == ["已调取监控录像", "已约谈"]
    page = await w.page.get(r.headers["location"], headers=HTML)
    row = re.search(rf'<tr data-case="{case}">.*?</tr>', page.text, re.S)
    assert row and "个工作日" in row.group(0) and "申请延期" in row.group(0)
