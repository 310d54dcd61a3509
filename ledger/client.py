"""A small client of the lotchain HTTP API (stdlib ``urllib``), used by ``--remote``.

Problem responses (RFC 9457) come back as the :class:`~ledger.errors.LedgerError`
subclass with the same ``code``, so a remote command fails exactly as a local one
would, with the same message and exit code.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from functools import cache
from typing import Any

from ledger import __version__
from ledger.canonical import parse_json
from ledger.errors import (
    EXIT_INCOMPLETE,
    LedgerError,
    MalformedError,
    TooLargeError,
    UsageError,
)

MAX_RESPONSE = 1 << 30
BATCH = 500  # the server's default batch limit
_PROBLEM_FIELDS = {"type", "title", "status", "detail", "code", "instance"}


class RemoteUnavailableError(LedgerError):
    """The server cannot be reached, or did not answer in time."""

    code = "REMOTE_UNAVAILABLE"
    http_status = 503
    exit_code = EXIT_INCOMPLETE
    title = "Server unreachable"


def _error_classes() -> dict[str, type[LedgerError]]:
    """Every known error class by code; breadth first, so the most general class wins."""
    found: dict[str, type[LedgerError]] = {}
    queue: deque[type[LedgerError]] = deque([LedgerError])
    while queue:
        cls = queue.popleft()
        found.setdefault(cls.code, cls)
        queue.extend(cls.__subclasses__())
    return found


@cache
def _unknown_class(code: str, status: int, title: str) -> type[LedgerError]:
    """A class for a code this client does not know (a newer server, a proxy)."""
    attrs = {
        "code": code,
        "http_status": status,
        "title": title,
        "exit_code": EXIT_INCOMPLETE if status >= 500 else 2,
        "__module__": __name__,
        "__doc__": f"Error {code} reported by the server.",
    }
    return type("RemoteError", (LedgerError,), attrs)


def error_from_problem(status: int, body: bytes) -> LedgerError:
    """The coded error a problem response stands for."""
    try:
        problem = json.loads(body)
    except ValueError:
        problem = None
    if not isinstance(problem, dict) or not isinstance(problem.get("code"), str):
        text = body[:200].decode("utf-8", "replace").strip() or "no body"
        cls = _unknown_class(f"HTTP_{status}", status, "HTTP error")
        return cls(f"the server answered {status}: {text}")
    code = problem["code"]
    message = str(problem.get("detail") or problem.get("title") or code)
    extra = {k: v for k, v in problem.items() if k not in _PROBLEM_FIELDS}
    attestation = extra.pop("attestation", None)
    index = extra.pop("index", None)
    cls = _error_classes().get(code) or _unknown_class(
        code, status, str(problem.get("title") or code)
    )
    try:
        return cls(message, attestation=attestation, index=index, **extra)
    except TypeError:  # a subclass with its own constructor
        return _unknown_class(code, status, cls.title)(message, attestation=attestation)


class Client:
    """Talks to one lotchain server; ``token`` authorises reads that need a party."""

    def __init__(self, url: str, token: str | None = None, *, timeout: float = 60.0) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise UsageError(f"--remote must be an http:// or https:// URL, not {url!r}")
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    # -- transport ---------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        body: bytes | None = None,
        accept: str = "application/json",
    ) -> bytes:
        """Send one request; return the body of a 2xx answer or raise its coded error."""
        url = self.url + path
        if query:
            pairs = {k: str(v) for k, v in query.items() if v is not None}
            if pairs:
                url += "?" + urllib.parse.urlencode(pairs)
        headers = {
            "Accept": f"{accept}, application/problem+json",
            "User-Agent": f"lotchain/{__version__}",
        }
        if body is not None:
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as response:  # noqa: S310
                data: bytes = response.read(MAX_RESPONSE)
                return data
        except urllib.error.HTTPError as e:
            with e:
                raise error_from_problem(e.code, e.read(1 << 20)) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
            reason = getattr(e, "reason", e)
            raise RemoteUnavailableError(f"cannot reach {self.url}: {reason}") from e

    def get_json(self, path: str, **query: Any) -> Any:
        data = self.request("GET", path, query=query)
        return parse_json(data, max_bytes=max(len(data), 1))

    @staticmethod
    def _quote(ref: str | int) -> str:
        return urllib.parse.quote(str(ref), safe=":")

    # -- the log -----------------------------------------------------------------------

    def submit(self, envelope: bytes) -> dict[str, Any]:
        """Append one envelope (its JSON bytes); the receipt, or the refusal raised."""
        data = self.request("POST", "/v1/entries", body=envelope)
        receipt: dict[str, Any] = parse_json(data)
        return receipt

    def submit_batch(self, envelopes: list[bytes], *, atomic: bool = False) -> list[dict[str, Any]]:
        """Append many envelopes: per envelope a receipt, or ``{"error": {code, message}}``.

        With ``atomic`` the server appends all or none; such a batch is one request, so it
        holds at most one request's worth of envelopes."""
        if atomic and len(envelopes) > BATCH:
            raise TooLargeError(f"an all-or-nothing batch holds at most {BATCH} envelopes")
        out: list[dict[str, Any]] = []
        for start in range(0, len(envelopes), BATCH):
            chunk = [parse_json(e) for e in envelopes[start : start + BATCH]]
            request: dict[str, Any] = {"envelopes": chunk}
            if atomic:
                request["atomic"] = True
            body = json.dumps(request, ensure_ascii=False).encode("utf-8")
            answer = parse_json(
                self.request("POST", "/v1/entries:batch", body=body), max_bytes=1 << 28
            )
            for result in answer["results"]:
                if "receipt" in result:
                    out.append(result["receipt"])
                else:
                    problem = result["problem"]
                    error = error_from_problem(int(result["status"]), json.dumps(problem).encode())
                    out.append({"error": error.to_dict()})
        return out

    def checkpoint(self, size: int | None = None) -> bytes:
        """The signed note of the latest checkpoint (or of the one at ``size``)."""
        return self.request("GET", "/v1/checkpoint", query={"size": size}, accept="text/plain")

    def inclusion_proof(self, ref: str | int, tree_size: int | None = None) -> dict[str, Any]:
        proof: dict[str, Any] = self.get_json("/v1/proofs/inclusion", id=ref, tree_size=tree_size)
        return proof

    def consistency_proof(self, old: int, new: int | None = None) -> dict[str, Any]:
        proof: dict[str, Any] = self.get_json("/v1/proofs/consistency", old=old, new=new)
        return proof

    def leaves(self, start: int, end: int) -> list[dict[str, Any]]:
        """Leaves ``[start, end)`` that exist, fetched page by page."""
        out: list[dict[str, Any]] = []
        position = start
        while position < end:
            page = self.get_json("/v1/log/leaves", start=position, end=end)["leaves"]
            if not page:
                break
            out.extend(page)
            position = int(page[-1]["index"]) + 1
        return out

    def entry(self, ref: str | int) -> dict[str, Any]:
        value: dict[str, Any] = self.get_json(f"/v1/entries/{self._quote(ref)}")
        return value

    # -- shipments and the directory ---------------------------------------------------

    def shipment(self, ref: str) -> dict[str, Any]:
        value: dict[str, Any] = self.get_json(f"/v1/shipments/{self._quote(ref)}")
        return value

    def verification(self, ref: str) -> dict[str, Any]:
        value: dict[str, Any] = self.get_json(f"/v1/shipments/{self._quote(ref)}/verification")
        return value

    def bundle(self, ref: str) -> dict[str, Any]:
        value: dict[str, Any] = self.get_json(f"/v1/shipments/{self._quote(ref)}/bundle")
        return value

    def graph(self, ref: str) -> dict[str, Any]:
        value: dict[str, Any] = self.get_json(f"/v1/shipments/{self._quote(ref)}/graph")
        return value

    def shipments(self, **filters: Any) -> list[dict[str, Any]]:
        """Every shipment matching the filters, following cursors to the end."""
        out: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            page = self.get_json("/v1/shipments", **filters, cursor=cursor)
            out.extend(page["shipments"])
            cursor = page["next_cursor"]
            if cursor is None:
                return out

    def party(self, party_id: str) -> dict[str, Any]:
        value: dict[str, Any] = self.get_json(f"/v1/parties/{self._quote(party_id)}")
        return value

    def lots(self, party_id: str) -> list[dict[str, Any]]:
        """The open lots of ``party_id`` (the token's own party, or any for CBP)."""
        value: dict[str, Any] = self.get_json(f"/v1/parties/{self._quote(party_id)}/lots")
        lots: list[dict[str, Any]] = value["lots"]
        return lots

    def key(self, key_id: str) -> dict[str, Any]:
        """An admitted key: party, public key, valid_from, revoked_at."""
        value: dict[str, Any] = self.get_json(f"/v1/keys/{self._quote(key_id)}")
        return value

    def certificate(self, ref: str) -> dict[str, Any]:
        value: dict[str, Any] = self.get_json(f"/v1/certificates/{self._quote(ref)}")
        return value

    def impact(self, **query: str | None) -> dict[str, Any]:
        if not any(query.values()):
            raise MalformedError(
                "impact needs at least one of party, facility, region, lot or allegation"
            )
        value: dict[str, Any] = self.get_json("/v1/impact", **query)
        return value

    # -- allegations ---------------------------------------------------------------------

    def submit_allegation(self, data: bytes) -> dict[str, Any]:
        """Submit an allegation (no token needed); the receipt to keep."""
        receipt: dict[str, Any] = parse_json(self.request("POST", "/v1/allegations", body=data))
        return receipt

    def allegations(self) -> list[dict[str, Any]]:
        """Every allegation's summary (CBP), following cursors to the end."""
        out: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            page = self.get_json("/v1/allegations", cursor=cursor)
            out.extend(page["allegations"])
            cursor = page["next_cursor"]
            if cursor is None:
                return out

    def allegation(self, ident: str) -> dict[str, Any]:
        value: dict[str, Any] = self.get_json(f"/v1/allegations/{self._quote(ident)}")
        return value

    def link_allegation(self, ident: str, kind: str, value: str) -> dict[str, Any]:
        body = json.dumps({"kind": kind, "value": value}).encode("utf-8")
        path = f"/v1/allegations/{self._quote(ident)}/links"
        answer: dict[str, Any] = parse_json(self.request("POST", path, body=body))
        return answer

    def health(self) -> dict[str, Any]:
        value: dict[str, Any] = self.get_json("/healthz")
        return value
