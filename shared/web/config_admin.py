"""Configuration by its owners, over HTTP: each deployment publishes the kinds it owns.

API (bearer token, role ``admin``):

- ``POST /admin/config/{kind}?base_version=N`` — a command (``Idempotency-Key``): the body is
  the new version's content, validated by the kind's model (422 naming the field); written
  through the command path as ``ledger.registry.config_published.v1`` signed by this
  deployment's key, with the next version number the registry gives. ``base_version`` is the
  version the client edited (``0`` for the first): an older one is refused with 409
  ``stale_version``; content equal to the version in force with 409 ``nothing_to_do``; a kind
  this deployment does not own with 403 (``not_owner``). Nothing is written on a refusal.
- ``POST /admin/config/{kind}/diff`` — what that content would change (nothing written).
- ``GET /admin/config/{kind}/versions`` — the version in force and the history.

Pages (session, role ``admin``, zh-CN): ``/admin/config`` lists the kinds owned here;
``/admin/config/{kind}`` shows the version in force (who, when, log time), its history and an
edit form; ``…/preview`` shows the diff against the version in force before ``…/publish``.
Versions are read from the registry stream, folded by the rule book (``shared/ledger/
configuration.py``).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Depends, Form, Query, Request
from pydantic import BaseModel, Field, ValidationError
from starlette.responses import RedirectResponse, Response

from shared.events.catalog import CONFIG_CONTENT, ConfigKind
from shared.events.codec import CanonicalFormError, canonical
from shared.ledger.configuration import (
    KIND_LABELS,
    NO_VERSION,
    ConfigDiff,
    ConfigRefusal,
    PublishedVersion,
    content_diff,
    decide_publication,
    in_force,
    next_label,
    normalized,
    owner_of,
    pretty,
    registry_of,
    registry_records,
    versions,
)
from shared.ledger.deployments import DeploymentSpec
from shared.log.port import StoredRecord
from shared.rules.registry import Registry
from shared.rules.stream import REGISTRY_STREAM, StreamState
from shared.web.auth import require_roles
from shared.web.command_path import CommandAnswer, ServiceWriter, ledger_for
from shared.web.context import IDEMPOTENCY_DISCARD, get_context
from shared.web.idempotency import KEY_PATTERN, claim_or_answer, command, fingerprint
from shared.web.identity import Operator
from shared.web.pages import NavItem
from shared.web.problems import (
    CONFLICT,
    FORBIDDEN,
    NOT_FOUND,
    VALIDATION,
    ProblemError,
    sanitize_validation_errors,
)
from shared.web.roles import Role
from shared.web.sessions import page

ADMIN = Role.ADMIN
BaseVersion = Annotated[
    str,
    Query(
        pattern=r"^[A-Za-z0-9._-]{1,40}$",
        description="The version this content was edited from (the one in force when the "
        "client read it; 0 for a kind's first version). An older one is refused (409).",
    ),
]


class VersionView(BaseModel):
    version: str
    registry_version: int = Field(description="the registry version it made")
    actor: str | None = Field(None, description="who published it (body or unit / staff id)")
    deployment: str | None = None
    written_at: str | None = Field(None, description="the publisher's clock (informational)")
    appended_at: datetime | None = Field(None, description="the log's time: the one that counts")
    content: dict[str, Any]


class KindVersions(BaseModel):
    kind: ConfigKind
    owner: str | None
    in_force: VersionView | None
    versions: list[VersionView] = Field(description="every version, oldest first")


class DiffLineView(BaseModel):
    kind: str = Field(description="hunk, same, added or removed")
    text: str


class DiffView(BaseModel):
    kind: ConfigKind
    in_force: str = Field(description="the version in force (0: none yet)")
    next_version: str | None = Field(None, description="what it would be published as")
    added: int
    removed: int
    lines: list[DiffLineView]


class PublishAnswer(CommandAnswer):
    kind: ConfigKind
    version: str = Field(description="the version number the registry gave it")


# ---- reading the registry -----------------------------------------------------------------------


def _writer(request: Request) -> ServiceWriter:
    writer = get_context(request).writer
    if writer is None:
        raise RuntimeError("configuration administration needs the service's deployment")
    return writer


async def _registry(request: Request) -> tuple[Registry, list[StoredRecord]]:
    """The registry as the rule book folds the registry stream now, and the records it read."""
    writer = await _writer(request).writer()
    records = await registry_records(writer.log)
    return registry_of(writer.genesis, writer.log.partitions, records), records


def _log_time(appended_at: int | None) -> datetime | None:
    """The log's time (µs since the epoch) as a UTC datetime."""
    return datetime.fromtimestamp(appended_at / 1_000_000, UTC) if appended_at else None


def _view(v: PublishedVersion) -> VersionView:
    return VersionView(
        version=v.label,
        registry_version=v.registry_version,
        actor=v.actor,
        deployment=v.deployment,
        written_at=v.written_at,
        appended_at=_log_time(v.appended_at),
        content=v.content,
    )


async def _kind_versions(request: Request, kind: ConfigKind) -> KindVersions:
    registry, records = await _registry(request)
    history = [_view(v) for v in versions(registry, kind, records)]
    return KindVersions(
        kind=kind,
        owner=owner_of(registry, kind),
        in_force=history[-1] if history else None,
        versions=history,
    )


def _diff_view(kind: ConfigKind, registry: Registry, diff: ConfigDiff) -> DiffView:
    entry = in_force(registry, kind)
    return DiffView(
        kind=kind,
        in_force=entry[0] if entry else NO_VERSION,
        next_version=None if diff.unchanged else next_label(registry, kind),
        added=diff.added,
        removed=diff.removed,
        lines=[DiffLineView(kind=line.kind, text=line.text) for line in diff.lines],
    )


def _owned(spec: DeploymentSpec, kind: str) -> ConfigKind:
    """The kind, if this deployment declares it; 403 for another kind, 404 for no kind."""
    try:
        known = ConfigKind(kind)
    except ValueError:
        raise ProblemError(NOT_FOUND, "没有这类配置") from None
    if known.value not in spec.configs:
        raise ProblemError(
            FORBIDDEN,
            "本部署不负责这类配置，应由其所属部署发布",
            extensions={"reason": "not_owner"},
        )
    return known


# ---- publishing -------------------------------------------------------------------------------


async def publish(
    request: Request, kind: ConfigKind, base: str, content: dict[str, Any]
) -> PublishAnswer:
    """Decide, check, sign (this deployment's key), append, read back — or refuse (nothing
    written): 403 not the owner, 409 stale base or nothing new."""
    ledger = ledger_for(request)
    chosen: dict[str, str] = {}

    def decide(state: StreamState) -> list[Any]:
        drafts = decide_publication(
            state.domain, kind, ledger.service.deployment, base, content, ledger.actor
        )
        for d in drafts:
            chosen["version"] = str(d.data["version"])
        return drafts

    try:
        answer = await ledger.run(REGISTRY_STREAM, decide)
    except ConfigRefusal as refusal:
        if refusal.reason == "unknown_body":
            # Invalid content, as a 422: the key stays free for the corrected retry.
            request.scope[IDEMPOTENCY_DISCARD] = True
            errors = [
                {
                    "location": ["body", *where],
                    "code": "unknown_body",
                    "message": "监督机构名录（现行版本）中没有这个机构",
                }
                for where in refusal.fields
            ]
            raise ProblemError(
                VALIDATION, "内容引用了不存在的监督机构", extensions={"errors": errors}
            ) from None
        if refusal.reason == "not_owner":
            raise ProblemError(
                FORBIDDEN,
                "注册表未将这类配置指定给本部署",
                extensions={"reason": "not_owner"},
            ) from None
        raise ProblemError(
            CONFLICT,
            "所依据的版本已不是现行版本，请按现行版本重新编辑",
            extensions={"reason": "stale_version", "version_in_force": refusal.in_force},
        ) from None
    return PublishAnswer(**answer.model_dump(), kind=kind, version=chosen.get("version", ""))


def _publish_route(
    router: APIRouter, spec: DeploymentSpec, kind: ConfigKind, model: type[BaseModel]
) -> None:
    path = f"/admin/config/{kind.value}"
    label = KIND_LABELS[kind]

    async def publish_kind(
        request: Request,
        content: BaseModel,
        base_version: BaseVersion,
        operator: Operator = Depends(command(ADMIN)),
    ) -> PublishAnswer:
        return await publish(request, kind, base_version, _dumped(content))

    async def diff_kind(
        request: Request,
        content: BaseModel,
        operator: Operator = Depends(require_roles(ADMIN)),
    ) -> DiffView:
        registry, _ = await _registry(request)
        entry = in_force(registry, kind)
        new = _dumped(content)
        return _diff_view(kind, registry, content_diff(entry[1] if entry else None, new))

    # The body's model is the kind's: given as an object (this module's annotations are strings).
    for endpoint in (publish_kind, diff_kind):
        endpoint.__annotations__["content"] = Annotated[model, Body()]
    router.add_api_route(
        path,
        publish_kind,
        methods=["POST"],
        status_code=201,
        response_model=PublishAnswer,
        summary=f"Publish a new version of {kind.value} ({label}; admin, Idempotency-Key)",
        name=f"publish_{kind.value}",
    )
    router.add_api_route(
        f"{path}/diff",
        diff_kind,
        methods=["POST"],
        response_model=DiffView,
        summary=f"What a new version of {kind.value} would change (nothing is written)",
        name=f"diff_{kind.value}",
    )


def _dumped(content: BaseModel) -> dict[str, Any]:
    """The validated content as JSON data, refused (422) outside the events' domain (a lone
    surrogate in a name cannot be signed)."""
    dumped: dict[str, Any] = content.model_dump(mode="json")
    try:
        canonical(dumped)
    except (CanonicalFormError, orjson.JSONEncodeError):
        error = {
            "location": ["body"],
            "code": "string_unicode",
            "message": "应为有效的 Unicode 字符串",
        }
        raise ProblemError(VALIDATION, extensions={"errors": [error]}) from None
    return dumped


# ---- pages ------------------------------------------------------------------------------------


def _page_errors(exc: ValidationError, model: type[BaseModel]) -> list[dict[str, Any]]:
    """The content's errors for the page: field names of the model, never submitted values."""
    names: set[str] = set()
    _collect_names(model.model_json_schema(), names)
    # Located as the API's are: under the request body.
    errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
    return sanitize_validation_errors(errors, None, allowed=frozenset(names))


def _collect_names(schema: Any, names: set[str]) -> None:
    if isinstance(schema, dict):
        props = schema.get("properties")
        if isinstance(props, dict):
            names.update(k for k in props if isinstance(k, str))
        for value in schema.values():
            _collect_names(value, names)
    elif isinstance(schema, list):
        for value in schema:
            _collect_names(value, names)


def _parse_form_content(kind: ConfigKind, text: str) -> dict[str, Any]:
    """The textarea's JSON, normalized by the kind's model; 422 problem naming the fields."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError:
        raise ProblemError(
            VALIDATION,
            "内容不是有效的 JSON",
            extensions={
                "errors": [
                    {"location": ["content"], "code": "json_invalid", "message": "JSON 格式错误"}
                ]
            },
        ) from None
    try:
        return normalized(kind, raw)
    except ValidationError as exc:
        errors = _page_errors(exc, CONFIG_CONTENT[kind])
        raise ProblemError(
            VALIDATION, "内容不符合该类配置的要求", extensions={"errors": errors}
        ) from None


def _pages(router: APIRouter, spec: DeploymentSpec) -> None:
    def render(request: Request, name: str, ctx: Mapping[str, Any], status: int = 200) -> Response:
        return get_context(request).pages.render(request, name, ctx, status_code=status)

    async def kind_context(request: Request, kind: ConfigKind) -> dict[str, Any]:
        registry, records = await _registry(request)
        history = versions(registry, kind, records)
        current = history[-1] if history else None
        return {
            "kind": kind.value,
            "kind_label": KIND_LABELS[kind],
            "owner": owner_of(registry, kind),
            "current": current,
            "current_at": _log_time(current.appended_at) if current else None,
            "current_text": pretty(current.content) if current else "",
            "history": [(v, _log_time(v.appended_at)) for v in reversed(history)],
            "base_version": current.label if current else NO_VERSION,
            "registry": registry,
        }

    @router.get("/admin/config", include_in_schema=False)
    async def config_index(request: Request, operator: Operator = Depends(page(ADMIN))) -> Response:
        registry, records = await _registry(request)
        rows = []
        for kind in spec.configs:
            history = versions(registry, kind, records)
            current = history[-1] if history else None
            rows.append(
                {
                    "kind": kind,
                    "label": KIND_LABELS.get(kind, kind),
                    "current": current,
                    "at": _log_time(current.appended_at) if current else None,
                    "count": len(history),
                    "owner": owner_of(registry, kind),
                }
            )
        return render(request, "config_index.html", {"rows": rows, "deployment": spec.deployment})

    @router.get("/admin/config/{kind}", include_in_schema=False)
    async def config_kind(
        request: Request, kind: str, operator: Operator = Depends(page(ADMIN))
    ) -> Response:
        known = _owned(spec, kind)
        ctx = await kind_context(request, known)
        ctx["draft_text"] = ctx["current_text"]
        ctx["published"] = request.query_params.get("published", "")[:10]
        return render(request, "config_kind.html", ctx)

    @router.post("/admin/config/{kind}/preview", include_in_schema=False)
    async def config_preview(
        request: Request,
        kind: str,
        content: Annotated[str, Form(max_length=200_000)],
        base_version: Annotated[str, Form(pattern=r"^[A-Za-z0-9._-]{1,40}$")],
        operator: Operator = Depends(page(ADMIN)),
    ) -> Response:
        known = _owned(spec, kind)
        ctx = await kind_context(request, known)
        try:
            new = _parse_form_content(known, content)
        except ProblemError as exc:
            ctx.update(draft_text=content, errors=exc.extensions.get("errors", []))
            return render(request, "config_kind.html", ctx, status=422)
        registry: Registry = ctx["registry"]
        entry = in_force(registry, known)
        diff = content_diff(entry[1] if entry else None, new)
        ctx.update(
            diff=_diff_view(known, registry, diff),
            new_text=pretty(new),
            edited_from=base_version,
            stale=base_version != ctx["base_version"],
            idempotency_key=secrets.token_urlsafe(24),
        )
        return render(request, "config_preview.html", ctx)

    @router.post("/admin/config/{kind}/publish", include_in_schema=False)
    async def config_publish(
        request: Request,
        kind: str,
        content: Annotated[str, Form(max_length=200_000)],
        base_version: Annotated[str, Form(pattern=r"^[A-Za-z0-9._-]{1,40}$")],
        idempotency_key: Annotated[str, Form(pattern=KEY_PATTERN)],
        operator: Operator = Depends(page(ADMIN)),
    ) -> Response:
        known = _owned(spec, kind)
        try:
            new = _parse_form_content(known, content)
        except ProblemError as exc:
            ctx = await kind_context(request, known)
            ctx.update(draft_text=content, errors=exc.extensions.get("errors", []))
            return render(request, "config_kind.html", ctx, status=422)
        ctx_web = get_context(request)
        # Same key, same request: the form's meaning (its body was read as a form already).
        body = orjson.dumps({"base_version": base_version, "content": new})
        await claim_or_answer(
            request, operator.staff_id, idempotency_key, fingerprint(request, body, ctx_web.secret)
        )
        try:
            answer = await publish(request, known, base_version, new)
        except ProblemError as exc:
            ctx = await kind_context(request, known)
            ctx.update(
                draft_text=content,
                refusal=exc.detail,
                reason=exc.extensions.get("reason"),
                errors=exc.extensions.get("errors", []),
            )
            return render(request, "config_kind.html", ctx, status=exc.problem.status)
        return RedirectResponse(
            f"/admin/config/{known.value}?published={answer.version}", status_code=303
        )


# ---- the router -------------------------------------------------------------------------------


def config_admin_router(spec: DeploymentSpec) -> APIRouter:
    """The configuration routes of a deployment that owns at least one kind."""
    router = APIRouter(tags=["configuration"])
    owned = [ConfigKind(k) for k in spec.configs]
    for kind in owned:
        _publish_route(router, spec, kind, CONFIG_CONTENT[kind])

    @router.get(
        "/admin/config/{kind}/versions",
        response_model=KindVersions,
        summary="A kind's version in force and its history (admin)",
    )
    async def kind_versions(
        request: Request, kind: str, operator: Operator = Depends(require_roles(ADMIN))
    ) -> KindVersions:
        return await _kind_versions(request, _owned(spec, kind))

    @router.post(
        "/admin/config/{kind}",
        summary="Any other kind: refused (403 for a kind another deployment owns, else 404)",
    )
    async def not_owned(
        request: Request,
        kind: str,
        operator: Operator = Depends(require_roles(ADMIN)),
        # declared as the owned kinds' routes declare it, so the refusal is about the kind
        base_version: Annotated[str | None, Query(max_length=40)] = None,
    ) -> None:
        _owned(spec, kind)
        raise ProblemError(NOT_FOUND)  # unreachable for owned kinds: their routes come first

    _pages(router, spec)
    return router


def config_nav(spec: DeploymentSpec | None) -> list[NavItem]:
    """The layout's link to the configuration pages, for a deployment that owns a kind."""
    if spec is None or not spec.configs:
        return []
    return [NavItem("配置管理", "/admin/config", frozenset({Role.ADMIN}))]
