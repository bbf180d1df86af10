"""OpenAPI UI at /docs served from the service itself (government intranets are often closed,
so nothing may load from a CDN). The assets come from the ``swagger-ui-bundle-v2`` package; if
it is missing, /docs falls back to a plain page linking the OpenAPI document."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from shared.web.auth import public

DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"


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

    app.include_router(router)
    if assets is not None:
        app.mount(ASSETS_PATH, StaticFiles(directory=assets), name="docs-assets")
