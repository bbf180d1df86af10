"""Publication service wiring: its declaration, once (结果公开)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.publication import api, projection
from shared.ledger.deployments import BODY, CONFIG_RIGHT, DeploymentSpec
from shared.service import ServiceDeclaration
from shared.web import WebSettings
from shared.web.pages import NavItem

NAME = "publication"

SERVICE = ServiceDeclaration(
    name=NAME,
    title="结果公开",
    deployment=DeploymentSpec(
        NAME,
        f"/bodies/{BODY}/{NAME}",
        BODY,
        NAME,
        (BODY,),
        ("ledger.publication.*", CONFIG_RIGHT),
        ("publication_policy",),
        # Case-scoped redaction by intake (signed internal call, shared/web/signed_calls.py).
        calls=((f"/bodies/{BODY}/intake", "redaction"),),
    ),
    port=8004,
    routers=[api.router, api.home],
    projections=projection.PROJECTIONS,
    pages=Path(__file__).parent / "pages",
    nav=api.NAV,
    public_nav=[NavItem("效能监督结果公告", "/public/notices")],
)


def create(settings: WebSettings | None = None) -> FastAPI:
    return SERVICE.create_app(settings)
