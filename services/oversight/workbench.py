"""承办工作台: the units under supervision, signed in (staff id, unit), act on their own cases.

Every route here acts for a unit handler's own unit, on a case that unit is on (lead or
co-unit): the case is looked up in the command path's live state, and a case that is not the
unit's — another unit's, or none at all — is 404 ``not-found``, the same answer either way, and
nothing is written. Oversight signs each event and names the unit and the officer (actor
``unit:<id>/<staff id>``). Nothing shown to a unit names the complainant: the views carry the
case's number, category, state and clocks, never the complainant's pseudonym or contact.

The workbench records when it first showed a unit its assignment (``handling.first_shown``),
once per unit per round of handling (an assignment; a reopen's fresh due times start a new
round): the id derives from case, unit and round, so a second view or a race writes nothing
more. Each case shows the unit's own due time and the working days left before it, on the
calendar in force.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import structlog
from fastapi import APIRouter, Depends, File, Form, Path, Request, UploadFile
from pydantic import BaseModel, ValidationError
from starlette.responses import Response

from services.oversight import commands, evidence
from services.oversight.api import WORKING, unit_actor, unit_of
from services.oversight.closing import answer_due_in_force
from services.oversight.dashboard_projection import DASHBOARD
from services.oversight.projection import OVERSIGHT_CASES
from services.oversight.workbench_commands import (
    MAX_EXTENSION_WORKING_DAYS,
    NoteProgress,
    RequestExtension,
    note_progress,
    record_first_shown,
    request_extension,
    with_evidence,
)
from services.oversight.workbench_projection import (
    WORKBENCH_CASES,
    WORKBENCH_UNITS,
    first_shown_at,
)
from services.oversight.working_days_left import working_days_left
from shared.calendar import SHANGHAI, TimeLimit, WorkingCalendar, due_at
from shared.calendar_shelf import shelf
from shared.events.catalog import CalendarVersion, ConfigKind
from shared.ledger.signer import Draft
from shared.ledger.writer import Refused
from shared.readside.projections.case_summary import CASES
from shared.rules.act import micros
from shared.rules.case import NEW, CaseState
from shared.rules.stream import StreamState
from shared.store.port import ASC, DESC, DocumentStore
from shared.web import Role
from shared.web.auth import require_roles
from shared.web.calendar_in_force import calendar_in_force
from shared.web.command_path import CommandAnswer, Ledger, LedgerDep, Refusal
from shared.web.config_in_force import in_force
from shared.web.context import get_context
from shared.web.idempotency import command
from shared.web.identity import Operator
from shared.web.page_commands import back_to, new_form_key, page_command
from shared.web.problems import CONFLICT, NOT_FOUND, VALIDATION, ProblemError
from shared.web.read_your_writes import FreshRead
from shared.web.service_read_model import CaseIdPath, read_store
from shared.web.sessions import page

router = APIRouter(tags=["workbench"])
log = structlog.get_logger("ledger.oversight")

# One dependency object per way in, so a route and its case check share one sign-in.
unit_command = command(Role.UNIT_HANDLER)
unit_form = page_command(Role.UNIT_HANDLER)
unit_page = page(Role.UNIT_HANDLER)
unit_reader = require_roles(Role.UNIT_HANDLER)

NOT_YOURS = "没有这件投诉，或该件不由本单位办理"
LISTED = 100


@dataclass(frozen=True)
class UnitCase:
    """A case the signed-in unit is on, as the command path holds it now."""

    case_id: str
    unit: str
    actor: str
    state: CaseState


async def _live(request: Request, case_id: str) -> StreamState:
    service = get_context(request).writer
    assert service is not None
    writer = await service.writer()
    return (await writer.live.tracked(case_id, writer.snapshots)).state


def on_case(case: CaseState, unit: str) -> bool:
    """Whether ``unit`` is on the case (assigned, lead or co-unit)."""
    return case.clock(unit) is not None


async def case_of_unit(
    request: Request,
    case_id: str,
    operator: Operator,
    admits: Callable[[CaseState, str], bool] = on_case,
    refusal: str = NOT_YOURS,
) -> UnitCase:
    """The case as the signed-in unit may see it: 404 unless ``admits`` lets the unit in (the
    same answer for another unit's case and for none)."""
    unit = unit_of(operator)
    case = (await _live(request, case_id)).domain
    if not isinstance(case, CaseState) or case.status == NEW or not admits(case, unit):
        raise ProblemError(NOT_FOUND, refusal)
    return UnitCase(case_id, unit, unit_actor(operator), case)


async def own_case_command(
    request: Request, case_id: CaseIdPath, operator: Operator = Depends(unit_command)
) -> UnitCase:
    return await case_of_unit(request, case_id, operator)


async def own_case_form(
    request: Request, case_id: CaseIdPath, operator: Operator = Depends(unit_form)
) -> UnitCase:
    return await case_of_unit(request, case_id, operator)


async def own_case_read(
    request: Request, case_id: CaseIdPath, operator: Operator = Depends(unit_reader)
) -> UnitCase:
    return await case_of_unit(request, case_id, operator)


OwnCommand = Annotated[UnitCase, Depends(own_case_command)]
OwnForm = Annotated[UnitCase, Depends(own_case_form)]
OwnRead = Annotated[UnitCase, Depends(own_case_read)]


# -- what a unit is shown ------------------------------------------------------------------------


class WorkbenchCase(BaseModel):
    """One case as its unit sees it: no complainant, no text; the unit's own clock."""

    case_id: str
    complaint_no: str | None
    category: str | None
    status: str
    lead: bool
    due_at: str | None
    working_days_left: int | None
    overdue: bool
    assigned_at: str | None
    first_shown_at: str | None
    acknowledged: bool
    replies: int


async def countdown_calendar(request: Request) -> WorkingCalendar | None:
    """The working calendar the published version names, if this service's shelf holds it;
    None otherwise: the page then shows no count (acts use :func:`calendar_in_force`, which
    refuses instead)."""
    named = await in_force(request, ConfigKind.calendar, CalendarVersion)
    return shelf().named(named.content.version)


def _iso(log_time: int | None) -> str | None:
    if log_time is None:
        return None
    at = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=log_time)
    return at.astimezone(SHANGHAI).isoformat()


def _view(
    case_id: str,
    unit: str,
    summary: Mapping[str, Any],
    facts: Mapping[str, Any] | None,
    bench: Mapping[str, Any] | None,
    clock_due: str | None,
    now: datetime,
    cal: WorkingCalendar | None,
) -> WorkbenchCase:
    due = clock_due if clock_due is not None else summary.get("due_at")
    left = None
    if due is not None and cal is not None:
        due_time = datetime.fromisoformat(due.replace("Z", "+00:00"))
        left = working_days_left(now, due_time, cal)
    return WorkbenchCase(
        case_id=case_id,
        complaint_no=(facts or {}).get("complaint_no"),
        category=(facts or {}).get("category"),
        status=str(summary.get("status")),
        lead=summary.get("lead_unit") == unit,
        due_at=due,
        working_days_left=left,
        overdue=due is not None and micros(due) <= int(now.timestamp() * 1_000_000),
        assigned_at=_iso((bench or {}).get("assigned_at")),
        first_shown_at=_iso(first_shown_at(bench, unit)),
        acknowledged=unit in (facts or {}).get("acknowledged", ()),
        replies=int((facts or {}).get("replies") or 0),
    )


async def _record_shown(request: Request, case_ids: Sequence[str], unit: str, actor: str) -> None:
    """Record the first showing of each case's current round that has none yet, and wait
    (bounded) for the read model to hold it. A log that cannot take it now leaves the page as
    it is: the next view records it."""
    ctx = get_context(request)
    assert ctx.writer is not None
    target: dict[int, int] = {}
    try:
        writer = await ctx.writer.signing_writer()
        for case_id in case_ids:
            result = await writer.submit(case_id, lambda st: record_first_shown(st, unit, actor))
            for w in result.written:
                if w.verdict.accepted and w.position is not None:
                    p = w.position
                    target[p.partition] = max(target.get(p.partition, 0), p.offset + 1)
    except ProblemError as exc:
        log.warning("workbench.first_shown_deferred", problem=exc.problem.slug)
    if target:
        if ctx.writer.on_appended is not None:
            ctx.writer.on_appended()
        if ctx.served is not None:
            await ctx.served.wait_for(target, ctx.settings.read_your_writes_seconds)


async def _unit_rows(
    request: Request, store: DocumentStore, unit: str, actor: str
) -> tuple[list[WorkbenchCase], list[dict[str, Any]]]:
    """The unit's cases in handling (by due time; the first showing recorded), and the ones
    it recently finished."""
    mine = await store.find(
        CASES,
        {"lead_unit": unit, "status": {"$in": WORKING}},
        sort=[("due_at", ASC)],
        limit=LISTED,
    )
    co = await co_unit_cases(store, unit)
    mine = sorted([*mine, *co], key=lambda c: str(c.get("due_at") or ""))[:LISTED]
    ids = [str(c["_id"]) for c in mine]
    bench = await store.get_many(WORKBENCH_CASES, ids)
    unseen = [
        i
        for i, c in zip(ids, mine, strict=True)
        if c["status"] == "assigned" and first_shown_at(bench.get(i), unit) is None
    ]
    if unseen:
        await _record_shown(request, unseen, unit, actor)
        bench = await store.get_many(WORKBENCH_CASES, ids)
    facts = await store.get_many(OVERSIGHT_CASES, ids)
    now, cal = datetime.now(UTC), await countdown_calendar(request)
    rows = [
        _view(i, unit, c, facts.get(i), bench.get(i), c.get("unit_due_at"), now, cal)
        for i, c in zip(ids, mine, strict=True)
    ]
    done = await store.find(
        CASES,
        {"lead_unit": unit, "status": {"$in": ["resolved", "closed"]}},
        sort=[("last_at", DESC)],
        limit=20,
    )
    done_facts = await store.get_many(OVERSIGHT_CASES, [str(c["_id"]) for c in done])
    finished = [
        {
            "complaint_no": done_facts.get(str(c["_id"]), {}).get("complaint_no"),
            "category": done_facts.get(str(c["_id"]), {}).get("category"),
            "status": c["status"],
        }
        for c in done
    ]
    return rows, finished


async def co_unit_cases(store: DocumentStore, unit: str) -> list[dict[str, Any]]:
    """The cases in handling the unit is on as a co-unit (协办): its memberships
    (``workbench_units``), each case's summary, and the unit's own due time (``unit_due_at``,
    from the case's clocks on the dashboard's document)."""
    on = await store.find(WORKBENCH_UNITS, {"unit": unit, "on": True, "lead": False}, limit=LISTED)
    ids = [str(m["case"]) for m in on]
    summaries, clocks = await store.get_many(CASES, ids), await store.get_many(DASHBOARD, ids)
    rows = []
    for i in ids:
        summary = summaries.get(i)
        if summary is None or summary.get("status") not in WORKING:
            continue
        due = next(
            (k["due_at"] for k in (clocks.get(i) or {}).get("clocks", ()) if k["unit"] == unit),
            summary.get("due_at"),
        )
        rows.append({**summary, "unit_due_at": due})
    return rows


@router.get("/workbench", include_in_schema=False)
async def workbench_page(
    request: Request, fresh: FreshRead, operator: Operator = Depends(unit_page)
) -> Response:
    """承办工作台: the unit's cases, each with its first showing, due time and working days left,
    and what the unit may do on it."""
    store = await read_store(request)
    unit = unit_of(operator)
    rows, done = await _unit_rows(request, store, unit, unit_actor(operator))
    return get_context(request).pages.render(
        request,
        "oversight_workbench.html",
        {
            "unit": unit,
            "rows": rows,
            "done": done,
            "stale": fresh.gave_up,
            "form_key": new_form_key,
            "max_files": evidence.MAX_FILES,
            "max_file_mb": evidence.MAX_FILE_BYTES // (1024 * 1024),
            "max_extension": MAX_EXTENSION_WORKING_DAYS,
        },
    )


@router.get(
    "/workbench/cases",
    summary="本单位在办: the unit's cases in handling (their first showing recorded)",
)
async def unit_cases(
    request: Request, fresh: FreshRead, operator: Operator = Depends(unit_reader)
) -> list[WorkbenchCase]:
    store = await read_store(request)
    rows, _ = await _unit_rows(request, store, unit_of(operator), unit_actor(operator))
    return rows


@router.get(
    "/workbench/cases/{case_id}",
    summary="One of the unit's cases, with its own due time and working days left",
)
async def unit_case(request: Request, own: OwnRead, fresh: FreshRead) -> WorkbenchCase:
    if own.state.status == "assigned":
        await _record_shown(request, [own.case_id], own.unit, own.actor)
    store = await read_store(request)
    summary = await store.get(CASES, own.case_id) or {"status": own.state.status}
    facts = await store.get(OVERSIGHT_CASES, own.case_id)
    bench = await store.get(WORKBENCH_CASES, own.case_id)
    clock = own.state.clock(own.unit)
    assert clock is not None
    view = _view(
        own.case_id,
        own.unit,
        {**summary, "status": own.state.status, "lead_unit": own.state.lead_unit},
        facts,
        bench,
        clock.due_at,
        datetime.now(UTC),
        await countdown_calendar(request),
    )
    return view


# -- what a unit does (the API) ------------------------------------------------------------------


@router.post(
    "/workbench/cases/{case_id}/acknowledgement",
    status_code=201,
    summary="签收: the unit signs for the case (the clock runs from assignment regardless)",
)
async def acknowledge(own: OwnCommand, ledger: LedgerDep) -> CommandAnswer:
    return await ledger.run(own.case_id, lambda st: commands.acknowledge(st, own.unit, own.actor))


@router.post(
    "/workbench/cases/{case_id}/replies", status_code=201, summary="答复: the unit's reply"
)
async def reply(own: OwnCommand, body: commands.Reply, ledger: LedgerDep) -> CommandAnswer:
    return await ledger.run(own.case_id, lambda st: commands.reply(st, own.unit, body, own.actor))


@router.post(
    "/workbench/cases/{case_id}/progress",
    status_code=201,
    summary="进展: the unit notes its progress (its clock keeps running)",
)
async def progress(own: OwnCommand, body: NoteProgress, ledger: LedgerDep) -> CommandAnswer:
    return await ledger.run(own.case_id, lambda st: note_progress(st, own.unit, body, own.actor))


@router.post(
    "/workbench/cases/{case_id}/resolution-claim",
    status_code=201,
    summary="报办结: the unit claims resolution, with evidence files; the complainant is asked",
)
async def claim_resolution(
    request: Request, own: OwnCommand, body: evidence.ClaimWithEvidence, ledger: LedgerDep
) -> CommandAnswer:
    files = evidence.of_uploads(body.evidence)
    return await _claim(request, own, body.summary, files, ledger)


@router.post(
    "/workbench/cases/{case_id}/extension-request",
    status_code=201,
    summary="申请延期: the unit asks for more working days; a supervisor rules",
)
async def extension_request(
    request: Request, own: OwnCommand, body: RequestExtension, ledger: LedgerDep
) -> CommandAnswer:
    return await _extension(request, own, body, ledger)


@router.post(
    "/workbench/cases/{case_id}/return-request",
    status_code=201,
    summary="退单申请: the unit asks to return the case, with a reason; its clock keeps running",
)
async def return_request(
    own: OwnCommand, body: commands.RequestReturn, ledger: LedgerDep
) -> CommandAnswer:
    return await ledger.run(
        own.case_id, lambda st: commands.request_return(st, own.unit, body, own.actor)
    )


Decide = Callable[[StreamState], list[Draft]]


async def _would_be_accepted(
    request: Request, case_id: str, decide: Decide, ledger: Ledger
) -> None:
    """Judge the command as the command path will, writing nothing: so that evidence files are
    kept only for a claim the rule book takes (a claim refused keeps none). A retry of a claim
    already in the log passes: the command path answers it from there."""
    service = get_context(request).writer
    assert service is not None
    writer = await service.signing_writer()
    t = await writer.live.tracked(case_id, writer.snapshots)
    if ledger.event_id(0) in t.state.seen_ids:
        return
    try:
        drafts = decide(t.state)
    except Refusal as exc:
        raise ProblemError(
            CONFLICT, exc.detail, extensions={"reason": exc.reason, "stream": case_id}
        ) from None
    judged = writer.sign_checked(t, drafts)
    if isinstance(judged, Refused):
        verdict = next(w.verdict for w in judged.written if not w.verdict.accepted)
        raise ProblemError(
            CONFLICT,
            f"规则校验未通过（{verdict.reason}），未写入账本",
            extensions={"reason": str(verdict.reason), "stream": case_id},
        )


async def _claim(
    request: Request,
    own: UnitCase,
    summary: str,
    files: Sequence[evidence.EvidenceFile],
    ledger: Ledger,
) -> CommandAnswer:
    answer = await answer_due_in_force(request, datetime.now(UTC))  # 回访, as configured
    cmd = commands.ClaimResolution(summary=summary)
    hashes = [f.sha256 for f in files]

    def decide(st: StreamState) -> list[Draft]:
        drafts = commands.claim_resolution(st, own.unit, cmd, own.actor, answer.at.isoformat())
        return with_evidence(drafts, hashes)

    if files:
        await _would_be_accepted(request, own.case_id, decide, ledger)
        durable = get_context(request).durable
        assert durable is not None
        await evidence.keep(await durable.store(), own.case_id, own.unit, files)
    return await ledger.run(own.case_id, decide)


async def _extension(
    request: Request, own: UnitCase, body: RequestExtension, ledger: Ledger
) -> CommandAnswer:
    """The unit's due time moved on by the working days asked, on the calendar in force."""
    clock = own.state.clock(own.unit)
    assert clock is not None
    last_day = datetime.fromisoformat(clock.due_at.replace("Z", "+00:00")) - timedelta(seconds=1)
    cal = await calendar_in_force(request)
    until = due_at(last_day, TimeLimit(amount=body.working_days), cal).at.isoformat()
    return await ledger.run(
        own.case_id, lambda st: request_extension(st, own.unit, body, own.actor, until)
    )


# -- the same acts from the page's forms ---------------------------------------------------------

FormAct = Literal[
    "acknowledgement",
    "replies",
    "progress",
    "resolution-claim",
    "extension-request",
    "return-request",
]
_NEEDS_TEXT = {
    "replies": "请填写答复内容",
    "progress": "请填写办理进展",
    "resolution-claim": "请填写办结情况",
    "extension-request": "请填写延期理由",
    "return-request": "请填写退单理由",
}


def _form_model(model: type[BaseModel], fields: dict[str, Any], what: str) -> Any:
    try:
        return model.model_validate(fields)
    except ValidationError:
        raise ProblemError(VALIDATION, what) from None


async def _files(uploads: Sequence[UploadFile]) -> list[evidence.EvidenceFile]:
    """The form's files (an empty file input sends none), checked."""
    sent: list[tuple[str, bytes]] = []
    for f in uploads:
        raw = await f.read()
        if not f.filename and not raw:
            continue
        sent.append((f.content_type or "", raw))
    return evidence.checked(sent)


@router.post("/workbench/{case_id}/{act}", include_in_schema=False)
async def workbench_form(
    request: Request,
    own: OwnForm,
    act: Annotated[FormAct, Path()],
    ledger: LedgerDep,
    text: Annotated[str, Form(max_length=20_000)] = "",
    working_days: Annotated[str, Form(max_length=4)] = "",
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    if act in _NEEDS_TEXT and not text.strip():
        raise ProblemError(VALIDATION, _NEEDS_TEXT[act])
    if act == "acknowledgement":
        answer = await ledger.run(
            own.case_id, lambda st: commands.acknowledge(st, own.unit, own.actor)
        )
    elif act == "replies":
        body = commands.Reply(text=text)
        answer = await ledger.run(
            own.case_id, lambda st: commands.reply(st, own.unit, body, own.actor)
        )
    elif act == "progress":
        note = _form_model(NoteProgress, {"note": text}, "进展不超过500字")
        answer = await ledger.run(
            own.case_id, lambda st: note_progress(st, own.unit, note, own.actor)
        )
    elif act == "return-request":
        ask = _form_model(commands.RequestReturn, {"reason": text}, "退单理由不超过500字")
        answer = await ledger.run(
            own.case_id, lambda st: commands.request_return(st, own.unit, ask, own.actor)
        )
    elif act == "extension-request":
        days = int(working_days) if working_days.strip().isdigit() else 0
        extension = _form_model(
            RequestExtension,
            {"working_days": days, "reason": text},
            "延期天数须为1至60个工作日，理由不超过500字",
        )
        answer = await _extension(request, own, extension, ledger)
    else:
        answer = await _claim(request, own, text, await _files(files or []), ledger)
    return back_to("/workbench", answer.position)
