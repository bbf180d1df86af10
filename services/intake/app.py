"""Intake service wiring: its declaration, once (统一受理)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.intake import api, duplicate_review, internal, projection, screening
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
    routers=[api.router, api.home, internal.router, screening.router, duplicate_review.router],
    projections=projection.PROJECTIONS,
    pages=Path(__file__).parent / "pages",
    nav=(*api.NAV, duplicate_review.NAV),
    public_nav=[NavItem("投诉查询与确认", "/public/follow-up")],
)


def create(settings: WebSettings | None = None) -> FastAPI:
    return SERVICE.create_app(settings)
