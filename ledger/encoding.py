"""Small, strict encoders shared by every format: base64, hex digests, RFC 3339 times."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from datetime import UTC, datetime

from ledger.errors import MalformedError

_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: object, *, what: str = "value", length: int | None = None) -> bytes:
    """Decode standard, padded base64 strictly: one encoding per byte string."""
    if not isinstance(text, str):
        raise MalformedError(f"{what} must be a base64 string")
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as e:
        raise MalformedError(f"{what} is not valid standard base64") from e
    if base64.b64encode(data).decode("ascii") != text:
        raise MalformedError(f"{what} is not canonical base64")
    if length is not None and len(data) != length:
        raise MalformedError(f"{what} must decode to {length} bytes, not {len(data)}")
    return data


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_id(data: bytes) -> str:
    """``sha256:<hex>``: the form of attestation and envelope ids."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def format_timestamp(moment: datetime, *, micro: bool = False) -> str:
    """RFC 3339 UTC with ``Z``; ``micro`` always writes six fraction digits (leaves)."""
    if moment.tzinfo is None:
        raise MalformedError("timestamps must be timezone-aware")
    utc = moment.astimezone(UTC)
    if micro:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if utc.microsecond:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0") + "Z"
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: object, *, what: str = "timestamp") -> datetime:
    """Parse an RFC 3339 UTC timestamp with ``Z`` (the only form lotchain writes)."""
    if not isinstance(text, str) or not _TIMESTAMP.match(text):
        raise MalformedError(f"{what} must be an RFC 3339 UTC time like 2025-03-01T08:00:00Z")
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError as e:
        raise MalformedError(f"{what} is not a real date and time: {text}") from e


def parse_date(text: object, *, what: str = "date") -> datetime:
    """Parse ``YYYY-MM-DD`` as midnight UTC of that day."""
    if not isinstance(text, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise MalformedError(f"{what} must be a date like 2025-03-01")
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError as e:
        raise MalformedError(f"{what} is not a real date: {text}") from e
