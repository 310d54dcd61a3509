"""gunicorn's threaded worker, answering the requests it refuses itself as problems.

gunicorn checks the request line, the header fields and chunked framing before the app
runs, and answers what fails in HTML. This worker answers the same refusals with the
same statuses as ``application/problem+json``. Its limits (:data:`LIMITS`) are set above
the app's own (:mod:`api.guard`), so the app answers first whenever it can.
"""

from __future__ import annotations

import ssl
from typing import Any

from gunicorn.http import errors as http_errors  # type: ignore[import-untyped]
from gunicorn.util import write_nonblock  # type: ignore[import-untyped]
from gunicorn.workers.gthread import ThreadWorker  # type: ignore[import-untyped]

from api.errors import PROBLEM_JSON, http_problem

#: gunicorn's limits, above the app's (query 2 KiB, target 4 KiB, 100 fields, 32 KiB).
LIMITS: dict[str, int] = {
    "limit_request_line": 8190,  # gunicorn's maximum
    "limit_request_fields": 200,
    "limit_request_field_size": 64 << 10,
}

_STATUS: tuple[tuple[type[BaseException], int, str], ...] = (
    # a header the app tried to send is the app's fault, not the client's
    (http_errors.InvalidResponseHeader, 500, "Internal Server Error"),
    (http_errors.InvalidResponseHeaderName, 500, "Internal Server Error"),
    (http_errors.LimitRequestLine, 414, "URI Too Long"),
    (http_errors.LimitRequestHeaders, 431, "Request Header Fields Too Large"),
    (http_errors.UnsupportedTransferCoding, 501, "Not Implemented"),
    (http_errors.ExpectationFailed, 417, "Expectation Failed"),
    (http_errors.ForbiddenProxyRequest, 403, "Forbidden"),
    (http_errors.ConfigurationProblem, 500, "Internal Server Error"),
    (http_errors.ParseException, 400, "Bad Request"),
    (ssl.SSLError, 403, "Forbidden"),
)


def refusal(exc: BaseException) -> tuple[int, str]:
    """The status and reason gunicorn gives a request it refuses (500: a server fault)."""
    for kind, status, reason in _STATUS:
        if isinstance(exc, kind):
            return status, reason
    return 500, "Internal Server Error"


def problem_message(status: int, reason: str) -> bytes:
    """A whole HTTP/1.1 response carrying the problem; the connection then closes."""
    detail = (
        "the server failed to handle the request; the operator's log has the details"
        if status == 500
        else f"the server refused the request before reading it: {reason.lower()}"
    )
    body = http_problem(status, reason, detail)
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
        f"Content-Type: {PROBLEM_JSON}\r\nContent-Length: {len(body)}\r\n"
        "X-Content-Type-Options: nosniff\r\n\r\n"
    )
    return head.encode("latin-1") + body


class ProblemThreadWorker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's gthread worker; its own error answers are problem documents."""

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        status, reason = refusal(exc)
        ip = (addr or ("", -1))[0]
        if status == 500:
            self.log.exception("Error handling request from ip=%s", ip)
        else:
            self.log.warning("Invalid request from ip=%s: %s", ip, exc)
        try:
            write_nonblock(client, problem_message(status, reason))
        except Exception:  # the client may be gone; there is nothing to tell it
            self.log.debug("Failed to send error message.")
