"""Every error a client meets is a problem document, whichever server is in front.

Over-large requests are sent over real sockets to ``lotchain serve`` under waitress
(one process) and gunicorn (``--workers 2``): the app's own guard answers what the
servers let through, and what a server refuses itself is rewritten as a problem.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from api import create_app
from api.gunicorn_worker import problem_message, refusal
from api_fixtures import World, build_world, problem
from test_api_server import _start, _stop

PROBLEM = "application/problem+json"
MiB = 1 << 20


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = build_world(tmp_path_factory.mktemp("front"))
    yield w
    w.ledger.store.close()


@pytest.fixture(scope="module", params=["waitress", "gunicorn"])
def server(request: pytest.FixtureRequest, world: World) -> Iterator[str]:
    extra = ("--workers", "2", "--threads", "2") if request.param == "gunicorn" else ()
    url, process = _start(world.root / "home", *extra)
    try:
        yield url
    finally:
        _stop(process)


def _exchange(url: str, head: bytes, body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """Send one raw request; read the answer while still sending (the server may stop early)."""
    parts = urlsplit(url)
    received = bytearray()
    with socket.create_connection((parts.hostname, parts.port), timeout=20) as sock:

        def read() -> None:
            while True:
                try:
                    chunk = sock.recv(65536)
                except OSError:
                    return
                if not chunk:
                    return
                received.extend(chunk)

        reader = threading.Thread(target=read)
        reader.start()
        try:
            sock.sendall(head)
            for start in range(0, len(body), 65536):
                sock.sendall(body[start : start + 65536])
        except OSError:
            pass  # refused before the body was read: the answer is already on its way
        reader.join(20)
    raw = bytes(received)
    top, _, payload = raw.partition(b"\r\n\r\n")
    lines = top.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", len(payload)))
    return status, headers, payload[:length]


def _request(target: str, *fields: tuple[str, str], method: str = "GET") -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in fields]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _many(count: int, size: int = 8) -> tuple[tuple[str, str], ...]:
    return tuple((f"X-Probe-{i}", "v" * size) for i in range(count))


CASES: list[tuple[str, bytes, bytes, int, str]] = [
    (
        "a 300 KB header",
        _request("/v1/checkpoint", ("X-Big", "a" * 300_000)),
        b"",
        431,
        "TOO_LARGE",
    ),
    ("a 70 KB header", _request("/v1/checkpoint", ("X-Big", "a" * 70_000)), b"", 431, "TOO_LARGE"),
    ("40 KB in ten headers", _request("/v1/checkpoint", *_many(10, 4000)), b"", 431, "TOO_LARGE"),
    ("120 headers", _request("/v1/checkpoint", *_many(120)), b"", 431, "TOO_LARGE"),
    ("250 headers", _request("/v1/checkpoint", *_many(250)), b"", 431, "TOO_LARGE"),
    ("a 2.1 KB query", _request("/v1/parties?role=" + "a" * 2100), b"", 414, "TOO_LARGE"),
    ("a 5 KB query", _request("/v1/parties?role=" + "a" * 5000), b"", 414, "TOO_LARGE"),
    ("a 9 KB query", _request("/v1/parties?role=" + "a" * 9000), b"", 414, "TOO_LARGE"),
    (
        "a 9 KB Authorization header",
        _request("/v1/shipments", ("Authorization", "Bearer " + "t" * 9000)),
        b"",
        401,
        "UNAUTHORIZED",
    ),
    (
        "a batch body over 2 MiB",
        _request(
            "/v1/entries:batch",
            ("Content-Type", "application/json"),
            ("Content-Length", str(2 * MiB + 100)),
            method="POST",
        ),
        b'{"envelopes": ["' + b"x" * (2 * MiB + 84) + b'"]}',
        413,
        "TOO_LARGE",
    ),
    (
        "a Content-Length of 100 MiB",
        _request("/v1/entries", ("Content-Length", str(100 * MiB)), method="POST"),
        b"",
        413,
        "TOO_LARGE",
    ),
    (
        "a chunked body over 2 MiB",
        _request("/v1/entries", ("Transfer-Encoding", "chunked"), method="POST"),
        b"".join([b"10000\r\n" + b"x" * 0x10000 + b"\r\n"] * 40) + b"0\r\n\r\n",
        413,
        "TOO_LARGE",
    ),
    ("a garbled request line", b"NOT HTTP AT ALL\r\n\r\n", b"", 400, "MALFORMED"),
    ("a bad header name", _request("/v1/checkpoint", ("Bad Name", "x")), b"", 400, "MALFORMED"),
]


@pytest.mark.parametrize(
    ("name", "head", "body", "status", "code"), CASES, ids=[c[0] for c in CASES]
)
def test_every_refusal_is_a_problem(
    server: str, name: str, head: bytes, body: bytes, status: int, code: str
) -> None:
    got, headers, payload = _exchange(server, head, body)
    assert got == status, (name, payload[:300])
    assert headers["content-type"] == PROBLEM, (name, headers)
    value: dict[str, Any] = json.loads(payload)
    assert value["status"] == status and value["code"] == code, value
    assert value["type"].startswith("https://lotchain.dev/problems/")


def test_the_server_still_serves_after_the_probes(server: str) -> None:
    got, headers, payload = _exchange(server, _request("/v1/checkpoint"))
    assert got == 200 and headers["content-type"].startswith("text/plain")
    assert payload.count(b"\n") >= 3


# -- the same limits in process (the app's own guard) ----------------------------------


@pytest.fixture
def client(world: World) -> FlaskClient:
    return create_app(ledger=world.ledger).test_client()


def test_guard_limits_in_process(client: FlaskClient) -> None:
    headers = {f"X-Probe-{i}": "v" for i in range(101)}
    problem(client.get("/v1/checkpoint", headers=headers), 431, "TOO_LARGE")
    problem(client.get("/v1/checkpoint", headers={"X-Big": "a" * 40_000}), 431, "TOO_LARGE")
    problem(client.get("/v1/parties?role=" + "a" * 5000), 414, "TOO_LARGE")
    assert (
        client.get("/v1/checkpoint", headers={f"X-{i}": "v" for i in range(90)}).status_code == 200
    )


def test_the_batch_route_holds_to_the_documented_limits(client: FlaskClient) -> None:
    """README: request body 2 MiB, batch 500 envelopes."""
    big = b'{"envelopes": ["' + b"x" * (2 * MiB) + b'"]}'
    problem(client.post("/v1/entries:batch", data=big), 413, "TOO_LARGE")
    many = {"envelopes": [{}] * 501}
    refused = problem(client.post("/v1/entries:batch", json=many), 413, "TOO_LARGE")
    assert "500" in refused["detail"]


def test_gunicorn_refusals_map_to_problems() -> None:
    from gunicorn.http import errors

    assert refusal(errors.LimitRequestLine(9000, 8190))[0] == 414
    assert refusal(errors.LimitRequestHeaders("too many"))[0] == 431
    assert refusal(errors.InvalidRequestLine("x"))[0] == 400
    assert refusal(errors.InvalidResponseHeader("x"))[0] == 500
    assert refusal(RuntimeError("boom"))[0] == 500
    head, _, body = problem_message(431, "Request Header Fields Too Large").partition(b"\r\n\r\n")
    assert b"Content-Type: application/problem+json" in head
    assert json.loads(body)["code"] == "TOO_LARGE"
