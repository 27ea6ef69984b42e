"""What every console page shares: who is signed in, in which language, the CSRF check, reading
the read models (waiting for one's own writes) and turning expected errors into a friendly page."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import structlog
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError

from api.console import i18n
from api.console.session import LANG_COOKIE, NONCE_COOKIE, SESSION_COOKIE, Signer, language, new_nonce
from api.errors import STATUS_BY_KIND, UNAVAILABLE
from ledger.application import Ledger
from ledger.domain.actors import Actor
from ledger.domain.catalogue import Role
from ledger.domain.errors import InvalidInput, LedgerError
from projections.paging import BadCursor
from projections.readside import ReadSide

log = structlog.get_logger("ledger.console")
TEMPLATES = Path(__file__).parent / "templates"
CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
READ_MODELS = ("caseload", "fulfilment", "funds", "audit", "flags", "trace", "rollups")

# The first page of each role, and the menu it sees.
HOME = {
    "purchaser": "/console/funds",
    "contractor": "/console/inbox",
    "finance": "/console/tranches",
    "auditor": "/console/audit",
    "evaluator": "/console/contracts",
}
MENU = {
    "purchaser": [
        ("nav.funds", "/console/funds"),
        ("nav.contracts", "/console/contracts"),
        ("nav.referrals", "/console/referrals"),
        ("nav.beneficiaries", "/console/beneficiaries"),
        ("nav.contractors", "/console/contractors"),
    ],
    "contractor": [("nav.inbox", "/console/inbox"), ("nav.cases", "/console/cases"), ("nav.visit", "/console/visits/new"), ("nav.upload", "/console/visits/upload"), ("nav.visits", "/console/visits")],
    "finance": [("nav.tranches", "/console/tranches"), ("nav.funds", "/console/funds"), ("nav.contracts", "/console/contracts")],
    "auditor": [
        ("nav.audit", "/console/audit"),
        ("nav.trace", "/console/trace"),
        ("nav.flags", "/console/red-flags"),
        ("nav.verify", "/console/verify"),
        ("nav.contracts", "/console/contracts"),
        ("nav.funds", "/console/funds"),
    ],
    "evaluator": [("nav.contracts", "/console/contracts")],
}


class CsrfRefused(Exception):
    """A POST without the CSRF token of this visitor's nonce."""


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    env.globals.update(money=i18n.money, percent=i18n.percent)
    env.filters["when"] = i18n.when
    return env


@dataclass
class Ctx:
    """One request as the console sees it."""

    request: Request
    lang: str
    actor: Actor | None
    nonce: str
    signer: Signer
    new_nonce: bool = False
    cookies: list[tuple[str, str, int | None]] = field(default_factory=list)

    @property
    def ledger(self) -> Ledger:
        return self.request.app.state.ledger

    @property
    def read_side(self) -> ReadSide:
        return self.request.app.state.read_side

    @property
    def by(self) -> Actor:
        """The signed-in actor, for a command (a page() handler runs only when there is one)."""
        if self.actor is None:
            raise InvalidInput("sign in first")
        return self.actor

    @property
    def org(self) -> str | None:
        return self.actor.organisation_id if self.actor is not None and self.actor.is_contractor else None

    @property
    def csrf(self) -> str:
        return self.signer.csrf(self.nonce)

    def t(self, key: str) -> str:
        return i18n.t(self.lang, key)

    def label(self, kind: str, code: Any) -> str:
        return i18n.label(self.lang, kind, code)

    def query(self, fn: Callable[..., Any], **kwargs: Any) -> Any:
        """A read-model query, as the API runs it, after the read models pass `after` (the
        position of the visitor's own last command) when the URL names one."""
        after = self.request.query_params.get("after", "")
        if after.isdigit():
            self.read_side.wait_for(min(int(after), self.ledger.head()), READ_MODELS, self.request.app.state.settings.read_wait_seconds)
        with self.read_side.engine.connect() as conn:
            return fn(conn, **kwargs)

    def url(self, path: str, **params: Any) -> str:
        kept = {k: v for k, v in params.items() if v not in (None, "")}
        return f"{path}?{urlencode(kept)}" if kept else path

    def here(self, **changes: Any) -> str:
        """This page's URL with some query parameters changed (None drops one)."""
        params = dict(self.request.query_params)
        params.pop("after", None)
        params.update(changes)
        return self.url(self.request.url.path, **params)

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        env: Environment = self.request.app.state.console_templates
        html = env.get_template(template).render(
            ctx=self, t=self.t, label=self.label, problems=lambda detail: i18n.problems(self.lang, detail), menu=MENU.get(self.actor.role, []) if self.actor else [], **values
        )
        return HTMLResponse(html, status_code=status)

    def finish(self, response: Response) -> Response:
        secure = self.request.url.scheme == "https"
        if self.new_nonce:
            response.set_cookie(NONCE_COOKIE, self.nonce, httponly=True, samesite="strict", secure=secure, path="/console")
        for name, value, max_age in self.cookies:
            if value:
                response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax", secure=secure, path="/console")
            else:
                response.delete_cookie(name, path="/console")
        response.headers.setdefault("Cache-Control", "no-store")
        # Nothing but this origin: the browser itself refuses any asset from outside, and framing.
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response


def context(request: Request) -> Ctx:
    signer: Signer = request.app.state.console_signer
    lang = language(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
    nonce = request.cookies.get(NONCE_COOKIE)
    fresh = not nonce
    token = signer.token_of(request.cookies.get(SESSION_COOKIE))
    actor = None
    if token:
        request_id = getattr(request.state, "request_id", None) or uuid.uuid4().hex
        actor = request.app.state.ledger.authenticate(token, request_id)
        request.state.actor = actor  # the request log names who it was
    return Ctx(request, lang, actor, nonce or new_nonce(), signer, new_nonce=fresh)


Context = Annotated[Ctx, Depends(context)]


def redirect(to: str) -> RedirectResponse:
    return RedirectResponse(to, status_code=303)


def after(path: str, position: int, **params: Any) -> RedirectResponse:
    """Back to a page once a command is recorded: the page waits for the read models to see it."""
    return redirect(f"{path}?{urlencode({**{k: v for k, v in params.items() if v}, 'after': position})}")


def error_page(ctx: Ctx, kind: str, code: str, detail: Any, status: int, request_id: str | None = None) -> HTMLResponse:
    """The message in the visitor's language, and in the other one beneath it."""
    title = {"forbidden": "forbidden", "not_found": "not_found", "unavailable": "unavailable", "csrf": "csrf", "unexpected": "unexpected"}.get(
        kind, kind if kind in ("invalid", "conflict") else "error"
    )
    other = i18n.t("en" if ctx.lang == "zh" else "zh", title)
    return ctx.render("error.html", status=status, title=ctx.t(title), other=other, code=code, detail=detail, request_id=request_id)


def page(*roles: Role, signed_in: bool = True) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """A console page: signed in (else to the sign-in form), of one of the roles (else 403), its
    POST checked for the CSRF token, and any expected error shown as a page, never a 500."""

    def wrap(fn: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Response:
            ctx: Ctx = kwargs["ctx"]
            return ctx.finish(_answer(ctx, fn, roles, signed_in, args, kwargs))

        return inner

    return wrap


def _answer(ctx: Ctx, fn: Callable[..., Response], roles: tuple[Role, ...], signed_in: bool, args: Any, kwargs: Any) -> Response:
    request = ctx.request
    if signed_in and ctx.actor is None:
        return redirect(ctx.url("/console/sign-in", next=request.url.path))
    if roles and ctx.actor is not None and ctx.actor.role not in {r.value for r in roles}:
        return error_page(ctx, "forbidden", "Forbidden", None, 403)
    if request.method == "POST" and not ctx.signer.csrf_ok(request.cookies.get(NONCE_COOKIE), kwargs.get("csrf")):
        return error_page(ctx, "csrf", "CsrfRefused", None, 403)
    try:
        return fn(*args, **kwargs)
    except LedgerError as e:
        status = STATUS_BY_KIND.get(e.kind, 409)
        return error_page(ctx, e.kind, e.code, e.detail, status)
    except BadCursor as e:
        return error_page(ctx, "invalid", "InvalidInput", str(e), 422)
    except ValidationError as e:
        problems = [{"loc": list(p["loc"]), "msg": p["msg"], "type": p["type"]} for p in e.errors()]
        return error_page(ctx, "invalid", "ValidationError", i18n.problems(ctx.lang, problems), 422)
    except UNAVAILABLE:
        return error_page(ctx, "unavailable", "StoreUnavailable", None, 503)
    except Exception as e:  # a bug: still a page, with the id to find it in the log
        request_id = getattr(request.state, "request_id", None) or uuid.uuid4().hex
        log.error("console_unexpected_error", error=repr(e), request_id=request_id, exc_info=e)
        return error_page(ctx, "unexpected", "InternalError", None, 500, request_id=request_id)


def need(value: str | None, what: str) -> str:
    if not value:
        raise InvalidInput(f"{what} is required")
    return value
