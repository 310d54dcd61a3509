"""Load the JSON Schemas shipped with lotchain and validate values against them."""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
import referencing
from referencing.jsonschema import DRAFT202012

from ledger.errors import SchemaError

ATTESTATION_TYPES = (
    "party",
    "key",
    "facility",
    "origin",
    "transformation",
    "transfer",
    "audit",
    "certificate",
    "revocation",
    "shipment",
)


def _schema_dir() -> Path:
    source_tree = Path(__file__).resolve().parent.parent / "schemas"
    if (source_tree / "payload.schema.json").is_file():
        return source_tree
    return Path(str(resources.files("lotchain_schemas")))


@cache
def _documents() -> dict[str, dict[str, Any]]:
    """Every schema document shipped with lotchain, by name."""
    return {
        path.name.removesuffix(".schema.json"): json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(_schema_dir().glob("*.schema.json"))
    }


@cache
def _registry() -> tuple[referencing.Registry[Any], dict[str, str]]:
    registry: referencing.Registry[Any] = referencing.Registry()
    ids: dict[str, str] = {}
    for name, schema in _documents().items():
        resource = referencing.Resource.from_contents(schema, default_specification=DRAFT202012)
        registry = registry.with_resource(schema["$id"], resource)
        ids[name] = schema["$id"]
    return registry.crawl(), ids


@cache
def _fast(name: str) -> Any:
    """A compiled (Rust) validator: the hot path of every append asks only "valid?"."""
    documents = _documents()
    registry = jsonschema_rs.Registry([(d["$id"], d) for d in documents.values()])
    return jsonschema_rs.validator_for(documents[name], registry=registry, validate_formats=True)


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")
_DATE_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EXPECTED = {
    "date": ("date", "YYYY-MM-DD"),
    "date-time": ("date and time", "an RFC 3339 UTC time like 2025-03-01T08:00:00Z"),
}

#: Codes whose raw regex would mean nothing to the person who must fix them.
_CODES = {
    "^[A-Z]{2}-[A-Z0-9]{1,3}$": (
        "an ISO 3166-2 region code",
        "the country's two capital letters, a hyphen and 1 to 3 capital letters or digits, "
        "like CN-XJ or IN-GJ",
    ),
    "^[A-Z]{2}$": ("an ISO 3166-1 country code", "two capital letters, like CN or IN"),
}


def _code_problem(
    errors: list[jsonschema.ValidationError],
) -> tuple[str, jsonschema.ValidationError] | None:
    """A plain sentence for the first error on a region or country code, if any."""
    for error in errors:
        schema: Any = error.schema
        pattern = schema.get("pattern") if isinstance(schema, dict) else None
        if pattern not in _CODES or error.validator not in ("pattern", "maxLength", "minLength"):
            continue
        kind, expected = _CODES[str(pattern)]
        value: Any = error.instance
        shown = json.dumps(value, ensure_ascii=True)[:40]
        return f"{_field(error)}: {shown} is not {kind} (expected {expected})", error
    return None


def _is_date_time(instance: object) -> bool:
    """RFC 3339 date-time with real values (no 2025-02-30, no 24:00); what jsonschema-rs
    checks, so that the reference validator agrees with the compiled one."""
    if not isinstance(instance, str):
        return True
    match = _RFC3339.match(instance)
    if match is None:
        return False
    text = instance.upper().replace("Z", "+00:00")
    fraction = match.group(1)
    if fraction and len(fraction) > 7:  # Python reads at most microseconds
        text = text.replace(fraction, fraction[:7], 1)
    datetime.fromisoformat(text)  # ValueError when the values are not real
    return True


def _format_checker(cls: Any) -> jsonschema.FormatChecker:
    """The draft's format checks, with ``date-time`` checked (jsonschema needs an optional
    package for it, and would otherwise let any string pass)."""
    checker = jsonschema.FormatChecker(formats=())
    checker.checkers.update(cls.FORMAT_CHECKER.checkers)
    checker.checks("date-time", raises=ValueError)(_is_date_time)
    return checker


@cache
def validator(name: str) -> jsonschema.protocols.Validator:
    registry, ids = _registry()
    if name not in ids:
        raise SchemaError(f"no schema named {name!r}")
    schema = registry.contents(ids[name])
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, registry=registry, format_checker=_format_checker(cls))


def _path(error: jsonschema.ValidationError) -> str:
    parts = [str(p) for p in error.absolute_path]
    return "/" + "/".join(parts) if parts else "(top level)"


def _field(error: jsonschema.ValidationError) -> str:
    """``produced_on``, ``documents[0].issued_on``: the field as a person names it."""
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(the value)"


def _date_problem(
    errors: list[jsonschema.ValidationError],
) -> tuple[str, jsonschema.ValidationError] | None:
    """A plain sentence for the first error on a date or time field, if any."""
    for error in errors:
        schema: Any = error.schema
        fmt = schema.get("format") if isinstance(schema, dict) else None
        if fmt not in _EXPECTED:
            continue
        kind, expected = _EXPECTED[str(fmt)]
        value: Any = error.instance
        printable = isinstance(value, str) and value.isprintable()
        shown = str(value) if printable else json.dumps(value, ensure_ascii=True)
        shaped = isinstance(value, str) and (
            _DATE_SHAPE.match(value) if fmt == "date" else _RFC3339.match(value)
        )
        real = "a real " if shaped else "a "
        return f"{_field(error)}: {shown[:40]} is not {real}{kind} (expected {expected})", error
    return None


def validate(name: str, instance: Any, *, what: str | None = None) -> None:
    """Raise :class:`SchemaError` naming the first offending field, or return None.

    The compiled validator decides; the reference implementation (jsonschema) only
    words the error, and it must agree that there is one.
    """
    if name not in _documents():
        raise SchemaError(f"no schema named {name!r}")
    if _fast(name).is_valid(instance):
        return
    errors = sorted(validator(name).iter_errors(instance), key=lambda e: e.path)
    if not errors:
        raise SchemaError(f"{what or name} does not match schema {name}", schema=name)
    label = what or name
    dated = _date_problem(errors) or _code_problem(errors)
    if dated is not None:
        sentence, error = dated
        raise SchemaError(f"{sentence}, in the {label}", schema=name, pointer=_path(error))
    if errors:
        best = jsonschema.exceptions.best_match(errors)
        raise SchemaError(
            f"{label} does not match schema {name}: at {_path(best)}: {best.message[:300]}",
            schema=name,
            pointer=_path(best),
        )
