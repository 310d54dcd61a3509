"""Example bodies and field guides for each attestation type (``lotchain template``).

The examples (``examples/<type>.json``, one realistic cotton-to-T-shirt chain) are data,
checked by the tests against their schemas; the field guide is read off the schemas'
own descriptions, so it cannot drift from what the ledger validates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ledger import schemas
from ledger.admission import LOG_SIGNED_TYPES
from ledger.errors import UsageError

MAX_DEPTH = 6
#: The types a party signs (the log signs allegation receipts itself).
TEMPLATE_TYPES = tuple(t for t in schemas.ATTESTATION_TYPES if t not in LOG_SIGNED_TYPES)


def _examples_dir() -> Path:
    source_tree = Path(__file__).resolve().parent.parent / "examples"
    if (source_tree / "origin.json").is_file():
        return source_tree
    return Path(str(resources.files("lotchain_examples")))


def example_path(type_: str) -> Path:
    if type_ not in TEMPLATE_TYPES:
        known = ", ".join(TEMPLATE_TYPES)
        raise UsageError(f"no template for {type_!r}; the types a party signs are: {known}")
    return _examples_dir() / f"{type_}.json"


def example(type_: str) -> dict[str, Any]:
    """The example body of ``type_`` (a fresh copy)."""
    value: dict[str, Any] = json.loads(example_path(type_).read_text(encoding="utf-8"))
    return value


@dataclass(frozen=True)
class FieldDoc:
    """One field of a body: where it is, whether it must be there, its form and meaning."""

    path: str
    required: bool
    form: str
    description: str

    def to_json(self) -> dict[str, Any]:
        return {
            "field": self.path,
            "required": self.required,
            "form": self.form,
            "description": self.description,
        }


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` into defs.schema.json; the referring node's description wins."""
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return node
    name = ref.rpartition("/")[2]
    target = dict(schemas.documents()["defs"]["$defs"][name])
    target.setdefault("_form", target.get("description"))
    if "description" in node:
        target["description"] = node["description"]
    return _resolve(target) if "$ref" in target else target


def _form(node: dict[str, Any]) -> str:
    """The shape of a value in a few words: type, format, allowed values, pattern's meaning."""
    if "enum" in node:
        return "one of: " + ", ".join(map(str, node["enum"]))
    if "const" in node:
        return f"exactly {json.dumps(node['const'])}"
    if node.get("format") == "date":
        return "date, YYYY-MM-DD"
    if node.get("format") == "date-time":
        return "UTC time, e.g. 2025-03-01T08:00:00Z"
    if "oneOf" in node:
        shapes = (str(_resolve(n).get("description", "?")).split(":")[0] for n in node["oneOf"])
        return " or ".join(shapes)
    kind = node.get("type", "value")
    if kind == "string" and node.get("_form"):
        return str(node["_form"])
    if kind == "array":
        bounds = f", {node.get('minItems', 0)} to {node.get('maxItems', '...')} items"
        return f"list{bounds}"
    if kind == "string" and "maxLength" in node:
        return f"text, at most {node['maxLength']} characters"
    return str(kind)


def _walk(node: dict[str, Any], path: str, required: bool, depth: int, out: list[FieldDoc]) -> None:
    node = _resolve(node)
    description = str(node.get("description", "")).strip()
    if path:
        out.append(FieldDoc(path, required, _form(node), description))
    if depth >= MAX_DEPTH:
        return
    if node.get("type") == "array" and isinstance(node.get("items"), dict):
        _walk(node["items"], f"{path}[]", True, depth + 1, out)
        return
    properties = node.get("properties")
    if isinstance(properties, dict) and "oneOf" not in node:
        needed = set(node.get("required", []))
        for name, child in properties.items():
            if name == "extensions" and path:
                continue
            child_path = f"{path}.{name}" if path else name
            _walk(child, child_path, name in needed, depth + 1, out)


def explain(type_: str) -> list[FieldDoc]:
    """Every field of a ``type_`` body, in schema order, nested fields as ``a.b`` / ``a[].b``."""
    example_path(type_)  # refuses an unknown type with the list of types
    out: list[FieldDoc] = []
    _walk(schemas.documents()[type_], "", True, 0, out)
    return out


def explain_text(type_: str) -> str:
    """The field guide as text: one paragraph per field."""
    lines = [f"{type_} body ({schemas.schema_file(type_)})", ""]
    for doc in explain(type_):
        need = "required" if doc.required else "optional"
        lines.append(f"{doc.path}  [{need}; {doc.form}]")
        if doc.description:
            lines.append(f"    {doc.description}")
    if type_ in ("transformation", "transfer", "shipment"):
        lines += [
            "",
            'An input may name a lot by its label instead of its reference: {"lot": "<label>",',
            '"amount": "..."}; lotchain attest resolves it against what the issuer holds.',
        ]
    return "\n".join(lines)
