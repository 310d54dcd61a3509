"""Commands that sign and submit: keys, party register, attest, submit."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from ledger.admission import LOG_SIGNED_TYPES
from ledger.attestation import attestation_id, make_attestation
from ledger.canonical import parse_json
from ledger.cli.common import (
    Options,
    get_passphrase,
    home_options,
    read_input,
    remote_options,
)
from ledger.cli.main import cli
from ledger.dsse import Envelope, parse_envelope
from ledger.encoding import b64encode, format_timestamp
from ledger.errors import LedgerError, MalformedError, UsageError
from ledger.home import DEFAULT_REGISTRAR
from ledger.keys import (
    Signer,
    key_id,
    load_private_key,
    load_public_key,
    save_private_key,
    save_public_key,
)
from ledger.log import verify_receipt
from ledger.schemas import ATTESTATION_TYPES


def _now() -> datetime:
    return datetime.now(UTC)


@cli.group()
def keys() -> None:
    """Manage Ed25519 signing keys (encrypted PKCS#8 PEM files)."""


@keys.command("generate")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the encrypted private key; the public key goes to OUT.pub.",
)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def keys_generate(out: Path, as_json: bool) -> None:
    """Generate a key pair: OUT (encrypted, 0600) and OUT.pub (SPKI PEM); print its key id."""
    passphrase = get_passphrase("Passphrase for the new key", confirm=True)
    signer = Signer.generate()
    save_private_key(out, signer, passphrase)
    pub_path = out.with_name(out.name + ".pub")
    save_public_key(pub_path, signer.public_key)
    value = {
        "key_id": signer.key_id,
        "public_key": b64encode(signer.public_key),
        "private_key_file": str(out),
        "public_key_file": str(pub_path),
    }
    if as_json:
        click.echo(json.dumps(value))
    else:
        click.echo(
            f"key id:     {signer.key_id}\npublic key: {value['public_key']}\n"
            f"files:      {out} (private, encrypted), {pub_path}"
        )


def _load_signer(path: Path) -> Signer:
    return load_private_key(path, get_passphrase(f"Passphrase of {path}"))


# -- signing and submitting ------------------------------------------------------------


def _submit(opts: Options, envelopes: list[Envelope]) -> list[dict[str, Any]]:
    """Append envelopes locally (needs the log key) or through --remote."""
    if opts.remote:
        from ledger.client import Client

        client = Client(opts.remote, token=opts.token)
        if len(envelopes) == 1:
            answers: list[Any] = [client.submit(envelopes[0].canonical)]
        else:
            answers = list(client.submit_batch([e.canonical for e in envelopes]))
        return _checked_receipts(opts, envelopes, answers)
    ledger = opts.ledger(write=True)
    try:
        out: list[dict[str, Any]] = []
        for result in ledger.append_batch(envelopes):
            if isinstance(result, LedgerError):
                if len(envelopes) == 1:
                    raise result
                out.append({"error": result.to_dict()})
            else:
                out.append(result.to_json())
        return out
    finally:
        ledger.store.close()


def _checked_receipts(
    opts: Options, envelopes: list[Envelope], answers: list[Any]
) -> list[dict[str, Any]]:
    """A server's answers, each a refusal or a receipt verified against the trust root."""
    if len(answers) != len(envelopes):
        raise MalformedError(f"the server answered {len(answers)} results for {len(envelopes)}")
    vkey = opts.install.trust_root().log_vkey
    for envelope, answer in zip(envelopes, answers, strict=True):
        if isinstance(answer, dict) and set(answer) == {"error"}:
            continue
        verify_receipt(answer, vkey, attestation_id(envelope.payload))
    return answers


def _print_receipts(opts: Options, receipts: list[dict[str, Any]]) -> int:
    failed = sum(1 for r in receipts if "error" in r)
    if opts.json:
        click.echo(json.dumps(receipts[0] if len(receipts) == 1 else receipts))
    else:
        for r in receipts:
            if "error" in r:
                click.echo(f"refused [{r['error']['code']}]: {r['error']['message']}")
            else:
                click.echo(f"appended {r['attestation']} at index {r['index']}")
    return 2 if failed else 0


@cli.command()
@home_options
@remote_options
@click.argument("files", nargs=-1, required=True)
def submit(opts: Options, files: tuple[str, ...]) -> int:
    """Append signed envelopes (JSON files, or - for standard input) to the log.

    Each file holds one DSSE envelope, or a JSON list of envelopes (appended as one
    batch, each accepted or refused on its own). Prints a receipt per envelope.
    """
    envelopes: list[Envelope] = []
    for name in files:
        value = parse_json(read_input(name), max_bytes=64 << 20)
        items = value if isinstance(value, list) else [value]
        envelopes.extend(parse_envelope(item) for item in items)
    if not envelopes:
        raise UsageError("no envelope to submit: the files hold empty lists")
    return _print_receipts(opts, _submit(opts, envelopes))


@cli.command()
@home_options
@remote_options
@click.argument(
    "type_",
    metavar="TYPE",
    type=click.Choice([t for t in ATTESTATION_TYPES if t not in LOG_SIGNED_TYPES]),
)
@click.option("--issuer", required=True, help="Party id of the issuer (party:...).")
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The issuer's encrypted private key file.",
)
@click.option(
    "--body",
    "body_file",
    required=True,
    help="JSON file with the attestation body (- for standard input).",
)
@click.option(
    "--cosign-key",
    "cosign_keys",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Another party's key to co-sign with (e.g. the buyer of a transfer).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the envelope here (default: standard output, unless --submit).",
)
@click.option(
    "--submit/--no-submit",
    "do_submit",
    default=False,
    help="Append the envelope to the log right away.",
)
def attest(
    opts: Options,
    type_: str,
    issuer: str,
    key_file: Path,
    body_file: str,
    cosign_keys: tuple[Path, ...],
    out: Path | None,
    do_submit: bool,
) -> int:
    """Sign an attestation of TYPE from a JSON body; optionally submit it.

    TYPE is one of the attestation types of the ledger; the body is validated against
    schemas/TYPE.schema.json before signing.
    """
    body = parse_json(read_input(body_file))
    if not isinstance(body, dict):
        raise UsageError("the body must be a JSON object")
    signers = [_load_signer(key_file), *(_load_signer(k) for k in cosign_keys)]
    att = make_attestation(type_, issuer, body, signers, now=_now())
    text = json.dumps(att.envelope.to_json(), indent=2)
    if out is not None:
        out.write_text(text + "\n", encoding="utf-8")
    elif not do_submit:
        click.echo(text)
    if do_submit:
        return _print_receipts(opts, _submit(opts, [att.envelope]))
    if out is not None:
        click.echo(f"signed {att.id} -> {out}", err=True)
    return 0


@cli.group()
def party() -> None:
    """Admit parties (as a registrar)."""


@party.command("register")
@home_options
@remote_options
@click.option("--party", "party_id", required=True, help="New party id, e.g. party:acme-apparel.")
@click.option("--name", "legal_name", required=True, help="Legal name.")
@click.option("--country", required=True, help="ISO 3166-1 alpha-2 country code.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice(["registrar", "supplier", "auditor", "importer", "cbp"]),
    help="A role (repeat for several).",
)
@click.option(
    "--public-key",
    "public_keys",
    multiple=True,
    required=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="The party's public key file (SPKI PEM, from keys generate); repeatable.",
)
@click.option("--alias", "aliases", multiple=True, help="Another name the party trades as.")
@click.option(
    "--filer-code",
    "filer_codes",
    multiple=True,
    help="A CBP entry filer code the party files entries under, e.g. AAP (repeatable); "
    "an importer's shipment entry numbers must begin with one of them.",
)
@click.option(
    "--registrar", default=None, help="Registrar party id (default: the home's first registrar)."
)
@click.option(
    "--registrar-key",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Registrar private key (default: HOME/keys/registrar.pem).",
)
def party_register(
    opts: Options,
    party_id: str,
    legal_name: str,
    country: str,
    roles: tuple[str, ...],
    public_keys: tuple[Path, ...],
    aliases: tuple[str, ...],
    filer_codes: tuple[str, ...],
    registrar: str | None,
    registrar_key: Path | None,
) -> int:
    """Admit a party with its roles and keys: a party attestation signed by a registrar."""
    home = opts.install
    registrar = registrar or str(home.config().get("registrar", DEFAULT_REGISTRAR))
    signer = _load_signer(registrar_key or home.registrar_key_path)
    now = _now()
    keys_json = []
    for path in public_keys:
        public = load_public_key(path)
        keys_json.append(
            {
                "key_id": key_id(public),
                "public_key": b64encode(public),
                "valid_from": format_timestamp(now),
            }
        )
    body: dict[str, Any] = {
        "party_id": party_id,
        "legal_name": legal_name,
        "country": country,
        "roles": list(roles),
        "keys": keys_json,
    }
    if aliases:
        body["aliases"] = list(aliases)
    if filer_codes:
        body["filer_codes"] = list(dict.fromkeys(code.strip().upper() for code in filer_codes))
    att = make_attestation("party", registrar, body, [signer], now=now)
    return _print_receipts(opts, _submit(opts, [att.envelope]))
