"""Open311 GeoReport v2 at ``/open311/v2/``, so existing civic-reporting clients can file.

- ``GET services.{json|xml}``: one service per category of the configured list (the service
  code is the category code); ``GET services/{code}.{json|xml}``: its definition, with the one
  attribute we read, ``unit`` (被投诉单位, the unit complained about, resolved against the unit
  directory like every channel's).
- ``POST requests.{json|xml}`` (form-encoded, the spec's field names): ``api_key`` (required),
  ``service_code``, ``description``, ``lat`` + ``long`` or ``address_string`` (one of them is
  required; the location joins the text, where redaction treats an address as personal data),
  ``email``/``phone`` (the contact: only its keyed pseudonym enters the log), ``first_name``/
  ``last_name`` (kept in the vault with the contact, never logged), ``attribute[unit]``. The
  answer is the spec's ``service_request_id`` (the complaint number) and a ``service_notice``.
  The tracking code is never sent to a client: Open311 has no field for it, and the number is
  what its status lookups use. A byte-identical repost by the same client within the
  idempotency window gets the first answer and files nothing.
- ``GET requests.{json|xml}`` and ``GET requests/{id}.{json|xml}``: status fields only —
  ``service_request_id``, ``status`` (open/closed), ``status_notes``, ``service_code``,
  ``service_name``, ``requested_datetime``, ``updated_datetime`` — never the text; only
  complaints filed through Open311.
- Errors in the spec's format (``[{"code", "description"}]``, ``<errors><error>…``): 400 for a
  missing or bad field (naming the field, never its value), 403 for a missing or unknown key,
  404 for an unknown request or service. Rate limits (429), sizes (413) and the rest are
  problem+json, as everywhere.

API keys: an administrator of the intake deployment issues one per client
(``POST /admin/open311/keys`` ``{"client": "name"}``, the key shown once; only its keyed hash is
kept, in the durable store) and revokes it (``POST /admin/open311/keys/{client}/revoke``). The
client's name is the complaint's ``platform`` and the filing is signed as
``<body>/open311.<client>``.
"""

from __future__ import annotations

import re
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse, Response

from services.intake import category
from services.intake.commands import COMPLAINT_NO_PATTERN
from services.intake.filing import ChannelLedger, Stated, file_stated, filled
from services.intake.projection import COMPLAINTS
from shared.events.catalog import Channel
from shared.readside.projections.case_summary import CASES
from shared.rules.case import OPEN
from shared.store.port import DESC
from shared.web.auth import AUTH_MARK, require_roles
from shared.web.context import get_context
from shared.web.idempotency import claim_or_answer, fingerprint
from shared.web.known_query import OPEN_QUERY
from shared.web.problems import METHOD_NOT_ALLOWED, ProblemError
from shared.web.public_kit import spend_public_limit
from shared.web.roles import Role

router = APIRouter(prefix="/open311/v2", tags=["open311"])
admin = APIRouter(tags=["open311"])

Format = Literal["json", "xml"]
KEYS = "open311_keys"  # durable: keyed hash of the key -> {client, revoked}
CLIENTS = "open311_clients"  # durable: client -> the hash of its current key
ClientName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,29}$")]
UNIT_ATTRIBUTE = "unit"
MAX_FIELD = 20_000
# status_notes: the case state in words
STATES = {
    "received": "已受理",
    "merged": "已并案",
    "assigned": "办理中",
    "claimed": "待确认",
    "disputed": "有异议",
    "resolved": "已解决",
    "closed": "已办结",
    "declined": "不予受理",
    "withdrawn": "已撤回",
}
_ID_RE = re.compile(COMPLAINT_NO_PATTERN)


def documented(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI description of an Open311 route: JSON or XML answers (2xx) and the spec's
    error lists (4xx)."""
    both: dict[str, Any] = {"application/json": {}, "text/xml": {}}
    return {
        code: {"description": "OK" if code < 400 else "Open311 error list", "content": both}
        for code in codes
    }


async def open311_public(request: Request) -> None:
    """Open311 endpoints are open (keys are checked by the POST itself), and rate-limited."""
    await spend_public_limit(request)


setattr(open311_public, AUTH_MARK, "public")


# -- answers in either format --------------------------------------------------------------------


def _xml(root: str, item: str, rows: Sequence[Mapping[str, Any]]) -> bytes:
    top = ET.Element(root)
    for row in rows:
        el = ET.SubElement(top, item)
        _fill(el, row)
    return b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="utf-8")


def _fill(el: ET.Element, row: Mapping[str, Any]) -> None:
    for key, value in row.items():
        child = ET.SubElement(el, key)
        if isinstance(value, bool):
            child.text = "true" if value else "false"
        elif isinstance(value, Mapping):
            _fill(child, value)
        elif isinstance(value, list):
            for v in value:
                sub = ET.SubElement(child, key.rstrip("s") or key)
                if isinstance(v, Mapping):
                    _fill(sub, v)
                else:
                    sub.text = str(v)
        elif value is not None:
            child.text = str(value)


def answer(
    fmt: Format,
    root: str,
    item: str,
    rows: Sequence[Mapping[str, Any]],
    status: int = 200,
    *,
    single: bool = False,
) -> Response:
    if fmt == "xml":
        if single:
            top = ET.Element(root)
            _fill(top, rows[0])
            body = b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="utf-8")
        else:
            body = _xml(root, item, rows)
        return Response(body, status_code=status, media_type="text/xml; charset=utf-8")
    return JSONResponse(rows[0] if single else list(rows), status_code=status)


def error(fmt: Format, code: int, description: str) -> Response:
    """The spec's error format: a list of {code, description}."""
    return answer(fmt, "errors", "error", [{"code": code, "description": description}], code)


# -- services ------------------------------------------------------------------------------------


def _services() -> list[dict[str, Any]]:
    return [
        {
            "service_code": code,
            "service_name": name,
            "description": f"效能投诉：{name}",
            "metadata": True,
            "type": "batch",
            "keywords": "效能,投诉",
            "group": "效能投诉",
        }
        for code, name in category.CATEGORIES.items()
    ]


def _definition(code: str) -> dict[str, Any]:
    return {
        "service_code": code,
        "attributes": [
            {
                "variable": True,
                "code": UNIT_ATTRIBUTE,
                "datatype": "string",
                "required": True,
                "datatype_description": "被投诉单位的名称（如：市住房和城乡建设局）",
                "order": 1,
                "description": "被投诉单位",
            }
        ],
    }


@router.get(
    "/services.{fmt}",
    dependencies=[Depends(open311_public)],
    openapi_extra=OPEN_QUERY,
    responses=documented(200),
)
async def services(fmt: Format) -> Response:
    """GeoReport v2 service list: one service per complaint category."""
    return answer(fmt, "services", "service", _services())


@router.get(
    "/services/{code}.{fmt}",
    dependencies=[Depends(open311_public)],
    openapi_extra=OPEN_QUERY,
    responses=documented(200, 404),
)
async def service_definition(code: str, fmt: Format) -> Response:
    if code not in category.CATEGORIES:
        return error(fmt, 404, "service_code not found")
    return answer(fmt, "service_definition", "", [_definition(code)], single=True)


# -- requests ------------------------------------------------------------------------------------


class Open311Request(BaseModel):
    """The POST's fields we read, as the spec names them."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    service_code: Annotated[str, Field(min_length=1, max_length=40)]
    description: Annotated[str, Field(min_length=1, max_length=MAX_FIELD)]
    lat: Annotated[str, Field(max_length=40)] | None = None
    long: Annotated[str, Field(max_length=40)] | None = None
    address_string: Annotated[str, Field(max_length=500)] | None = None
    email: Annotated[str, Field(max_length=100)] | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    first_name: Annotated[str, Field(max_length=100)] | None = None
    last_name: Annotated[str, Field(max_length=100)] | None = None
    unit: Annotated[str, Field(min_length=1, max_length=100)] | None = None


def _coordinate(value: str, bound: int) -> Decimal | None:
    try:
        d = Decimal(value)
    except InvalidOperation:
        return None
    return d if d.is_finite() and -bound <= d <= bound else None


def where(req: Open311Request) -> str | None:
    """The location as text (for the complaint), or None when the spec's rule is broken: a
    request has lat and long, or an address_string."""
    if req.address_string:
        return f"地点：{req.address_string}"
    if req.lat and req.long:
        lat, lon = _coordinate(req.lat, 90), _coordinate(req.long, 180)
        if lat is None or lon is None:
            return None
        return f"坐标：{lat},{lon}"
    return None


async def _client_of(request: Request, key: str) -> str | None:
    durable = get_context(request).durable
    assert durable is not None
    entry = await (await durable.store()).get(KEYS, _key_hash(request, key))
    if entry is None or entry.value.get("revoked"):
        return None
    return str(entry.value["client"])


def _key_hash(request: Request, key: str) -> str:
    return get_context(request).secret.digest("open311-api-key", key)


@router.api_route(
    "/requests.{fmt}",
    methods=["PUT", "PATCH", "DELETE", "OPTIONS"],
    include_in_schema=False,
    dependencies=[Depends(open311_public)],
    openapi_extra=OPEN_QUERY,
)
async def requests_other_methods(fmt: str) -> Response:
    """Registered first: a method the resource lacks is told both it has (``Allow``)."""
    raise ProblemError(METHOD_NOT_ALLOWED, headers={"Allow": "GET, POST"})


@router.post(
    "/requests.{fmt}",
    status_code=201,
    dependencies=[Depends(open311_public)],
    openapi_extra=OPEN_QUERY,
    responses=documented(201, 400, 403),
)
async def post_request(fmt: Format, request: Request) -> Response:
    """File a service request (a complaint) as a GeoReport v2 client does."""
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    key = fields.get("api_key", "")
    if not key:
        return error(fmt, 403, "api_key not provided")
    if len(key) > 100 or (client := await _client_of(request, key)) is None:
        return error(fmt, 403, "api_key invalid")
    if "attribute[unit]" in fields:
        fields["unit"] = fields["attribute[unit]"]
    try:
        req = Open311Request.model_validate(fields)
    except Exception as exc:  # pydantic's ValidationError: name the fields, never the values
        names = sorted({str(e["loc"][0]) for e in getattr(exc, "errors", lambda: [])()})
        return error(fmt, 400, "invalid or missing: " + ", ".join(names or ["request"]))
    if req.service_code not in category.CATEGORIES:
        return error(fmt, 400, "service_code not found")
    place = where(req)
    if place is None:
        return error(fmt, 400, "lat and long, or address_string, required")
    if not req.unit:
        return error(fmt, 400, "attribute[unit] required")
    contact = req.phone or req.email
    if contact is not None and len(contact) < 3:
        return error(fmt, 400, "invalid: phone or email")
    ctx = get_context(request)
    # The stream is read (the form is parsed); the same fields in any order are the same post.
    body = urlencode(sorted(fields.items())).encode()
    fp = fingerprint(request, body, ctx.secret)
    await claim_or_answer(request, "open311:" + client, fp, fp)
    assert ctx.writer is not None
    ledger = ChannelLedger(ctx.writer, request, ctx.settings.demo_body, f"open311.{client}")
    stated = Stated(
        channel=Channel.open311,
        platform=client,
        unit_name=req.unit,
        text=f"{req.description}\n{place}",
        category=req.service_code,
        contact=contact,
        # The vault keeps who they are (and the text is redacted knowing it); never the log.
        personal=filled(
            complainant_name=f"{req.last_name or ''}{req.first_name or ''}",
            complainant_phone=req.phone or "",
            complainant_email=req.email or "",
        ),
    )
    filed = await file_stated(request, ledger, stated)
    notice = "已受理，请凭投诉编号查询办理状态"
    if not filed.resolution.resolved:
        notice += "；被投诉单位待人工确认"
    row = {
        "service_request_id": filed.receipt.complaint_no,
        "service_notice": notice,
        "account_id": None,
    }
    return answer(fmt, "service_requests", "request", [row], 201)


def _iso(micros: int | None) -> str | None:
    if micros is None:
        return None
    return datetime.fromtimestamp(micros / 1_000_000, UTC).isoformat(timespec="seconds")


async def _status_rows(
    request: Request, wanted: dict[str, Any], limit: int
) -> list[dict[str, Any]]:
    from shared.web.service_read_model import read_store

    store = await read_store(request)
    docs = await store.find(COMPLAINTS, wanted, sort=[("received_at", DESC)], limit=limit)
    cases = await store.get_many(CASES, [d["_id"] for d in docs])
    rows = []
    for d in docs:
        case = cases.get(d["_id"], {})
        status = str(case.get("status", "received"))
        rows.append(
            {
                "service_request_id": d["complaint_no"],
                "status": "open" if status in OPEN else "closed",
                "status_notes": STATES.get(status, status),
                "service_code": d["category"],
                "service_name": category.label(str(d["category"])),
                "requested_datetime": _iso(d.get("received_at")),
                "updated_datetime": _iso(case.get("last_at") or d.get("received_at")),
            }
        )
    return rows


@router.get(
    "/requests.{fmt}",
    dependencies=[Depends(open311_public)],
    openapi_extra=OPEN_QUERY,
    responses=documented(200, 400),
)
async def get_requests(fmt: Format, request: Request) -> Response:
    """Status of service requests filed through Open311 (by id, comma-separated; or the most
    recent, optionally by service_code and status): status fields only, never the text."""
    q = request.query_params
    wanted: dict[str, Any] = {"channel": Channel.open311.value}
    ids = [i.strip() for i in q.get("service_request_id", "").split(",") if i.strip()]
    if len(ids) > 100 or not all(_ID_RE.match(i) for i in ids):
        return error(fmt, 400, "invalid: service_request_id")
    if ids:
        wanted["complaint_no"] = {"$in": ids}
    code = q.get("service_code")
    if code:
        if code not in category.CATEGORIES:
            return error(fmt, 400, "service_code not found")
        wanted["category"] = code
    status = q.get("status")
    if status not in (None, "", "open", "closed"):
        return error(fmt, 400, "invalid: status")
    rows = await _status_rows(request, wanted, 1000)
    if status:
        rows = [r for r in rows if r["status"] == status]
    return answer(fmt, "service_requests", "request", rows)


@router.get(
    "/requests/{request_id}.{fmt}",
    dependencies=[Depends(open311_public)],
    openapi_extra=OPEN_QUERY,
    responses=documented(200, 404),
)
async def get_request(request_id: str, fmt: Format, request: Request) -> Response:
    if not _ID_RE.match(request_id):
        return error(fmt, 404, "service_request_id not found")
    wanted = {"channel": Channel.open311.value, "complaint_no": request_id}
    rows = await _status_rows(request, wanted, 1)
    if not rows:
        return error(fmt, 404, "service_request_id not found")
    return answer(fmt, "service_requests", "request", rows)


# -- keys (administrators of this intake deployment) ---------------------------------------------


class IssueKey(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client: ClientName


class IssuedKey(BaseModel):
    client: str
    api_key: str = Field(description="shown once; only its keyed hash is kept")


@admin.post(
    "/admin/open311/keys",
    status_code=201,
    summary="Issue an Open311 API key to a client (a new key replaces the client's old one)",
    dependencies=[Depends(require_roles(Role.ADMIN))],
)
async def issue_key(body: IssueKey, request: Request) -> Response:
    durable = get_context(request).durable
    assert durable is not None
    store = await durable.store()
    old = await store.get(CLIENTS, body.client)
    if old is not None:
        await store.put(KEYS, str(old.value["key"]), {"client": body.client, "revoked": True})
    key = secrets.token_urlsafe(24)
    digest = _key_hash(request, key)
    await store.put(KEYS, digest, {"client": body.client, "revoked": False})
    await store.put(CLIENTS, body.client, {"key": digest})
    issued = IssuedKey(client=body.client, api_key=key)
    return JSONResponse(issued.model_dump(), 201, headers={"Cache-Control": "no-store"})


@admin.post(
    "/admin/open311/keys/{client}/revoke",
    status_code=200,
    summary="Revoke a client's Open311 API key",
    dependencies=[Depends(require_roles(Role.ADMIN))],
)
async def revoke_key(client: str, request: Request) -> dict[str, str]:
    durable = get_context(request).durable
    assert durable is not None
    store = await durable.store()
    entry = await store.get(CLIENTS, client) if re.match(r"^[a-z0-9._-]{1,30}$", client) else None
    if entry is None:
        from shared.web.problems import NOT_FOUND

        raise ProblemError(NOT_FOUND)
    await store.put(KEYS, str(entry.value["key"]), {"client": client, "revoked": True})
    await store.delete(CLIENTS, client)
    return {"client": client, "revoked": "true"}
