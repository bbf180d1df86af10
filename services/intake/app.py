"""Intake service wiring (统一受理)."""

from __future__ import annotations

from fastapi import FastAPI

from services.intake import api
from shared.ledger.deployments import spec
from shared.projections import projections_for
from shared.web import Role, WebSettings, create_app
from shared.web.demo import demo_router

DUTIES = (
    "统一受理各渠道（热线、网站、信件、来访）的投诉，一件一号，发放查询码",
    "在写入账本前去除投诉人个人信息，原件存入加密保管库",
    "识别重复投诉与越级投诉，合并为同一件",
    "向每位投诉人按其渠道回复，并收集确认、异议与满意度",
)


def create(settings: WebSettings | None = None) -> FastAPI:
    return create_app(
        "intake",
        settings,
        routers=[api.router, demo_router("intake", Role.INTAKE_CLERK, DUTIES)],
        projections=projections_for("intake"),
        deployment=spec("intake"),
    )
