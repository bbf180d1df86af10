"""Publication service wiring (结果公开)."""

from __future__ import annotations

from fastapi import FastAPI

from shared.projections import projections_for
from shared.web import Role, WebSettings, create_app
from shared.web.demo import demo_router

DUTIES = (
    "起草通报与公告，经审核后公开，不含秘密与任何个人信息",
    "公开网站：无需脚本即可浏览，图表由服务器生成",
    "公开透明日志：可验证每份通报已发布且未被改动",
)


def create(settings: WebSettings | None = None) -> FastAPI:
    return create_app(
        "publication",
        settings,
        routers=[demo_router("publication", Role.PUBLICATION_REVIEWER, DUTIES)],
        projections=projections_for("publication"),
    )
