"""``lotchain attest``: sign one body, or several in order, and optionally submit them.

Several bodies signed in one call chain like a day's work at one desk: a later body may
name by label a lot an earlier one made, a certificate may name the audit body it rests
on (``"audits": ["@audit.json"]``), and documents are files named in the body
(``"sha256": "@invoice.pdf"``), hashed here. Everything is read, resolved, checked
against its schema and signed before anything is written or submitted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from ledger.admission import LOG_SIGNED_TYPES
from ledger.attestation import Attestation, make_attestation
from ledger.canonical import parse_json
from ledger.cli.bodies import add_documents, holdings, resolve_file_refs
from ledger.cli.common import (
    Options,
    desk_key,
    desk_party,
    desk_signer_options,
    get_passphrase,
    home_options,
    passphrase_file_option,
    read_input,
    remote_options,
)
from ledger.cli.main import cli
from ledger.cli.sign_cmds import load_signer, print_receipts, submit_envelopes
from ledger.errors import LedgerError, UsageError
from ledger.keys import Signer, load_private_key
from ledger.lots import Holding, after_pending, has_lot_labels, resolve_lot_labels
from ledger.schemas import ATTESTATION_TYPES

SIGNABLE = [t for t in ATTESTATION_TYPES if t not in LOG_SIGNED_TYPES]
MAX_BODIES = 100


@dataclass(frozen=True)
class BodySpec:
    type: str
    file: str


def parse_bodies(type_: str | None, specs: tuple[str, ...]) -> list[BodySpec]:
    """``--body [TYPE=]FILE`` options as (type, file); a bare FILE takes the TYPE argument."""
    if not specs:
        raise UsageError("give a body: --body FILE (or --body TYPE=FILE, repeatable)")
    if len(specs) > MAX_BODIES:
        raise UsageError(f"at most {MAX_BODIES} --body options in one call")
    out = []
    for spec in specs:
        left, sep, right = spec.partition("=")
        if sep and left in ATTESTATION_TYPES:
            if left not in SIGNABLE:
                raise UsageError(f"--body {spec}: a {left} is signed by the log, not by a party")
            out.append(BodySpec(left, right))
        elif type_ is not None:
            out.append(BodySpec(type_, spec))
        else:
            raise UsageError(
                f"--body {spec}: say what it is, --body TYPE={spec} (TYPE one of "
                f"{', '.join(SIGNABLE)}), or give TYPE before the options"
            )
    return out


def _base(file: str) -> Path:
    return Path.cwd() if file == "-" else Path(file).parent


class _Pending:
    """The issuer's holdings, read once (only if a label needs them), then kept up to date
    with the outputs and inputs of the bodies signed so far in this call."""

    def __init__(self, opts: Options, issuer: str) -> None:
        self.opts, self.issuer = opts, issuer
        self.known: list[Holding] | None = None
        self.signed: list[tuple[str, dict[str, Any], str]] = []

    def resolve(self, body: dict[str, Any]) -> dict[str, Any]:
        if not has_lot_labels(body):
            return body
        if self.known is None:
            self.known = holdings(self.opts, self.issuer)
            for type_, done, att_id in self.signed:
                self.known = after_pending(self.known, type_, self.issuer, done, att_id)
        return resolve_lot_labels(body, self.issuer, self.known)

    def add(self, att: Attestation) -> None:
        self.signed.append((att.type, att.body, att.id))
        if self.known is not None:
            self.known = after_pending(self.known, att.type, self.issuer, att.body, att.id)


def sign_bodies(
    opts: Options,
    issuer: str,
    bodies: list[BodySpec],
    documents: tuple[str, ...],
    signers: list[Signer],
) -> list[Attestation]:
    """Read, resolve, schema-check and sign every body in order; nothing is written."""
    if documents and len(bodies) > 1:
        raise UsageError(
            "--document fills one body; with several bodies name each file in its body: "
            '"documents": [{"kind": "invoice", "number": "...", "sha256": "@invoice.pdf"}] '
            'or, in an audit, "evidence_sha256": "@report.pdf"'
        )
    pending = _Pending(opts, issuer)
    audits: dict[Path, str] = {}
    signed: list[Attestation] = []
    now = datetime.now(UTC)
    for n, spec in enumerate(bodies):
        where = "" if len(bodies) == 1 else f" ({spec.file}, body {n + 1} of {len(bodies)})"
        try:
            body = parse_json(read_input(spec.file))
            if not isinstance(body, dict):
                raise UsageError("the body must be a JSON object")
            body = add_documents(spec.type, body, documents)
            body = resolve_file_refs(spec.type, body, _base(spec.file), audits)
            body = pending.resolve(body)
            att = make_attestation(spec.type, issuer, body, signers, now=now)
        except LedgerError as e:  # the same error, saying which body it is about
            e.message += where
            e.args = (e.message,)
            raise
        pending.add(att)
        if spec.type == "audit" and spec.file != "-":
            audits[Path(spec.file).resolve()] = att.id
        signed.append(att)
    return signed


def _write(path: Path, atts: list[Attestation]) -> None:
    value: Any = [a.envelope.to_json() for a in atts]
    text = json.dumps(value[0] if len(value) == 1 else value, indent=2)
    path.write_text(text + "\n", encoding="utf-8")


@cli.command()
@home_options
@remote_options
@click.argument("type_", metavar="[TYPE]", required=False, type=click.Choice(SIGNABLE))
@desk_signer_options
@click.option(
    "--body",
    "body_specs",
    multiple=True,
    metavar="[TYPE=]FILE",
    help="JSON file with an attestation body (- for standard input); repeat as "
    "--body TYPE=FILE to sign several in order.",
)
@click.option(
    "--cosign-key",
    "cosign_keys",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Another party's key to co-sign with here (or let them add theirs on their own "
    "machine: lotchain sign ENVELOPE --key K).",
)
@click.option(
    "--cosign-passphrase-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File holding the passphrase of the --cosign-key keys (one line, mode 0600); "
    "else a prompt naming each key.",
)
@click.option(
    "--document",
    "documents",
    multiple=True,
    metavar="KIND[:NUMBER]=FILE",
    help="Hash FILE into the body's documents (an audit: evidence=FILE into evidence_sha256); "
    "repeatable, one body only. E.g. invoice:SG/EXP/117=invoice.pdf",
)
@passphrase_file_option
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the envelope (several: a JSON list) here (default: standard output, "
    "unless --submit).",
)
@click.option(
    "--submit/--no-submit",
    "do_submit",
    default=False,
    help="Append the envelopes to the log right away.",
)
@click.option(
    "--cosign-out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="With --submit: write the one transfer among the bodies here for its buyer to "
    "co-sign (lotchain sign FILE --submit) and submit the others.",
)
def attest(
    opts: Options,
    type_: str | None,
    issuer: str | None,
    key_file: Path | None,
    body_specs: tuple[str, ...],
    cosign_keys: tuple[Path, ...],
    cosign_passphrase_file: Path | None,
    documents: tuple[str, ...],
    passphrase_file: Path | None,
    out: Path | None,
    do_submit: bool,
    cosign_out: Path | None,
) -> int:
    """Sign attestations from JSON bodies, in order; optionally submit them.

    TYPE is one of the attestation types of the ledger; each body is validated against
    schemas/TYPE.schema.json before signing (every problem reported at once). Start from
    `lotchain template TYPE`. An input may name a lot by its label, {"lot": "LABEL",
    "amount": "..."}: it is resolved against what the issuer holds (the local ledger, or
    --remote), and the lots made by bodies earlier in the same call, to its
    <attestation id>#<n> reference, which is what is signed. In a body, "@FILE" (FILE
    relative to the body's folder) as a document's sha256 or an audit's evidence_sha256
    is the file's SHA-256, and in a certificate's audits it is the audit body FILE signed
    earlier in the call. Every body is signed before anything is written; --submit
    appends them as one all-or-nothing batch: if any is refused, none is appended (the
    others answer BATCH_REFUSED), so the call can be fixed and run again.

    \b
    Examples:
      lotchain attest transfer --issuer party:shree-ginning --key gin.pem \\
        --body transfer.json --document invoice:SG/117=invoice.pdf --out transfer.env.json
      lotchain attest --issuer party:shree-ginning --key gin.pem --submit \\
        --body origin=origin.json --body transformation=ginning.json \\
        --body transfer=sale.json --cosign-out ../buyer/sale.env.json
    """
    bodies = parse_bodies(type_, body_specs)
    issuer = desk_party(opts, issuer, "--issuer")
    transfers = [i for i, b in enumerate(bodies) if b.type == "transfer"]
    if cosign_out is not None:
        if not do_submit:
            raise UsageError("--cosign-out goes with --submit (the other bodies are submitted)")
        if len(transfers) != 1:
            raise UsageError(
                f"--cosign-out takes the one transfer among the bodies; there are {len(transfers)}"
            )
    signers = [load_signer(desk_key(opts, key_file), passphrase_file)]
    for k in cosign_keys:
        prompt = f"Passphrase of {k}"
        signers.append(load_private_key(k, get_passphrase(prompt, file=cosign_passphrase_file)))
    atts = sign_bodies(opts, issuer, bodies, documents, signers)
    held = [atts[transfers[0]]] if cosign_out is not None else []
    sent = [a for a in atts if a not in held]
    if out is not None:
        _write(out, atts)
    elif not do_submit:
        value = [a.envelope.to_json() for a in atts]
        click.echo(json.dumps(value[0] if len(value) == 1 else value, indent=2))
    if not do_submit:
        if out is not None:
            click.echo(f"signed {', '.join(a.id for a in atts)} -> {out}", err=True)
        return 0
    envelopes = [a.envelope for a in sent]
    code = (
        print_receipts(opts, submit_envelopes(opts, envelopes, atomic=True), envelopes)
        if sent
        else 0
    )
    if cosign_out is not None:
        if code != 0:
            click.echo(f"not written: {cosign_out} (a body above was refused)", err=True)
            return code
        _write(cosign_out, held)
        click.echo(
            f"signed transfer {held[0].id} -> {cosign_out}: its buyer co-signs it "
            f"(lotchain sign {cosign_out.name} --key KEY --submit)",
            err=True,
        )
    return code
