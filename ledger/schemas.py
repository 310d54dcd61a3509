"""Load the JSON Schemas shipped with lotchain and validate values against them."""

from __future__ import annotations

import json
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


@cache
def validator(name: str) -> jsonschema.protocols.Validator:
    registry, ids = _registry()
    if name not in ids:
        raise SchemaError(f"no schema named {name!r}")
    schema = registry.contents(ids[name])
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, registry=registry, format_checker=cls.FORMAT_CHECKER)


def _path(error: jsonschema.ValidationError) -> str:
    parts = [str(p) for p in error.absolute_path]
    return "/" + "/".join(parts) if parts else "(top level)"


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
    if errors:
        best = jsonschema.exceptions.best_match(errors)
        label = what or name
        raise SchemaError(
            f"{label} does not match schema {name}: at {_path(best)}: {best.message[:300]}",
            schema=name,
            pointer=_path(best),
        )
