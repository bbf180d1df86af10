"""Intake's internal endpoints: called by other deployments with signed requests
(``shared/web/signed_calls``), never by people, and not in the public API document.

``POST /internal/redaction`` — publication asks for a text of a case with the personal data
replaced by placeholders before it publishes anything. Only a signed call the registry grants
(by default, publication's alone) reaches it, and only **for a case publication may publish**:
one intake filed, that a supervisor has closed (``handling.closed``) and that is not
confidential, as the log holds it now (intake's own fold of the case stream, not a read model).
Any other case id — unknown, still open, withdrawn, declined, merged, confidential — is
refused alike with 403 ``call-case-out-of-scope``, which tells nothing about which. The text is
redacted with what the case's vault entry knows for certain (the complainant's name, phone,
e-mail, ID number, address, contact) and the shared detectors. It answers the redacted text
and the replaced spans (kind, offsets, placeholder: never the data they replaced); it writes
nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from services.intake.receipt import stream_state
from services.intake.redaction import redacted_off_loop
from services.intake.vault import vault_of
from services.intake.vault_content import Identity
from shared.events.catalog import CaseId
from shared.redaction import Span
from shared.rules.case import CLOSED, CaseState
from shared.web.context import get_context
from shared.web.problems import CALL_CASE_OUT_OF_SCOPE, ProblemError
from shared.web.signed_calls import VerifiedCall, signed_call

router = APIRouter(prefix="/internal", tags=["internal"], include_in_schema=False)


class RedactionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case: CaseId
    text: Annotated[str, Field(max_length=20_000)]


class RedactionAnswer(BaseModel):
    case: str
    text: str = Field(description="The text with typed placeholders (【姓名1】, 【手机号】…)")
    spans: list[Span]


def publishable(case: CaseState) -> bool:
    """The cases publication may ask about: closed, and not confidential."""
    return case.status == CLOSED and not case.confidential


@router.post("/redaction", summary="A case's text with its personal data replaced (signed call)")
async def redaction(
    call: Annotated[VerifiedCall, Depends(signed_call("redaction"))], request: Request
) -> RedactionAnswer:
    asked = call.json(RedactionRequest)
    writer = get_context(request).writer
    assert writer is not None
    state = await stream_state(writer, asked.case)
    if not isinstance(state.domain, CaseState) or not publishable(state.domain):
        raise ProblemError(CALL_CASE_OUT_OF_SCOPE)
    held = await (await vault_of(request)).read(asked.case)
    done = await redacted_off_loop(asked.text, held.identity if held else Identity())
    return RedactionAnswer(case=asked.case, text=done.text, spans=list(done.spans))
