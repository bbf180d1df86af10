"""A complainant's proof: the complaint number and its tracking code (the follow-up page, the
withdrawal page and the vault's rights requests all take it).

Wrong codes are counted per complaint number (5 an hour) and per client (20 an hour); beyond
that a request is refused with 429 before anything is looked up. Every mismatch — no such
number, a wrong code, a proof the caller's own check refuses — is the same failure, counted.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from fastapi import Request

from services.intake import tracking_code
from services.intake.projection import COMPLAINTS
from shared.store.port import Doc
from shared.web.context import get_context
from shared.web.ratelimit import RateLimits, client_address, too_many
from shared.web.service_read_model import read_store

FAILURES_PER_COMPLAINT = RateLimits.parse("5/hour")
FAILURES_PER_CLIENT = RateLimits.parse("20/hour")


def code_matches(doc: Doc, code_hash: str) -> bool:
    """The plain proof: the typed code's hash is the complaint's (compared in constant time)."""
    return hmac.compare_digest(str(doc["tracking_code_hash"]), code_hash)


async def proven_complaint(
    request: Request,
    complaint_no: str,
    code: str,
    holds: Callable[[Doc, str], bool] = code_matches,
) -> Doc | None:
    """Intake's document of the complaint the number and code open (``holds`` judges the
    proof, given the typed code's hash); None, with the failure counted, for any mismatch."""
    ctx = get_context(request)
    number_key = ctx.secret.digest("tracking-complaint", complaint_no)
    client_key = ctx.secret.digest("tracking-client", client_address(request))
    limits = ctx.rate_limits
    for items, key in ((FAILURES_PER_COMPLAINT, number_key), (FAILURES_PER_CLIENT, client_key)):
        refusal = await limits.exhausted(items, "tracking-failures", key)
        if refusal is not None:
            raise too_many(refusal, "查询码错误次数过多，请稍后再试")
    store = await read_store(request)
    found = await store.find(COMPLAINTS, {"complaint_no": complaint_no}, limit=1)
    canonical = tracking_code.normalize(code)
    typed_hash = tracking_code.code_hash(canonical) if canonical else ""
    if found and holds(found[0], typed_hash):
        return found[0]
    await limits.spend(FAILURES_PER_COMPLAINT, "tracking-failures", number_key)
    await limits.spend(FAILURES_PER_CLIENT, "tracking-failures", client_key)
    return None
