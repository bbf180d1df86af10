"""``create_app``: the one way every service builds its FastAPI app, so a fix to errors, sign-in
or metrics lands in all of them at once."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles

from shared.durable.handle import DurableHandle
from shared.ledger.deployments import DeploymentSpec
from shared.ledger.live import LiveFold
from shared.readiness import CheckFunction, ReadinessCheck, as_readiness_check
from shared.readside.projection import Projection
from shared.web import health, operators_admin, password_change, sessions, tokens
from shared.web.auth import audit_routes
from shared.web.command_path import SNAPSHOTS_FILE, ServiceWriter
from shared.web.config_admin import config_admin_router, config_nav
from shared.web.context import WebContext, get_context
from shared.web.demo_operators import ensure_demo_operators
from shared.web.docs import install_docs
from shared.web.idempotency import (
    IdempotencyMiddleware,
    IdempotencyStore,
    IdempotentReplay,
    handle_replay,
)
from shared.web.identity import IdentityStore
from shared.web.known_query import known_query
from shared.web.lockouts import router as lockouts_router
from shared.web.logging import configure_logging
from shared.web.metrics import METRICS_MEDIA_TYPE, HttpMetrics, scrape_access
from shared.web.middleware import RequestContextMiddleware
from shared.web.openapi import build_openapi
from shared.web.pages import STATIC_DIR, NavItem, Pages
from shared.web.password_gate import PasswordGate
from shared.web.problems import (
    ProblemError,
    handle_http_exception,
    handle_problem_error,
    handle_validation_error,
)
from shared.web.ratelimit import RateLimits
from shared.web.service_read_model import ServiceReadModel
from shared.web.service_secret import ServiceSecret
from shared.web.settings import WebSettings
from shared.web.throttle import SignInGuard


def password_hasher(settings: WebSettings) -> PasswordHasher:
    return PasswordHasher(
        time_cost=settings.password_time_cost,
        memory_cost=settings.password_memory_kib,
        parallelism=settings.password_parallelism,
    )


def create_app(
    service: str,
    settings: WebSettings | None = None,
    *,
    routers: Sequence[APIRouter] = (),
    readiness_checks: Sequence[ReadinessCheck | CheckFunction] = (),
    title: str | None = None,
    nav: Sequence[NavItem] = (),
    public_nav: Sequence[NavItem] = (),
    template_dirs: Sequence[Path] = (),
    version: str = "0.1.0",
    clock: Callable[[], float] = time.time,
    projections: Sequence[Projection] = (),
    deployment: DeploymentSpec | None = None,
) -> FastAPI:
    """Build a service app.

    ``routers`` carry the service's API and pages; every route in them must declare
    ``require_roles``/``command``/``page`` or ``public`` (checked here). ``readiness_checks``
    are async callables returning :class:`CheckResult`; /readyz answers 503 naming the ones
    that fail. ``nav`` lists the pages in the layout's navigation, ``public_nav`` those in the
    public layout's (shown to everyone). ``projections`` given, the
    app keeps a read model: a projector follows the log into it while the app runs, its lag
    and the store gate /readyz, and its position is on /metrics. ``deployment`` given, the app
    writes to the log as that deployment, with its key (``shared/web/command_path.py``).
    """
    settings = settings or WebSettings()
    configure_logging(settings.log_level)
    title = title or service
    service_dir = settings.service_dir(service)
    service_dir.mkdir(parents=True, exist_ok=True, mode=0o700)

    identity = IdentityStore(
        settings.identity_file(service), password_hasher(settings), clock, service=service
    )
    ensure_demo_operators(identity, settings, service)
    secret = ServiceSecret.at(settings.secret_file(service))
    rate_limits = RateLimits(settings.rate_limit_storage)
    gate = PasswordGate(
        settings.password_hash_concurrency,
        settings.password_hash_queue,
        settings.password_hash_nice,
    )
    context = WebContext(
        service=service,
        title=title,
        settings=settings,
        identity=identity,
        idempotency=IdempotencyStore(
            settings.idempotency_file(service),
            ttl_seconds=settings.idempotency_ttl_seconds,
            lock_seconds=settings.idempotency_lock_seconds,
            clock=clock,
            secret=secret,
        ),
        metrics=HttpMetrics(service),
        pages=Pages(
            service,
            title,
            [NavItem("首页", "/"), *nav, operators_admin.NAV, *config_nav(deployment)],
            template_dirs,
            public_nav=[NavItem("公众服务", "/public"), *public_nav],
        ),
        secret=secret,
        rate_limits=rate_limits,
        signin_guard=SignInGuard(settings, identity, secret, rate_limits, gate, clock),
        readiness_checks=tuple(as_readiness_check(c) for c in readiness_checks),
        durable=DurableHandle(settings, service),
    )
    served = ServiceReadModel(settings, service, projections) if projections else None
    if served is not None:
        context.read_model = served.read_model
        context.served = served
        context.readiness_checks = (*context.readiness_checks, *served.readiness_checks())
        served.register_metrics(context.metrics.registry)
    if deployment is not None:

        def live() -> LiveFold | None:
            p = served.projector if served is not None else None
            return p.live if p is not None else None

        def appended() -> None:
            if served is not None and served.runner is not None:
                served.runner.wake()

        context.writer = ServiceWriter(
            settings,
            deployment.name,
            deployment.deployment,
            live,
            appended,
            settings.service_dir(service) / SNAPSHOTS_FILE,
        )
        context.readiness_checks = (
            *context.readiness_checks,
            ReadinessCheck("signing_key", context.writer.key_ready),
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Again at start-up: catches routes a service added after create_app returned.
        audit_routes(app)
        if served is not None:
            await served.start()
        if context.writer is not None:
            context.writer.start()
        try:
            yield
        finally:
            if context.writer is not None:
                await context.writer.close()
            if served is not None:
                await served.stop()
            if context.durable is not None:
                await context.durable.close()

    app = FastAPI(
        lifespan=lifespan,
        title=f"效能监督账本 · {title}",
        version=version,
        description=f"Supervision Ledger — {service} service. Sign in with POST /auth/token.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        dependencies=[Depends(known_query)],  # an API operation refuses unknown query params
    )
    app.state.ledger = context

    def openapi() -> dict[str, Any]:
        return build_openapi(app)

    app.openapi = openapi  # type: ignore[method-assign]

    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_exception)
    app.add_exception_handler(ProblemError, handle_problem_error)
    app.add_exception_handler(IdempotentReplay, handle_replay)
    # Added last = outermost: the request envelope sees every response, replayed ones too.
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(
        RequestContextMiddleware, metrics=context.metrics, max_body_bytes=settings.max_body_bytes
    )

    app.include_router(health.router)
    app.include_router(_metrics_router())
    app.include_router(tokens.router)
    app.include_router(lockouts_router)
    app.include_router(sessions.router)
    app.include_router(password_change.router)
    app.include_router(operators_admin.router)
    install_docs(app, title)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in routers:
        app.include_router(router)
    if deployment is not None and deployment.configs:
        app.include_router(config_admin_router(deployment))
    audit_routes(app)
    return app


def _metrics_router() -> APIRouter:
    router = APIRouter(tags=["health"], dependencies=[Depends(scrape_access)])

    @router.get(
        "/metrics",
        summary="Prometheus metrics of this service (a scrape token if LEDGER_METRICS_TOKEN)",
        response_class=Response,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    async def metrics(request: Request) -> Response:
        return Response(get_context(request).metrics.render(), media_type=METRICS_MEDIA_TYPE)

    router.add_api_route("/metrics", metrics, methods=["HEAD"], include_in_schema=False)
    return router
