"""The dispatch benchmark's server: dispatch, as ``make run`` serves it (its projector running),
plus a bare FastAPI endpoint on the same app that only validates the same path and body — the
raw limit of the assignment row. ``python -m tests.bench.dispatch_server VAR_DIR PORT``."""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn
from fastapi import APIRouter, Depends

from services.dispatch.app import SERVICE
from services.dispatch.commands import AssignCase
from shared.web.auth import public
from shared.web.service_read_model import CaseIdPath
from shared.web.settings import WebSettings

bare = APIRouter(dependencies=[Depends(public)])


@bare.post("/bench/bare/{case_id}/assignment", status_code=201)
async def bare_endpoint(case_id: CaseIdPath, body: AssignCase) -> dict[str, str]:
    return {"case": case_id, "urgency": body.urgency}


def main(var_dir: str, port: int) -> None:
    settings = WebSettings(
        var_dir=Path(var_dir),
        port=port,
        log_level="warning",
        password_time_cost=1,
        password_memory_kib=64,
        password_parallelism=1,
    )
    app = SERVICE.create_app(settings)
    app.include_router(bare)
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
