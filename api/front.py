"""The front servers' own refusals, answered as problems.

A request the WSGI server itself cannot take (a header section over its limit, a body
over its limit, a request line it cannot parse) never reaches the app; waitress would
answer it in text/plain and gunicorn in HTML. These hooks make those answers
``application/problem+json`` with a stable code, like every other error of the API.
"""

from __future__ import annotations

from typing import Any

from waitress.channel import HTTPChannel  # type: ignore[import-untyped]
from waitress.task import ErrorTask  # type: ignore[import-untyped]

from api.errors import PROBLEM_JSON, http_problem

#: waitress's limits, above the app's own (api.guard, api.app), so the app answers first.
WAITRESS_LIMITS: dict[str, int] = {
    "max_request_header_size": 256 << 10,
    "max_request_body_size": 64 << 20,
}


class ProblemErrorTask(ErrorTask):  # type: ignore[misc]
    """waitress's error response, as a problem document."""

    def execute(self) -> None:
        error = self.request.error
        status = int(error.code)
        body = http_problem(status, str(error.reason), _detail(str(error.body)))
        self.status = f"{status} {error.reason}"
        self.response_headers.extend(
            [("Content-Type", PROBLEM_JSON), ("X-Content-Type-Options", "nosniff")]
        )
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class ProblemChannel(HTTPChannel):  # type: ignore[misc]
    """A waitress connection whose own errors are problems."""

    error_task_class = ProblemErrorTask


def use_problem_channels(server: Any) -> None:
    """Make ``server`` (one listening socket or several) answer its own errors as problems."""
    for candidate in (server, *getattr(server, "map", {}).values()):
        if hasattr(candidate, "channel_class"):
            candidate.channel_class = ProblemChannel


def _detail(text: str) -> str:
    """The server's own words, one line and bounded (they never hold request data)."""
    line = " ".join(text.split())[:200]
    return line or "the server could not take this request"
