"""CSRF protection for forms.

Signed-in forms use a synchronizer token: a random value stored with the session on the
server, rendered into each form, and compared on every unsafe request. Forms without a session
(the sign-in form, citizens' forms) use the public kit's tokens, bound on the server to the
visitor cookie and the form (``public_kit.py``).
"""

from __future__ import annotations

import hmac

from starlette.requests import Request

from shared.web.problems import CSRF, ProblemError

FORM_FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def tokens_match(expected: str | None, submitted: str | None) -> bool:
    if not expected or not submitted:
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())


async def submitted_token(request: Request) -> str | None:
    header = request.headers.get(HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        # Starlette caches the parsed form, so the endpoint can still read it afterwards.
        form = await request.form()
        value = form.get(FORM_FIELD)
        return value if isinstance(value, str) else None
    return None


async def verify(request: Request, expected: str | None) -> None:
    if not tokens_match(expected, await submitted_token(request)):
        raise ProblemError(CSRF)
