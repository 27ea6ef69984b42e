"""Signing in with a bearer token, signing out, the language switch and the console's root."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form

from api.console.core import HOME, Context, error_page, redirect
from api.console.session import LANG_COOKIE, LANGUAGES, NONCE_COOKIE, SESSION_COOKIE, SESSION_SECONDS

router = APIRouter()
YEAR = 365 * 24 * 3600


def _local(next_path: str | None) -> str:
    """Only a path inside the console: never an open redirect to another site."""
    if next_path and next_path.startswith("/console") and not next_path.startswith("//"):
        return next_path
    return "/console"


@router.get("/console", include_in_schema=False)
def root(ctx: Context):
    to = HOME.get(ctx.actor.role, "/console/sign-in") if ctx.actor else "/console/sign-in"
    return ctx.finish(redirect(to))


@router.get("/console/sign-in", include_in_schema=False)
def sign_in_form(ctx: Context, next: str | None = None):
    return ctx.finish(ctx.render("sign_in.html", next=_local(next)))


@router.post("/console/sign-in", include_in_schema=False)
def sign_in(ctx: Context, token: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = "", next: Annotated[str, Form()] = ""):
    if not ctx.signer.csrf_ok(ctx.request.cookies.get(NONCE_COOKIE), csrf):
        return ctx.finish(error_page(ctx, "csrf", "CsrfRefused", None, 403))
    actor = ctx.ledger.authenticate(token.strip(), uuid.uuid4().hex) if token.strip() else None
    if actor is None:
        return ctx.finish(ctx.render("sign_in.html", status=401, next=_local(next), problem=ctx.t("bad_token")))
    ctx.cookies.append((SESSION_COOKIE, ctx.signer.session(token.strip()), SESSION_SECONDS))
    target = _local(next)
    return ctx.finish(redirect(target if target != "/console" else HOME.get(actor.role, "/console")))


@router.post("/console/sign-out", include_in_schema=False)
def sign_out(ctx: Context, csrf: Annotated[str, Form()] = ""):
    if not ctx.signer.csrf_ok(ctx.request.cookies.get(NONCE_COOKIE), csrf):
        return ctx.finish(error_page(ctx, "csrf", "CsrfRefused", None, 403))
    ctx.cookies.append((SESSION_COOKIE, "", None))
    return ctx.finish(redirect("/console/sign-in"))


@router.get("/console/language/{lang}", include_in_schema=False)
def switch_language(ctx: Context, lang: str, next: str | None = None):
    """Remembers the choice in a cookie: a preference, not a change to any record."""
    response = redirect(_local(next))
    if lang in LANGUAGES:
        ctx.cookies.append((LANG_COOKIE, lang, YEAR))
    return ctx.finish(response)
