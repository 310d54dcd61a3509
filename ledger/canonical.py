"""Canonical JSON (RFC 8785, JCS) and strict JSON parsing of untrusted bytes.

Signed bytes are JCS bytes. Parsing refuses what JCS or a careful verifier would not
accept from outside: duplicate keys, NaN and infinities, invalid UTF-8, excessive size
or nesting. Every failure becomes a coded :class:`~ledger.errors.LedgerError`.
"""

from __future__ import annotations

import json
import re
from typing import Any

import rfc8785

from ledger.errors import MalformedError, TooLargeError

MAX_JSON_BYTES = 1 << 20  # 1 MiB: no single envelope or body needs more
MAX_DEPTH = 32
MAX_INT = 2**53 - 1  # I-JSON: integers beyond this are not interoperable
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def canonical_bytes(value: Any) -> bytes:
    """Return the RFC 8785 canonical encoding of ``value``."""
    if _plain(value):
        try:
            return _JSON_PLAIN.encode(value).encode("utf-8")
        except UnicodeEncodeError as e:
            raise MalformedError("a string contains a lone surrogate") from e
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as e:
        raise MalformedError(f"value cannot be canonicalised: {e}") from e


#: The standard library's encoder writes exactly RFC 8785 for "plain" values: no
#: floats (JCS formats numbers as ECMAScript does, Python differently), integers within
#: I-JSON's range, and object keys in ASCII (JCS sorts keys by UTF-16 code units, Python
#: by code points; the two orders agree on ASCII). Its string escapes (\b \t \n \f \r
#: \" \\ and lowercase \u00xx for other controls, everything else as UTF-8) are JCS's.
#: Every lotchain payload, envelope and leaf is plain; anything else goes to rfc8785.
_JSON_PLAIN = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False
)


def _plain(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or item is None or kind is bool:
            continue
        if kind is int:
            if -MAX_INT <= item <= MAX_INT:
                continue
            return False
        if kind is dict:
            for key in item:
                if type(key) is not str or not key.isascii():
                    return False
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        else:
            return False
    return True


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise MalformedError(f"duplicate key {key!r} in JSON object")
        out[key] = value
    return out


def _reject_constant(name: str) -> Any:
    raise MalformedError(f"JSON constant {name} is not allowed")


def _parse_int(text: str) -> int:
    if len(text) > 20:
        raise MalformedError("integer in JSON is too long")
    value = int(text)
    if abs(value) > MAX_INT:
        raise MalformedError(f"integer {text} exceeds the interoperable range (2^53-1)")
    return value


def _check_depth(value: Any, limit: int) -> None:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            raise MalformedError(f"JSON nests deeper than {limit} levels")
        stack.extend((child, depth + 1) for child in children)


def parse_json(
    data: bytes | str, *, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_DEPTH
) -> Any:
    """Parse untrusted JSON strictly; raise a coded error for anything doubtful."""
    if isinstance(data, str):
        data = data.encode("utf-8", errors="surrogatepass")
    if len(data) > max_bytes:
        raise TooLargeError(f"JSON document is {len(data)} bytes; the limit is {max_bytes}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise MalformedError(f"JSON is not valid UTF-8 at byte {e.start}") from e
    try:
        value = json.loads(
            text,
            object_pairs_hook=_reject_duplicates,
            parse_constant=_reject_constant,
            parse_int=_parse_int,
        )
    except json.JSONDecodeError as e:
        raise MalformedError(f"invalid JSON: {e.msg} at line {e.lineno} column {e.colno}") from e
    except RecursionError as e:
        raise MalformedError(f"JSON nests deeper than {max_depth} levels") from e
    # Walk the value only when the text could break a rule (both scans run in C).
    if text.count("[") + text.count("{") > max_depth:
        _check_depth(value, max_depth)
    if _SURROGATE_ESCAPE.search(text):
        _check_strings(value)
    return value


def _check_strings(value: Any) -> None:
    """Refuse lone surrogates, which JSON escapes allow but UTF-8 cannot carry."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, dict):
            for key, child in item.items():
                _check_text(key)
                stack.append(child)
        elif isinstance(item, list):
            stack.extend(item)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise MalformedError("JSON string contains a lone surrogate escape") from e


def parse_canonical(data: bytes, *, what: str = "payload", max_bytes: int = MAX_JSON_BYTES) -> Any:
    """Parse bytes that must already be in canonical (JCS) form, and return the value."""
    if len(data) <= max_bytes:
        fast = _canonical_fast(data)
        if fast is not _NOT_FAST:
            return fast
    value = parse_json(data, max_bytes=max_bytes)
    if canonical_bytes(value) != data:
        raise MalformedError(f"{what} is not RFC 8785 canonical JSON")
    return value


_NOT_FAST = object()


def _no_float(text: str) -> Any:
    raise ValueError(text)


#: No hooks per object: bytes that re-encode to themselves cannot hold a duplicate key
#: (the re-encoding would be shorter), so the canonical check below subsumes that rule.
_FAST_DECODER = json.JSONDecoder(
    parse_int=_parse_int, parse_float=_no_float, parse_constant=_no_float
)


def _canonical_fast(data: bytes) -> Any:
    """The value of ``data`` if it is plain canonical JSON that :func:`parse_canonical`
    accepts; ``_NOT_FAST`` for anything else, which the strict path then judges (and
    explains) exactly as before."""
    try:
        text = data.decode("utf-8")
        if text.count("[") + text.count("{") > MAX_DEPTH or _SURROGATE_ESCAPE.search(text):
            return _NOT_FAST
        value = _FAST_DECODER.decode(text)
        # ints are in range and floats absent (the hooks); keys must be ASCII (_plain)
        if not data.isascii() and not _plain(value):
            return _NOT_FAST
        if _JSON_PLAIN.encode(value).encode("utf-8") != data:
            return _NOT_FAST
    except (ValueError, MalformedError, RecursionError, UnicodeError):
        return _NOT_FAST
    return value
