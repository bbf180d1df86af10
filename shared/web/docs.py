"""OpenAPI UI at /docs served from the service itself (government intranets are often closed,
so nothing may load from a CDN). The assets come from the ``swagger-ui-bundle-v2`` package; if
it is missing, /docs falls back to a plain page linking the OpenAPI document.

Only the three files /docs uses are served from that package: its stock ``index.html`` and
``swagger-initializer.js`` point at an outside demo API, and are not ours to serve."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from shared.web.auth import public
from shared.web.problems import NOT_FOUND, ProblemError

DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}


def _swagger_dir() -> Path | None:
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        return None
    path = Path(str(swagger_ui_path))
    return path if (path / "swagger-ui-bundle.js").is_file() else None


def install_docs(app: FastAPI, title: str) -> None:
    assets = _swagger_dir()
    router = APIRouter(include_in_schema=False, dependencies=[Depends(public)])

    @router.get(DOCS_PATH)
    async def docs() -> HTMLResponse:
        if assets is None:
            return HTMLResponse(
                '<!doctype html><html lang="zh-CN"><meta charset="utf-8">'
                f"<title>{title} API</title><p>接口文档："
                '<a href="/openapi.json">/openapi.json</a></p></html>'
            )
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{title} API",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
        )

    @router.get(ASSETS_PATH + "/{name}")
    async def asset(name: str) -> FileResponse:
        if assets is None or name not in ASSETS:
            raise ProblemError(NOT_FOUND)
        return FileResponse(
            assets / name,
            media_type=ASSETS[name],
            headers={"Cache-Control": "public, max-age=86400"},
        )

    app.include_router(router)
