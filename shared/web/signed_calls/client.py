"""The calling side: an ``httpx`` auth that signs every request with the deployment's key.

The key is taken through a provider on every request (the service writer's key accessor), so
a rotated key signs the next call without a restart; nothing here reads key files.

    async with signed_client("http://127.0.0.1:8001", key=..., caller=..., target=...) as c:
        r = await c.post("/internal/redaction", json={"case": case_id, "text": text})
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import httpx

from shared.crypto.signing import SigningKey
from shared.web.signed_calls import scheme

if TYPE_CHECKING:
    from shared.web.command_path import ServiceWriter

KeyProvider = Callable[[], SigningKey]


class SignedCallAuth(httpx.Auth):
    """Signs each request as ``caller`` for ``target`` (both deployments), with a fresh nonce
    and the current time."""

    requires_request_body = True

    def __init__(
        self,
        key: KeyProvider,
        *,
        caller: str,
        target: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.key = key
        self.caller = caller
        self.target = target
        self.clock = clock

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        scheme.sign(
            request,
            request.content,
            self.key(),
            caller=self.caller,
            target=self.target,
            created=int(self.clock()),
            nonce=scheme.new_nonce(),
        )
        yield request


def signed_client(
    base_url: str, *, key: KeyProvider, caller: str, target: str, **kwargs: Any
) -> httpx.AsyncClient:
    """An async client whose every request is a signed internal call to ``target``."""
    return httpx.AsyncClient(
        base_url=base_url,
        auth=SignedCallAuth(key, caller=caller, target=target),
        **kwargs,
    )


def service_client(
    service: ServiceWriter, base_url: str, *, target: str, **kwargs: Any
) -> httpx.AsyncClient:
    """A service's client for ``target``: signed as its own deployment, with the key its
    writer signs events with (asked per request, so it follows a rotation)."""
    return signed_client(
        base_url, key=service.call_key, caller=service.deployment, target=target, **kwargs
    )
