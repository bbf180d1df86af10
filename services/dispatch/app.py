"""Dispatch service wiring (统一转办)."""

from __future__ import annotations

from fastapi import FastAPI

from shared.projections import projections_for
from shared.web import Role, WebSettings, create_app
from shared.web.demo import demo_router

DUTIES = (
    "按转办规则直接交办或并联交办，写明办结时限（限时办结）",
    "受理退单申请并作出裁定，裁定前承办单位时限照常计算（首接负责）",
    "召集联席会议，记录各成员意见，缺席视为同意（缺席默认）",
)


def create(settings: WebSettings | None = None) -> FastAPI:
    return create_app(
        "dispatch",
        settings,
        routers=[demo_router("dispatch", Role.DISPATCH_OFFICER, DUTIES)],
        projections=projections_for("dispatch"),
    )
