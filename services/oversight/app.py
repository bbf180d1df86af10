"""Oversight service wiring: its declaration, once (统一督办)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.oversight import api, projection, scheduler, workbench
from shared.ledger.deployments import BODY, CONFIG_RIGHT, DeploymentSpec
from shared.service import ServiceDeclaration
from shared.web import WebSettings

NAME = "oversight"

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
            CONFIG_RIGHT,
        ),
        ("escalation_thresholds", "penalty_schedule", "assessment_weights"),
    ),
    port=8003,
    routers=[
        api.router,
        workbench.router,
        api.home,
        scheduler.router,
    ],  # the scheduler runs while the app runs
    projections=projection.PROJECTIONS,
    pages=Path(__file__).parent / "pages",
    nav=api.NAV,
)


def create(settings: WebSettings | None = None) -> FastAPI:
    return SERVICE.create_app(settings)
