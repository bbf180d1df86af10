"""Dispatch service wiring: its declaration, once (统一转办)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.dispatch import projection
from shared.ledger.deployments import BODY, DeploymentSpec
from shared.service import ServiceDeclaration
from shared.web import Role, WebSettings
from shared.web.demo import demo_router

NAME = "dispatch"

DUTIES = (
    "按转办规则直接交办或并联交办，写明办结时限（限时办结）",
    "受理退单申请并作出裁定，裁定前承办单位时限照常计算（首接负责）",
    "召集联席会议，记录各成员意见，缺席视为同意（缺席默认）",
)


SERVICE = ServiceDeclaration(
    name=NAME,
    title="统一转办",
    deployment=DeploymentSpec(
        NAME,
        f"/bodies/{BODY}/{NAME}",
        BODY,
        NAME,
        (BODY,),
        ("ledger.dispatch.*", "ledger.conference.*"),
    ),
    port=8002,
    routers=[demo_router(NAME, Role.DISPATCH_OFFICER, DUTIES)],
    projections=projection.PROJECTIONS,
    pages=Path(__file__).parent / "pages",
)


def create(settings: WebSettings | None = None) -> FastAPI:
    return SERVICE.create_app(settings)
