"""The staff directory (人员名录): who a staff id is, and the posts they held, when.

Kept OUTSIDE the log, in oversight's durable store (collection ``staff_directory``, one entry
per staff id), because names are personal data and never enter the log: events name officials
by a stable staff id only. Repeat offences and leadership responsibility go by that id, so a
clerk moved to another window or unit keeps one history. Erasing an entry (PIPL) deletes it
here and nothing in the log, which stays verifiable.

Maintained through the admin page (``/staff``) and an import of CSV (one row per post held:
``staff_id,name,unit,post,start,end``; rows of one staff id make one entry) or JSON Lines (one
entry per line, this module's ``StaffEntry``). An imported entry replaces the stored one for its
staff id. A file with any bad line writes nothing, and the refusal names the line numbers only.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, File, Path, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from starlette.responses import RedirectResponse, Response

from shared.durable.port import DurableStore
from shared.events.catalog import OrgId, StaffId
from shared.web import Role
from shared.web.auth import require_roles
from shared.web.context import get_context
from shared.web.identity import Operator
from shared.web.page_commands import new_form_key, page_command
from shared.web.problems import NOT_FOUND, VALIDATION, ProblemError
from shared.web.sessions import page

STAFF = "staff_directory"
MAX_IMPORT_BYTES = 8 * 1024 * 1024
CSV_COLUMNS = ("staff_id", "name", "unit", "post", "start", "end")
StaffIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9._-]{1,40}$")]


class PostHeld(BaseModel):
    """One post held: at which unit, from ``start`` to ``end`` (inclusive; None: still held)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    unit: OrgId
    post: Annotated[str, Field(min_length=1, max_length=80)]
    start: date
    end: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> PostHeld:
        if self.end is not None and self.end < self.start:
            raise ValueError("a post ends on or after its start")
        return self

    def held_on(self, unit: str, post: str, day: date) -> bool:
        ends = self.end or date.max
        return self.unit == unit and self.post == post and self.start <= day <= ends


class StaffEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    staff_id: StaffId
    name: Annotated[str, Field(min_length=1, max_length=60)]
    posts: Annotated[list[PostHeld], Field(max_length=100)] = []


# -- pure ------------------------------------------------------------------------------------


def holder_at(entries: Iterable[StaffEntry], unit: str, post: str, day: date) -> str | None:
    """The staff id holding ``post`` at ``unit`` on ``day`` (the one who took it up last, if
    the directory shows an overlap), or None when the directory shows nobody."""
    held = [(p.start, e.staff_id) for e in entries for p in e.posts if p.held_on(unit, post, day)]
    return max(held)[1] if held else None


class ImportRejected(Exception):
    """Lines (1-based) that are not valid entries; never their content."""

    def __init__(self, lines: list[int]) -> None:
        super().__init__("invalid lines")
        self.lines = lines


def parse_csv(text: str) -> list[StaffEntry]:
    rows = csv.DictReader(io.StringIO(text))
    if rows.fieldnames is None or tuple(f.strip() for f in rows.fieldnames) != CSV_COLUMNS:
        raise ImportRejected([1])
    grouped: dict[str, dict[str, Any]] = {}
    bad: list[int] = []
    for n, row in enumerate(rows, start=2):
        cells = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
        try:
            post = PostHeld.model_validate(
                {
                    "unit": cells["unit"],
                    "post": cells["post"],
                    "start": cells["start"],
                    "end": cells["end"] or None,
                }
            )
        except (ValidationError, KeyError):
            bad.append(n)
            continue
        entry = grouped.setdefault(
            cells["staff_id"], {"name": cells["name"], "posts": [], "lines": []}
        )
        if entry["name"] != cells["name"]:
            bad.append(n)
        entry["posts"].append(post)
        entry["lines"].append(n)
    entries = []
    for staff_id, e in grouped.items():
        try:
            entries.append(StaffEntry(staff_id=staff_id, name=e["name"], posts=e["posts"]))
        except ValidationError:
            bad += e["lines"]
    if bad:
        raise ImportRejected(sorted(set(bad)))
    return entries


def parse_jsonl(text: str) -> list[StaffEntry]:
    entries, bad = [], []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entries.append(StaffEntry.model_validate(orjson.loads(line)))
        except (ValidationError, orjson.JSONDecodeError):
            bad.append(n)
    if bad:
        raise ImportRejected(bad)
    return entries


def parse_import(data: bytes, filename: str) -> list[StaffEntry]:
    """Entries from an import file: JSON Lines when it is named ``*.jsonl``, else CSV."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRejected([1]) from None
    return parse_jsonl(text) if filename.lower().endswith(".jsonl") else parse_csv(text)


# -- the store -------------------------------------------------------------------------------


class StaffDirectory:
    def __init__(self, store: DurableStore) -> None:
        self.store = store

    async def get(self, staff_id: str) -> StaffEntry | None:
        entry = await self.store.get(STAFF, staff_id)
        return StaffEntry.model_validate(entry.value) if entry is not None else None

    async def put_all(self, entries: Iterable[StaffEntry]) -> int:
        n = 0
        for e in entries:
            await self.store.put(STAFF, e.staff_id, e.model_dump(mode="json"))
            n += 1
        return n

    async def erase(self, staff_id: str) -> bool:
        """Erasure (PIPL): the entry goes; the log, which never held the name, is untouched."""
        return await self.store.delete(STAFF, staff_id)

    async def all(self) -> list[StaffEntry]:
        out: list[StaffEntry] = []
        after: str | None = None
        while True:
            page_ = await self.store.scan(STAFF, after=after)
            out += [StaffEntry.model_validate(e.value) for e in page_]
            if not page_:
                return out
            after = page_[-1].key


async def directory(request: Request) -> StaffDirectory:
    durable = get_context(request).durable
    assert durable is not None, "oversight keeps its staff directory in its durable store"
    return StaffDirectory(await durable.store())


# -- routes ----------------------------------------------------------------------------------

router = APIRouter(tags=["staff directory"])


class Imported(BaseModel):
    imported: int


def _rejected(exc: ImportRejected) -> ProblemError:
    return ProblemError(
        VALIDATION,
        "导入文件有误，未导入任何记录",
        extensions={"lines": exc.lines[:50], "columns": list(CSV_COLUMNS)},
    )


async def _import(request: Request, file: UploadFile) -> int:
    data = await file.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise ProblemError(VALIDATION, "导入文件不超过 8 MiB")
    try:
        entries = parse_import(data, file.filename or "")
    except ImportRejected as exc:
        raise _rejected(exc) from None
    return await (await directory(request)).put_all(entries)


@router.post(
    "/staff-directory/import",
    status_code=201,
    summary="人员名录导入: CSV (staff_id,name,unit,post,start,end) or JSON Lines (*.jsonl)",
)
async def import_directory(
    request: Request,
    file: Annotated[UploadFile, File()],
    _: Operator = Depends(require_roles(Role.ADMIN)),
) -> Imported:
    return Imported(imported=await _import(request, file))


@router.get("/staff-directory/{staff_id}", summary="One directory entry: name and posts held")
async def get_entry(
    request: Request, staff_id: StaffIdPath, _: Operator = Depends(require_roles(Role.ADMIN))
) -> StaffEntry:
    entry = await (await directory(request)).get(staff_id)
    if entry is None:
        raise ProblemError(NOT_FOUND, "名录中没有该工号")
    return entry


@router.post(
    "/staff-directory/{staff_id}/erasure",
    status_code=204,
    summary="Erase a directory entry (PIPL): the log is untouched and stays verifiable",
)
async def erase_entry(
    request: Request, staff_id: StaffIdPath, _: Operator = Depends(require_roles(Role.ADMIN))
) -> Response:
    if not await (await directory(request)).erase(staff_id):
        raise ProblemError(NOT_FOUND, "名录中没有该工号")
    return Response(status_code=204)


@router.get("/staff", include_in_schema=False)
async def staff_page(request: Request, _: Operator = Depends(page(Role.ADMIN))) -> Response:
    """人员名录: every entry with its posts; the import form; erasure."""
    entries = sorted(await (await directory(request)).all(), key=lambda e: e.staff_id)
    return get_context(request).pages.render(
        request,
        "oversight_staff.html",
        {"entries": entries, "form_key": new_form_key, "columns": ",".join(CSV_COLUMNS)},
    )


@router.post("/staff/import", include_in_schema=False)
async def import_from_page(
    request: Request,
    file: Annotated[UploadFile, File()],
    _: Operator = Depends(page_command(Role.ADMIN)),
) -> Response:
    await _import(request, file)
    return RedirectResponse("/staff", status_code=303)


@router.post("/staff/{staff_id}/erasure", include_in_schema=False)
async def erase_from_page(
    request: Request, staff_id: StaffIdPath, _: Operator = Depends(page_command(Role.ADMIN))
) -> Response:
    await (await directory(request)).erase(staff_id)
    return RedirectResponse("/staff", status_code=303)
