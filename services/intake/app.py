"""Intake service wiring: its declaration, once (统一受理)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.intake import (
    api,
    clerk_pages,
    delivery_pages,
    delivery_worker,
    duplicate_review,
    import_api,
    internal,
    mail_api,
    open311,
    projection,
    public_form,
    screening,
    vault_routes,
)
from shared.ledger.deployments import BODY, DeploymentSpec
from shared.service import ServiceDeclaration
from shared.web import WebSettings
from shared.web.pages import NavItem

NAME = "intake"

SERVICE = ServiceDeclaration(
    name=NAME,
    title="统一受理",
    deployment=DeploymentSpec(
        NAME,
        f"/bodies/{BODY}/{NAME}",
        BODY,
        NAME,
        (BODY, "complainant"),
        ("ledger.complaint.*", "ledger.complainant.*"),
    ),
    port=8001,
    routers=[
        api.router,
        clerk_pages.router,
        public_form.router,
        open311.router,
        open311.admin,
        api.home,
        internal.router,
        vault_routes.router,
        mail_api.router,
        import_api.router,
        screening.router,
        duplicate_review.router,
        delivery_worker.router,
        delivery_pages.router,
    ],
    projections=projection.PROJECTIONS,
    pages=Path(__file__).parent / "pages",
    nav=(*api.NAV, *mail_api.NAV, *import_api.NAV, duplicate_review.NAV, *delivery_pages.NAV),
    public_nav=[
        NavItem("我要投诉", "/public/complaint"),
        NavItem("投诉查询与确认", "/public/follow-up"),
        NavItem("撤回投诉", "/public/withdrawal"),
    ],
)


def create(settings: WebSettings | None = None) -> FastAPI:
    return SERVICE.create_app(settings)
