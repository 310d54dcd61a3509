"""``import epcis``: GS1 EPCIS 2.0 events in, signed attestations out.

The document is checked first: against the EPCIS 2.0 JSON Schema when its path is given
(``--epcis-schema`` or ``LOTCHAIN_EPCIS_SCHEMA``; the schema is GS1's and is not shipped),
otherwise structurally, field by field for what the import reads. Then every event is
mapped (:mod:`ledger.epcis`), signed in document order and, with ``--submit``, appended
all together or not at all.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from ledger.admission import admit
from ledger.attestation import Attestation, make_attestation
from ledger.canonical import parse_json
from ledger.cli.common import (
    Options,
    desk_key,
    desk_party,
    desk_signer_options,
    emit,
    get_passphrase,
    home_options,
    passphrase_file_option,
    read_input,
    remote_options,
)
from ledger.cli.main import cli
from ledger.epcis import Holding, Planned, events_of, import_events, validate_with_schema
from ledger.epcis_map import EpcisMap
from ledger.errors import LedgerError, UsageError
from ledger.keys import load_private_key
from ledger.log import Ledger
from ledger.state import AttestationRecord, Overlay

MAX_EPCIS_BYTES = 16 << 20
MAX_MAP_BYTES = 4 << 20
MAX_SCHEMA_BYTES = 1 << 20
MAX_DEPTH = 64


def _now() -> datetime:
    return datetime.now(UTC)


@cli.group("import")
def import_group() -> None:
    """Import events from other standard formats (GS1 EPCIS 2.0)."""


def _holdings_of(ledger: Ledger, issuer: str) -> Any:
    """Outputs ``issuer`` holds in the local ledger, by lot label, with the amount left."""
    from ledger.storage.lookup import Lookups

    lookups = Lookups(ledger.store)

    def lookup(lot: str) -> list[Holding]:
        found = []
        for ref in lookups.refs_with_lot(lot):
            output = ledger.store.output(ref)
            if output is None or output.holder != issuer:
                continue
            left = output.amount - ledger.store.consumed(ref)
            if left > 0:
                found.append(Holding(ref, output.lot, left, output.unit))
        return found

    return lookup


def _remote_holdings(opts: Options, issuer: str) -> Any:
    """Outputs ``issuer`` holds on the server (``--remote``, the token's party), read once
    and only if an input refers to a lot made outside the document."""
    cache: list[Holding] | None = None

    def lookup(lot: str) -> list[Holding]:
        nonlocal cache
        if cache is None:
            from ledger.cli.bodies import holdings

            cache = [
                Holding(h.ref, h.lot, h.left, h.unit) for h in holdings(opts, issuer) if h.left > 0
            ]
        return [h for h in cache if h.lot == lot]

    return lookup


def _no_holdings(lot: str) -> list[Holding]:
    return []


def _preflight(ledger: Ledger, attestations: list[Attestation], now: datetime) -> None:
    """Judge the whole batch as the log would, before writing any of it."""
    overlay = Overlay(ledger.store)
    batch: dict[str, dict[str, Any]] = {}
    bodies = ledger._bodies(batch)
    size = ledger.size()
    for i, att in enumerate(attestations):
        try:
            delta = admit(att, overlay, ledger.trust, now=now, bodies=bodies)
        except LedgerError as e:
            e.message = (
                f"nothing was appended: the {att.type} (attestation {i + 1} of "
                f"{len(attestations)} from this document) would be refused: {e.message}"
            )
            raise
        overlay.add(AttestationRecord(att.id, size + i, att.type, att.issuer), delta)
        batch[att.id] = att.body


def _schema(path: str | None) -> dict[str, Any] | None:
    if not path:
        return None
    value = parse_json(read_input(path, max_bytes=MAX_SCHEMA_BYTES), max_depth=MAX_DEPTH)
    if not isinstance(value, dict):
        raise UsageError(f"{path} is not a JSON Schema (a JSON object)")
    return value


def _summary(planned: list[Planned]) -> str:
    lines = []
    for p in planned:
        head = f"event {p.position} {p.event_type}"
        if p.attestation is None:
            lines.append(f"{head}: skipped, {p.note}")
            continue
        assert p.body is not None
        lots = ", ".join(
            f"{o['lot']} {o['quantity']['amount']} {o['quantity']['unit']}"
            for o in p.body["outputs"]
        )
        lines.append(f"{head} -> {p.attestation_type} {p.attestation}: {lots}")
    return "\n".join(lines)


@import_group.command("epcis")
@home_options
@remote_options
@click.argument("file", metavar="FILE")
@click.option(
    "--map",
    "map_file",
    default=None,
    help="Mapping file (JSON): GS1 parties, locations, products and documents to ledger ids "
    "(format in the README, section 'EPCIS 2.0 in').",
)
@desk_signer_options
@passphrase_file_option
@click.option(
    "--epcis-schema",
    envvar="LOTCHAIN_EPCIS_SCHEMA",
    default=None,
    help="Path of GS1's EPCIS 2.0 JSON Schema (EPCIS-JSON-Schema.json) to validate the "
    "document against first; not shipped with lotchain. Without it, the fields the import "
    "reads are checked structurally. Env: LOTCHAIN_EPCIS_SCHEMA.",
)
@click.option("--dry-run", is_flag=True, help="Show what would be signed; write nothing.")
@click.option("--submit", "do_submit", is_flag=True, help="Append the attestations (all or none).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Write the signed envelopes to DIR (one file per event, and envelopes.json).",
)
def import_epcis(
    opts: Options,
    file: str,
    map_file: str | None,
    issuer: str | None,
    key_file: Path | None,
    passphrase_file: Path | None,
    epcis_schema: str | None,
    dry_run: bool,
    do_submit: bool,
    out_dir: Path | None,
) -> int:
    """Turn the EPCIS 2.0 JSON-LD events of FILE into signed attestations.

    ObjectEvent ADD with bizStep commissioning -> origin; TransformationEvent ->
    transformation; ObjectEvent shipping (or receiving) with owning_party in sourceList
    and destinationList -> transfer. Other events are listed as skipped. Inputs are
    resolved from earlier events of the document, then from the issuer's holdings by lot
    label: in the local ledger, or on the server with --remote (and its token). Without
    --epcis-schema the document is validated structurally (the fields the import reads),
    not against the full EPCIS schema.

    \b
    Example:
      lotchain import epcis gin-events.jsonld --map gs1-map.json \\
          --issuer party:rajkot-gin --key keys/gin.pem --dry-run
      lotchain import epcis gin-events.jsonld --map gs1-map.json \\
          --remote http://ledger.example:8080 --submit
    """
    if dry_run and (do_submit or out_dir):
        raise UsageError("--dry-run writes nothing: drop --submit and --out")
    document = parse_json(read_input(file, max_bytes=MAX_EPCIS_BYTES), max_depth=MAX_DEPTH)
    schema = _schema(epcis_schema)
    if schema is not None:
        validate_with_schema(document, schema)
    events = events_of(document)
    mapping = (
        EpcisMap.parse(parse_json(read_input(map_file, max_bytes=MAX_MAP_BYTES)))
        if map_file
        else EpcisMap.empty()
    )
    issuer = desk_party(opts, issuer, "--issuer")
    key_path = desk_key(opts, key_file)
    signer = load_private_key(
        key_path, get_passphrase(f"Passphrase of {key_path}", file=passphrase_file)
    )
    now = _now()
    signed: list[Attestation] = []

    def sign(type_: str, body: dict[str, Any]) -> str:
        att = make_attestation(type_, issuer, body, [signer], now=now)
        signed.append(att)
        return att.id

    ledger: Ledger | None = None
    if not opts.remote:
        try:
            ledger = opts.ledger(write=do_submit)
        except LedgerError:
            if do_submit:
                raise
    try:
        if opts.remote:
            holdings = _remote_holdings(opts, issuer)
        else:
            holdings = _holdings_of(ledger, issuer) if ledger is not None else _no_holdings
        planned = import_events(events, mapping, issuer=issuer, holdings=holdings, sign=sign)
        result: dict[str, Any] = {
            "events": [p.to_json() for p in planned],
            "attestations": len(signed),
            "skipped": sum(1 for p in planned if p.attestation is None),
            "dry_run": dry_run,
        }
        if dry_run or not signed:
            emit(
                opts,
                result,
                _summary(planned) + ("\n(dry run: nothing written)" if dry_run else ""),
            )
            return 0
        if out_dir is not None:
            _write_envelopes(out_dir, planned, signed)
            result["out"] = str(out_dir)
        if do_submit:
            result["receipts"] = _submit_all(opts, ledger, signed, now)
        elif out_dir is None:
            click.echo(json.dumps([a.envelope.to_json() for a in signed], indent=2))
            return 0
    finally:
        if ledger is not None:
            ledger.store.close()
    text = _summary(planned)
    if out_dir is not None:
        text += f"\nwrote {len(signed)} envelope(s) to {out_dir}"
    if do_submit:
        text += f"\nappended {len(signed)} attestation(s)"
    emit(opts, result, text)
    return 0


def _write_envelopes(out_dir: Path, planned: list[Planned], signed: list[Attestation]) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        made = [p for p in planned if p.attestation is not None]
        for p, att in zip(made, signed, strict=True):
            name = f"{p.position:04d}-{att.type}.json"
            (out_dir / name).write_text(json.dumps(att.envelope.to_json(), indent=2) + "\n")
        everything = [a.envelope.to_json() for a in signed]
        (out_dir / "envelopes.json").write_text(json.dumps(everything, indent=2) + "\n")
    except OSError as e:
        raise UsageError(f"cannot write to {out_dir}: {e.strerror}") from e


def _submit_all(
    opts: Options, ledger: Ledger | None, signed: list[Attestation], now: datetime
) -> list[dict[str, Any]]:
    """Append every attestation or none: judged as one batch first, locally."""
    if opts.remote:
        from ledger.cli.sign_cmds import submit_envelopes

        receipts = submit_envelopes(opts, [a.envelope for a in signed])
        refused = [r for r in receipts if "error" in r]
        if refused:
            raise UsageError(
                f"the server refused {len(refused)} of {len(signed)} attestations: "
                + "; ".join(r["error"]["message"] for r in refused[:5])
            )
        return receipts
    assert ledger is not None
    _preflight(ledger, signed, max(now, ledger.clock()))
    results = ledger.append_batch([a.envelope for a in signed])
    out: list[dict[str, Any]] = []
    for result in results:
        if isinstance(result, LedgerError):
            raise result
        out.append(result.to_json())
    return out
