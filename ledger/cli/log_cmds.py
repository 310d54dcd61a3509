"""Commands on the log itself: init, keys, party, attest, submit, checkpoint, prove, audit."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from ledger.attestation import make_attestation
from ledger.audit import audit_log
from ledger.canonical import parse_json
from ledger.checkpoint import verify_checkpoint
from ledger.cli.common import (
    Options,
    emit,
    get_passphrase,
    home_options,
    read_input,
    remote_options,
)
from ledger.cli.main import cli
from ledger.dsse import Envelope, parse_envelope
from ledger.encoding import b64encode, format_timestamp
from ledger.errors import LedgerError, UsageError
from ledger.home import DEFAULT_ORIGIN, DEFAULT_REGISTRAR, init_home
from ledger.keys import (
    Signer,
    key_id,
    load_private_key,
    load_public_key,
    save_private_key,
    save_public_key,
)
from ledger.merkle import ConsistencyProof, InclusionProof
from ledger.schemas import ATTESTATION_TYPES
from ledger.witness import Remembered, check_extends


def _now() -> datetime:
    return datetime.now(UTC)


# -- init and keys ---------------------------------------------------------------------


@cli.command()
@home_options
@click.option(
    "--origin",
    default=DEFAULT_ORIGIN,
    show_default=True,
    help="Log origin: names the log in its checkpoints (C2SP signed note key name).",
)
@click.option(
    "--registrar",
    default=DEFAULT_REGISTRAR,
    show_default=True,
    help="Party id of the first registrar (admitted by the trust root).",
)
@click.option(
    "--registrar-name",
    default="lotchain Registrar",
    show_default=True,
    help="Legal name of the first registrar.",
)
@click.option(
    "--country", default="US", show_default=True, help="Registrar's country (ISO 3166-1)."
)
def init(opts: Options, origin: str, registrar: str, registrar_name: str, country: str) -> None:
    """Create a new ledger in --home: keys, trust root, database, and entry 0.

    Writes HOME/keys/trust-root.json (give it to verifiers), the encrypted registrar and
    log keys (HOME/keys/registrar.pem, HOME/keys/log.pem, mode 0600) and the database,
    then admits the registrar as the log's first entry. The passphrase comes from
    LOTCHAIN_PASSPHRASE or a prompt.
    """
    passphrase = get_passphrase("Passphrase for the new private keys", confirm=True)
    home = init_home(
        opts.home,
        passphrase,
        origin=origin,
        registrar=registrar,
        registrar_name=registrar_name,
        country=country,
        db=opts.db,
    )
    ledger = home.open_ledger(None)
    cp = ledger.checkpoint()
    value = {
        "home": str(opts.home),
        "trust_root": str(home.trust_root_path),
        "registrar": registrar,
        "database": home.db_url(),
        "checkpoint": cp.note.decode(),
    }
    emit(
        opts,
        value,
        f"initialised {opts.home}\n  trust root: {home.trust_root_path}\n"
        f"  database:   {home.db_url()}\n  registrar:  {registrar} (entry 0)\n\n"
        f"{cp.note.decode()}",
    )


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
            return [client.submit(envelopes[0].canonical)]
        return list(client.submit_batch([e.canonical for e in envelopes]))
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
    return _print_receipts(opts, _submit(opts, envelopes))


@cli.command()
@home_options
@remote_options
@click.argument("type_", metavar="TYPE", type=click.Choice(ATTESTATION_TYPES))
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
    att = make_attestation("party", registrar, body, [signer], now=now)
    return _print_receipts(opts, _submit(opts, [att.envelope]))


# -- checkpoints and proofs ------------------------------------------------------------


def _proof_source(opts: Options) -> Callable[[int, int], ConsistencyProof]:
    if opts.remote:
        from ledger.client import Client

        client = Client(opts.remote, token=opts.token)
        return lambda old, new: ConsistencyProof.from_json(client.consistency_proof(old, new))
    ledger = opts.ledger()
    return lambda old, new: ledger.consistency_proof(old, new)


def _remembered(opts: Options, path: Path | None) -> Remembered:
    trust = opts.install.trust_root()
    return Remembered(path or opts.home / "witness" / "checkpoint.txt", trust.log_vkey)


@cli.command()
@home_options
@remote_options
@click.option(
    "--remember",
    is_flag=True,
    help="Check the checkpoint extends the one remembered before (consistency "
    "proof), then remember it. Detects a log rolled back or forked.",
)
@click.option(
    "--state",
    "state_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="File of the remembered checkpoint (default: HOME/witness/checkpoint.txt).",
)
def checkpoint(opts: Options, remember: bool, state_file: Path | None) -> None:
    """Print the log's latest signed checkpoint, verified against the trust root."""
    trust = opts.install.trust_root()
    if opts.remote:
        from ledger.client import Client

        note = Client(opts.remote, token=opts.token).checkpoint()
    else:
        note = opts.ledger().checkpoint().note
    cp = verify_checkpoint(note, trust.log_vkey)
    value: dict[str, Any] = {
        "origin": cp.origin,
        "size": cp.size,
        "root": b64encode(cp.root),
        "note": note.decode(),
    }
    text = note.decode().rstrip("\n")
    if remember:
        memory = _remembered(opts, state_file)
        old = memory.load()
        if old is not None:
            check_extends(old, cp, _proof_source(opts))
            value["extends"] = old.size
            text += f"\n\nconsistent with the checkpoint remembered at size {old.size}"
        memory.save(cp)
    emit(opts, value, text)


@cli.group()
def prove() -> None:
    """Produce and check Merkle proofs (RFC 9162)."""


def _verified_root(opts: Options, size: int) -> bytes:
    """The root at ``size`` from a checkpoint the log signed, checked against the trust root."""
    trust = opts.install.trust_root()
    if opts.remote:
        from ledger.client import Client

        note = Client(opts.remote, token=opts.token).checkpoint(size)
        cp = verify_checkpoint(note, trust.log_vkey)
        if cp.size != size:
            raise UsageError(f"the server sent a checkpoint of size {cp.size}, not {size}")
        return cp.root
    stored = opts.ledger().store.checkpoint(size)
    if stored is None:
        raise UsageError(f"the log signed no checkpoint at size {size}")
    return verify_checkpoint(stored.note, trust.log_vkey).root


@prove.command("inclusion")
@home_options
@remote_options
@click.argument("ref")
@click.option(
    "--tree-size",
    type=click.IntRange(min=1),
    default=None,
    help="Prove against this checkpoint size (default: the latest).",
)
def prove_inclusion(opts: Options, ref: str, tree_size: int | None) -> None:
    """Prove that entry REF (attestation id or index) is in the log, and check the proof."""
    if opts.remote:
        from ledger.client import Client

        raw = Client(opts.remote, token=opts.token).inclusion_proof(ref, tree_size)
        proof = InclusionProof.from_json(raw)
    else:
        proof = opts.ledger().inclusion_proof(ref, tree_size)
    proof.verify(_verified_root(opts, proof.tree_size))
    emit(
        opts,
        proof.to_json(),
        f"entry {proof.index} is included in the tree of size {proof.tree_size} "
        f"({len(proof.hashes)} hashes): verified\n{json.dumps(proof.to_json(), indent=2)}",
    )


@prove.command("consistency")
@home_options
@remote_options
@click.argument("old", type=click.IntRange(min=1))
@click.argument("new", type=click.IntRange(min=1), required=False)
def prove_consistency(opts: Options, old: int, new: int | None) -> None:
    """Prove that the log at size OLD is a prefix of the log at NEW (default: latest)."""
    if opts.remote:
        from ledger.client import Client

        client = Client(opts.remote, token=opts.token)
        raw = client.consistency_proof(old, new)
        proof = ConsistencyProof.from_json(raw)
    else:
        proof = opts.ledger().consistency_proof(old, new)
    proof.verify(_verified_root(opts, proof.old_size), _verified_root(opts, proof.new_size))
    emit(
        opts,
        proof.to_json(),
        f"size {proof.old_size} is consistent with size {proof.new_size} "
        f"({len(proof.hashes)} hashes): verified\n{json.dumps(proof.to_json(), indent=2)}",
    )


# -- audit ------------------------------------------------------------------------------


@cli.command()
@home_options
@click.option(
    "--state",
    "state_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="A remembered checkpoint the log must extend "
    "(default: HOME/witness/checkpoint.txt, if present).",
)
def audit(opts: Options, state_file: Path | None) -> int:
    """Re-verify the whole log from entry 0: hashes, chain, signatures, rules, nodes, roots.

    Also proves that the log extends the checkpoint remembered by `checkpoint
    --remember`, so a database restored from an older copy is caught. Exits 0 when
    everything holds, 1 with findings (each with its code and first bad index).
    """
    ledger = opts.ledger()
    remembered = _remembered(opts, state_file).load()
    size = ledger.size()
    if size > 1000 and sys.stderr.isatty() and not opts.json:
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task("auditing", total=size)
            report = audit_log(
                ledger.store,
                ledger.trust,
                progress=lambda n: bar.advance(task, n),
                remembered=remembered,
            )
    else:
        report = audit_log(ledger.store, ledger.trust, remembered=remembered)
    if opts.json:
        click.echo(json.dumps(report.to_json()))
    elif report.ok:
        click.echo(f"audit passed: {report.size} entries, {report.checkpoints} checkpoints")
    else:
        click.echo(
            f"audit FAILED: {len(report.findings)} finding(s); first bad index "
            f"{report.first_bad_index}"
        )
        for f in report.findings[:50]:
            click.echo(f"  [{f.code}] index {f.index} (step {f.step}): {f.message}")
    return 0 if report.ok else 1
