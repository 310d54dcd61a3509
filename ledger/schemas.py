"""Load the JSON Schemas shipped with lotchain and validate values against them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
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
    "allegation-receipt",
    "detention",
    "admissibility",
    "determination",
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


def documents() -> dict[str, dict[str, Any]]:
    """Every schema document by name (read-only: shared, never to be changed)."""
    return _documents()


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


MAX_PROBLEMS = 20  # a body with more problems than this is shown the first twenty


@dataclass(frozen=True)
class Problem:
    """One reason a value does not match its schema: where (JSON pointer) and what, in words."""

    pointer: str
    message: str


def schema_file(name: str) -> str:
    """The schema's file as a user finds it in the project: ``schemas/<name>.schema.json``."""
    return f"schemas/{name}.schema.json"


def _shown(value: Any, limit: int = 40) -> str:
    printable = isinstance(value, str) and value.isprintable()
    text = str(value) if printable else json.dumps(value, ensure_ascii=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _date_words(error: jsonschema.ValidationError) -> str | None:
    """A plain sentence for an error on a date or time field, or None."""
    schema: Any = error.schema
    fmt = schema.get("format") if isinstance(schema, dict) else None
    if fmt not in _EXPECTED or error.validator not in ("format", "pattern", "type"):
        return None
    kind, expected = _EXPECTED[str(fmt)]
    value: Any = error.instance
    shaped = isinstance(value, str) and (
        _DATE_SHAPE.match(value) if fmt == "date" else _RFC3339.match(value)
    )
    real = "a real " if shaped else "a "
    return f"{_field(error)}: {_shown(value)} is not {real}{kind} (expected {expected})"


def _words(error: jsonschema.ValidationError) -> str:
    """What is wrong, as a person says it: never a raw regular expression."""
    dated = _date_words(error)
    if dated is not None:
        return dated
    field = _field(error)
    schema: Any = error.schema if isinstance(error.schema, dict) else {}
    rule = error.validator
    expected: Any = error.validator_value
    described = schema.get("description")
    if rule == "required":
        given = error.instance if isinstance(error.instance, dict) else {}
        missing = [k for k in expected if k not in given]
        where = "" if field == "(the value)" else f" in {field}"
        return f"missing required field {', '.join(missing) or expected}{where}"
    if rule == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        where = "" if field == "(the value)" else f" in {field}"
        return f"unknown field {', '.join(extra)}{where} (allowed: {', '.join(allowed)})"
    if rule == "enum":
        return f"{field}: {_shown(error.instance)} is not one of {', '.join(map(str, expected))}"
    if rule == "const":
        return f"{field}: must be {json.dumps(expected)}"
    if rule == "type":
        return f"{field}: {_shown(error.instance)} is not of type {expected}"
    coded = _code_problem([error])
    if coded is not None:
        return coded[0]
    if rule in ("pattern", "format", "not"):
        what = f" ({described})" if described else ""
        return f"{field}: {_shown(error.instance)} does not have the expected form{what}"
    if rule == "minLength":
        return f"{field}: must not be shorter than {expected} characters"
    if rule == "maxLength":
        return f"{field}: must not be longer than {expected} characters"
    if rule == "minItems":
        return f"{field}: needs at least {expected} item(s)"
    if rule == "maxItems":
        return f"{field}: holds more than the {expected} items allowed"
    if rule == "uniqueItems":
        return f"{field}: holds the same item twice"
    if rule in ("minimum", "maximum"):
        bound = "at least" if rule == "minimum" else "at most"
        return f"{field}: must be {bound} {expected}"
    if rule in ("oneOf", "anyOf") and error.context:
        inner = jsonschema.exceptions.best_match(error.context)
        return _words(inner)
    message = error.message[:200]
    if "^" in message or "[" in message:
        message = "does not match what the schema allows"
    return f"{field}: {message}"


_OBJECT_RULES = frozenset({"required", "additionalProperties"})
#: When one value breaks several rules, the one that says most comes first (and alone).
_PRIORITY = {"format": 0, "enum": 0, "const": 0, "type": 0, "pattern": 1, "not": 1, "oneOf": 1}


def problems(name: str, instance: Any, *, cap: int = MAX_PROBLEMS) -> list[Problem]:
    """Every reason ``instance`` does not match schema ``name`` (up to ``cap``), by pointer.

    One problem per value (the most telling rule it breaks), plus what is missing from or
    unknown to each object.
    """
    errors = sorted(
        validator(name).iter_errors(instance),
        key=lambda e: (list(map(str, e.path)), _PRIORITY.get(str(e.validator), 2)),
    )
    out: list[Problem] = []
    valued: set[str] = set()
    for error in errors:
        pointer = _path(error)
        if error.validator not in _OBJECT_RULES:
            if pointer in valued:
                continue
            valued.add(pointer)
        item = Problem(pointer, _words(error))
        if item not in out:
            out.append(item)
        if len(out) == cap:
            break
    return out


def validate(name: str, instance: Any, *, what: str | None = None) -> None:
    """Raise :class:`SchemaError` naming every offending field (up to a cap), or return None.

    The compiled validator decides; the reference implementation (jsonschema) only
    words the errors, and it must agree that there is one.
    """
    if name not in _documents():
        raise SchemaError(f"no schema named {name!r}")
    if _fast(name).is_valid(instance):
        return
    found = problems(name, instance)
    label = what or name
    if not found:
        raise SchemaError(f"{label} does not match schema {name}", schema=name)
    if len(found) == 1:
        summary = f"{label} does not match {schema_file(name)}: at {found[0].pointer}: "
        summary += found[0].message
    else:
        count = f"the first {MAX_PROBLEMS}" if len(found) == MAX_PROBLEMS else str(len(found))
        summary = f"{label} does not match {schema_file(name)} ({count} problems):"
        summary += "".join(f"\n  at {p.pointer}: {p.message}" for p in found)
    raise SchemaError(
        summary,
        schema=name,
        pointer=found[0].pointer,
        problems=[{"pointer": p.pointer, "message": p.message} for p in found],
    )
