"""RFC 9457 problem responses: the one place where failures become HTTP.

Every error leaves the API as ``application/problem+json`` with the stable ``code`` of
the core's :class:`~ledger.errors.LedgerError` (or of the HTTP condition werkzeug
raised), never as an HTML page or a traceback: clients branch on ``code``.
"""

from __future__ import annotations

from json import dumps as json_dumps
from typing import Any

import peewee as pw
from flask import Flask, Response, current_app, json, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from ledger.errors import (
    LedgerError,
    RateLimitedError,
    StorageError,
    TooLargeError,
    UnauthorizedError,
)

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://lotchain.dev/problems/"

#: Codes of the HTTP conditions that werkzeug (not lotchain) detects.
HTTP_CODES = {
    400: "MALFORMED",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    408: "TIMEOUT",
    411: "MALFORMED",
    413: "TOO_LARGE",
    414: "TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    417: "MALFORMED",
    431: "TOO_LARGE",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
}


class ReadOnlyError(LedgerError):
    """The server was started without the log key, so it cannot append."""

    code = "READ_ONLY"
    http_status = 503
    exit_code = 4  # could not complete (ledger.errors.EXIT_INCOMPLETE)
    title = "Server is read-only"


class UriTooLongError(TooLargeError):
    """The query string exceeds the server's limit."""

    http_status = 414
    title = "Request URI too long"


def problem_type(code: str) -> str:
    return PROBLEM_BASE + code.lower().replace("_", "-")


def http_problem(status: int, title: str, detail: str, instance: str | None = None) -> bytes:
    """A problem document for an HTTP condition, as bytes, with no Flask request around.

    The WSGI guard and the front servers (waitress, gunicorn) answer with it, so an error
    a client meets before the app runs still reads like every other error.
    """
    code = HTTP_CODES.get(status, f"HTTP_{status}")
    body: dict[str, Any] = {
        "type": problem_type(code),
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance is not None:
        body["instance"] = instance
    return json_dumps(body, separators=(",", ":")).encode("utf-8")


def problem_body(error: LedgerError) -> dict[str, Any]:
    """The problem object of a coded error (also used per envelope in batches)."""
    body: dict[str, Any] = {
        "type": problem_type(error.code),
        "title": error.title,
        "status": error.http_status,
        "detail": error.message,
        "code": error.code,
    }
    for key, value in error.to_dict().items():
        if key not in ("code", "message") and key not in body:
            body[key] = value
    return body


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    body.setdefault("instance", request.path)
    response = Response(
        json.dumps(body, separators=(",", ":")),
        status=int(body["status"]),
        mimetype=PROBLEM_JSON,
        headers=headers,
    )
    return response


def _ledger_error(error: LedgerError) -> Response:
    headers = {}
    if isinstance(error, UnauthorizedError):
        realm = 'Bearer realm="lotchain"'
        if error.detail.get("invalid_token"):
            realm += ', error="invalid_token"'
        headers["WWW-Authenticate"] = realm
    if isinstance(error, RateLimitedError):
        headers["Retry-After"] = str(error.detail.get("retry_after", 1))
    return problem_response(problem_body(error), headers)


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    code = HTTP_CODES.get(status, f"HTTP_{status}")
    body = {
        "type": problem_type(code),
        "title": error.name,
        "status": status,
        "detail": error.description or error.name,
        "code": code,
    }
    headers = {}
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        headers["Allow"] = ", ".join(sorted(error.valid_methods))
    return problem_response(body, headers)


def _database(error: pw.PeeweeException) -> Response:
    current_app.logger.error("database error on %s %s: %s", request.method, request.path, error)
    return _ledger_error(StorageError("the database is unavailable; try again shortly"))


def _unexpected(error: Exception) -> Response:
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    body = {
        "type": problem_type("INTERNAL"),
        "title": "Internal server error",
        "status": 500,
        "detail": "the server failed to handle the request; the operator's log has the details",
        "code": "INTERNAL",
    }
    return problem_response(body)


def register_error_handlers(app: Flask) -> None:
    """One handler per family: coded errors, HTTP conditions, the database, the unforeseen."""
    app.register_error_handler(LedgerError, _ledger_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(pw.PeeweeException, _database)
    app.register_error_handler(Exception, _unexpected)
