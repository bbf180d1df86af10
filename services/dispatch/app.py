"""Dispatch service wiring: its declaration, once (统一转办)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.dispatch import (
    api,
    board,
    conference_api,
    minutes,
    projection,
    reactor,
    return_rulings,
    routing_api,
)
from services.dispatch.board_projection import BoardCases
from shared.ledger.deployments import BODY, CONFIG_RIGHT, DeploymentSpec
from shared.service import ServiceDeclaration
from shared.web import WebSettings

NAME = "dispatch"

SERVICE = ServiceDeclaration(
    name=NAME,
    title="统一转办",
    deployment=DeploymentSpec(
        NAME,
        f"/bodies/{BODY}/{NAME}",
        BODY,
        NAME,
        (BODY,),
        ("ledger.dispatch.*", "ledger.conference.*", CONFIG_RIGHT),
        # routing, limits and calendar are dispatch's; the bureau names it for the directories
        ("routing", "time_limits", "calendar", "body_directory", "unit_directory"),
    ),
    port=8002,
    routers=[
        api.router,
        api.home,
        board.router,
        return_rulings.router,
        routing_api.router,
        conference_api.router,
        reactor.router,  # 超时默认 and 踢皮球 while the app runs
    ],
    projections=(*projection.PROJECTIONS, BoardCases()),
    pages=Path(__file__).parent / "pages",
    nav=(*api.NAV, *routing_api.NAV, *conference_api.NAV),
    replay_text={"conference": minutes.replay_lines},  # `ledger replay` prints the minutes
)


def create(settings: WebSettings | None = None) -> FastAPI:
    return SERVICE.create_app(settings)
