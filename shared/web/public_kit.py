"""The public-endpoint kit: what a route needs to take something from a citizen without an
account, safely.

- **Visitor cookie and form tokens.** An anonymous visitor gets a random visitor id (HttpOnly,
  SameSite=Lax cookie). Every anonymous form carries a token the server binds to that visitor
  and to the form: ``<expiry>.<nonce>.<HMAC(service secret, form, visitor, expiry, nonce)>``.
  A post without the visitor's own token — a cross-site post, a stale form, a token copied from
  another browser or another form — is refused with 403 ``csrf``. Nothing is written when a form
  is shown, so viewing pages cannot fill a table.
- **Idempotent submissions.** The form token doubles as the submission's idempotency key: the
  first post files and its response is stored; a double click or a retry with the same token
  gets the stored response (same receipt) and files nothing. JSON clients send an
  ``Idempotency-Key`` that must be a UUID (an unguessable key, so nobody can fetch another
  citizen's receipt by guessing theirs); the key is stored only as a keyed hash.
- **Per-client rate limits** (``LEDGER_PUBLIC_RATE_LIMIT``, ``ratelimit.py``): beyond them, a
  429 problem with ``Retry-After``.
- **A public layout** (``public_base.html``) with its own navigation, shown to everyone.

Declare ``Depends(public_page)`` on a public GET page (rate-limited), ``Depends(public_form(
"name"))`` on the POST that a form submits, ``Depends(public_command())`` on a JSON
submission. Each counts as ``public`` for the start-up route audit.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Header, Request
from starlette.responses import HTMLResponse

from shared.web import csrf
from shared.web.auth import AUTH_MARK, COMMAND_MARK
from shared.web.context import get_context
from shared.web.idempotency import claim_or_answer, fingerprint, json_body
from shared.web.problems import CSRF, ProblemError
from shared.web.ratelimit import RateLimits, client_address, too_many

FORM_FIELD = csrf.FORM_FIELD  # one field name on every form, signed in or not
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


def visitor_cookie(service: str) -> str:
    return f"ledger_{service}_visitor"


def visitor_of(request: Request) -> str | None:
    value = request.cookies.get(visitor_cookie(get_context(request).service))
    return value if value and 20 <= len(value) <= 64 else None


def issue_form_token(request: Request, form: str, visitor: str) -> str:
    ctx = get_context(request)
    expires = str(int(time.time()) + ctx.settings.public_form_ttl_seconds)
    nonce = secrets.token_urlsafe(16)
    mac = ctx.secret.digest("form-token", form, visitor, expires, nonce)
    return f"{expires}.{nonce}.{mac}"


def form_token_valid(request: Request, form: str, visitor: str | None, token: Any) -> bool:
    if not visitor or not isinstance(token, str) or len(token) > 200:
        return False
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit():
        return False
    expires, nonce, mac = parts
    if int(expires) < time.time():
        return False
    expected = get_context(request).secret.digest("form-token", form, visitor, expires, nonce)
    return hmac.compare_digest(expected, mac)


def render_form(
    request: Request,
    template: str,
    form: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render a page holding an anonymous form: a fresh token bound to this visitor (whom it
    gives a visitor cookie first, if they have none) is in the context as ``form_token``."""
    ctx = get_context(request)
    visitor = visitor_of(request)
    new_visitor = visitor is None
    if visitor is None:
        visitor = secrets.token_urlsafe(32)
    full = {"form_token": issue_form_token(request, form, visitor), **(context or {})}
    response = ctx.pages.render(request, template, full, status_code=status_code, headers=headers)
    if new_visitor:
        response.set_cookie(
            visitor_cookie(ctx.service),
            visitor,
            path="/",
            httponly=True,
            samesite="lax",
            secure=ctx.settings.cookie_secure,
        )
    return response


async def spend_public_limit(request: Request) -> None:
    ctx = get_context(request)
    items = RateLimits.parse(ctx.settings.public_rate_limit)
    client = ctx.secret.digest("public-client", client_address(request))
    refusal = await ctx.rate_limits.spend(items, "public", client)
    if refusal is not None:
        raise too_many(refusal, "请求过于频繁，请稍后再试")


async def public_page(request: Request) -> None:
    """A public GET page (a form, a receipt, a status page): open, and rate-limited."""
    await spend_public_limit(request)


setattr(public_page, AUTH_MARK, "public")


def public_form(form: str) -> Callable[..., Any]:
    """The POST an anonymous form submits: rate-limited, its token bound to this visitor and
    form, and filed once per token (repeats get the first response)."""

    async def dependency(request: Request) -> None:
        await spend_public_limit(request)
        # FastAPI has already parsed the form (the stream is gone); Starlette keeps it.
        fields = await request.form()
        submitted = fields.get(FORM_FIELD)
        if not form_token_valid(request, form, visitor_of(request), submitted):
            raise ProblemError(CSRF)
        assert isinstance(submitted, str)
        # Same submission = same fields, in any order (files by name and size).
        body = urlencode(
            sorted(
                (name, value if isinstance(value, str) else f"{value.filename}:{value.size}")
                for name, value in fields.multi_items()
            )
        ).encode()
        secret = get_context(request).secret
        await claim_or_answer(
            request, "form:" + form, submitted, fingerprint(request, body, secret)
        )

    setattr(dependency, AUTH_MARK, "public")
    dependency.__name__ = "public_form_" + form.replace("-", "_")
    return dependency


def public_command() -> Callable[..., Any]:
    """An anonymous JSON submission: rate-limited, with an ``Idempotency-Key`` that is a UUID."""

    async def dependency(
        request: Request,
        idempotency_key: Annotated[
            str,
            Header(
                alias="Idempotency-Key",
                pattern=UUID_PATTERN,
                description="A fresh UUID per submission. A repeat with the same key and body "
                "returns the first result; another body gets 409.",
            ),
        ],
    ) -> None:
        await spend_public_limit(request)
        body = await json_body(request)
        secret = get_context(request).secret
        await claim_or_answer(
            request, "public", idempotency_key.lower(), fingerprint(request, body, secret)
        )

    setattr(dependency, AUTH_MARK, "public")
    setattr(dependency, COMMAND_MARK, True)
    dependency.__name__ = "public_command"
    return dependency
