"""Who received it: the receiving body of a complaint, from the body directory in force.

A deployment records complaints only for the bodies it acts for (the registry's ``acts_for``;
the rule book refuses any other ``received_by`` too). With a body directory in force the body
must be in it, and its ``code`` goes into the complaint number (``TS<code>-<12 hex>``), so
numbers stay unique when several bodies run intake on one log. :func:`receiving_body` is the
pure check; :func:`settle` fills a command in from the request (a 422 problem, writing nothing,
for a body that is not ours or not in the directory).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from services.intake.commands import ReceiveComplaint
from shared.events.catalog import BodyDirectory, ConfigKind
from shared.rules.act import COMPLAINANT, UNIT_PREFIX
from shared.web.config_in_force import typed_at
from shared.web.context import IDEMPOTENCY_DISCARD, get_context
from shared.web.problems import VALIDATION, ProblemError


@dataclass(frozen=True)
class NotOurBody(Exception):
    code: str  # unknown_body | not_acted_for


def receiving_body(
    body: str,
    directory: BodyDirectory | None,
    acts_for: Callable[[str], bool],
) -> str | None:
    """The body's number code (None without a directory or a code), or :class:`NotOurBody`."""
    if body == COMPLAINANT or body.startswith(UNIT_PREFIX) or not acts_for(body):
        raise NotOurBody("not_acted_for")
    if directory is None:
        return None
    entry = next((b for b in directory.bodies if b.id == body), None)
    if entry is None:
        raise NotOurBody("unknown_body")
    return entry.code


MESSAGES = {
    "unknown_body": "监督机构名录（现行版本）中没有这个机构",
    "not_acted_for": "本部署不代表该机构受理投诉",
}


def invalid_field(
    request: Request, where: tuple[str | int, ...], code: str, message: str
) -> ProblemError:
    """A 422 naming the field, never its value; the idempotency key stays free for a retry."""
    request.scope[IDEMPOTENCY_DISCARD] = True
    error = {"location": list(where), "code": code, "message": message}
    return ProblemError(VALIDATION, message, extensions={"errors": [error]})


def refuse(request: Request, code: str, where: tuple[str | int, ...]) -> ProblemError:
    return invalid_field(request, where, code, MESSAGES[code])


async def bodies_we_receive_for(request: Request) -> list[tuple[str, str]]:
    """(id, name) of the directory's bodies this deployment acts for (for the clerk's form)."""
    writer = get_context(request).writer
    assert writer is not None
    registry = (await (await writer.writer()).registry()).registry
    found = typed_at(registry, ConfigKind.body_directory, BodyDirectory)
    if found is None:
        return []
    directory = found.content
    return [
        (b.id, b.name) for b in directory.bodies if registry.may_act_for(writer.deployment, b.id)
    ]


async def settle(
    request: Request, body: ReceiveComplaint, default_body: str, where: tuple[str, ...] = ("body",)
) -> ReceiveComplaint:
    """The command with its receiving body checked and its number code set."""
    writer = get_context(request).writer
    assert writer is not None
    registry = (await (await writer.writer()).registry()).registry
    found = typed_at(registry, ConfigKind.body_directory, BodyDirectory)
    directory = found.content if found is not None else None
    stated = body.received_by or default_body
    try:
        code = receiving_body(
            stated, directory, lambda b: registry.may_act_for(writer.deployment, b)
        )
    except NotOurBody as refusal:
        if body.received_by is None:
            # The operator's own body, which this deployment does not act for: the command
            # path refuses the actor itself (409 foreign_key), as for any act of theirs.
            return body.model_copy(update={"received_by": stated, "body_code": None})
        raise refuse(request, refusal.code, (*where, "received_by")) from None
    return body.model_copy(update={"received_by": stated, "body_code": code})
