"""Detention to determination from the command line, without hand-written JSON.

A CBP officer detains and determines; the importer (or its broker, with the
importer's key) submits the admissibility package. Each command builds the body,
signs it like ``lotchain attest`` and, with ``--submit``, appends it (locally or
through ``--remote``); ``lotchain enforcement status`` shows where a shipment stands.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from ledger import enforcement
from ledger.attestation import make_attestation
from ledger.cli.common import Options, home_options, remote_options
from ledger.cli.main import cli
from ledger.cli.sign_cmds import load_signer, print_receipts, submit_envelopes
from ledger.errors import NotFoundError, TooLargeError, UsageError
from ledger.keys import Signer

MAX_FILE = 512 << 20  # a bundle or document hashed for a submission


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


def _sha256_file(path: Path) -> str:
    if path.stat().st_size > MAX_FILE:
        raise TooLargeError(f"{path} is larger than {MAX_FILE >> 20} MiB")
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def shipment_view(opts: Options, ref: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(shipment id, its body, its enforcement status) from the local ledger or --remote."""
    if opts.remote:
        from ledger.client import Client

        value = Client(opts.remote, token=opts.token).shipment(ref)
        return str(value["attestation"]), value["body"], value["enforcement"]
    from ledger.verify import resolve_shipment

    ledger = opts.ledger()
    try:
        shipment_id = resolve_shipment(ledger, ref)
        entry = ledger.store.find(shipment_id)
        if entry is None or entry.type != "shipment":
            raise NotFoundError(f"no shipment {ref}")
        from ledger.attestation import parse_attestation

        body = parse_attestation(entry.envelope).body
        steps = ledger.store.enforcement(shipment_id)
        bodies = {}
        for step in steps:
            found = ledger.store.find(step.attestation)
            if found is not None:
                bodies[step.attestation] = parse_attestation(found.envelope).body
        status = enforcement.status_json(shipment_id, steps, ledger.clock().date(), bodies)
        return shipment_id, body, status
    finally:
        ledger.store.close()


def _sign_and_emit(
    opts: Options,
    type_: str,
    issuer: str,
    body: dict[str, Any],
    signer: Signer,
    out: Path | None,
    do_submit: bool,
) -> int:
    att = make_attestation(type_, issuer, body, [signer], now=datetime.now(UTC))
    text = json.dumps(att.envelope.to_json(), indent=2)
    if out is not None:
        out.write_text(text + "\n", encoding="utf-8")
        click.echo(f"signed {type_} {att.id} -> {out}", err=True)
    elif not do_submit:
        click.echo(text)
    if do_submit:
        return print_receipts(opts, submit_envelopes(opts, [att.envelope]), [att.envelope])
    return 0


def _signing_options(func: Any) -> Any:
    for option in reversed(
        [
            click.option("--issuer", required=True, help="Party id of the signer (party:...)."),
            click.option(
                "--key",
                "key_file",
                required=True,
                type=click.Path(path_type=Path, dir_okay=False),
                help="The signer's encrypted private key file.",
            ),
            click.option(
                "--out",
                type=click.Path(path_type=Path, dir_okay=False),
                default=None,
                help="Write the signed envelope here (default: standard output, unless --submit).",
            ),
            click.option(
                "--submit/--no-submit",
                "do_submit",
                default=False,
                help="Append the envelope to the log right away (locally or via --remote).",
            ),
        ]
    ):
        func = option(func)
    return func


def _open_detention(status: dict[str, Any], given: str | None, ref: str) -> str:
    if given is not None:
        return given
    if status.get("status", "none") == "none":
        raise UsageError(f"shipment {ref} is not detained; there is nothing to answer or decide")
    return str(status["detention"])


@cli.command()
@home_options
@remote_options
@click.argument("shipment")
@click.option(
    "--basis",
    required=True,
    help="Legal basis: uflpa, or a WRO or Finding id (wro-2021-06-24-hoshine, fnd-...).",
)
@click.option(
    "--detained-on", default=None, help="Date of the decision to detain (default: today)."
)
@click.option("--presented-on", default=None, help="Date presented for examination.")
@click.option("--notice-date", default=None, help="Date of the notice of detention.")
@click.option("--respond-by", default=None, help="Due date (default: computed from the basis).")
@click.option("--reason", default=None, help="Why the shipment is detained.")
@click.option("--merchandise", multiple=True, help="Goods detained (repeatable; default: all).")
@click.option(
    "--request",
    "requested",
    multiple=True,
    type=click.Choice(["applicability-review", "exception-request", "certificate-of-origin"]),
    help="What the importer may submit (repeatable; default: what the basis takes).",
)
@click.option("--port", default=None, help="CBP port code where the goods are held.")
@_signing_options
def detain(
    opts: Options,
    shipment: str,
    basis: str,
    detained_on: str | None,
    presented_on: str | None,
    notice_date: str | None,
    respond_by: str | None,
    reason: str | None,
    merchandise: tuple[str, ...],
    requested: tuple[str, ...],
    port: str | None,
    issuer: str,
    key_file: Path,
    out: Path | None,
    do_submit: bool,
) -> int:
    """Detain SHIPMENT (a CBP officer): a detention attestation, with its due dates.

    \b
    Example:
      lotchain detain ACM-0000001-5 --basis uflpa --issuer party:us-cbp \\
        --key keys/cbp.pem --reason "Cotton may originate in CN-XJ" --submit
    """
    kind = enforcement.authority(basis)
    shipment_id, body, _ = shipment_view(opts, shipment)
    detention: dict[str, Any] = {
        "shipment": shipment_id,
        "legal_basis": basis,
        "entered_on": body["arrival_date"],
        "detained_on": detained_on or _today(),
        "reason": reason or f"Merchandise subject to {enforcement.rules()['bases'][kind]['title']}",
        "requested": list(requested or enforcement.rules()["bases"][kind]["submission_kinds"]),
    }
    for name, value in (("presented_on", presented_on), ("notice_date", notice_date)):
        if value is not None:
            detention[name] = value
    due = enforcement.deadlines(basis, enforcement.detention_dates(detention))
    detention["respond_by"] = respond_by or due.submit_by.isoformat()
    if merchandise:
        detention["merchandise"] = [{"description": m} for m in merchandise]
    if port is not None:
        detention["port_of_entry"] = port
    if not opts.json:
        click.echo(
            f"deadlines under {basis}: submission by {detention['respond_by']}"
            + (f", CBP decides by {due.decide_by}" if due.decide_by else "")
            + (f", notice by {due.notice_by}" if due.notice_by else ""),
            err=True,
        )
    return _sign_and_emit(
        opts, "detention", issuer, detention, load_signer(key_file), out, do_submit
    )


@cli.group()
def admissibility() -> None:
    """The importer's admissibility submission for a detained shipment."""


@admissibility.command("submit")
@home_options
@remote_options
@click.argument("shipment")
@click.option(
    "--kind",
    required=True,
    type=click.Choice(["applicability-review", "exception-request", "certificate-of-origin"]),
    help="Applicability review or exception request (UFLPA); certificate of origin (WRO).",
)
@click.option(
    "--bundle",
    "bundle_file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="The evidence bundle file (lotchain verify shipment --bundle); its SHA-256 is signed.",
)
@click.option(
    "--document",
    "documents",
    multiple=True,
    help="KIND=FILE: a document handed to CBP, bound by its SHA-256 (repeatable).",
)
@click.option("--detention", default=None, help="The detention answered (default: the open one).")
@click.option("--statement", default=None, help="A short summary statement.")
@_signing_options
def admissibility_submit(
    opts: Options,
    shipment: str,
    kind: str,
    bundle_file: Path,
    documents: tuple[str, ...],
    detention: str | None,
    statement: str | None,
    issuer: str,
    key_file: Path,
    out: Path | None,
    do_submit: bool,
) -> int:
    """Answer a detention of SHIPMENT (the importer or its broker, with the importer's key).

    \b
    Example:
      lotchain admissibility submit ACM-0000001-5 --kind applicability-review \\
        --bundle bundle.json --document detailed-statement=statement.pdf \\
        --issuer party:acme --key keys/acme.pem --submit
    """
    shipment_id, _, status = shipment_view(opts, shipment)
    body: dict[str, Any] = {
        "shipment": shipment_id,
        "detention": _open_detention(status, detention, shipment),
        "kind": kind,
        "bundle_sha256": _sha256_file(bundle_file),
    }
    docs = []
    for item in documents:
        doc_kind, sep, name = item.partition("=")
        if not sep or not doc_kind or not name:
            raise UsageError(f"--document {item!r}: expected KIND=FILE, e.g. statement=stmt.pdf")
        docs.append({"kind": doc_kind, "sha256": _sha256_file(Path(name))})
    if docs:
        body["documents"] = docs
    if statement:
        body["statement"] = statement
    return _sign_and_emit(
        opts, "admissibility", issuer, body, load_signer(key_file), out, do_submit
    )


@cli.command()
@home_options
@remote_options
@click.argument("shipment")
@click.option(
    "--outcome",
    required=True,
    type=click.Choice(list(enforcement.OUTCOMES)),
    help="released, excluded, seized (Finding only) or re-exported (not under a Finding).",
)
@click.option("--reason", "reasons", required=True, help="The reasons for the determination.")
@click.option("--decided-on", default=None, help="Date of the determination (default: today).")
@click.option("--rested-on", multiple=True, help="A log entry it rested on (repeatable).")
@click.option("--detention", default=None, help="The detention decided (default: the open one).")
@_signing_options
def determine(
    opts: Options,
    shipment: str,
    outcome: str,
    reasons: str,
    decided_on: str | None,
    rested_on: tuple[str, ...],
    detention: str | None,
    issuer: str,
    key_file: Path,
    out: Path | None,
    do_submit: bool,
) -> int:
    """Decide on a detained SHIPMENT (a CBP officer): a determination attestation.

    \b
    Example:
      lotchain determine ACM-0000001-5 --outcome released \\
        --reason "Supply chain traced to India; no CN-XJ input" \\
        --issuer party:us-cbp --key keys/cbp.pem --submit
    """
    shipment_id, _, status = shipment_view(opts, shipment)
    body: dict[str, Any] = {
        "shipment": shipment_id,
        "detention": _open_detention(status, detention, shipment),
        "outcome": outcome,
        "decided_on": decided_on or _today(),
        "reasons": reasons,
    }
    rested = list(rested_on) or [
        h["attestation"] for h in status.get("history", []) if h["step"] == "admissibility"
    ]
    if rested:
        body["rested_on"] = rested
    return _sign_and_emit(
        opts, "determination", issuer, body, load_signer(key_file), out, do_submit
    )


@cli.group("enforcement")
def enforcement_group() -> None:
    """Where a shipment stands: detained, submitted, released, excluded..."""


@enforcement_group.command("status")
@home_options
@remote_options
@click.argument("shipment")
def enforcement_status(opts: Options, shipment: str) -> int:
    """Show SHIPMENT's enforcement status, due dates and history.

    \b
    Example:
      lotchain enforcement status ACM-0000001-5
    """
    _, _, status = shipment_view(opts, shipment)
    click.echo(json.dumps(status) if opts.json else enforcement.render(status))
    return 0


@enforcement_group.command("check-bundle")
@home_options
@remote_options
@click.argument("shipment")
@click.option(
    "--bundle",
    "bundle_file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="The bundle file CBP holds.",
)
def check_bundle(opts: Options, shipment: str, bundle_file: Path) -> int:
    """Whether a bundle file is the one the importer's submission signed (exit 0, else 1).

    \b
    Example:
      lotchain enforcement check-bundle ACM-0000001-5 --bundle bundle-ACM00000015.json
    """
    _, _, status = shipment_view(opts, shipment)
    digest = _sha256_file(bundle_file)
    submitted = [h for h in status.get("history", []) if h["step"] == "admissibility"]
    if not submitted:
        raise UsageError(f"shipment {shipment} has no admissibility submission to compare with")
    matching = [h["attestation"] for h in submitted if h.get("bundle_sha256") == digest]
    value = {"bundle_sha256": digest, "matches": matching, "ok": bool(matching)}
    if opts.json:
        click.echo(json.dumps(value))
    elif matching:
        click.echo(f"OK: {bundle_file} (sha256 {digest}) is the bundle of {matching[-1]}")
    else:
        signed = ", ".join(sorted({str(h.get("bundle_sha256")) for h in submitted}))
        click.echo(f"MISMATCH: {bundle_file} has sha256 {digest}; the submission signed {signed}")
    return 0 if matching else 1
