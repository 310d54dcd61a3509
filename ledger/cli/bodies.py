"""Helpers that fill in an unsigned body before it is signed: documents and lot labels.

Files named by ``--document KIND=FILE`` are hashed into the body (the files stay with
their owner; only the SHA-256 is signed); inputs named by lot label are resolved against
the issuer's holdings, read from the local database or from the server (``--remote``).
"""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path
from typing import Any

from ledger.cli.common import Options, require_log
from ledger.errors import UsageError
from ledger.lots import MAX_HOLDINGS, Holding, holdings_of

#: Types whose body lists documents; an audit binds one evidence file instead.
DOCUMENT_TYPES = frozenset({"origin", "transformation", "transfer", "shipment"})
EVIDENCE_TYPES = frozenset({"audit"})
MAX_DOCUMENTS = 100
MAX_DOCUMENT_BYTES = 4 << 30
_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks (documents may be large scans)."""
    digest = hashlib.sha256()
    size = 0
    try:
        with path.open("rb") as f:
            while chunk := f.read(_CHUNK):
                size += len(chunk)
                if size > MAX_DOCUMENT_BYTES:
                    raise UsageError(f"{path} is larger than {MAX_DOCUMENT_BYTES} bytes")
                digest.update(chunk)
    except OSError as e:
        raise UsageError(f"cannot read the document {path}: {e.strerror}") from e
    return digest.hexdigest()


def parse_document(spec: str) -> tuple[str, str | None, Path]:
    """``KIND=FILE`` or ``KIND:NUMBER=FILE`` as (kind, number or None, path)."""
    left, sep, file = spec.partition("=")
    if not sep or not left or not file:
        raise UsageError(
            f"--document {spec!r}: write KIND=FILE or KIND:NUMBER=FILE, "
            "e.g. invoice=INV-117.pdf or invoice:SG/EXP/117=scan.pdf"
        )
    kind, _, number = left.partition(":")
    return kind.strip(), (number.strip() or None), Path(file)


def add_documents(type_: str, body: dict[str, Any], specs: tuple[str, ...]) -> dict[str, Any]:
    """``body`` with each file hashed into its documents (or, for an audit, its evidence).

    A document already in the body with the same kind (and number, if given) and no
    ``sha256`` yet gets the file's hash; otherwise a new document is added, numbered as
    given or by the file's name.
    """
    if not specs:
        return body
    if len(specs) > MAX_DOCUMENTS:
        raise UsageError(f"at most {MAX_DOCUMENTS} --document options")
    out = copy.deepcopy(body)
    if type_ in EVIDENCE_TYPES:
        if len(specs) != 1:
            raise UsageError("an audit binds one evidence file: give --document evidence=FILE once")
        kind, _, path = parse_document(specs[0])
        if kind != "evidence":
            raise UsageError(f"an audit takes --document evidence=FILE, not {kind}=...")
        out["evidence_sha256"] = file_sha256(path)
        return out
    if type_ not in DOCUMENT_TYPES:
        raise UsageError(
            f"a {type_} body holds no documents; --document is for "
            f"{', '.join(sorted(DOCUMENT_TYPES | EVIDENCE_TYPES))}"
        )
    documents = out.setdefault("documents", [])
    if not isinstance(documents, list):
        raise UsageError("the body's documents must be a list")
    for spec in specs:
        kind, number, path = parse_document(spec)
        digest = file_sha256(path)
        slot = next(
            (
                d
                for d in documents
                if isinstance(d, dict)
                and d.get("kind") == kind
                and "sha256" not in d
                and (number is None or d.get("number") == number)
            ),
            None,
        )
        if slot is not None:
            slot["sha256"] = digest
        else:
            documents.append({"kind": kind, "number": number or path.name, "sha256": digest})
    return out


def holdings(opts: Options, party: str) -> list[Holding]:
    """What ``party`` holds (open and used-up lots), from the server or the local ledger."""
    if opts.remote:
        from ledger.client import Client

        return [Holding.from_json(v) for v in Client(opts.remote, token=opts.token).lots(party)]
    from ledger.storage.lookup import Lookups

    ledger = opts.ledger()
    try:
        require_log(ledger.store)
        return holdings_of(Lookups(ledger.store).holdings(party, MAX_HOLDINGS))
    finally:
        ledger.store.close()


def _at_file(value: Any) -> str | None:
    if isinstance(value, str) and value.startswith("@") and len(value) > 1:
        return value[1:]
    return None


def resolve_file_refs(
    type_: str, body: dict[str, Any], base: Path, earlier: dict[Path, str]
) -> dict[str, Any]:
    """``body`` with ``"@FILE"`` values filled in before signing (FILE relative to ``base``,
    the body file's folder): a document's ``sha256`` and an audit's ``evidence_sha256``
    become the file's SHA-256; a certificate's ``audits`` entry names the audit body signed
    earlier in the same call and becomes that audit's attestation id."""
    out = copy.deepcopy(body)
    evidence = _at_file(out.get("evidence_sha256"))
    if type_ in EVIDENCE_TYPES and evidence is not None:
        out["evidence_sha256"] = file_sha256(base / evidence)
    documents = out.get("documents")
    for doc in documents if isinstance(documents, list) else []:
        name = _at_file(doc.get("sha256")) if isinstance(doc, dict) else None
        if name is not None:
            doc["sha256"] = file_sha256(base / name)
    audits = out.get("audits")
    if type_ == "certificate" and isinstance(audits, list):
        for i, item in enumerate(audits):
            name = _at_file(item)
            if name is None:
                continue
            found = earlier.get((base / name).resolve())
            if found is None:
                raise UsageError(
                    f"audits[{i}] names @{name}, which is not an audit body signed before "
                    "this certificate in the same call; give it first: --body audit="
                    f"{name} --body certificate=..."
                )
            audits[i] = found
    return out
