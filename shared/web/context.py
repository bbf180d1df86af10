"""What a running service app carries: one object on ``app.state.ledger`` and a few per-request
values kept in the ASGI scope (so pure-ASGI middleware and handlers see the same ones)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import HTTPConnection

if TYPE_CHECKING:
    from shared.durable.handle import DurableHandle
    from shared.readiness import ReadinessCheck
    from shared.readside.read_model import ReadModel
    from shared.web.command_path import ServiceWriter
    from shared.web.idempotency import IdempotencyStore
    from shared.web.identity import IdentityStore, Operator
    from shared.web.metrics import HttpMetrics
    from shared.web.pages import Pages
    from shared.web.ratelimit import RateLimits
    from shared.web.service_read_model import ServiceReadModel
    from shared.web.service_secret import ServiceSecret
    from shared.web.settings import WebSettings
    from shared.web.throttle import SignInGuard

# Keys in the ASGI scope; namespaced so they cannot collide with Starlette's own.
REQUEST_ID = "ledger.request_id"
OPERATOR = "ledger.operator"
CSRF_TOKEN = "ledger.csrf_token"
IDEMPOTENCY_CLAIM = "ledger.idempotency"
IDEMPOTENCY_DISCARD = "ledger.idempotency.discard"


@dataclass
class WebContext:
    service: str
    title: str
    settings: WebSettings
    identity: IdentityStore
    idempotency: IdempotencyStore
    metrics: HttpMetrics
    pages: Pages
    secret: ServiceSecret
    rate_limits: RateLimits
    signin_guard: SignInGuard
    readiness_checks: Sequence[ReadinessCheck] = field(default_factory=tuple)
    read_model: ReadModel | None = None  # the service's read store, if it keeps one
    writer: ServiceWriter | None = None  # the service's command path, if it writes
    served: ServiceReadModel | None = None  # its projector, for read-your-writes waits
    durable: DurableHandle | None = None  # its durable store (shared/durable/), opened on use


def get_context(conn: HTTPConnection) -> WebContext:
    ctx: WebContext = conn.app.state.ledger
    return ctx


def request_id_of(scope: dict[str, Any] | Any) -> str:
    return str(scope.get(REQUEST_ID, ""))


def operator_of(conn: HTTPConnection) -> Operator | None:
    op: Operator | None = conn.scope.get(OPERATOR)
    return op
