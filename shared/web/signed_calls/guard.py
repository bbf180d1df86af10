"""The called side: a FastAPI dependency that admits a signed internal call or refuses it with
its own problem type, checked against the registry the service already keeps.

``Depends(signed_call("redaction"))`` on a route (the route's access mark, in place of sign-in)
gives the handler a :class:`VerifiedCall`: the calling deployment and the exact body bytes it
signed. The checks, each refusal a 401 (403 for a missing grant) problem that echoes nothing:

1. the request carries our signature (``call-unsigned``), in our shape
   (``call-signature-malformed``);
2. ``created`` is within ±``WINDOW_SECONDS`` of this service's clock (``call-stale``);
3. the key id is registered (``call-key-unknown``), not revoked at the registry version now
   (``call-key-revoked``), and belongs to the deployment ``Ledger-Caller`` names
   (``call-key-foreign``);
4. the signature verifies (``call-signature-invalid``), was made for this deployment
   (``call-misdirected``), and the body matches its signed digest (``call-body-altered``);
5. the registry grants the caller this endpoint of this deployment (``call-not-granted``);
6. the nonce is new within the window (``call-replayed``): remembered only for calls that
   passed every other check, so refused requests fill nothing.

The registry is the service's own live one (the projector's fold, else its writer's), read
again when it is older than ``registry_max_age`` and, at most every ``MIN_REFRESH_SECONDS``,
when a key id or a grant is not found (a key registered or a grant made a moment ago).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from shared.rules.registry import Registry
from shared.web.auth import AUTH_MARK
from shared.web.context import get_context
from shared.web.problems import (
    BUSY,
    CALL_BODY_ALTERED,
    CALL_KEY_FOREIGN,
    CALL_KEY_REVOKED,
    CALL_KEY_UNKNOWN,
    CALL_MISDIRECTED,
    CALL_NOT_GRANTED,
    CALL_REPLAYED,
    CALL_SIGNATURE_INVALID,
    CALL_SIGNATURE_MALFORMED,
    CALL_STALE,
    CALL_UNSIGNED,
    ProblemError,
    ProblemType,
)
from shared.web.signed_calls import scheme
from shared.web.signed_calls.nonces import NonceStore, NonceStoreFull
from shared.web.signed_calls.scheme import CallRefused, Claim, Refusal

NONCES_FILE = "call-nonces.sqlite3"
REGISTRY_MAX_AGE_SECONDS = 1.0
MIN_REFRESH_SECONDS = 0.1
SIGNED_CALL_ACCESS = "signed-call"

PROBLEM_OF: dict[Refusal, ProblemType] = {
    Refusal.unsigned: CALL_UNSIGNED,
    Refusal.malformed: CALL_SIGNATURE_MALFORMED,
    Refusal.stale: CALL_STALE,
    Refusal.key_unknown: CALL_KEY_UNKNOWN,
    Refusal.key_revoked: CALL_KEY_REVOKED,
    Refusal.key_foreign: CALL_KEY_FOREIGN,
    Refusal.signature_invalid: CALL_SIGNATURE_INVALID,
    Refusal.misdirected: CALL_MISDIRECTED,
    Refusal.body_altered: CALL_BODY_ALTERED,
    Refusal.not_granted: CALL_NOT_GRANTED,
    Refusal.replayed: CALL_REPLAYED,
}

RegistrySource = Callable[[bool], Awaitable[Registry]]
"""The current registry; ``True`` asks for it read again from the log first."""

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class VerifiedCall:
    caller: str  # the calling deployment
    kid: str
    endpoint: str
    body: bytes  # exactly the bytes the caller signed

    def json(self, model: type[M]) -> M:
        """The body as ``model``; invalid, the usual masked 422 problem."""
        try:
            return model.model_validate_json(self.body)
        except ValidationError as exc:
            errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
            raise RequestValidationError(errors) from None


@dataclass(frozen=True)
class _Request:
    """The request as the signature library reads it: the path and query exactly as sent."""

    method: str
    url: str
    headers: Any


def as_message(request: Request) -> _Request:
    raw = request.scope.get("raw_path") or request.scope["path"].encode()
    query = request.scope.get("query_string", b"")
    url = (
        "http://internal" + raw.decode("latin-1") + ("?" + query.decode("latin-1") if query else "")
    )
    return _Request(request.method, url, request.headers)


class SignedCallGuard:
    """The checks of one called deployment (``me``) against its registry and replay store."""

    def __init__(
        self,
        me: str,
        registry: RegistrySource,
        nonces: NonceStore,
        *,
        clock: Callable[[], float] = time.time,
        window: int = scheme.WINDOW_SECONDS,
        registry_max_age: float = REGISTRY_MAX_AGE_SECONDS,
    ) -> None:
        self.me = me
        self._registry = registry
        self.nonces = nonces
        self.clock = clock
        self.window = window
        self.registry_max_age = registry_max_age
        self._read_at = float("-inf")

    async def _current(self, *, missing: bool = False) -> Registry:
        now = self.clock()
        age = now - self._read_at
        refresh = age >= self.registry_max_age or (missing and age >= MIN_REFRESH_SECONDS)
        registry = await self._registry(refresh)
        if refresh:
            self._read_at = now
        return registry

    async def admit(self, request: Request, endpoint: str) -> VerifiedCall:
        try:
            return await self._admit(request, endpoint)
        except CallRefused as refused:  # logged as request.refused with the problem's type
            problem = PROBLEM_OF[refused.reason]
            headers = {"Accept-Signature": scheme.ACCEPT_SIGNATURE} if problem.status == 401 else {}
            raise ProblemError(problem, headers=headers) from None

    async def _admit(self, request: Request, endpoint: str) -> VerifiedCall:
        claim = scheme.read_claim(request.headers)
        now = self.clock()
        scheme.check_time(claim, now, self.window)
        registry = await self._key_holder(claim)
        entry = registry.keys[claim.kid]
        body = await request.body()
        scheme.verify(as_message(request), body, claim, entry.public, me=self.me)
        if not registry.may_call(claim.caller, self.me, endpoint, registry.version):
            registry = await self._current(missing=True)
            if not registry.may_call(claim.caller, self.me, endpoint, registry.version):
                raise CallRefused(Refusal.not_granted)
        await self._first_use(claim, int(now))
        return VerifiedCall(claim.caller, claim.kid, endpoint, body)

    async def _key_holder(self, claim: Claim) -> Registry:
        """The registry, read again if it does not hold the key yet; the key valid now."""
        registry = await self._current()
        if claim.kid not in registry.keys:
            registry = await self._current(missing=True)
        entry = registry.keys.get(claim.kid)
        if entry is None:
            raise CallRefused(Refusal.key_unknown)
        if registry.key_at(claim.kid, registry.version) is None:
            raise CallRefused(Refusal.key_revoked)
        if entry.deployment != claim.caller:
            raise CallRefused(Refusal.key_foreign)
        return registry

    async def _first_use(self, claim: Claim, now: int) -> None:
        expires = claim.created + self.window + 1
        try:
            fresh = await anyio.to_thread.run_sync(
                lambda: self.nonces.first_use(claim.kid, claim.nonce, expires=expires, now=now)
            )
        except NonceStoreFull:
            raise ProblemError(
                BUSY, "内部调用过多，请稍后重试", headers={"Retry-After": "5"}
            ) from None
        if not fresh:
            raise CallRefused(Refusal.replayed)


def guard_for(request: Request) -> SignedCallGuard:
    """The app's guard, made on first use: the service's own deployment and live registry
    (through its writer), and its replay store under its var directory."""
    guard: SignedCallGuard | None = getattr(request.app.state, "signed_calls", None)
    if guard is None:
        ctx = get_context(request)
        service = ctx.writer
        if service is None:
            raise RuntimeError(f"{ctx.service} declares no deployment: it cannot take signed calls")

        async def registry(refresh: bool) -> Registry:
            writer = await service.writer()
            return (await writer.registry(refresh=refresh)).registry

        nonces = NonceStore(ctx.settings.service_dir(ctx.service) / NONCES_FILE)
        guard = SignedCallGuard(service.deployment, registry, nonces)
        request.app.state.signed_calls = guard
    return guard


def signed_call(endpoint: str) -> Callable[[Request], Awaitable[VerifiedCall]]:
    """Route dependency: admit only a call signed by a deployment the registry grants
    ``endpoint`` of this one (the route's access mark: no sign-in, no operator)."""

    async def dependency(request: Request) -> VerifiedCall:
        return await guard_for(request).admit(request, endpoint)

    setattr(dependency, AUTH_MARK, SIGNED_CALL_ACCESS)
    dependency.__name__ = f"signed_call_{endpoint}"
    return dependency
