"""GS1 identifiers as EPCIS writes them: EPC URNs, GS1 Digital Link URIs, CBV names.

EPCIS names the same thing several ways: a trade item class as
``urn:epc:class:lgtin:0614141.011111.LOT7`` or ``https://id.gs1.org/01/00614141111114/10/LOT7``,
a location as ``urn:epc:id:sgln:0614141.00888.0`` or ``https://id.gs1.org/414/0614141008881``,
a business step as ``shipping``, ``urn:epcglobal:cbv:bizstep:shipping`` or
``https://ref.gs1.org/cbv/BizStep-shipping``. These helpers reduce each to the GS1 key
(GTIN-14, GLN-13) and its lot or extension, so a mapping file can name either form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_EPC_GTIN = re.compile(
    r"^urn:epc:(?:class:lgtin|id:sgtin|idpat:sgtin):([0-9]{6,12})\.([0-9]{1,7})\.(.+)$"
)
_EPC_GLN = re.compile(r"^urn:epc:id:(sgln|pgln):([0-9]{6,12})\.([0-9]{0,6})(?:\.(.+))?$")
_DL_GTIN = re.compile(
    r"^https?://[^/]+/(?:[^?#]*/)?01/([0-9]{14})(?:/10/([^/?#]+))?(?:/21/([^/?#]+))?/?(?:[?#].*)?$"
)
_DL_GLN = re.compile(
    r"^https?://[^/]+/(?:[^?#]*/)?(414|417)/([0-9]{13})(?:/254/([^/?#]+))?/?(?:[?#].*)?$"
)
_CBV_PREFIXES = (
    "urn:epcglobal:cbv:bizstep:",
    "urn:epcglobal:cbv:sdt:",
    "urn:epcglobal:cbv:btt:",
    "https://ref.gs1.org/cbv/BizStep-",
    "https://ref.gs1.org/cbv/SDT-",
    "https://ref.gs1.org/cbv/BTT-",
    "https://gs1.org/voc/BizStep-",
    "https://gs1.org/voc/SDT-",
    "https://gs1.org/voc/BTT-",
)


def check_digit(digits: str) -> str:
    """The GS1 mod-10 check digit of a key's digits (weights 3, 1, 3... from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


@dataclass(frozen=True)
class Item:
    """A trade item reference: its GTIN-14 (when GS1), lot and serial, as written."""

    uri: str
    gtin: str | None
    lot: str | None
    serial: str | None
    is_class: bool  # a class (lgtin, idpat, DL without serial) rather than one instance


def parse_item(uri: str) -> Item:
    """An EPC or epcClass reduced to GTIN-14, lot and serial where it is a GS1 item."""
    match = _EPC_GTIN.match(uri)
    if match:
        prefix, item_ref, rest = match.groups()
        digits = item_ref[:1] + prefix + item_ref[1:]
        gtin = digits + check_digit(digits) if len(digits) == 13 else None
        if uri.startswith("urn:epc:class:lgtin:"):
            return Item(uri, gtin, rest, None, True)
        if uri.startswith("urn:epc:idpat:"):
            return Item(uri, gtin, None, None, True)
        return Item(uri, gtin, None, rest, False)
    match = _DL_GTIN.match(uri)
    if match:
        gtin, lot, serial = match.groups()
        return Item(uri, gtin, lot, serial, serial is None)
    return Item(uri, None, None, None, True)


def location_keys(uri: str) -> list[str]:
    """Keys a mapping file may use for a location or party, most specific first.

    ``urn:epc:id:sgln:0614141.00888.0`` gives itself and ``0614141008881`` (the GLN-13);
    an extension other than ``0`` gives ``GLN.extension`` before the bare GLN.
    """
    keys = [uri]
    gln, extension = None, None
    match = _EPC_GLN.match(uri)
    if match:
        _, prefix, location_ref, extension = match.groups()
        digits = prefix + location_ref
        if len(digits) == 12:
            gln = digits + check_digit(digits)
    else:
        dl = _DL_GLN.match(uri)
        if dl:
            gln, extension = dl.group(2), dl.group(3)
    if gln is not None:
        if extension and extension != "0":
            keys.append(f"{gln}.{extension}")
        keys.append(gln)
    return keys


def item_keys(item: Item) -> list[str]:
    """Keys a mapping file may use for a product: the URI as written, then the GTIN-14."""
    return [item.uri] + ([item.gtin] if item.gtin else [])


def cbv_name(value: object) -> str | None:
    """The bare CBV name (``shipping``, ``owning_party``) of a CBV term in any of its forms."""
    if not isinstance(value, str):
        return None
    for prefix in _CBV_PREFIXES:
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value
