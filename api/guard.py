"""A thin WSGI layer that answers over-large requests before the app, as problems.

The front servers have limits of their own (request line, header count and size,
body size) and answer them in their own formats (text/plain, HTML). This layer's
limits are lower than theirs (see :mod:`api.serve`), so a request that breaks one is
refused here with ``application/problem+json`` and a stable code, like every other
error of the API; the servers' own answers beyond their limits are rewritten as
problems too (:mod:`api.serve`, :mod:`api.gunicorn_worker`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from api.errors import PROBLEM_JSON, http_problem

#: Header fields in one request (gunicorn's own default is 100).
MAX_HEADERS = 100
#: Bytes of all header fields together (names, values and separators).
MAX_HEADER_BYTES = 32 << 10
#: Bytes of a request body on any route (the README's 2 MiB; Flask checks it again).
MAX_BODY_BYTES = 2 << 20
#: Bytes of the request target (path and query); the query alone is held to 2 KiB.
MAX_TARGET_BYTES = 4096

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_REASONS = {
    400: "Bad Request",
    413: "Content Too Large",
    414: "URI Too Long",
    431: "Request Header Fields Too Large",
}


class RequestGuard:
    """Refuse what no route accepts, before any route runs (and before any body is read)."""

    def __init__(
        self,
        app: WsgiApp,
        *,
        max_headers: int = MAX_HEADERS,
        max_header_bytes: int = MAX_HEADER_BYTES,
        max_body_bytes: int = MAX_BODY_BYTES,
        max_target_bytes: int = MAX_TARGET_BYTES,
    ) -> None:
        self.app = app
        self.max_headers = max_headers
        self.max_header_bytes = max_header_bytes
        self.max_body_bytes = max_body_bytes
        self.max_target_bytes = max_target_bytes

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        refusal = self.refusal(environ)
        if refusal is None:
            return self.app(environ, start_response)
        status, detail = refusal
        body = http_problem(status, _REASONS[status], detail, environ.get("PATH_INFO") or "/")
        start_response(
            f"{status} {_REASONS[status]}",
            [
                ("Content-Type", PROBLEM_JSON),
                ("Content-Length", str(len(body))),
                ("X-Content-Type-Options", "nosniff"),
            ],
        )
        return [body]

    def refusal(self, environ: dict[str, Any]) -> tuple[int, str] | None:
        """(status, what to fix) for a request over a limit, or None."""
        count = size = 0
        for key, value in environ.items():
            if key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                if key in ("CONTENT_TYPE", "CONTENT_LENGTH") and not value:
                    continue
                count += 1
                size += len(key) + len(str(value)) + 4  # "Name: value\r\n"
        if count > self.max_headers:
            return 431, f"a request carries at most {self.max_headers} header fields"
        if size > self.max_header_bytes:
            return 431, f"the header fields together are over {self.max_header_bytes} bytes"
        target = len(environ.get("PATH_INFO", "")) + len(environ.get("QUERY_STRING", ""))
        if target > self.max_target_bytes:
            return 414, f"the request target is over {self.max_target_bytes} bytes"
        length = environ.get("CONTENT_LENGTH") or ""
        if length:
            if not length.isdigit() or len(length) > 18:
                return 400, "Content-Length must be a decimal number of bytes"
            if int(length) > self.max_body_bytes:
                return 413, f"a request body is at most {self.max_body_bytes} bytes"
        return None
