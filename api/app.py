"""The Flask app factory: one ledger, one token store, one blueprint per resource."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask import Flask, Request, Response, current_app, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from api import (
    allegations,
    certificates,
    console,
    entries,
    guard,
    health,
    impact,
    log,
    openapi,
    parties,
    reports,
    shipments,
)
from api.access import ApiState, Policy
from api.errors import UriTooLongError, register_error_handlers
from ledger.errors import ConfigError, MalformedError
from ledger.home import Home
from ledger.log import Ledger
from ledger.tokens import TokenStore

#: Limits; each can be overridden through ``config``.
DEFAULTS: dict[str, Any] = {
    "MAX_CONTENT_LENGTH": 2 << 20,  # one envelope is at most 1 MiB; 2 MiB leaves room
    "LOTCHAIN_MAX_BATCH_BYTES": 2 << 20,  # POST /v1/entries:batch (the README's 2 MiB)
    "LOTCHAIN_MAX_BATCH": 500,  # envelopes per batch
    "LOTCHAIN_PAGE_SIZE": 1000,  # items per page (leaves, shipments, certificates, parties)
    "LOTCHAIN_SCAN_BUDGET": 1000,  # entries one search request examines before it pages
    "LOTCHAIN_MAX_QUERY": 2048,  # bytes of query string
    "LOTCHAIN_MAX_HEADERS": guard.MAX_HEADERS,  # header fields per request
    "LOTCHAIN_MAX_HEADER_BYTES": guard.MAX_HEADER_BYTES,  # all header fields together
}


def create_app(
    home: Path | None = None,
    *,
    ledger: Ledger | None = None,
    config: dict[str, Any] | None = None,
) -> Flask:
    """Build the API over ``ledger``, or over the ledger of ``home``.

    Opening from ``home`` takes ``LOTCHAIN_PASSPHRASE`` (bytes or str) and
    ``LOTCHAIN_DB`` from ``config``: with a passphrase the server holds the log key and
    can append; without one it serves reads only. ``LOTCHAIN_SECRET_KEY`` signs the
    console's session cookies (default: random, so sessions end with the process).
    ``LOTCHAIN_INTEGRATE_EVERY_MS`` bounds how long an append waits to share an
    integration; ``LOTCHAIN_POOL_WORKERS`` sizes the admission pool (off, auto, N).
    """
    settings = {**DEFAULTS, **(config or {})}
    passphrase = settings.pop("LOTCHAIN_PASSPHRASE", None)  # never kept in app.config
    if ledger is None:
        if home is None:
            raise ConfigError("create_app needs a home directory or an open ledger")
        if isinstance(passphrase, str):
            passphrase = passphrase.encode("utf-8")
        ledger = Home(Path(home)).open_ledger(passphrase or None, db=settings.get("LOTCHAIN_DB"))
    every = settings.get("LOTCHAIN_INTEGRATE_EVERY_MS")
    ledger.configure(
        pool_workers=settings.get("LOTCHAIN_POOL_WORKERS"),
        integrate_every=None if every is None else int(every) / 1000,
    )
    secret = settings.pop("LOTCHAIN_SECRET_KEY", None) or secrets.token_bytes(32)
    app = Flask("lotchain")
    app.config.update(console.SESSION_CONFIG)
    app.config.update(settings)
    app.secret_key = secret
    app.session_interface = _Sessions()
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["lotchain"] = ApiState(ledger, TokenStore(ledger.store), Policy(ledger))
    modules = (
        entries,
        log,
        shipments,
        parties,
        certificates,
        impact,
        reports,
        allegations,
        health,
        openapi,
    )
    for module in modules:
        app.register_blueprint(module.bp)
    app.register_blueprint(console.bp)
    register_error_handlers(app)
    app.before_request(_check_query)
    app.after_request(_harden)
    app.wsgi_app = guard.RequestGuard(  # type: ignore[method-assign]
        app.wsgi_app,
        max_headers=int(settings["LOTCHAIN_MAX_HEADERS"]),
        max_header_bytes=int(settings["LOTCHAIN_MAX_HEADER_BYTES"]),
        max_body_bytes=max(
            int(settings["MAX_CONTENT_LENGTH"]), int(settings["LOTCHAIN_MAX_BATCH_BYTES"])
        ),
    )
    return app


#: Routes that never read the console's session: their requests skip opening one.
SESSIONLESS = frozenset({("POST", "/v1/entries"), ("POST", "/v1/entries:batch")})


class _Sessions(SecureCookieSessionInterface):
    """The console's signed-cookie sessions, not opened for the append routes (their
    cost per request is a signer built and a cookie checked, for nothing)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if (request.method, request.path) in SESSIONLESS:
            return self.session_class()
        return super().open_session(app, request)


def _check_query() -> None:
    """Bound the query string and refuse parameters a route does not take.

    A misspelt filter (``regoin=CN-XJ``) must not silently widen a search, so unknown
    parameters are a 400. The known ones are read from the OpenAPI document itself.
    """
    limit = int(current_app.config["LOTCHAIN_MAX_QUERY"])
    if len(request.query_string) > limit:
        raise UriTooLongError(f"the query string is over {limit} bytes")
    rule = request.url_rule
    if rule is None or not request.args or request.blueprint == "console":
        return
    known = openapi.query_parameters(rule.rule, request.method)
    unknown = sorted(set(request.args) - known)
    if unknown:
        raise MalformedError(
            f"unknown query parameter {unknown[0]!r}; this route takes: "
            + (", ".join(sorted(known)) or "none"),
            parameter=unknown[0],
        )


def _harden(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.headers.get("Authorization"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response
