"""Filing a complaint (受理): the one path every channel takes into the log.

A channel (the clerk's form, the public form, e-mail, bulk import, Open311) builds a
:class:`~services.intake.commands.ReceiveComplaint` and calls :func:`file_complaint`: a new case
stream, the tracking code derived from the command's keyed id (a retry gets the same code), the
complainant's keyed pseudonym, and the decision appended on the command path.
"""

from __future__ import annotations

from fastapi import Request
from pydantic import Field

from services.intake import commands, tracking_code
from services.intake.pseudonym import pseudonym
from shared.web.command_path import CommandAnswer, Ledger
from shared.web.context import get_context


class Receipt(CommandAnswer):
    complaint_no: str = Field(description="投诉编号")
    tracking_code: str = Field(
        description="查询码: shown this once (and to a byte-identical retry); the log keeps "
        "only its hash. The complainant needs it to follow, confirm or dispute the case"
    )


async def file_complaint(
    body: commands.ReceiveComplaint, ledger: Ledger, request: Request
) -> Receipt:
    stream = ledger.new_stream("case")
    # The tracking code comes from the command's own keyed id: a retry gets the same code.
    code = tracking_code.from_seed(ledger.event_id(-2))
    who = pseudonym(get_context(request).secret, body.contact) if body.contact else None
    answer = await ledger.run(
        stream,
        lambda st: commands.receive(st, body, ledger.actor, tracking_code.code_hash(code), who),
    )
    return Receipt(
        **answer.model_dump(),
        complaint_no=commands.complaint_no(stream, body.body_code),
        tracking_code=tracking_code.display(code),
    )
