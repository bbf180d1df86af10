"""The joint conference's routes (联席会议): commands in, minutes out, and the decision's
effect on the cases concerned while the app runs.

API (bearer token, ``Idempotency-Key``): ``POST /conferences`` convenes (dispatch officer of
the convening body); ``POST /conferences/{id}/opinion`` and ``…/opinion/note`` give and explain
the operator's own body's opinion (conference member); ``POST /conferences/{id}/decision``
records the decision (the convener's dispatch officer); ``GET /conferences/{id}`` answers the
minutes record. Pages (zh-CN): ``/conferences`` open conferences with their deadlines and who
has not spoken, ``/conferences/pending`` a member body's pending opinions,
``/conferences/archive`` the minutes archive, ``/conferences/{id}/minutes`` the minutes with
their forms, ``/conferences/{id}/minutes/print`` the printable document (A4).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, NoReturn

from fastapi import APIRouter, Depends, FastAPI, Form, Path, Query, Request
from pydantic import ValidationError
from starlette.responses import Response

from services.dispatch import conference as decisions
from services.dispatch import minutes
from services.dispatch.conference_projection import (
    CONFERENCE_MEMBERS,
    CONFERENCES,
    PENDING,
)
from shared.events.catalog import (
    CONFERENCE_ID_PATTERN,
    BodyDirectory,
    ConfigKind,
    DecisionRule,
    Opinion,
    Tally,
)
from shared.ledger import keystore
from shared.log.factory import open_log
from shared.log.port import StoredRecord
from shared.readside.follower import (
    LogFollower,
    Reactions,
    follow_forever,
    idle,
    running,
    written_here,
)
from shared.readside.projections.case_summary import CASES
from shared.rules.conference import ConferenceState
from shared.rules.stream import StreamState
from shared.settings import LedgerSettings
from shared.store.port import ASC, DESC
from shared.web import Role
from shared.web.auth import require_roles
from shared.web.command_path import CommandAnswer, Ledger, LedgerDep, ServiceWriter
from shared.web.config_in_force import in_force, typed_at
from shared.web.context import IDEMPOTENCY_DISCARD, get_context
from shared.web.idempotency import command
from shared.web.identity import Operator
from shared.web.page_commands import back_to, new_form_key, page_command
from shared.web.pages import SHANGHAI, NavItem, cn_log_time
from shared.web.problems import CONFLICT, NOT_FOUND, VALIDATION, ProblemError
from shared.web.read_your_writes import FreshRead
from shared.web.service_read_model import read_store
from shared.web.sessions import page

ConferenceIdPath = Annotated[str, Path(pattern=CONFERENCE_ID_PATTERN)]
PAGE_SIZE = 50
READERS = (Role.DISPATCH_OFFICER, Role.CONFERENCE_MEMBER)


@asynccontextmanager
async def _while_the_app_runs(app: FastAPI) -> AsyncIterator[None]:
    """The decision's effects follow while the app runs (:class:`ConferenceRulings`)."""
    context = app.state.ledger
    if context.writer is None:
        yield
        return
    reactor = ConferenceRulings(context.settings, context.writer)
    async with running(reactor.run, "dispatch-conference-rulings"):
        yield


router = APIRouter(tags=["conference"], lifespan=_while_the_app_runs)
NAV = (
    NavItem("联席会议", "/conferences", frozenset(READERS)),
    NavItem("待发表意见", "/conferences/pending", frozenset({Role.CONFERENCE_MEMBER})),
    NavItem("会议纪要", "/conferences/archive", frozenset(READERS)),
)


# ---- reading ------------------------------------------------------------------------------


async def body_names(request: Request) -> dict[str, str]:
    """Body id -> name from the body directory in force (empty before its first version)."""
    writer = get_context(request).writer
    if writer is None:
        return {}
    fold = await (await writer.writer()).registry()
    found = typed_at(fold.registry, ConfigKind.body_directory, BodyDirectory)
    return {} if found is None else {b.id: b.name for b in found.content.bodies}


async def _record(request: Request, conference: str) -> dict[str, Any]:
    store = await read_store(request)
    doc = await store.get(CONFERENCES, conference)
    if doc is None:
        raise ProblemError(NOT_FOUND, "没有这次联席会议")
    return {k: v for k, v in doc.items() if k != "_pos"}


def _invalid(request: Request, location: list[str | int], code: str, message: str) -> NoReturn:
    # Invalid content, as a 422 naming the field: the key stays free for the corrected retry.
    request.scope[IDEMPOTENCY_DISCARD] = True
    raise ProblemError(
        VALIDATION,
        "请求内容不符合要求",
        extensions={"errors": [{"location": location, "code": code, "message": message}]},
    )


def _unknown(request: Request, location: list[str | int], reason: str, detail: str) -> NoReturn:
    # Well-formed, but naming what the state in force lacks: a 409 naming the field.
    request.scope[IDEMPOTENCY_DISCARD] = True
    raise ProblemError(CONFLICT, detail, extensions={"reason": reason, "location": location})


async def _check_across_streams(request: Request, cmd: decisions.ConveneConference) -> None:
    """What the conference stream cannot see, checked by its writer: every member is a body of
    the directory in force, every case concerned is a case this service has read."""
    directory = await in_force(request, ConfigKind.body_directory, BodyDirectory)
    bodies = {b.id for b in directory.content.bodies}
    for i, member in enumerate(cmd.members):
        if member not in bodies:
            _unknown(request, ["body", "members", i], "unknown_body", "监督机构名录中没有这个机构")
    store = await read_store(request)
    known = await store.get_many(CASES, cmd.cases)
    for i, case in enumerate(cmd.cases):
        if case not in known:
            _unknown(request, ["body", "cases", i], "unknown_case", "没有这件案件")


# ---- commands -----------------------------------------------------------------------------


async def _convene(
    request: Request, cmd: decisions.ConveneConference, ledger: Ledger
) -> CommandAnswer:
    await _check_across_streams(request, cmd)
    stream = ledger.new_stream("conf")
    body, now = ledger.operator.body, datetime.now(UTC)
    return await ledger.run(stream, lambda st: decisions.convene(st, cmd, ledger.actor, body, now))


@router.post(
    "/conferences",
    status_code=201,
    summary="Convene a joint conference (召集联席会议)",
    dependencies=[Depends(command(Role.DISPATCH_OFFICER))],
)
async def convene_conference(
    request: Request, body: decisions.ConveneConference, ledger: LedgerDep, fresh: FreshRead
) -> CommandAnswer:
    """The cases concerned must be in this service's read model: pass a position
    (``?after=``) to wait for a case filed a moment ago."""
    return await _convene(request, body, ledger)


@router.post(
    "/conferences/{conference_id}/opinion",
    status_code=201,
    summary="Give the operator's body's opinion, once (发表意见)",
    dependencies=[Depends(command(Role.CONFERENCE_MEMBER))],
)
async def give_opinion(
    conference_id: ConferenceIdPath, body: decisions.GiveOpinion, ledger: LedgerDep
) -> CommandAnswer:
    member = ledger.operator.body
    return await ledger.run(
        conference_id, lambda st: decisions.give_opinion(st, body, ledger.actor, member)
    )


@router.post(
    "/conferences/{conference_id}/opinion/note",
    status_code=201,
    summary="Explain an opinion given (补充说明); the opinion itself never changes",
    dependencies=[Depends(command(Role.CONFERENCE_MEMBER))],
)
async def note_opinion(
    conference_id: ConferenceIdPath, body: decisions.NoteOpinion, ledger: LedgerDep
) -> CommandAnswer:
    member = ledger.operator.body
    return await ledger.run(
        conference_id, lambda st: decisions.note_opinion(st, body, ledger.actor, member)
    )


@router.post(
    "/conferences/{conference_id}/decision",
    status_code=201,
    summary="Record the decision: 缺席默认, the tally and the outcome under the rule",
    dependencies=[Depends(command(Role.DISPATCH_OFFICER))],
)
async def record_decision(
    conference_id: ConferenceIdPath, body: decisions.RecordDecision, ledger: LedgerDep
) -> CommandAnswer:
    return await _decide(conference_id, body, ledger)


async def _decide(
    conference_id: str, body: decisions.RecordDecision, ledger: Ledger
) -> CommandAnswer:
    org = ledger.operator.body
    return await ledger.run(
        conference_id, lambda st: decisions.record_decision(st, body, ledger.actor, org)
    )


# ---- pages --------------------------------------------------------------------------------


def _render(request: Request, name: str, context: dict[str, Any]) -> Response:
    return get_context(request).pages.render(request, name, context)


def _labels(names: dict[str, str]) -> dict[str, Any]:
    return {
        "names": names,
        "opinion_labels": minutes.OPINION_LABELS,
        "rule_labels": minutes.RULE_LABELS,
        "outcome_labels": minutes.OUTCOME_LABELS,
        "status_labels": minutes.STATUS_LABELS,
        "beijing": cn_log_time,
        "tally_text": minutes.tally_text,
    }


@router.get("/conferences", include_in_schema=False)
async def open_conferences(
    request: Request, fresh: FreshRead, operator: Operator = Depends(page(*READERS))
) -> Response:
    """联席会议: open conferences by deadline, who has not spoken; the convening form."""
    store = await read_store(request)
    open_ = await store.find(CONFERENCES, {"status": "open"}, sort=[("due", ASC)], limit=200)
    names = await body_names(request)
    return _render(
        request,
        "conference_open.html",
        {
            "conferences": open_,
            "stale": fresh.gave_up,
            "form_key": new_form_key,
            "rules": list(DecisionRule),
            "can_convene": operator.has_any({Role.DISPATCH_OFFICER}),
            **_labels(names),
        },
    )


@router.get("/conferences/pending", include_in_schema=False)
async def pending_opinions(
    request: Request,
    fresh: FreshRead,
    operator: Operator = Depends(page(Role.CONFERENCE_MEMBER)),
) -> Response:
    """待发表意见: the operator's body's pending opinions, nearest deadline first."""
    store = await read_store(request)
    pending = await store.find(
        CONFERENCE_MEMBERS,
        {"member": operator.body, "status": PENDING},
        sort=[("due", ASC)],
        limit=200,
    )
    names = await body_names(request)
    return _render(
        request,
        "conference_pending.html",
        {"pending": pending, "stale": fresh.gave_up, "member": operator.body, **_labels(names)},
    )


@router.get("/conferences/archive", include_in_schema=False)
async def minutes_archive(
    request: Request,
    fresh: FreshRead,
    page_no: Annotated[int, Query(alias="page", ge=1, le=10_000)] = 1,
    operator: Operator = Depends(page(*READERS)),
) -> Response:
    """会议纪要归档: decided conferences, newest decision first, a page of 50."""
    store = await read_store(request)
    where = {"status": "decided"}
    total = await store.count(CONFERENCES, where)
    decided = await store.find(
        CONFERENCES,
        where,
        sort=[("decided_at", DESC)],
        skip=(page_no - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    names = await body_names(request)
    return _render(
        request,
        "conference_archive.html",
        {
            "conferences": decided,
            "total": total,
            "page_no": page_no,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "stale": fresh.gave_up,
            **_labels(names),
        },
    )


@router.get("/conferences/{conference_id}/minutes", include_in_schema=False)
async def minutes_page(
    request: Request,
    conference_id: ConferenceIdPath,
    fresh: FreshRead,
    operator: Operator = Depends(page(*READERS)),
) -> Response:
    """会议纪要: the minutes, with the forms this operator may use."""
    record = await _record(request, conference_id)
    names = await body_names(request)
    given = {o["member"] for o in record["opinions"]}
    member = operator.body
    return _render(
        request,
        "conference_minutes.html",
        {
            "c": record,
            "stale": fresh.gave_up,
            "form_key": new_form_key,
            "opinions": list(Opinion),
            "may_give": operator.has_any({Role.CONFERENCE_MEMBER})
            and record["status"] == "open"
            and member in record["members"]
            and member not in given,
            "may_note": operator.has_any({Role.CONFERENCE_MEMBER}) and member in given,
            "may_decide": operator.has_any({Role.DISPATCH_OFFICER})
            and record["status"] == "open"
            and member == record["convener"],
            "tally_now": _tally(record),
            **_labels(names),
        },
    )


@router.get("/conferences/{conference_id}/minutes/print", include_in_schema=False)
async def minutes_document(
    request: Request,
    conference_id: ConferenceIdPath,
    fresh: FreshRead,
    operator: Operator = Depends(page(*READERS)),
) -> Response:
    """The printable minutes (A4, print CSS): the same record, no navigation, no forms."""
    record = await _record(request, conference_id)
    names = await body_names(request)
    return _render(
        request,
        "conference_minutes_print.html",
        {"c": record, "lines": minutes.minutes_text(record, names), **_labels(names)},
    )


def _tally(record: dict[str, Any]) -> dict[str, int]:
    counts = {"consent": 0, "object": 0, "abstain": 0}
    for o in record["opinions"]:
        counts[o["opinion"]] += 1
    return {**counts, "deemed_consent": len(record["pending"])}


@router.get(
    "/conferences/{conference_id}",
    summary="The conference's minutes record",
    dependencies=[Depends(require_roles(*READERS))],
)
async def conference_record(
    request: Request, conference_id: ConferenceIdPath, fresh: FreshRead
) -> dict[str, Any]:
    return await _record(request, conference_id)


# ---- page forms ---------------------------------------------------------------------------


def _form_model(request: Request, model: type[Any], data: dict[str, Any]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]} or {"body"})
        _invalid(request, ["form", *fields[:1]], "invalid", "表单内容不符合要求")


@router.post("/conferences/new", include_in_schema=False)
async def convene_from_page(
    request: Request,
    ledger: LedgerDep,
    question: Annotated[str, Form(min_length=1, max_length=500)],
    cases: Annotated[str, Form(min_length=1, max_length=4000)],
    opinions_due: Annotated[str, Form(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$")],
    members: Annotated[list[str], Form()],
    rule: Annotated[DecisionRule, Form()] = DecisionRule.majority,
    operator: Operator = Depends(page_command(Role.DISPATCH_OFFICER)),
) -> Response:
    try:
        due = datetime.fromisoformat(opinions_due).replace(tzinfo=SHANGHAI)  # Beijing time
    except ValueError:
        _invalid(request, ["form", "opinions_due"], "invalid", "意见期限不是有效的时间")
    cmd = _form_model(
        request,
        decisions.ConveneConference,
        {
            "members": members,
            "cases": [c.strip() for c in cases.split() if c.strip()],
            "question": question,
            "rule": rule,
            "opinions_due_at": due,
        },
    )
    answer = await _convene(request, cmd, ledger)
    return back_to(f"/conferences/{answer.stream}/minutes", answer.position)


@router.post("/conferences/{conference_id}/opinion-form", include_in_schema=False)
async def opinion_from_page(
    conference_id: ConferenceIdPath,
    ledger: LedgerDep,
    opinion: Annotated[Opinion, Form()],
    text: Annotated[str, Form(max_length=500)] = "",
    operator: Operator = Depends(page_command(Role.CONFERENCE_MEMBER)),
) -> Response:
    answer = await give_opinion(
        conference_id, decisions.GiveOpinion(opinion=opinion, text=text), ledger
    )
    return back_to(f"/conferences/{conference_id}/minutes", answer.position)


@router.post("/conferences/{conference_id}/note-form", include_in_schema=False)
async def note_from_page(
    conference_id: ConferenceIdPath,
    ledger: LedgerDep,
    note: Annotated[str, Form(min_length=1, max_length=500)],
    operator: Operator = Depends(page_command(Role.CONFERENCE_MEMBER)),
) -> Response:
    answer = await note_opinion(conference_id, decisions.NoteOpinion(note=note), ledger)
    return back_to(f"/conferences/{conference_id}/minutes", answer.position)


@router.post("/conferences/{conference_id}/decision-form", include_in_schema=False)
async def decision_from_page(
    conference_id: ConferenceIdPath,
    ledger: LedgerDep,
    decision: Annotated[str, Form(min_length=1, max_length=500)],
    consent: Annotated[int, Form(ge=0, le=30)],
    object_: Annotated[int, Form(alias="object", ge=0, le=30)],
    abstain: Annotated[int, Form(ge=0, le=30)],
    deemed_consent: Annotated[int, Form(ge=0, le=30)],
    absent: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
    operator: Operator = Depends(page_command(Role.DISPATCH_OFFICER)),
) -> Response:
    # The officer decides on the count the page showed: a late opinion makes it stale (409).
    tally = Tally(consent=consent, object=object_, abstain=abstain, deemed_consent=deemed_consent)
    cmd = decisions.RecordDecision(decision=decision, tally=tally, absent_deemed_consent=absent)
    answer = await _decide(conference_id, cmd, ledger)
    return back_to(f"/conferences/{conference_id}/minutes", answer.position)


# ---- the decision's effect on the cases concerned ------------------------------------------


class _Rulings(Reactions):
    """Accepted decisions of conferences convened here, awaiting their ruling on each case
    concerned (one derived id per case)."""

    def __init__(self, deployment: str) -> None:
        super().__init__(lambda env: None, lambda cause: decisions.ruling(cause, cause["subject"]))
        self.deployment = deployment

    def decided(self, rec: StoredRecord, env: dict[str, Any], state: StreamState) -> None:
        event_id = env.get("id", "")
        if self.waiting.pop(event_id, None) is not None and written_here(self._mine, rec, env):
            self.written += 1
        s = state.domain
        if (
            env.get("type") == decisions.DECIDED
            and env.get("source") == self.deployment
            and isinstance(s, ConferenceState)
        ):
            for case in s.cases:
                self.waiting[decisions.ruling_id(event_id, case)] = (case, env)


class ConferenceRulings:
    """Follows the log (conference and case streams) and writes, with this dispatch's key, the
    ruling each accepted decision of a conference it convened calls for on each case
    concerned. Safe beside other processes: same decision and case, same id."""

    def __init__(self, settings: LedgerSettings, writer: ServiceWriter) -> None:
        self.settings = settings
        self.service_writer = writer
        self.rulings = _Rulings(writer.deployment)

    async def run(self, stop: asyncio.Event) -> None:
        await follow_forever(stop, lambda: self._session(stop), "conference rulings", poll=1.0)

    async def _session(self, stop: asyncio.Event) -> None:
        log = await open_log(self.settings)
        try:
            genesis = keystore.genesis_public(self.settings)
            follower = LogFollower(
                log, genesis, frozenset({"conference", "case"}), self.rulings.decided
            )
            await follower.start()
            writer = await self.service_writer.writer()
            while not stop.is_set():
                await follower.catch_up()
                if self.rulings.waiting:
                    await self.rulings.settle(writer, follower)
                else:
                    await idle(stop, 1.0)
        finally:
            await log.close()
