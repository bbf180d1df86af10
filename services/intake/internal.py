"""Intake's internal endpoints: called by other deployments with signed requests
(``shared/web/signed_calls``), never by people, and not in the public API document.

``POST /internal/redaction`` — publication asks for a text of a case with the personal data
replaced by placeholders before it publishes anything (the registry grants publication this
endpoint by default). It answers the redacted text and the replaced spans (kind, offsets,
placeholder: never the data they replaced); it writes nothing. The case's known personal data
comes from the complainant vault once intake keeps one; until then the detectors alone decide.
"""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from shared.events.catalog import CaseId
from shared.redaction import Span, redact
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


@router.post("/redaction", summary="A case's text with its personal data replaced (signed call)")
async def redaction(
    call: Annotated[VerifiedCall, Depends(signed_call("redaction"))],
) -> RedactionAnswer:
    asked = call.json(RedactionRequest)
    # The name recogniser runs a model: off the event loop.
    done = await anyio.to_thread.run_sync(redact, asked.text)
    return RedactionAnswer(case=asked.case, text=done.text, spans=list(done.spans))
