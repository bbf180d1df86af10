"""Publication service wiring: its declaration, once (结果公开)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.publication import projection
from shared.ledger.deployments import BODY, DeploymentSpec
from shared.service import ServiceDeclaration
from shared.web import Role, WebSettings
from shared.web.demo import demo_router

NAME = "publication"

DUTIES = (
    "起草通报与公告，经审核后公开，不含秘密与任何个人信息",
    "公开网站：无需脚本即可浏览，图表由服务器生成",
    "公开透明日志：可验证每份通报已发布且未被改动",
)


SERVICE = ServiceDeclaration(
    name=NAME,
    title="结果公开",
    deployment=DeploymentSpec(
        NAME,
        f"/bodies/{BODY}/{NAME}",
        BODY,
        NAME,
        (BODY,),
        ("ledger.publication.*",),
    ),
    port=8004,
    routers=[demo_router(NAME, Role.PUBLICATION_REVIEWER, DUTIES)],
    projections=projection.PROJECTIONS,
    pages=Path(__file__).parent / "pages",
)


def create(settings: WebSettings | None = None) -> FastAPI:
    return SERVICE.create_app(settings)
