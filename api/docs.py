"""`/docs` (Swagger UI) from assets served by the service itself, and the `/static` mount.

A government intranet has no internet: FastAPI's default pages load their scripts, styles, favicon
and fonts from public CDNs and stay blank there. The vendored copy of swagger-ui-dist under
api/static/ (with its licence; version in api/static/README.md) is served at /static, which other
assets (the console's) share. `/redoc` leads to `/docs`: one documentation page, one vendored
bundle to keep current, rather than a second renderer of the same OpenAPI document."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
STATIC_URL = "/static"


def install_docs(app: FastAPI) -> None:
    """Call with FastAPI(docs_url=None, redoc_url=None): these routes replace the CDN-backed ones."""
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="static")
    title = app.title
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} – API",
            swagger_js_url=f"{STATIC_URL}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC_URL}/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{STATIC_URL}/swagger-ui/favicon-32x32.png",
            # No badge from the public validator service: it would be a request off the intranet.
            swagger_ui_parameters={"validatorUrl": None},  # merged with FastAPI's defaults
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> RedirectResponse:
        return RedirectResponse("/docs", status_code=308)  # FastAPI's other docs address, kept for bookmarks
