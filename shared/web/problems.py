"""RFC 9457 problem details: one catalogue of error kinds, and handlers that never echo input.

Principle 5: no submitted value may appear in an error body or a log line. So a problem's text
comes only from this catalogue and from code (never from an exception's message), and FastAPI's
422 — which echoes ``input`` and ``ctx`` — is replaced by a list of (location, code, message)
where the location keeps only declared field names and the message is fixed text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import orjson
import structlog
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from shared.web.context import IDEMPOTENCY_CLAIM, IDEMPOTENCY_DISCARD, request_id_of
from shared.web.routes import matched_dependant

PROBLEM_BASE = "https://ledger.example/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

log = structlog.get_logger("ledger.web")


@dataclass(frozen=True)
class ProblemType:
    slug: str
    status: int
    title: str

    @property
    def uri(self) -> str:
        return PROBLEM_BASE + self.slug


BAD_REQUEST = ProblemType("bad-request", 400, "请求无法处理")
IDEMPOTENCY_KEY_REQUIRED = ProblemType("idempotency-key-required", 400, "缺少幂等键")
UNAUTHENTICATED = ProblemType("unauthenticated", 401, "需要登录")
INVALID_CREDENTIALS = ProblemType("invalid-credentials", 401, "工号或密码错误")
FORBIDDEN = ProblemType("forbidden", 403, "无权执行此操作")
CSRF = ProblemType("csrf", 403, "表单已失效，请刷新页面后重新提交")
PASSWORD_CHANGE_REQUIRED = ProblemType("password-change-required", 403, "请先修改密码")
NOT_FOUND = ProblemType("not-found", 404, "未找到")
METHOD_NOT_ALLOWED = ProblemType("method-not-allowed", 405, "不支持此请求方法")
NOT_ACCEPTABLE = ProblemType("not-acceptable", 406, "无法提供所请求的格式")
CONFLICT = ProblemType("conflict", 409, "与当前状态冲突")
IDEMPOTENCY_KEY_REUSED = ProblemType("idempotency-key-reused", 409, "幂等键已用于另一请求")
IDEMPOTENCY_IN_PROGRESS = ProblemType(
    "idempotency-in-progress", 409, "相同幂等键的请求正在处理，请稍后重试"
)
PAYLOAD_TOO_LARGE = ProblemType("payload-too-large", 413, "请求内容过大")
UNSUPPORTED_MEDIA_TYPE = ProblemType("unsupported-media-type", 415, "不支持的内容类型")
VALIDATION = ProblemType("validation", 422, "请求内容不符合要求")
TOO_MANY_REQUESTS = ProblemType("too-many-requests", 429, "请求过于频繁")
INTERNAL = ProblemType("internal", 500, "服务器内部错误")
NOT_READY = ProblemType("not-ready", 503, "服务尚未就绪")
BUSY = ProblemType("busy", 503, "服务繁忙，请稍后重试")
LEDGER_UNAVAILABLE = ProblemType("ledger-unavailable", 503, "账本暂不可用，请稍后重试")
SIGNING_KEY_REVOKED = ProblemType("signing-key-revoked", 503, "本服务的签名密钥已被吊销，暂停写入")
CONFIG_MISSING = ProblemType("config-missing", 503, "所需配置尚未发布")
CALENDAR_UNAVAILABLE = ProblemType(
    "calendar-unavailable", 503, "现行节假日日历版本在本服务中不可用"
)
# Signed internal calls between services (shared/web/signed_calls): each refusal its own type.
CALL_UNSIGNED = ProblemType("call-unsigned", 401, "内部调用未签名")
CALL_SIGNATURE_MALFORMED = ProblemType("call-signature-malformed", 401, "内部调用签名格式不正确")
CALL_STALE = ProblemType("call-stale", 401, "内部调用的签名时间超出允许范围")
CALL_KEY_UNKNOWN = ProblemType("call-key-unknown", 401, "签名密钥未登记")
CALL_KEY_REVOKED = ProblemType("call-key-revoked", 401, "签名密钥已撤销")
CALL_KEY_FOREIGN = ProblemType("call-key-foreign", 401, "签名密钥不属于所称部署")
CALL_SIGNATURE_INVALID = ProblemType("call-signature-invalid", 401, "内部调用签名无效")
CALL_MISDIRECTED = ProblemType("call-misdirected", 401, "内部调用的目标不是本部署")
CALL_BODY_ALTERED = ProblemType("call-body-altered", 401, "请求内容与签名不符")
CALL_CASE_OUT_OF_SCOPE = ProblemType("call-case-out-of-scope", 403, "该件不在本调用的范围内")
CALL_REPLAYED = ProblemType("call-replayed", 401, "内部调用已使用过（重放）")
CALL_NOT_GRANTED = ProblemType("call-not-granted", 403, "该部署无权调用此内部接口")

# The documented list (README): every ``type`` a service may answer with.
CATALOGUE: tuple[ProblemType, ...] = (
    BAD_REQUEST,
    IDEMPOTENCY_KEY_REQUIRED,
    UNAUTHENTICATED,
    INVALID_CREDENTIALS,
    FORBIDDEN,
    CSRF,
    PASSWORD_CHANGE_REQUIRED,
    NOT_FOUND,
    METHOD_NOT_ALLOWED,
    NOT_ACCEPTABLE,
    CONFLICT,
    IDEMPOTENCY_KEY_REUSED,
    IDEMPOTENCY_IN_PROGRESS,
    PAYLOAD_TOO_LARGE,
    UNSUPPORTED_MEDIA_TYPE,
    VALIDATION,
    TOO_MANY_REQUESTS,
    INTERNAL,
    NOT_READY,
    BUSY,
    LEDGER_UNAVAILABLE,
    SIGNING_KEY_REVOKED,
    CONFIG_MISSING,
    CALENDAR_UNAVAILABLE,
    CALL_UNSIGNED,
    CALL_SIGNATURE_MALFORMED,
    CALL_STALE,
    CALL_KEY_UNKNOWN,
    CALL_KEY_REVOKED,
    CALL_KEY_FOREIGN,
    CALL_SIGNATURE_INVALID,
    CALL_MISDIRECTED,
    CALL_BODY_ALTERED,
    CALL_REPLAYED,
    CALL_NOT_GRANTED,
)

_BY_STATUS: dict[int, ProblemType] = {
    400: BAD_REQUEST,
    401: UNAUTHENTICATED,
    403: FORBIDDEN,
    404: NOT_FOUND,
    405: METHOD_NOT_ALLOWED,
    406: NOT_ACCEPTABLE,
    409: CONFLICT,
    413: PAYLOAD_TOO_LARGE,
    415: UNSUPPORTED_MEDIA_TYPE,
    422: VALIDATION,
    429: TOO_MANY_REQUESTS,
    500: INTERNAL,
    503: NOT_READY,
}


class ProblemError(Exception):
    """Raise anywhere to refuse a request. ``detail`` and ``extensions`` are written by code and
    must never carry a submitted value."""

    def __init__(
        self,
        problem: ProblemType,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(problem.slug)
        self.problem = problem
        self.detail = detail
        self.headers = dict(headers or {})
        self.extensions = dict(extensions or {})


class SignInRequired(ProblemError):
    """A page needs a signed-in person: browsers are sent to the sign-in form instead."""

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(UNAUTHENTICATED, detail)


# The form a person whose password was reset (or who was just created) must pass first.
PASSWORD_CHANGE_PATH = "/account/password"


class PasswordChangeRequired(ProblemError):
    """The person must choose a new password before anything else: browsers are sent to the
    change-password form, other callers get 403 ``password-change-required``."""

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(PASSWORD_CHANGE_REQUIRED, detail)


def wants_html(request: Request) -> bool:
    # Browsers put text/html first; API clients and schemathesis do not ask for it.
    accept = request.headers.get("accept", "")
    return "text/html" in accept


def problem_body(
    request: Request,
    problem: ProblemType,
    detail: str | None = None,
    extensions: Mapping[str, Any] | None = None,
    status: int | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": problem.uri,
        "title": problem.title,
        "status": status or problem.status,
    }
    if detail:
        body["detail"] = detail
    body["correlation_id"] = request_id_of(request.scope)
    body.update(extensions or {})
    return body


def problem_response(
    request: Request,
    problem: ProblemType,
    detail: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
    status: int | None = None,
) -> Response:
    body = problem_body(request, problem, detail, extensions, status)
    if wants_html(request):
        pages = getattr(getattr(request.app.state, "ledger", None), "pages", None)
        if pages is not None:
            return pages.render_error(request, body, headers=headers)
    return Response(
        content=orjson.dumps(body),
        status_code=body["status"],
        media_type=PROBLEM_MEDIA_TYPE,
        headers=dict(headers or {}),
    )


# --- validation errors ------------------------------------------------------------------------

_LOCATION_ROOTS = frozenset({"body", "query", "path", "header", "cookie"})
_CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# ctx members that are schema constants, never parts of the submitted value.
_SAFE_CTX = ("gt", "ge", "lt", "le", "min_length", "max_length", "multiple_of", "expected")

_MESSAGES: dict[str, str] = {
    "missing": "缺少必填项",
    "extra_forbidden": "不允许的字段",
    "string_type": "应为字符串",
    "string_too_short": "长度至少为 {min_length}",
    "string_too_long": "长度至多为 {max_length}",
    "string_pattern_mismatch": "格式不正确",
    "string_unicode": "应为有效的 Unicode 字符串",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "int_parsing_size": "整数超出范围",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "finite_number": "应为有限数字",
    "decimal_type": "应为数字",
    "decimal_parsing": "应为数字",
    "bool_type": "应为布尔值",
    "bool_parsing": "应为布尔值",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "multiple_of": "应为 {multiple_of} 的倍数",
    "date_type": "应为日期（YYYY-MM-DD）",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_inexact": "应为日期（YYYY-MM-DD），不含时间",
    "date_past": "应为过去的日期",
    "date_future": "应为将来的日期",
    "datetime_type": "应为日期时间（ISO 8601）",
    "datetime_parsing": "应为日期时间（ISO 8601）",
    "datetime_from_date_parsing": "应为日期时间（ISO 8601）",
    "timezone_aware": "日期时间应带时区",
    "timezone_naive": "日期时间不应带时区",
    "time_type": "应为时间",
    "time_parsing": "应为时间",
    "enum": "取值不在允许范围内，应为 {expected}",
    "literal_error": "取值不在允许范围内，应为 {expected}",
    "list_type": "应为列表",
    "tuple_type": "应为列表",
    "set_type": "应为列表",
    "too_short": "至少应有 {min_length} 项",
    "too_long": "至多应有 {max_length} 项",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "dataclass_type": "应为对象",
    "json_invalid": "JSON 格式错误",
    "json_type": "应为 JSON",
    "uuid_type": "应为 UUID",
    "uuid_parsing": "应为 UUID",
    "url_type": "应为网址",
    "url_parsing": "应为网址",
    "union_tag_invalid": "类型标记不正确",
    "union_tag_not_found": "缺少类型标记",
    "value_error": "取值无效",
    "assertion_error": "取值无效",
    "bytes_type": "应为字节串",
    "none_required": "应为空",
}


def _message(code: str, ctx: Mapping[str, Any] | None) -> str:
    template = _MESSAGES.get(code, "取值无效")
    safe: dict[str, str] = {}
    for key in _SAFE_CTX:
        if ctx and key in ctx and isinstance(ctx[key], int | float | str):
            safe[key] = str(ctx[key])
    try:
        return template.format(**safe)
    except (KeyError, IndexError):
        return _MESSAGES.get(code, "取值无效").split("{", 1)[0].strip() or "取值无效"


def _schema_names(schema: Any, names: set[str]) -> None:
    if isinstance(schema, dict):
        props = schema.get("properties")
        if isinstance(props, dict):
            names.update(k for k in props if isinstance(k, str))
        for value in schema.values():
            _schema_names(value, names)
    elif isinstance(schema, list):
        for value in schema:
            _schema_names(value, names)


_PARAM_KINDS = ("path_params", "query_params", "header_params", "cookie_params", "body_params")


def _params(dependant: Any) -> Iterable[Any]:
    # Walks FastAPI's Dependant tree by its public attributes (its helpers change between
    # releases).
    for kind in _PARAM_KINDS:
        yield from getattr(dependant, kind, ())
    for sub in getattr(dependant, "dependencies", ()):
        yield from _params(sub)


def declared_names(dependant: Any) -> frozenset[str]:
    """Every field name a route declares (params and body models, nested). A location segment
    outside this set came from the request itself (a dict key, an unknown field) and is masked."""
    if dependant is None:
        return frozenset()
    names: set[str] = set()
    for param in _params(dependant):
        names.update({param.name, param.alias, param.alias.lower()})
        annotation = getattr(param.field_info, "annotation", None)
        if annotation is None:
            continue
        for by_alias in (True, False):
            try:
                _schema_names(TypeAdapter(annotation).json_schema(by_alias=by_alias), names)
            except Exception:  # a type without a JSON schema just adds no names
                continue
    # Not cached: this runs only when a request fails validation, and a cache keyed by id()
    # served stale names once ids were reused by later apps (Dependant takes no weak refs).
    return frozenset(names)


def sanitize_validation_errors(
    errors: Sequence[Any], dependant: Any, *, allowed: frozenset[str] | None = None
) -> list[dict[str, Any]]:
    """Errors as the 422 shows them: names the route (or ``allowed``) declares, never values."""
    allowed = declared_names(dependant) if allowed is None else allowed
    out: list[dict[str, Any]] = []
    for err in errors:
        if not isinstance(err, Mapping):
            continue
        loc: list[str | int] = []
        for i, seg in enumerate(err.get("loc", ())):
            declared = isinstance(seg, str) and (
                (i == 0 and seg in _LOCATION_ROOTS) or (i > 0 and seg in allowed)
            )
            index = isinstance(seg, int) and not isinstance(seg, bool)
            loc.append(seg if declared or index else "*")
        code = str(err.get("type", ""))
        if not _CODE_PATTERN.match(code):
            code = "invalid"
        # extra_forbidden's last segment is the unknown (submitted) name itself.
        if code == "extra_forbidden" and loc:
            loc[-1] = "*"
        ctx = err.get("ctx")
        out.append(
            {
                "location": loc,
                "code": code,
                "message": _message(code, ctx if isinstance(ctx, Mapping) else None),
            }
        )
    return out


def _location_text(loc: Iterable[str | int]) -> str:
    return ".".join(str(s) for s in loc)


# --- handlers ---------------------------------------------------------------------------------


async def handle_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = sanitize_validation_errors(exc.errors(), matched_dependant(request.scope))
    # The command never ran: its idempotency key must stay free for a corrected retry.
    if request.scope.get(IDEMPOTENCY_CLAIM):
        request.scope[IDEMPOTENCY_DISCARD] = True
    log.info(
        "request.invalid",
        fields=[_location_text(e["location"]) for e in errors],
        kinds=[e["code"] for e in errors],
    )
    return problem_response(request, VALIDATION, extensions={"errors": errors})


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    problem = _BY_STATUS.get(exc.status_code)
    # exc.detail is not echoed: code anywhere (ours or a library's) may have put a value in it.
    if problem is None:
        try:
            phrase = HTTPStatus(exc.status_code).phrase
        except ValueError:
            phrase = "Error"
        problem = ProblemType("http-" + str(exc.status_code), exc.status_code, phrase)
    headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() != "content-type"}
    return problem_response(request, problem, headers=headers)


async def handle_problem_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    if isinstance(exc, SignInRequired) and wants_html(request) and request.method == "GET":
        # The path only: a query string may hold what was searched for (an ID number, a
        # phone number), and it would travel on through the Location header, the sign-in
        # form and the browser's history.
        return RedirectResponse("/signin?next=" + quote(request.url.path, safe=""), status_code=303)
    if isinstance(exc, PasswordChangeRequired) and wants_html(request) and request.method == "GET":
        target = PASSWORD_CHANGE_PATH + "?next=" + quote(request.url.path, safe="")
        return RedirectResponse(target, status_code=303)
    log.info("request.refused", problem=exc.problem.slug)
    return problem_response(
        request, exc.problem, exc.detail, headers=exc.headers, extensions=exc.extensions
    )
