"""Oversight service wiring: its declaration, once (统一督办)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.oversight import projection
from shared.ledger.deployments import BODY, DeploymentSpec
from shared.service import ServiceDeclaration
from shared.web import Role, WebSettings
from shared.web.demo import demo_router

NAME = "oversight"

DUTIES = (
    "为每件投诉计时，超时即视为办结并由承办单位担责（超时默认）",
    "逐级督办与挂牌督办，直至办结",
    "承办单位工作台：签收、答复、进展、申请延期",
    "暗访、问责与效能考核，统计回复率、解决率、满意率",
)


SERVICE = ServiceDeclaration(
    name=NAME,
    title="统一督办",
    deployment=DeploymentSpec(
        NAME,
        f"/bodies/{BODY}/{NAME}",
        BODY,
        NAME,
        # Units under supervision act through oversight's workbench, which signs for them.
        (BODY, "unit:*"),
        (
            "ledger.handling.*",
            "ledger.deadline.*",
            "ledger.supervision.*",
            "ledger.penalty.*",
            "ledger.inspection.*",
            "ledger.figures.*",
        ),
    ),
    port=8003,
    routers=[demo_router(NAME, Role.SUPERVISOR, DUTIES)],
    projections=projection.PROJECTIONS,
    pages=Path(__file__).parent / "pages",
)


def create(settings: WebSettings | None = None) -> FastAPI:
    return SERVICE.create_app(settings)
