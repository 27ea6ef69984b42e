"""The web console at /console: server-rendered pages over the same application and read-model
queries as the API, in zh-CN (default) and English, with every asset served from this process."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from api.console import auditor, auth, contractor, finance, purchaser
from api.console.core import Context, environment, error_page
from api.console.session import Signer

STATIC = Path(__file__).resolve().parent.parent / "static" / "console"
fallback = APIRouter(include_in_schema=False)


@fallback.get("/console/{rest:path}")
def not_found(ctx: Context, rest: str):
    return ctx.finish(error_page(ctx, "not_found", "NotFound", None, 404))


def install_console(app: FastAPI) -> None:
    app.state.console_signer = Signer.from_settings(app.state.settings)
    app.state.console_templates = environment()
    # Its own mount, apart from any /static of the API's documentation.
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
    for module in (auth, purchaser, contractor, finance, auditor):
        app.include_router(module.router)
    app.include_router(fallback)  # last: a friendly page for any other /console path
