"""Screening lists (the UFLPA Entity List and lists of the same shape) and name matching.

A list is CSV with at least a ``name`` column; ``aliases`` (separated by `` | ``),
``list_section``, ``effective_date``, ``removed_date`` and ``location`` are read when
present. Whether a listing applies is decided by the verifier (step 17): on the
shipment's entry date, as admissibility is decided at importation.

Names are compared after normalisation: Unicode compatibility forms (full-width
letters and punctuation) and accents are folded, case is folded, ``&`` reads as
``and``, apostrophes vanish, other punctuation and spacing are ignored, and legal forms
are dropped where they stand: *trailing* forms from the regions of the lists ("Co.,
Ltd.", "Pvt. Ltd.", "Private Limited", "Sdn. Bhd.", "Tbk", "JSC", "S.A. de C.V.",
"Tic. A.Ş.", "Public Company Limited", "有限公司"...) and *leading* ones ("PT", "CV",
"OOO"), never a word inside a name. Organisational words ("Group", "Holdings") are
dropped only when at least two words remain, so "Camel Group Co., Ltd." stays "camel
group" and never matches every "Camel" in the world.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterable, Sized
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, ClassVar

from ledger.encoding import format_timestamp, parse_date, parse_timestamp
from ledger.errors import MalformedError, TooLargeError, UsageError
from ledger.storage.base import Store
from ledger.storage.lookup import Lookups, StoredList

MAX_LIST_BYTES = 16_000_000
MAX_ROWS = 100_000
ALIAS_SEPARATOR = "|"

#: Legal forms (as normalised words), dropped from the end of a name, longest first:
#: Anglo-Indian, Pakistani and Bangladeshi ("Pvt. Ltd.", "(Private) Limited"), Malaysian
#: ("Sdn. Bhd."), Indonesian ("Tbk"), Chinese and Japanese in English ("Co., Ltd.",
#: "K.K."), Russian and Central Asian ("JSC", "OJSC", "LLC"), Vietnamese and Thai ("Joint
#: Stock Company", "Public Company Limited"), European ("GmbH", "S.p.A.", "B.V.", "A/S",
#: "Oy", "AB", "SARL"), Latin American ("S.A. de C.V.", "S. de R.L.", "Ltda") and
#: Turkish ("A.Ş.", "Tic. A.Ş.", "Sanayi ve Ticaret A.Ş.") forms.
LEGAL_SUFFIXES: tuple[tuple[str, ...], ...] = tuple(
    sorted(
        {
            tuple(form.split())
            for form in (
                *("co", "company", "corp", "corporation", "inc", "incorporated"),
                *("ltd", "limited", "ltda", "limitada", "llc", "lp", "llp", "plc", "pcl"),
                *("gmbh", "mbh", "ag", "kg", "se", "sa", "sarl", "sas", "srl", "sl", "spa"),
                *("bv", "nv", "oy", "oyj", "ab", "as", "asa", "aps", "kk", "gk", "pte", "pty"),
                *("jsc", "ojsc", "pjsc", "cjsc", "ooo", "sdn", "bhd", "berhad", "tbk", "pvt"),
                *("ооо", "оао", "зао", "пао", "тоо"),  # noqa: RUF001
                *("private limited", "private ltd", "pvt limited", "sendirian berhad"),
                "public company limited",
                "public limited company",
                "limited liability company",
                "limited liability partnership",
                "joint stock company",
                "open joint stock company",
                "closed joint stock company",
                "public joint stock company",
                "kabushiki kaisha",
                "de cv",
                "s de rl",
                "sapi de cv",
                "sociedad anonima",
                "gmbh and co kg",
                "anonim sirketi",
                "tic as",
                "ticaret as",
                "san ve tic as",
                "sanayi ve ticaret as",
                "ticaret anonim sirketi",
                "sanayi ve ticaret anonim sirketi",
            )
        },
        key=len,
        reverse=True,
    )
)
#: Legal forms that stand at the start of a name (Indonesia's "PT" and "CV", Russian
#: "OOO"...): dropped only there, never at the end or inside a name.
LEGAL_PREFIXES: tuple[tuple[str, ...], ...] = (
    ("kabushiki", "kaisha"),
    #: Russian and Central Asian forms in Cyrillic (after folding: й reads as и)
    ("общество", "с", "ограниченнои", "ответственностью"),  # noqa: RUF001
    ("товарищество", "с", "ограниченнои", "ответственностью"),  # noqa: RUF001
    ("публичное", "акционерное", "общество"),
    ("открытое", "акционерное", "общество"),
    ("закрытое", "акционерное", "общество"),
    ("акционерное", "общество"),
    *((form,) for form in ("pt", "cv", "ooo", "oao", "zao", "pao", "jsc", "ojsc", "pjsc", "kk")),
    *((form,) for form in ("ооо", "оао", "зао", "пао", "ао", "тоо", "нао")),  # noqa: RUF001
)
#: Legal forms written in Chinese or Japanese, at the end (or, for 株式会社, the start).
CJK_SUFFIXES = ("股份有限公司", "有限责任公司", "有限責任公司", "有限公司", "株式会社")
CJK_PREFIXES = ("株式会社",)
#: Organisational words, dropped from the end only while two or more words remain.
ORG_WORDS = frozenset({"group", "holding", "holdings"})
#: Letters that have no decomposition but a plain Latin reading.
_FOLD = str.maketrans(
    {"\u0131": "i", "ł": "l", "Ł": "l", "ø": "o", "Ø": "o", "đ": "d", "Đ": "d", "ħ": "h"}
    | {"æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "þ": "th", "Þ": "th"}
)
#: Annotations lists put after aliases; they are not part of the name.
_ANNOTATION = re.compile(
    r"\(\s*(?:formerly\s+known\s+as|former\s+name|formerly|f/?k/?a|also\s+known\s+as|a/?k/?a)"
    r"\s*\)",
    re.IGNORECASE,
)
_APOSTROPHES = re.compile(r"['\u2018\u2019\u02bc`]")
#: "M/s" (Messrs.), the courtesy prefix of firm names in India and South Asia.
_MESSRS = re.compile(r"^\s*(?:m\s*/\s*s\.?|messrs\.?)\s+", re.IGNORECASE)
#: A trailing parenthesised qualifier: "Dhaka Apparel Ltd (Bangladesh)", "(Shanghai)".
_QUALIFIER = re.compile(r"\s*\(([^()]*)\)\s*$")
_NON_WORD = re.compile(r"[^\w]+|_+")


def _fold(name: str) -> str:
    """Compatibility forms, accents and case folded; ``&`` read as ``and``."""
    text = unicodedata.normalize("NFKD", _MESSRS.sub("", _ANNOTATION.sub(" ", name)))
    if not text.isascii():  # ASCII has no combining marks and nothing _FOLD maps
        text = "".join(c for c in text if not unicodedata.combining(c)).translate(_FOLD)
    return _APOSTROPHES.sub("", text.casefold().replace("&", " and "))


def _words(text: str) -> list[str]:
    words: list[str] = []
    acronym = False  # joining a run of single letters: "l.l.c." -> "llc", "s.a." -> "sa"
    for token in (t for t in _NON_WORD.split(text) if t):
        single = len(token) == 1 and token.isalpha()
        if single and acronym:
            words[-1] += token
        else:
            words.append(token)
        acronym = single
    return words


def _strip_cjk(words: list[str]) -> None:
    for suffix in CJK_SUFFIXES:
        if words and words[-1].endswith(suffix) and len(words[-1]) > len(suffix):
            words[-1] = words[-1][: -len(suffix)]
            break
    for prefix in CJK_PREFIXES:
        if words and words[0].startswith(prefix) and len(words[0]) > len(prefix):
            words[0] = words[0][len(prefix) :]


def _by_word(forms: tuple[tuple[str, ...], ...], at: int) -> dict[str, list[tuple[str, ...]]]:
    """Forms by their first (``at`` 0) or last (-1) word, each list in the forms' order."""
    out: dict[str, list[tuple[str, ...]]] = {}
    for form in forms:
        out.setdefault(form[at], []).append(form)
    return out


#: A form can only match where its edge word stands: only those are tried, in the order
#: of the tuples above, so the first that matches is the one a full scan would find.
_PREFIXES_BY_FIRST = _by_word(LEGAL_PREFIXES, 0)
_SUFFIXES_BY_LAST = _by_word(LEGAL_SUFFIXES, -1)


def _strip_legal_forms(words: list[str]) -> list[str]:
    """Drop leading and trailing legal forms, always keeping at least one word."""
    for prefix in _PREFIXES_BY_FIRST.get(words[0], []) if words else []:
        if len(words) > len(prefix) and tuple(words[: len(prefix)]) == prefix:
            words = words[len(prefix) :]
            break
    changed = True
    while changed:
        changed = False
        for suffix in _SUFFIXES_BY_LAST.get(words[-1], []) if words else []:
            if len(words) > len(suffix) and tuple(words[-len(suffix) :]) == suffix:
                words = words[: -len(suffix)]
                changed = True
                break
        if not changed and len(words) > 2 and words[-1] in ORG_WORDS:
            words, changed = words[:-1], True
    return words


def name_tokens(name: str) -> list[str]:
    """The words of ``name`` after folding and dropping legal forms where they stand."""
    words = _words(_fold(name))
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    _strip_cjk(words)
    return _strip_legal_forms(words)


def normalize_name(name: str) -> str:
    """A readable normal form: the kept words separated by single spaces."""
    return " ".join(name_tokens(name))


def name_key(name: str) -> str:
    """The matching key: the kept words with no separator (spacing never matters)."""
    return "".join(name_tokens(name))


def qualified_key(name: str) -> tuple[str, str] | None:
    """``(key without it, qualifier)`` when ``name`` ends in a parenthesised qualifier of
    one to three words without digits (a country or city: "Dhaka Apparel Ltd
    (Bangladesh)"), not a legal form ("(Pvt)") or a unit number ("(Unit 2)")."""
    folded = unicodedata.normalize("NFKC", name)
    found = _QUALIFIER.search(folded)
    if not found:
        return None
    words = _words(_fold(found[1]))
    if not 1 <= len(words) <= 3 or any(not w.isalpha() for w in words):
        return None
    base = name_key(folded[: found.start()])
    if not base or base == name_key(name):
        return None
    return base, "".join(words)


@dataclass(frozen=True)
class Listing:
    """One row of a list: an entity, its aliases and when the listing is in force."""

    row: int
    name: str
    aliases: tuple[str, ...]
    section: str
    effective: date | None
    removed: date | None
    location: str

    def in_force(self, on: date) -> bool:
        """A listing with no stated effective date is treated as always in force."""
        started = self.effective is None or self.effective <= on
        return started and (self.removed is None or on < self.removed)


@dataclass(frozen=True)
class Match:
    listing: Listing
    listed_name: str
    name: str


@dataclass(frozen=True)
class ScreeningList:
    """A parsed list version: its exact bytes, their SHA-256 and its listings."""

    kind: ClassVar[str] = "entity"
    name: str
    sha256: str
    loaded_at: datetime
    data: bytes
    listings: tuple[Listing, ...]
    source: str | None = None
    _index: dict[str, list[tuple[Listing, str]]] = field(
        default_factory=dict, compare=False, repr=False
    )
    _qualified: dict[str, list[tuple[Listing, str]]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        for listing in self.listings:
            for listed in (listing.name, *listing.aliases):
                key = name_key(listed)
                if key:
                    self._index.setdefault(key, []).append((listing, listed))
                qualified = qualified_key(listed)
                if qualified:
                    self._qualified.setdefault(qualified[0], []).append((listing, listed))

    def _candidates(self, name: str) -> list[tuple[Listing, str]]:
        """Listings of the same key; a trailing qualifier ("(Bangladesh)") on one side
        only is read as the same entity, two different qualifiers never are."""
        key = name_key(name)
        found = list(self._index.get(key, ()))
        qualified = qualified_key(name)
        if qualified:
            found += [
                (x, listed)
                for x, listed in self._index.get(qualified[0], ())
                if qualified_key(listed) is None
            ]
        else:
            found += self._qualified.get(key, [])
        return found

    def matches(self, names: Iterable[str], on: date | None = None) -> list[Match]:
        """Listings matching any of ``names`` (in force ``on`` that date, if given)."""
        out: dict[tuple[int, str], Match] = {}
        for name in names:
            for listing, listed in self._candidates(name):
                if on is None or listing.in_force(on):
                    out.setdefault((listing.row, name), Match(listing, listed, name))
        return [out[k] for k in sorted(out)]

    def summary(self) -> dict[str, Any]:
        """What a verdict says of the list it applied (never its contents)."""
        return version_summary(self.name, self.kind, self.sha256, self.loaded_at, self.listings)

    def to_bundle(self) -> dict[str, Any]:
        dates = [x.effective for x in self.listings if x.effective is not None]
        return version_bundle(
            self.name, self.kind, self.sha256, self.loaded_at, self.data, dates, self.source
        )



def version_summary(
    name: str, kind: str, sha256: str, loaded_at: datetime, rows: Sized
) -> dict[str, Any]:
    """What a verdict says of a list version it applied, of either kind (never its rows)."""
    return {
        "name": name,
        "kind": kind,
        "sha256": sha256,
        "loaded_at": format_timestamp(loaded_at),
        "listings": len(rows),
    }


def version_bundle(
    name: str,
    kind: str,
    sha256: str,
    loaded_at: datetime,
    data: bytes,
    effective: list[date],
    source: str | None,
) -> dict[str, Any]:
    """A list version as an evidence bundle carries it: its bytes as loaded, so the
    offline verifier applies the very list the online one did."""
    out: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "sha256": sha256,
        "loaded_at": format_timestamp(loaded_at),
        "csv": data.decode("utf-8"),
    }
    if effective:
        out["effective_on"] = max(effective).isoformat()
    if source:
        out["source"] = source
    return out

def _date(value: str, what: str) -> date | None:
    value = value.strip()
    return parse_date(value, what=what).date() if value else None


def parse_list(
    data: bytes, *, name: str, loaded_at: datetime, source: str | None = None
) -> ScreeningList:
    """Parse list bytes (UTF-8 CSV with a header row) or raise a coded error."""
    if not name.strip() or len(name) > 128 or any(ord(c) < 0x20 for c in name):
        raise UsageError("a screening list needs a name of 1 to 128 printable characters")
    if len(data) > MAX_LIST_BYTES:
        raise TooLargeError(f"screening list is {len(data)} bytes; the limit is {MAX_LIST_BYTES}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise MalformedError(f"screening list is not UTF-8 (byte {e.start})") from e
    try:
        rows = list(csv.DictReader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as e:
        raise MalformedError(f"screening list is not valid CSV: {e}") from e
    if not rows or "name" not in rows[0]:
        raise MalformedError("screening list needs a header row with a 'name' column")
    if len(rows) > MAX_ROWS:
        raise TooLargeError(f"screening list has more than {MAX_ROWS} rows")
    listings = []
    for number, row in enumerate(rows, start=2):
        if None in row:
            raise MalformedError(f"screening list row {number} has more fields than the header")
        entity = (row.get("name") or "").strip()
        if not entity:
            raise MalformedError(f"screening list row {number} has no name")
        aliases = tuple(
            a.strip() for a in (row.get("aliases") or "").split(ALIAS_SEPARATOR) if a.strip()
        )
        listings.append(
            Listing(
                row=number,
                name=entity,
                aliases=aliases,
                section=(row.get("list_section") or "").strip(),
                effective=_date(row.get("effective_date") or "", f"row {number} effective_date"),
                removed=_date(row.get("removed_date") or "", f"row {number} removed_date"),
                location=(row.get("location") or "").strip(),
            )
        )
    return ScreeningList(
        name=name.strip(),
        sha256=hashlib.sha256(data).hexdigest(),
        loaded_at=loaded_at,
        data=data,
        listings=tuple(listings),
        source=source,
    )


def read_capped(path: Path, limit: int) -> bytes:
    """A list file's bytes, at most one past ``limit`` (so the parser refuses it as too
    large without reading all of an oversized file)."""
    try:
        with path.open("rb") as f:
            return f.read(limit + 1)
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from e


def check_bundled_hash(what: str, item: dict[str, Any], sha256: str) -> None:
    """A list carried in a bundle must be the very bytes its stated SHA-256 names."""
    if sha256 != item["sha256"]:
        raise MalformedError(
            f"{what} {item['name']!r}: its bytes hash to {sha256}, not the stated {item['sha256']}"
        )


def read_list_file(path: Path, *, name: str | None, loaded_at: datetime) -> ScreeningList:
    data = read_capped(path, MAX_LIST_BYTES)
    return parse_list(data, name=name or path.stem, loaded_at=loaded_at, source=str(path.name))


def from_bundle(item: dict[str, Any]) -> ScreeningList:
    """A list carried in an evidence bundle; its bytes must hash to its stated SHA-256."""
    data = str(item["csv"]).encode("utf-8")
    parsed = parse_list(
        data,
        name=str(item["name"]),
        loaded_at=parse_timestamp(item["loaded_at"], what="loaded_at"),
        source=item.get("source"),
    )
    check_bundled_hash("screening list", item, parsed.sha256)
    return parsed


def record_list(
    store: Store, data: bytes, *, name: str, source: str | None, now: datetime
) -> tuple[ScreeningList, bool]:
    """Record a list version in the database; ``(list, False)`` when already the latest."""
    parsed = parse_list(data, name=name, loaded_at=now, source=source)
    lookups = Lookups(store)
    added = lookups.add_list(StoredList(parsed.name, parsed.sha256, now, source, data))
    if added:
        return parsed, True
    current = next(x for x in loaded_lists(store) if x.name == parsed.name)
    return current, False


@functools.lru_cache(maxsize=64)
def _parsed(data: bytes, name: str, loaded_at: datetime, source: str | None) -> ScreeningList:
    return parse_list(data, name=name, loaded_at=loaded_at, source=source)


def _from_stored(item: StoredList) -> ScreeningList:
    """A stored list version, parsed once per process (versions never change)."""
    return _parsed(item.data, item.name, item.loaded_at, item.source)


def loaded_lists(store: Store, *, all_versions: bool = False) -> list[ScreeningList]:
    """The entity lists recorded in the database: the latest version of each name by
    default (WRO/Findings lists: :func:`ledger.lists.loaded_versions`)."""
    stored = Lookups(store).lists(all_versions=all_versions)
    return [_from_stored(x) for x in stored if x.kind == "entity"]
