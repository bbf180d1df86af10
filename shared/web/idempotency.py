"""Idempotent commands: ``Depends(command(role, ...))`` on a POST/PUT/PATCH/DELETE route.

Keys are chosen by clients and may be anything (someone will type a phone number), so the
file holds only keyed hashes of them and of the request fingerprint (HMAC under the service's
secret, ``service_secret.py``).

The first request with an ``Idempotency-Key`` claims the key (per operator) in a small SQLite
file; the response it produces is stored and replayed, status and body, to every repeat with
the same key and body, without running the handler again. The same key with another body is a
409. A claim is one row inserted under ``BEGIN IMMEDIATE``, so two concurrent duplicates cannot
both win: the loser waits briefly for the winner's result, then gets a 409 if there is none yet.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import anyio
import anyio.to_thread
import orjson
import structlog
from fastapi import Depends, Header, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.web import sqlite_file
from shared.web.auth import AUTH_MARK, COMMAND_MARK, require_roles
from shared.web.context import IDEMPOTENCY_CLAIM, IDEMPOTENCY_DISCARD, get_context
from shared.web.identity import Operator
from shared.web.problems import (
    IDEMPOTENCY_IN_PROGRESS,
    IDEMPOTENCY_KEY_REUSED,
    UNSUPPORTED_MEDIA_TYPE,
    ProblemError,
)
from shared.web.roles import Role
from shared.web.service_secret import ServiceSecret

log = structlog.get_logger("ledger.web")

REPLAY_HEADER = "Idempotent-Replayed"
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
# Headers of the first response worth replaying; per-response ones (request id, date, cookies)
# are not.
_KEPT_HEADERS = frozenset({"content-type", "location", "etag", "last-modified", "cache-control"})


@dataclass(frozen=True)
class StoredResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class Claimed:
    pass


@dataclass(frozen=True)
class Replay:
    response: StoredResponse


@dataclass(frozen=True)
class Mismatch:
    pass


@dataclass(frozen=True)
class InProgress:
    pass


ClaimOutcome = Claimed | Replay | Mismatch | InProgress

_SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    state TEXT NOT NULL,
    status INTEGER,
    headers TEXT,
    body BLOB,
    created_at REAL NOT NULL,
    locked_until REAL NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency(created_at);
"""


class IdempotencyStore:
    def __init__(
        self,
        path: Path,
        ttl_seconds: float,
        lock_seconds: float,
        clock: Callable[[], float] = time.time,
        *,
        secret: ServiceSecret,
    ) -> None:
        self.path = path
        self.secret = secret
        self.ttl_seconds = ttl_seconds
        self.lock_seconds = lock_seconds
        self.clock = clock
        sqlite_file.create(path, _SCHEMA)

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return sqlite_file.connect(self.path)

    def _key(self, scope: str, key: str) -> str:
        return self.secret.digest("idempotency-key", scope, key)

    def claim(self, scope: str, key: str, fingerprint: str) -> ClaimOutcome:
        now = self.clock()
        key = self._key(scope, key)
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(
                    "DELETE FROM idempotency WHERE created_at < ? AND state = 'done'",
                    (now - self.ttl_seconds,),
                )
                row = db.execute(
                    "SELECT fingerprint, state, status, headers, body, locked_until"
                    " FROM idempotency WHERE scope = ? AND key = ?",
                    (scope, key),
                ).fetchone()
                if row is None:
                    db.execute(
                        "INSERT INTO idempotency(scope, key, fingerprint, state, created_at,"
                        " locked_until) VALUES (?, ?, ?, 'pending', ?, ?)",
                        (scope, key, fingerprint, now, now + self.lock_seconds),
                    )
                    outcome: ClaimOutcome = Claimed()
                elif row[0] != fingerprint:
                    outcome = Mismatch()
                elif row[1] == "done":
                    headers = [(str(k), str(v)) for k, v in orjson.loads(row[3] or "[]")]
                    outcome = Replay(StoredResponse(int(row[2]), headers, bytes(row[4] or b"")))
                elif row[5] < now:
                    # The first attempt died without finishing (crash, kill): take it over.
                    db.execute(
                        "UPDATE idempotency SET locked_until = ? WHERE scope = ? AND key = ?",
                        (now + self.lock_seconds, scope, key),
                    )
                    outcome = Claimed()
                else:
                    outcome = InProgress()
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return outcome

    def complete(self, scope: str, key: str, response: StoredResponse) -> None:
        key = self._key(scope, key)
        with self._connect() as db:
            db.execute(
                "UPDATE idempotency SET state = 'done', status = ?, headers = ?, body = ?,"
                " created_at = ? WHERE scope = ? AND key = ?",
                (
                    response.status,
                    orjson.dumps(response.headers).decode(),
                    response.body,
                    self.clock(),
                    scope,
                    key,
                ),
            )

    def release(self, scope: str, key: str) -> None:
        key = self._key(scope, key)
        with self._connect() as db:
            db.execute(
                "DELETE FROM idempotency WHERE scope = ? AND key = ? AND state = 'pending'",
                (scope, key),
            )


class IdempotentReplay(Exception):
    """Raised by the command dependency to answer with a stored response."""

    def __init__(self, response: StoredResponse) -> None:
        super().__init__("replay")
        self.response = response


async def handle_replay(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, IdempotentReplay)
    stored = exc.response
    response = Response(content=stored.body, status_code=stored.status)
    for name, value in stored.headers:
        response.headers[name] = value
    response.headers[REPLAY_HEADER] = "true"
    return response


def fingerprint(request: Request, body: bytes, secret: ServiceSecret) -> str:
    """Same request = same method, path, query and body (JSON compared as data, so key order and
    whitespace do not matter); keyed, since the body may be short and personal."""
    try:
        canonical = orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS) if body else b""
    except orjson.JSONDecodeError:
        canonical = body
    return secret.digest(
        "idempotency-fingerprint", request.method, request.url.path, request.url.query, canonical
    )


async def claim_or_answer(request: Request, scope_key: str, key: str, fp: str) -> None:
    """Claim ``key`` for this request, or answer for it: the stored response (a replay), 409
    for another body, 409 in-progress after waiting for a concurrent twin. Shared by signed-in
    commands and the public kit's anonymous submissions."""
    ctx = get_context(request)
    store = ctx.idempotency
    deadline = time.monotonic() + ctx.settings.idempotency_wait_seconds
    delay = 0.02
    while True:
        outcome = await anyio.to_thread.run_sync(store.claim, scope_key, key, fp)
        if isinstance(outcome, Claimed):
            request.scope[IDEMPOTENCY_CLAIM] = (scope_key, key)
            return
        if isinstance(outcome, Replay):
            log.info("command.replayed")
            raise IdempotentReplay(outcome.response)
        if isinstance(outcome, Mismatch):
            raise ProblemError(IDEMPOTENCY_KEY_REUSED, "同一幂等键只能用于同一请求内容")
        if time.monotonic() >= deadline:
            raise ProblemError(IDEMPOTENCY_IN_PROGRESS, headers={"Retry-After": "1"})
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.25)


async def json_body(request: Request) -> bytes:
    body = await request.body()
    if body and not _is_json(request.headers.get("content-type", "")):
        raise ProblemError(UNSUPPORTED_MEDIA_TYPE, "请求体应为 application/json")
    return body


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def command(*roles: Role | str) -> Callable[..., Any]:
    """A command route's one dependency: signed in (bearer), holding one of ``roles``, with an
    ``Idempotency-Key``. Returns the :class:`Operator`."""
    role_check = require_roles(*roles)

    async def dependency(
        request: Request,
        idempotency_key: Annotated[
            str,
            Header(
                alias="Idempotency-Key",
                pattern=KEY_PATTERN,
                description="Client-chosen key (1–255 visible ASCII characters). A repeat with "
                "the same key and body returns the first result; another body gets 409.",
            ),
        ],
        operator: Operator = Depends(role_check),
    ) -> Operator:
        body = await json_body(request)
        secret = get_context(request).secret
        await claim_or_answer(
            request, operator.staff_id, idempotency_key, fingerprint(request, body, secret)
        )
        return operator

    setattr(dependency, AUTH_MARK, "bearer")
    setattr(dependency, COMMAND_MARK, True)
    dependency.__name__ = "command_" + "_".join(sorted(str(r) for r in roles) or ["any"])
    return dependency


class IdempotencyMiddleware:
    """Stores the response of a claimed command before its last byte leaves, so a retry that
    follows the response can only find the stored result; frees the key when the command did
    not complete (server error, invalid body, exception)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        status = 0
        headers: list[tuple[str, str]] = []
        chunks: list[bytes] = []
        finished = False

        async def store_or_release() -> None:
            claim = scope.get(IDEMPOTENCY_CLAIM)
            if not claim:
                return
            ctx_store = scope["app"].state.ledger.idempotency
            scope_key, key = claim
            if scope.get(IDEMPOTENCY_DISCARD) or status >= 500 or not status:
                await anyio.to_thread.run_sync(ctx_store.release, scope_key, key)
            else:
                stored = StoredResponse(status, headers, b"".join(chunks))
                await anyio.to_thread.run_sync(ctx_store.complete, scope_key, key, stored)

        async def send_wrapper(message: Message) -> None:
            nonlocal status, finished
            if scope.get(IDEMPOTENCY_CLAIM):
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    headers.extend(_kept(message.get("headers", [])))
                elif message["type"] == "http.response.body":
                    chunks.append(bytes(message.get("body", b"")))
                    if not message.get("more_body", False) and not finished:
                        finished = True
                        await store_or_release()
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except BaseException:
            if scope.get(IDEMPOTENCY_CLAIM) and not finished:
                finished = True
                status = 500
                # Shielded: a cancelled request must still free its key.
                with anyio.CancelScope(shield=True):
                    await store_or_release()
            raise
        if not finished:
            finished = True
            await store_or_release()


def _kept(raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    out = []
    for name, value in raw:
        n = name.decode("latin-1").lower()
        if n in _KEPT_HEADERS:
            out.append((n, value.decode("latin-1")))
    return out
