"""The service scaffold: one app factory, people who sign in, errors that leak nothing.

A service wires itself with::

    app = create_app("dispatch", settings, routers=[api.router], readiness_checks=[...])

and declares access once per route: ``Depends(require_roles(Role.X))`` for API reads,
``Depends(command(Role.X))`` for idempotent commands, ``Depends(page(Role.X))`` for pages,
``Depends(public)`` for the few open routes.
"""

from shared.readiness import CheckResult, ReadinessCheck
from shared.web.auth import authenticated, public, require_roles
from shared.web.factory import create_app
from shared.web.idempotency import command
from shared.web.identity import IdentityStore, Operator
from shared.web.pages import NavItem, cn_date, cn_datetime
from shared.web.problems import ProblemError, ProblemType
from shared.web.roles import ROLE_LABELS, Role
from shared.web.sessions import page
from shared.web.settings import WebSettings

__all__ = [
    "ROLE_LABELS",
    "CheckResult",
    "IdentityStore",
    "NavItem",
    "Operator",
    "ProblemError",
    "ProblemType",
    "ReadinessCheck",
    "Role",
    "WebSettings",
    "authenticated",
    "cn_date",
    "cn_datetime",
    "command",
    "create_app",
    "page",
    "public",
    "require_roles",
]
