"""Filing a complaint (受理): the one path every channel takes into the log.

A channel (the clerk's form, the public form, e-mail, bulk import, Open311) builds a
:class:`~services.intake.commands.ReceiveComplaint` and calls :func:`file_complaint`: a new case
stream, the tracking code derived from the command's keyed id (a retry gets the same code), the
complainant's keyed pseudonym (under the key the city's intake deployments share), the text
redacted with the complainant's own details (``redaction.py``), and then, in this order:

1. the vault entry (identity, contact, original text, attachments; ``vault.py``) is written
   under the case id — before anything is appended, so no acknowledged complaint lacks it;
2. the decision is appended on the command path, carrying only the redacted text and the
   attachments' hashes and media types.

A retry with the same ``Idempotency-Key`` derives the same case id: it finds the entry already
there (never a second one) and the events already in the log (the first answer). If the append
is refused (nothing written), the entry is deleted at once; if the process dies between the
two, the entry is an orphan nothing leads to, which the expiry run deletes after its grace.
"""

from __future__ import annotations

from fastapi import Request
from pydantic import Field

from services.intake import commands, tracking_code
from services.intake.pseudonym import pseudonym, pseudonym_key_of
from services.intake.redaction import redacted_off_loop
from services.intake.vault import vault_of
from services.intake.vault_content import Held, HeldAttachment
from shared.crash_points import crash_point
from shared.rules.stream import StreamState
from shared.web.command_path import CommandAnswer, Ledger, ServiceWriter
from shared.web.problems import ProblemError


class Receipt(CommandAnswer):
    complaint_no: str = Field(description="投诉编号")
    tracking_code: str = Field(
        description="查询码: shown this once (and to a byte-identical retry); the log keeps "
        "only its hash. The complainant needs it to follow, confirm or dispute the case"
    )


def _held(body: commands.ReceiveComplaint, complaint_no: str) -> Held:
    files = [HeldAttachment.of(a.raw(), a.media_type) for a in body.attachments]
    return Held(
        complaint_no=complaint_no, identity=body.identity(), text=body.text, attachments=files
    )


async def stream_state(service: ServiceWriter, stream: str) -> StreamState:
    """A stream's state at the log head now, as the writer judges it."""
    writer = await service.writer()
    return (await writer.live.tracked(stream, writer.snapshots)).state


async def file_complaint(
    body: commands.ReceiveComplaint, ledger: Ledger, request: Request
) -> Receipt:
    stream = ledger.new_stream("case")
    # The tracking code comes from the command's own keyed id: a retry gets the same code.
    code = tracking_code.from_seed(ledger.event_id(-2))
    contact = body.reachable_at
    who = pseudonym(pseudonym_key_of(request), contact) if contact else None
    number = commands.complaint_no(stream, body.body_code)
    held = _held(body, number)
    redacted = await redacted_off_loop(body.text, held.identity)
    logged = [a.logged() for a in held.attachments]
    vault = await vault_of(request)
    await vault.keep(stream, held)
    crash_point("after_vault_before_append")
    try:
        answer = await ledger.run(
            stream,
            lambda st: commands.receive(
                st,
                body,
                ledger.actor,
                tracking_code.code_hash(code),
                who,
                text=redacted.text,
                attachments=logged,
            ),
        )
    except ProblemError:
        if (await stream_state(ledger.service, stream)).accepted == 0:
            await vault.discard_unfiled(stream)
        raise
    return Receipt(
        **answer.model_dump(),
        complaint_no=number,
        tracking_code=tracking_code.display(code),
    )
