"""The console's blueprint, its session and its safety rules.

A person signs in by pasting a bearer token once; the console keeps, in a signed
session cookie (``__Host-`` prefixed, Secure, HttpOnly, SameSite=Strict), only the
token's *id*, its party and a CSRF secret, never the token itself. Every request
re-checks that the token is still active and its party still admitted, and builds the
very :class:`~api.access.Principal` the API builds from an ``Authorization`` header,
so pages are judged by the API's own policy (:mod:`api.access`).

Every form carries the session's CSRF secret; a POST without it, or with another, is
refused before anything else. Pages answer with a Content-Security-Policy that allows
only the app's own scripts, styles and images (no inline script at all).
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, g, redirect, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException

from api.access import Principal, reader, state
from ledger.errors import LedgerError, NotFoundError, UnauthorizedError

bp = Blueprint(
    "console",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/console/static",
)

SESSION_COOKIE = "__Host-lotchain-console"
SESSION_HOURS = 8
CSRF_FIELD = "csrf"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)

#: Session settings the app takes for the console (api.app.create_app).
SESSION_CONFIG: dict[str, Any] = {
    "SESSION_COOKIE_NAME": SESSION_COOKIE,
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Strict",
    "SESSION_REFRESH_EACH_REQUEST": False,  # the 8 hours run from sign-in
    "PERMANENT_SESSION_LIFETIME": timedelta(hours=SESSION_HOURS),
}


class CsrfError(LedgerError):
    """A form was posted without this session's CSRF secret."""

    code = "CSRF"
    http_status = 403
    title = "Form refused"


def csrf_token() -> str:
    """This session's CSRF secret, made on first use (also before sign-in)."""
    token = session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


def _check_csrf() -> None:
    expected = session.get(CSRF_FIELD)
    given = request.form.get(CSRF_FIELD, "")
    if not isinstance(expected, str) or not hmac.compare_digest(
        expected.encode("utf-8"), given.encode("utf-8")
    ):
        raise CsrfError("this form has expired or did not come from this console; reload it")
    # Browsers say where a request comes from; unlike Origin this survives a TLS proxy.
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        raise CsrfError("this form was posted from another site")


def session_principal() -> Principal | None:
    """The signed-in party, re-checked against the token store and the party directory."""
    token_id = session.get("token_id")
    if not isinstance(token_id, str):
        return None
    st = state()
    info = st.tokens.active_by_id(token_id)
    party = None if info is None else st.ledger.store.party(info.party)
    if info is None or party is None or party.party_id != session.get("party"):
        session.pop("token_id", None)
        session.pop("party", None)
        return None
    return Principal(party.party_id, party.roles, info.id)


def sign_in(token: str) -> Principal:
    """Start a session for a bearer token: a new session, so no earlier id survives."""
    st = state()
    info = st.tokens.authenticate(token.strip()) if len(token) <= 256 else None
    party = None if info is None else st.ledger.store.party(info.party)
    if info is None or party is None:
        raise UnauthorizedError("this token is unknown, revoked, or its party is not admitted")
    session.clear()
    session.permanent = True
    session["token_id"] = info.id
    session["party"] = party.party_id
    csrf_token()
    return Principal(party.party_id, party.roles, info.id)


@bp.before_request
def _before() -> None:
    """Set the request's principal from the session (the API's access code reads it)."""
    if request.method == "POST":
        _check_csrf()
    g.principal = session_principal()


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.app_context_processor
def _context() -> dict[str, Any]:
    who = g.get("principal") if request.blueprint == "console" else None
    return {"who": who, "csrf_token": csrf_token, "csrf_field": CSRF_FIELD}


def cbp_only() -> Principal:
    """CBP's pages: sign-in first (as every page), then to anyone else "not found"."""
    who = reader()
    if not who.is_cbp:
        raise NotFoundError(f"no page {request.path} that you may see")
    return who


def local_path(target: str | None) -> str:
    """A redirect target on this site only (no scheme, no host, no //)."""
    if not target:
        return url_for("console.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("console.home")
    if "\\" in target:
        return url_for("console.home")
    return target


def _error(error: LedgerError) -> Response | tuple[str, int]:
    if isinstance(error, UnauthorizedError) and request.method == "GET":
        return redirect(url_for("console.signin", next=request.full_path.rstrip("?")))  # type: ignore[return-value]
    status = error.http_status
    return render_template("error.html", status=status, title=error.title,
                           detail=error.message, code=error.code), status


def _http_error(error: HTTPException) -> tuple[str, int]:
    status = error.code or 500
    return render_template("error.html", status=status, title=error.name,
                           detail=error.description or error.name, code=None), status


bp.register_error_handler(LedgerError, _error)
bp.register_error_handler(HTTPException, _http_error)
