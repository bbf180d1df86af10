"""Prometheus metrics per app: requests, server errors and latency, labelled by route template.

Each app owns its CollectorRegistry, so several services (or test apps) in one process never
register the same metric twice.
"""

from __future__ import annotations

import hmac

from fastapi import Request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from shared.web.auth import AUTH_MARK
from shared.web.context import get_context
from shared.web.problems import UNAUTHENTICATED, ProblemError

METRICS_MEDIA_TYPE = CONTENT_TYPE_LATEST
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "<unmatched>"


class HttpMetrics:
    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ["service", "method", "route"]
        self.requests = Counter(
            "ledger_http_requests",
            "HTTP requests answered, by route template and status",
            [*labels, "status"],
            registry=self.registry,
        )
        self.errors = Counter(
            "ledger_http_server_errors",
            "HTTP responses with a 5xx status, by route template",
            labels,
            registry=self.registry,
        )
        self.latency = Histogram(
            "ledger_http_request_duration_seconds",
            "Time from request to the end of the response, by route template",
            labels,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        # Methods and paths come from clients: bound the label values to keep cardinality small.
        method = method if method in _KNOWN_METHODS else "OTHER"
        self.requests.labels(self.service, method, route, str(status)).inc()
        if status >= 500:
            self.errors.labels(self.service, method, route).inc()
        self.latency.labels(self.service, method, route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def scrape_access(request: Request) -> None:
    """/metrics is open unless ``LEDGER_METRICS_TOKEN`` is set; then only a scraper sending
    that token (``Authorization: Bearer …``, Prometheus' ``authorization`` setting) reads it.
    The header is read here, not declared: the OpenAPI document cannot say "required only when
    configured"."""
    token = get_context(request).settings.metrics_token
    if token is None:
        return
    expected = token.get_secret_value().encode()
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    given = value.strip().encode() if scheme.lower() == "bearer" else b""
    if not hmac.compare_digest(expected, given):
        raise ProblemError(
            UNAUTHENTICATED,
            "需要监控抓取令牌",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )


setattr(scrape_access, AUTH_MARK, "scrape")
