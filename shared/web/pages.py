"""Server-rendered zh-CN pages: one Jinja2 environment per app (the service's own templates
first, then the shared layout), date filters in Asia/Shanghai, and the render helpers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from shared.web.context import CSRF_TOKEN, operator_of
from shared.web.roles import Role, role_label

if TYPE_CHECKING:
    from shared.web.identity import Operator

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
SHANGHAI = ZoneInfo("Asia/Shanghai")

# No script, no inline style, nothing from elsewhere: the pages need none of it.
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def _in_shanghai(value: datetime) -> datetime:
    # A naive datetime is taken as UTC: the ledger stores times in UTC.
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(SHANGHAI)


def cn_date(value: date | datetime | None) -> str:
    """2026年11月26日 (a datetime is first converted to Asia/Shanghai)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _in_shanghai(value).date()
    return f"{value.year}年{value.month}月{value.day}日"


def cn_datetime(value: datetime | None) -> str:
    """2026年11月26日 14:05 in Asia/Shanghai."""
    if value is None:
        return ""
    local = _in_shanghai(value)
    return f"{cn_date(local)} {local:%H:%M}"


def cn_log_time(value: int | str | None) -> str:
    """A log time (µs since the epoch) or an RFC 3339 timestamp, as ``cn_datetime`` shows it."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return cn_datetime(datetime.fromisoformat(value.replace("Z", "+00:00")))
    return cn_datetime(datetime.fromtimestamp(value / 1_000_000, UTC))


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    roles: frozenset[Role] = frozenset()  # shown only to holders of one of them (none: all)

    def shown_to(self, operator: Operator | None) -> bool:
        return not self.roles or (operator is not None and operator.has_any(self.roles))


class Pages:
    def __init__(
        self,
        service: str,
        title: str,
        nav: Sequence[NavItem] = (),
        template_dirs: Sequence[Path] = (),
        public_nav: Sequence[NavItem] = (),
    ) -> None:
        self.service = service
        self.title = title
        self.nav = tuple(nav)
        self.public_nav = tuple(public_nav)
        loader = ChoiceLoader(
            [FileSystemLoader(str(d)) for d in template_dirs]
            + [FileSystemLoader(str(TEMPLATES_DIR))]
        )
        env = Environment(loader=loader, autoescape=select_autoescape(default=True))
        env.filters["cn_date"] = cn_date
        env.filters["cn_datetime"] = cn_datetime
        env.filters["cn_log_time"] = cn_log_time
        env.filters["role_label"] = role_label
        self.templates = Jinja2Templates(env=env)

    def render(
        self,
        request: Request,
        name: str,
        context: Mapping[str, Any] | None = None,
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        full: dict[str, Any] = {
            "service": self.service,
            "service_title": self.title,
            "nav": self.nav,
            "public_nav": self.public_nav,
            "operator": operator_of(request),
            "csrf_token": request.scope.get(CSRF_TOKEN),
            "current_path": request.url.path,
            "now": datetime.now(UTC),
        }
        full.update(context or {})
        response = self.templates.TemplateResponse(
            request, name, full, status_code=status_code, headers=dict(headers or {})
        )
        response.headers["Content-Security-Policy"] = PAGE_CSP
        # Pages show who is signed in and internal records: keep them out of shared caches.
        response.headers["Cache-Control"] = "no-store"
        return response

    def render_error(
        self,
        request: Request,
        problem: Mapping[str, Any],
        *,
        headers: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        return self.render(
            request,
            "error.html",
            {"problem": problem},
            status_code=int(problem["status"]),
            headers=headers,
        )
