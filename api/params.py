"""Strict parsing of query parameters: every bad value is a coded 400, never a 500.

The patterns here are also what the OpenAPI document declares (``api.spec``), so the
document and the checks cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import request

from ledger.encoding import parse_date
from ledger.errors import MalformedError

DEFAULT_PAGE = 100
ROLES = ("registrar", "supplier", "auditor", "importer", "cbp")


@dataclass(frozen=True)
class Shape:
    """What a text parameter must look like: a full-match pattern and a length bound."""

    pattern: str
    max_length: int
    description: str

    def schema(self) -> dict[str, object]:
        return {"type": "string", "pattern": f"^(?:{self.pattern})$", "maxLength": self.max_length}


PRINTABLE = r"[^\x00-\x1f\x7f]+"
PARTY = Shape(r"party:[a-z0-9][a-z0-9._:-]{1,126}", 133, "a party id")
KEY = Shape(r"ed25519:[0-9a-f]{64}", 72, "a key id (ed25519:<64 hex>)")
FACILITY = Shape(r"facility:[a-z0-9][a-z0-9._:-]{1,126}", 136, "a facility id")
COUNTRY = Shape(r"[A-Z]{2}", 2, "an ISO 3166-1 alpha-2 country code such as CN")
REGION = Shape(r"[A-Z]{2}-[A-Z0-9]{1,3}", 6, "an ISO 3166-2 code such as CN-XJ")
HS = Shape(r"[0-9]{2}[0-9.]{0,10}", 12, "an HS or HTS code prefix such as 6109 or 6109.10")
LOT = Shape(PRINTABLE, 128, "a lot label or an output reference")
SCHEME = Shape(PRINTABLE, 128, "a certification scheme name")
ATTESTATION_OR_INDEX = Shape(
    r"sha256:[0-9a-f]{64}|0|[1-9][0-9]{0,17}", 71, "an attestation id or a log index"
)
SHIPMENT_REF = Shape(
    r"sha256:[0-9a-f]{64}|[A-Z0-9]{3}-?[0-9]{7}-?[0-9]|0|[1-9][0-9]{0,17}",
    71,
    "an attestation id, a CBP entry number or a log index",
)
CERTIFICATE_REF = Shape(
    r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}", 128, "an attestation id or a certificate number"
)
MAX_INT = 2**53 - 1  # I-JSON: larger integers are not interoperable
_INT = re.compile(r"0|[1-9][0-9]{0,15}")
CURSOR = Shape(r"0|[1-9][0-9]{0,14}", 15, "the next_cursor of a previous page")


def text(name: str, shape: Shape, *, required: bool = False) -> str | None:
    """A text parameter, present at most once and of the given shape."""
    values = request.args.getlist(name)
    if not values:
        if required:
            raise MalformedError(f"query parameter {name} is required", parameter=name)
        return None
    if len(values) > 1:
        raise MalformedError(f"query parameter {name} is given more than once", parameter=name)
    value = values[0]
    if len(value) > shape.max_length or not re.fullmatch(shape.pattern, value):
        raise MalformedError(f"query parameter {name} must be {shape.description}", parameter=name)
    return value


def check(value: str, shape: Shape, what: str) -> str:
    """Check a path segment against its shape (400 when it cannot name anything)."""
    if len(value) > shape.max_length or not re.fullmatch(shape.pattern, value):
        raise MalformedError(f"{what} must be {shape.description}")
    return value


def integer(
    name: str, *, required: bool = False, minimum: int = 0, maximum: int = MAX_INT
) -> int | None:
    """A decimal integer parameter within bounds."""
    raw = text(name, Shape(_INT.pattern, 16, "a non-negative integer"), required=required)
    if raw is None:
        return None
    value = int(raw)
    if value < minimum or value > maximum:
        raise MalformedError(
            f"query parameter {name} must be between {minimum} and {maximum}", parameter=name
        )
    return value


def date(name: str) -> str | None:
    """A ``YYYY-MM-DD`` parameter (kept as text: such dates compare as strings)."""
    raw = text(name, Shape(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", 10, "a date like 2025-03-01"))
    if raw is not None:
        parse_date(raw, what=f"query parameter {name}")
    return raw


def choice(name: str, allowed: tuple[str, ...]) -> str | None:
    shape = Shape("|".join(allowed), max(map(len, allowed)), "one of " + ", ".join(allowed))
    return text(name, shape)


def limit(max_page: int) -> int:
    """``limit``: how many items a page may hold (the server's page size caps it)."""
    value = integer("limit", minimum=1, maximum=max_page)
    return min(DEFAULT_PAGE, max_page) if value is None else value


def index_cursor() -> int:
    """``cursor``: the index of the last entry the previous page examined."""
    value = text("cursor", CURSOR)
    return -1 if value is None else int(value)
