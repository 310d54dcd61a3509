"""CBP entry numbers: one normal form, so one entry cannot be declared twice.

An entry number is a 3-character entry filer code, a 7-digit number the filer assigns
and a check digit, written ``XXX-NNNNNNN-N`` (19 CFR 142.3a(b)). Filers also write it
without dashes; the ledger signs what the importer wrote but indexes, compares and
looks up the normal form only, so ``AAP25041017`` and ``AAP-2504101-7`` are one entry.
"""

from __future__ import annotations

import re

from ledger.errors import SchemaError

#: What a shipment body may hold (the schema's pattern): dashes optional.
_WRITTEN = re.compile(r"([A-Z0-9]{3})-?([0-9]{7})-?([0-9])")
FILER_CODE = re.compile(r"[A-Z0-9]{3}")


def parse(text: str) -> str | None:
    """The normal form ``XXX-NNNNNNN-N`` of ``text``, or None if it is no entry number."""
    found = _WRITTEN.fullmatch(text)
    if found is None:
        return None
    return "-".join(found.groups())


def normalise(text: str) -> str:
    """The normal form of an entry number; SCHEMA error if it is none."""
    value = parse(text)
    if value is None:
        raise SchemaError(
            f"entry number {text[:32]!r} is not of the form XXX-NNNNNNN-N "
            "(filer code, 7 digits, check digit)"
        )
    return value


def filer_code(normal: str) -> str:
    """The entry filer code (the first three characters) of a normalised entry number."""
    return normal[:3]


def spellings(normal: str) -> tuple[str, ...]:
    """Every way the schema lets one entry number be written, the normal form first.

    Rows written before numbers were normalised hold the number as written; looking
    each spelling up keeps such a row findable and still a duplicate of a new one.
    """
    code, number, check = normal[:3], normal[4:11], normal[12]
    return (
        normal,
        f"{code}{number}{check}",
        f"{code}-{number}{check}",
        f"{code}{number}-{check}",
    )
