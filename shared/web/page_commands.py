"""Commands from signed-in pages: a form that changes the log, safely retried.

``Depends(page_command(role))`` on the POST a page's form submits: the session and its CSRF
token (``page(...)``), and the form's own ``form_key`` (a fresh UUID rendered into each form,
:func:`new_form_key`) as the idempotency key, so a double click or a resubmitted form files once
and gets the first answer. The route then hands the command path a :data:`LedgerDep` as an API
command does, and answers with a redirect back to the page (``?after=`` the command's position,
so the page shows its effect).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from starlette.responses import RedirectResponse

from shared.web.auth import AUTH_MARK
from shared.web.context import get_context
from shared.web.idempotency import claim_or_answer, fingerprint
from shared.web.identity import Operator
from shared.web.problems import IDEMPOTENCY_KEY_REQUIRED, ProblemError
from shared.web.public_kit import UUID_PATTERN
from shared.web.roles import Role
from shared.web.sessions import page

FORM_KEY = "form_key"
_UUID = re.compile(UUID_PATTERN)


def new_form_key() -> str:
    return str(uuid.uuid4())


def page_command(*roles: Role | str) -> Callable[..., Any]:
    signed_in = page(*roles)

    async def dependency(request: Request, operator: Operator = Depends(signed_in)) -> Operator:
        fields = await request.form()
        key = fields.get(FORM_KEY)
        if not isinstance(key, str) or not _UUID.match(key):
            raise ProblemError(IDEMPOTENCY_KEY_REQUIRED, "表单缺少提交编号，请刷新页面后重新提交")
        body = urlencode(
            sorted((k, v) for k, v in fields.multi_items() if isinstance(v, str))
        ).encode()
        secret = get_context(request).secret
        await claim_or_answer(
            request, operator.staff_id, "page:" + key.lower(), fingerprint(request, body, secret)
        )
        return operator

    setattr(dependency, AUTH_MARK, "session")
    dependency.__name__ = "page_command_" + "_".join(sorted(str(r) for r in roles) or ["any"])
    return dependency


def back_to(path: str, position: Mapping[str, int]) -> RedirectResponse:
    """303 to ``path``, waiting there for the command's position (read-your-writes)."""
    after = ",".join(f"{p}:{n}" for p, n in sorted(position.items()))
    return RedirectResponse(f"{path}?{urlencode({'after': after})}", status_code=303)
