"""The mapping file of ``lotchain import epcis``: GS1 identifiers to ledger ids.

```
{
  "parties":   {"<PGLN URN, GLN-13 or Digital Link>": "party:..."},
  "locations": {"<SGLN URN, GLN-13, GLN.extension or Digital Link>":
                  {"facility": "facility:...", "process": "ginning"}},
  "products":  {"<epcClass or EPC as written, or GTIN-14>":
                  {"material": "seed cotton", "hs_code": "5201.00",
                   "lot": "optional label", "mass_kg_per_unit": "optional, for counts"}},
  "documents": {"<bizTransaction URI>": {"kind": "invoice", "number": "...", "sha256": "<hex>"}}
}
```
A location's ``process`` is needed only where transformations happen. A product's ``lot``
labels instances (SGTIN) that carry no lot of their own, or overrides the lot of an LGTIN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ledger.errors import EpcisError
from ledger.gs1 import Item, cbv_name, item_keys, location_keys

MAX_MAP_ENTRIES = 10_000
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
#: CBV business transaction types -> the ledger's document kinds.
DOCUMENT_KINDS = {
    "po": "po",
    "poc": "po",
    "inv": "invoice",
    "desadv": "packing-list",
    "recadv": "other",
    "bol": "bill-of-lading",
    "cert": "certificate-of-origin",
    "prodorder": "production-record",
}


class MapLookupError(Exception):
    """An identifier the map does not name (the importer reports it with the event)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Location:
    uri: str
    facility: str
    process: str | None


@dataclass(frozen=True)
class Product:
    material: str
    hs_code: str
    lot: str | None
    mass_kg_per_unit: Decimal | None

    def material_json(self) -> dict[str, str]:
        return {"name": self.material, "hs_code": self.hs_code}


def _text(value: object, where: str, limit: int = 256) -> str:
    if not isinstance(value, str) or not value or len(value) > limit:
        raise EpcisError(f"map {where}: must be a non-empty string of at most {limit} characters")
    return value


def _section(value: dict[str, Any], name: str) -> dict[str, Any]:
    section = value.get(name, {})
    if not isinstance(section, dict):
        raise EpcisError(f"map /{name}: must be an object keyed by GS1 identifier")
    if len(section) > MAX_MAP_ENTRIES:
        raise EpcisError(f"map /{name}: more than {MAX_MAP_ENTRIES} entries")
    return section


@dataclass(frozen=True)
class EpcisMap:
    parties: dict[str, str]
    locations: dict[str, Location]
    products: dict[str, Product]
    documents: dict[str, dict[str, str]]

    @classmethod
    def empty(cls) -> EpcisMap:
        return cls({}, {}, {}, {})

    @classmethod
    def parse(cls, value: object) -> EpcisMap:
        """Check a mapping file's shape; a coded error names the entry to fix."""
        if not isinstance(value, dict):
            raise EpcisError("the map is a JSON object with parties, locations, products")
        unknown = set(value) - {"parties", "locations", "products", "documents", "about"}
        if unknown:
            raise EpcisError(f"map: unknown section(s) {', '.join(sorted(unknown))}")
        parties = {k: _text(v, f"/parties/{k}", 128) for k, v in _section(value, "parties").items()}
        locations = {}
        for key, entry in _section(value, "locations").items():
            if isinstance(entry, str):
                entry = {"facility": entry}
            if not isinstance(entry, dict):
                raise EpcisError(f"map /locations/{key}: must be a facility id or an object")
            process = entry.get("process")
            locations[key] = Location(
                key,
                _text(entry.get("facility"), f"/locations/{key}/facility", 128),
                None if process is None else _text(process, f"/locations/{key}/process", 64),
            )
        products = {}
        for key, entry in _section(value, "products").items():
            if not isinstance(entry, dict):
                raise EpcisError(f"map /products/{key}: must be an object with material, hs_code")
            per_unit = entry.get("mass_kg_per_unit")
            try:
                mass = None if per_unit is None else Decimal(str(per_unit))
            except InvalidOperation as e:
                raise EpcisError(f"map /products/{key}/mass_kg_per_unit: not a number") from e
            lot = entry.get("lot")
            products[key] = Product(
                _text(entry.get("material"), f"/products/{key}/material", 128),
                _text(entry.get("hs_code"), f"/products/{key}/hs_code", 13),
                None if lot is None else _text(lot, f"/products/{key}/lot", 128),
                mass,
            )
        documents = {}
        for key, entry in _section(value, "documents").items():
            if not isinstance(entry, dict) or not _SHA256.match(str(entry.get("sha256", ""))):
                raise EpcisError(
                    f"map /documents/{key}: needs sha256 (hex SHA-256 of the document file)"
                )
            documents[key] = {k: str(v) for k, v in entry.items()}
        return cls(parties, locations, products, documents)

    # -- lookups ------------------------------------------------------------------------------

    def find_location(self, uri: str) -> Location | None:
        for key in location_keys(uri):
            if key in self.locations:
                found = self.locations[key]
                return Location(uri, found.facility, found.process)
        return None

    def location(self, uri: str, where: str) -> Location:
        found = self.find_location(uri)
        if found is None:
            raise MapLookupError(
                "EPCIS_UNMAPPED",
                f'{where} {uri} is not in the map\'s locations: add it under "locations" '
                f"(key: {' or '.join(location_keys(uri))}) with its facility id",
            )
        return found

    def party(self, uri: str, where: str) -> str:
        for key in location_keys(uri):
            if key in self.parties:
                return self.parties[key]
        raise MapLookupError(
            "EPCIS_UNMAPPED",
            f'{where} owning_party {uri} is not in the map\'s parties: add it under "parties" '
            f"(key: {' or '.join(location_keys(uri))}) with its party id",
        )

    def product(self, item: Item, where: str) -> Product:
        for key in item_keys(item):
            if key in self.products:
                return self.products[key]
        raise MapLookupError(
            "EPCIS_UNMAPPED",
            f"{where}: product {item.uri} is not in the map's products: add it under "
            f'"products" (key: {" or ".join(item_keys(item))}) with material and hs_code',
        )

    def lot_label(self, item: Item, product: Product, where: str) -> str:
        label = product.lot or item.lot
        if label is None:
            raise MapLookupError(
                "EPCIS_UNMAPPED",
                f'{where}: {item.uri} carries no lot; give its product entry a "lot" label',
            )
        return label

    def document(self, uri: str, kind: object) -> dict[str, str] | None:
        entry = self.documents.get(uri)
        if entry is None:
            return None
        cbv_kind = cbv_name(kind) or ""
        out = {
            "kind": entry.get("kind") or DOCUMENT_KINDS.get(cbv_kind, "other"),
            "number": entry.get("number") or uri.rsplit(":", 1)[-1][:128],
            "sha256": entry["sha256"],
        }
        return out
