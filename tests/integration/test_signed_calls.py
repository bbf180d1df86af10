"""Signed internal calls through intake's real app on a real SQLite log made by `ledger init`:
publication's call for redaction of a closed case (its events signed straight into the log)
is answered; the same endpoint refuses a call that is
unsigned, signed by a deployment without the grant (dispatch), replayed, stale, altered in
body, path or query, signed with a revoked, unknown or another deployment's key, or signed
for another deployment — each with its own problem type, echoing nothing. A grant made while
the service runs is honoured without a restart. One real uvicorn process shows the same
through a real HTTP server (the path and query as they arrive on the wire)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.intake.app import create
from services.publication.app import create as create_publication
from shared.crypto.signing import SigningKey
from shared.ledger import keystore
from shared.ledger.bootstrap import init_ledger
from shared.ledger.deployments import GENESIS_ACTOR, spec
from shared.ledger.signer import Draft, Signer
from shared.ledger.writer import EventWriter
from shared.log.factory import open_log
from shared.rules.registry import GENESIS_DEPLOYMENT
from shared.rules.stream import REGISTRY_STREAM, StreamState
from shared.web.settings import WebSettings
from shared.web.signed_calls import SignedCallAuth, scheme, service_client
from tests.integration.web_servers import start_service
from tests.samples import LIFECYCLE, sign_steps, signers
from tests.web_fixtures import assert_problem, fast_settings

INTAKE = spec("intake").deployment
PUBLICATION = spec("publication").deployment
DISPATCH = spec("dispatch").deployment
CASE = "case-0190a3b2-7c1d-7e4f-8a9b-0123456789ab"
PHONE = "13912345678"
ASKED = {"case": CASE, "text": f"投诉人王小明说窗口没人，请回电{PHONE}。"}
PATH = "/internal/redaction"


@pytest.fixture
async def settings(tmp_path: Path) -> WebSettings:
    s = fast_settings(tmp_path / "var", log_partitions=3)
    log = await open_log(s)
    try:
        await init_ledger(log, s)
        # The case publication asks about: closed (the endpoint serves no other).
        by_name = signers(s)
        fold = await EventWriter(log, by_name["intake"], keystore.genesis_public(s)).registry()
        reg = fold.registry
        closed = sign_steps(
            by_name,
            CASE,
            LIFECYCLE,
            head=None,
            regseq=reg.version,
            reghash=reg.hash_at(reg.version),
        )
        await log.append([(CASE, x.record) for x in closed])
    finally:
        await log.close()
    return s


@asynccontextmanager
async def running(settings: WebSettings) -> AsyncIterator[FastAPI]:
    app = create(settings)
    async with app.router.lifespan_context(app):
        yield app


def key_of(settings: WebSettings, name: str) -> Callable[[], SigningKey]:
    return lambda: keystore.load(settings, name)


def caller(
    app: FastAPI,
    key: Callable[[], SigningKey],
    *,
    as_: str = PUBLICATION,
    target: str = INTAKE,
    clock: Callable[[], float] = time.time,
) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://intake",
        auth=SignedCallAuth(key, caller=as_, target=target, clock=clock),
    )


def plain(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake")


def signed_request(
    settings: WebSettings, url: str, body: bytes, *, name: str = "publication"
) -> httpx.Request:
    r = httpx.Request("POST", url, content=body, headers={"content-type": "application/json"})
    scheme.sign(
        r,
        body,
        keystore.load(settings, name),
        caller=spec(name).deployment,
        target=INTAKE,
        created=int(time.time()),
        nonce=scheme.new_nonce(),
    )
    return r


def echoes_nothing(r: httpx.Response) -> None:
    assert PHONE not in r.text and "王小明" not in r.text
    assert PHONE not in str(r.headers) and PUBLICATION not in r.text


async def genesis_writes(settings: WebSettings, event_type: str, data: dict[str, Any]) -> None:
    log = await open_log(settings)
    try:
        genesis = keystore.load(settings, keystore.GENESIS)
        writer = EventWriter(log, Signer(GENESIS_DEPLOYMENT, genesis), genesis.public)

        def decide(state: StreamState) -> list[Draft]:
            return [Draft(event_type, data, GENESIS_ACTOR)]

        result = await writer.submit(REGISTRY_STREAM, decide)
        assert result.accepted, result
    finally:
        await log.close()


async def test_publication_asks_intake_for_a_redacted_text(settings: WebSettings) -> None:
    publication = create_publication(settings).state.ledger.writer
    async with (
        running(settings) as app,
        service_client(
            publication,
            "http://intake",
            target=INTAKE,
            transport=httpx.ASGITransport(app=app),
        ) as c,
    ):
        r = await c.post(PATH, json=ASKED)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["case"] == CASE
    assert PHONE not in answer["text"] and "【手机号】" in answer["text"]
    assert "王小明" not in answer["text"] and "【姓名1】" in answer["text"]
    kinds = {s["kind"] for s in answer["spans"]}
    assert {"mobile", "name"} <= kinds


async def test_an_unsigned_call_is_refused(settings: WebSettings) -> None:
    async with running(settings) as app, plain(app) as c:
        r = await c.post(PATH, json=ASKED)
        broken = await c.post(
            PATH, content=b"{not json", headers={"content-type": "application/json"}
        )
    assert_problem(r, 401, "call-unsigned")
    echoes_nothing(r)
    assert r.headers["accept-signature"] == (
        'ledger=("@method" "@path" "@query" "ledger-caller" "ledger-target" "content-digest")'
        ';alg="ed25519";created;nonce;tag="ledger-internal-call"'
    )
    assert_problem(broken, 401, "call-unsigned")


async def test_a_deployment_without_the_grant_is_refused_until_the_genesis_key_grants_it(
    settings: WebSettings,
) -> None:
    async with (
        running(settings) as app,
        caller(app, key_of(settings, "dispatch"), as_=DISPATCH) as c,
    ):
        r = await c.post(PATH, json=ASKED)
        assert_problem(r, 403, "call-not-granted")
        echoes_nothing(r)
        await genesis_writes(
            settings,
            "ledger.registry.calls_granted.v1",
            {"deployment": DISPATCH, "callee": INTAKE, "endpoints": ["redaction"]},
        )
        await asyncio.sleep(0.15)  # past the shortest re-read of the registry on a missing grant
        r = await c.post(PATH, json=ASKED)
        assert r.status_code == 200, r.text


async def test_a_replayed_call_is_refused(settings: WebSettings) -> None:
    async with running(settings) as app, plain(app) as c:
        first = signed_request(
            settings, "http://intake" + PATH, b'{"case": "%s", "text": "x"}' % CASE.encode()
        )
        r1 = await c.send(first)
        assert r1.status_code == 200, r1.text
        again = httpx.Request("POST", first.url, content=first.content, headers=first.headers)
        r2 = await c.send(again)
    assert_problem(r2, 401, "call-replayed")


async def test_a_call_signed_outside_the_window_is_refused(settings: WebSettings) -> None:
    key = key_of(settings, "publication")
    async with running(settings) as app:
        for skew in (-scheme.WINDOW_SECONDS - 30, scheme.WINDOW_SECONDS + 30):
            async with caller(app, key, clock=lambda skew=skew: time.time() + skew) as c:
                r = await c.post(PATH, json=ASKED)
            assert_problem(r, 401, "call-stale")


async def test_a_call_altered_in_transit_is_refused(settings: WebSettings) -> None:
    body = b'{"case": "%s", "text": "x"}' % CASE.encode()
    async with running(settings) as app, plain(app) as c:
        # The body changed under the signed digest.
        r = signed_request(settings, "http://intake" + PATH, body)
        swapped = body.replace(b'"x"', b'"y"')
        altered = httpx.Request("POST", r.url, content=swapped, headers=r.headers)
        assert_problem(await c.send(altered), 401, "call-body-altered")
        # The path: signed for another endpoint, sent to this one.
        r = signed_request(settings, "http://intake/internal/vault", body)
        moved = httpx.Request("POST", "http://intake" + PATH, content=body, headers=r.headers)
        assert_problem(await c.send(moved), 401, "call-signature-invalid")
        # The query.
        r = signed_request(settings, "http://intake" + PATH + "?v=1", body)
        requery = httpx.Request(
            "POST", "http://intake" + PATH + "?v=2", content=body, headers=r.headers
        )
        assert_problem(await c.send(requery), 401, "call-signature-invalid")
        # The named caller.
        r = signed_request(settings, "http://intake" + PATH, body)
        r.headers["ledger-caller"] = DISPATCH
        assert_problem(await c.send(r), 401, "call-key-foreign")
        # The digest recomputed by whoever altered the body: the signature breaks.
        r = signed_request(settings, "http://intake" + PATH, body)
        r.headers["content-digest"] = scheme.ContentDigest.create(swapped)
        redigested = httpx.Request("POST", r.url, content=swapped, headers=r.headers)
        assert_problem(await c.send(redigested), 401, "call-signature-invalid")


async def test_a_revoked_key_is_refused_once_the_revocation_is_read(settings: WebSettings) -> None:
    key = key_of(settings, "publication")
    async with running(settings) as app, caller(app, key) as c:
        assert (await c.post(PATH, json=ASKED)).status_code == 200
        await genesis_writes(
            settings, "ledger.registry.key_revoked.v1", {"kid": key().kid, "reason": "泄露"}
        )
        deadline = time.monotonic() + 5
        while True:
            r = await c.post(PATH, json=ASKED)
            if r.status_code != 200 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
    assert_problem(r, 401, "call-key-revoked")


async def test_keys_that_are_not_the_callers_are_refused(settings: WebSettings) -> None:
    async with running(settings) as app:
        async with caller(app, SigningKey.generate) as c:
            assert_problem(await c.post(PATH, json=ASKED), 401, "call-key-unknown")
        async with caller(app, key_of(settings, "dispatch")) as c:  # dispatch's key, as publication
            assert_problem(await c.post(PATH, json=ASKED), 401, "call-key-foreign")
        other_body = "/bodies/petitions-office/intake"
        async with caller(app, key_of(settings, "publication"), target=other_body) as c:
            assert_problem(await c.post(PATH, json=ASKED), 401, "call-misdirected")


async def test_a_signed_call_with_an_invalid_body_gets_the_masked_422(
    settings: WebSettings,
) -> None:
    async with running(settings) as app, caller(app, key_of(settings, "publication")) as c:
        r = await c.post(PATH, json={"case": PHONE, "text": "x", PHONE: 1})
    body = assert_problem(r, 422, "validation")
    assert PHONE not in r.text
    assert {e["code"] for e in body["errors"]} == {"string_pattern_mismatch", "extra_forbidden"}


async def test_internal_routes_are_not_in_the_public_api_document(settings: WebSettings) -> None:
    async with running(settings) as app, plain(app) as c:
        doc = (await c.get("/openapi.json")).json()
    assert not any(p.startswith("/internal") for p in doc["paths"])


def test_a_real_server_answers_a_signed_call_once(settings: WebSettings) -> None:
    server = start_service("intake", settings.var_dir)
    try:
        auth = SignedCallAuth(key_of(settings, "publication"), caller=PUBLICATION, target=INTAKE)
        with httpx.Client(base_url=server.url, timeout=60) as c:
            request = c.build_request("POST", PATH + "?lang=zh", json=ASKED)
            signed = next(auth.auth_flow(request))
            first = c.send(signed)
            assert first.status_code == 200, first.text
            assert PHONE not in first.json()["text"]
            again = c.send(
                httpx.Request("POST", signed.url, content=signed.content, headers=signed.headers)
            )
            assert_problem(again, 401, "call-replayed")
            unsigned = c.post(PATH, json=ASKED)
            assert_problem(unsigned, 401, "call-unsigned")
    finally:
        server.stop()
    assert PHONE not in server.log_text()
