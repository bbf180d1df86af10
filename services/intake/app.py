"""Intake service wiring: its declaration, once (统一受理)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.intake import api, projection
from shared.ledger.deployments import BODY, DeploymentSpec
from shared.service import ServiceDeclaration
from shared.web import Role, WebSettings
from shared.web.demo import demo_router

NAME = "intake"

DUTIES = (
    "统一受理各渠道（热线、网站、信件、来访）的投诉，一件一号，发放查询码",
    "在写入账本前去除投诉人个人信息，原件存入加密保管库",
    "识别重复投诉与越级投诉，合并为同一件",
    "向每位投诉人按其渠道回复，并收集确认、异议与满意度",
)


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
    routers=[api.router, demo_router(NAME, Role.INTAKE_CLERK, DUTIES)],
    projections=projection.PROJECTIONS,
    pages=Path(__file__).parent / "pages",
)


def create(settings: WebSettings | None = None) -> FastAPI:
    return SERVICE.create_app(settings)
