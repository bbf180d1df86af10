"""Oversight service wiring: its declaration, once (统一督办)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.oversight import (
    api,
    appeals,
    dashboard,
    dashboard_gauges,
    extensions,
    inspections,
    notice_pages,
    penalties,
    period_figures,
    projection,
    proposal_worker,
    ranking_api,
    rates_pages,
    rates_projection,
    reopen,
    scheduler,
    staff_directory,
    supervisor_forms,
    workbench,
)
from services.oversight.dashboard_projection import DashboardCases
from shared.ledger.deployments import BODY, CONFIG_RIGHT, DeploymentSpec
from shared.service import ServiceDeclaration
from shared.web import WebSettings

NAME = "oversight"
# Closing the loop and inspections: extensions ruled, reopens after a dispute, 暗访 findings.
loop_routers = [extensions.router, reopen.router, inspections.router, supervisor_forms.router]

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
            "ledger.period.*",
            "ledger.appeal.*",
            CONFIG_RIGHT,
        ),
        ("escalation_thresholds", "penalty_schedule", "assessment_weights"),
    ),
    port=8003,
    routers=[
        api.router,
        workbench.router,  # the units' workbench
        api.home,
        scheduler.router,  # the scheduler runs while the app runs
        notice_pages.router,  # the ladder's notices, printable
        period_figures.router,  # signs each period's figures once it ends
        dashboard.router,
        dashboard_gauges.router,  # the domain gauges count while the app runs
        *loop_routers,
        penalties.router,  # 问责: penalties, proposals, the staff directory
        staff_directory.router,
        proposal_worker.router,  # the proposal worker runs while the app runs
        rates_pages.router,  # 考核统计: the rates by period and unit, with their events
        ranking_api.router,  # 效能考核: the units ranked per month and quarter
        appeals.router,  # 申诉复核: units appeal, supervisors rule
    ],
    projections=(*projection.PROJECTIONS, DashboardCases(), appeals.AppealRegister()),
    pages=Path(__file__).parent / "pages",
    nav=(
        *api.NAV,
        *inspections.NAV,
        *penalties.NAV,
        *rates_pages.NAV,
        *ranking_api.NAV,
        *appeals.NAV,
    ),
    period_figures=rates_projection.live_figures,
)


def create(settings: WebSettings | None = None) -> FastAPI:
    return SERVICE.create_app(settings)
