"""Place names and postal codes of high-risk regions, found in a free-text address.

An address is read field by field (street, locality, region name, postal code). Text is
folded before it is compared: Unicode compatibility forms, accents and case
("Ürümqi" is "urumqi"), and traditional Chinese characters read as simplified ones
(烏魯木齊 is 乌鲁木齐). Latin names match as whole words, Chinese names as substrings;
a name followed by a street or building word ("Xinjiang Road", 乌鲁木齐中路, "Xinjiang
Mansion") names a street or a building elsewhere, not the place. Names shared with
places in other provinces count only when the address names no other province.
The data (names, their sources) is in ``ledger/rules/regions.json`` ``places``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from ledger.errors import ConfigError

_WORD = re.compile(r"\w+")
_CODE = re.compile(r"^([A-Z]{2})[-_ ]([A-Z0-9]{1,3})$")
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class RegionPlaces:
    """How an address in ``country`` is placed in one high-risk region."""

    country: str
    names: tuple[str, ...]
    ambiguous: tuple[str, ...]
    postal_prefixes: tuple[str, ...]
    postal_length: int


@dataclass(frozen=True)
class Places:
    regions: dict[str, RegionPlaces]
    traditional: dict[int, str]
    street_words: frozenset[str]
    street_suffixes: tuple[str, ...]
    directions: frozenset[str]
    direction_chars: str

    def fold(self, text: str) -> str:
        """Compatibility forms, traditional characters, accents and case folded."""
        text = unicodedata.normalize("NFKC", text).translate(self.traditional)
        text = unicodedata.normalize("NFKD", text)
        return "".join(c for c in text if not unicodedata.combining(c)).casefold()

    def _latin_at(self, words: list[str], parts: list[str]) -> bool:
        n = len(parts)
        for i in range(len(words) - n + 1):
            if words[i : i + n] != parts:
                continue
            j = i + n
            while j < len(words) and words[j] in self.directions:
                j += 1
            if j < len(words) and words[j] in self.street_words:
                continue  # "Xinjiang Road", "Urumqi Middle Road": a street named after it
            return True
        return False

    def _cjk_at(self, text: str, name: str) -> bool:
        start = text.find(name)
        while start >= 0:
            rest = text[start + len(name) :].lstrip(self.direction_chars + " ")
            if not rest.startswith(self.street_suffixes):
                return True
            start = text.find(name, start + 1)
        return False

    def named(self, text: str, names: tuple[str, ...]) -> str | None:
        """The first of ``names`` (folded) that ``text`` names as a place, if any."""
        folded = self.fold(text)
        words = _WORD.findall(folded)
        for name in names:
            parts = _WORD.findall(name)
            if not parts:
                continue
            if name.isascii():
                if self._latin_at(words, parts):
                    return name
            elif self._cjk_at(folded, name):
                return name
        return None

    def postal_region(self, code: str, country: str) -> tuple[str | None, bool]:
        """``(region, is_postal_code)``: the high-risk region a postal code of ``country``
        lies in, and whether it is a postal code of a country we know the shape of."""
        digits = "".join(_DIGITS.findall(code))
        shaped = False
        for region, places in self.regions.items():
            if places.country != country or not places.postal_prefixes:
                continue
            if len(digits) == places.postal_length and digits == code.strip().replace(" ", ""):
                shaped = True
                if digits.startswith(places.postal_prefixes):
                    return region, True
        return None, shaped


def region_code(text: str) -> str | None:
    """``text`` as an ISO 3166-2 code when it is one ("CN-XJ", "cn xj", "CN_65")."""
    match = _CODE.match(text.strip().upper())
    return f"{match[1]}-{match[2]}" if match else None


def _strings(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"rules: {where} must be a list of strings")
    return tuple(value)


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"rules: {where} must be an object")
    return value


def parse_places(regions: dict[str, Any]) -> Places:
    """The ``places`` section of ``regions.json`` (with its folding tables)."""
    pairs = str(
        _object(regions.get("traditional_chinese", {}), "traditional_chinese").get("pairs", "")
    )
    if len(pairs) % 2:
        raise ConfigError("rules: traditional_chinese.pairs must hold character pairs")
    traditional = {ord(pairs[i]): pairs[i + 1] for i in range(0, len(pairs), 2)}
    streets = _object(regions.get("street_words", {}), "street_words")
    base = Places({}, traditional, frozenset(), (), frozenset(), "")
    fold = base.fold
    out: dict[str, RegionPlaces] = {}
    for region, raw in _object(regions.get("places", {}), "places").items():
        item = _object(raw, f"places.{region}")
        out[str(region)] = RegionPlaces(
            country=str(item.get("country", "")),
            names=tuple(fold(n) for n in _strings(item.get("names", []), f"{region} names")),
            ambiguous=tuple(
                fold(n) for n in _strings(item.get("ambiguous", []), f"{region} ambiguous")
            ),
            postal_prefixes=_strings(item.get("postal_prefixes", []), f"{region} postal"),
            postal_length=int(item.get("postal_length", 6)),
        )
    return Places(
        regions=out,
        traditional=traditional,
        street_words=frozenset(fold(w) for w in _strings(streets.get("latin", []), "latin")),
        street_suffixes=tuple(_strings(streets.get("chinese", []), "street_words.chinese")),
        directions=frozenset(
            fold(w) for w in _strings(streets.get("directions", []), "street_words.directions")
        ),
        direction_chars="".join(_strings(streets.get("direction_chars", []), "direction_chars")),
    )
