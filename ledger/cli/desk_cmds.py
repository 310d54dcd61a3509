"""Commands for a party at its own desk: body templates, its lots, co-signing an envelope."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from ledger.canonical import parse_json
from ledger.cli.bodies import holdings
from ledger.cli.common import (
    DEFAULT_HOME,
    Options,
    check_passphrase,
    desk_key,
    desk_party,
    emit,
    get_passphrase,
    home_options,
    passphrase_file_option,
    read_input,
    remote_options,
)
from ledger.cli.main import cli
from ledger.cli.sign_cmds import load_signer, print_receipts, submit_envelopes
from ledger.dsse import MAX_ENVELOPE_BYTES, cosign, parse_envelope
from ledger.encoding import b64decode
from ledger.errors import (
    ConfigError,
    KeyInvalidError,
    MalformedError,
    NotFoundError,
    SignatureError,
    UsageError,
)
from ledger.home import Home
from ledger.keys import Signer, save_private_key, save_public_key, verify_signature
from ledger.templates import TEMPLATE_TYPES, example, explain, explain_text
from ledger.trustroot import TrustRoot

PARTY_ID = re.compile(r"party:[a-z0-9][a-z0-9._:-]{1,126}")
KEY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

# -- template -------------------------------------------------------------------------


@cli.command()
@click.argument("type_", metavar="TYPE", type=click.Choice(TEMPLATE_TYPES))
@click.option("--explain", "explain_fields", is_flag=True, help="Describe every field instead.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def template(type_: str, explain_fields: bool, as_json: bool) -> None:
    """Print a valid, realistic TYPE body to start from (or, with --explain, its fields).

    The body validates against schemas/TYPE.schema.json; change its values and sign it
    with lotchain attest TYPE --body FILE. --explain lists each field with whether it is
    required, its form and its meaning, read from the schema.

    \b
    Example:
      lotchain template transfer > transfer.json
      lotchain template transfer --explain
    """
    if not explain_fields:
        click.echo(json.dumps(example(type_), indent=None if as_json else 2, ensure_ascii=False))
    elif as_json:
        click.echo(json.dumps({"type": type_, "fields": [d.to_json() for d in explain(type_)]}))
    else:
        click.echo(explain_text(type_))


# -- lots -----------------------------------------------------------------------------


@cli.command()
@home_options
@remote_options
@click.option(
    "--party",
    envvar="LOTCHAIN_PARTY",
    default=None,
    help="The party whose lots to list (with --remote: the token's own party; default: "
    "the desk's party, from desk init). Env: LOTCHAIN_PARTY.",
)
@click.option("--all", "show_all", is_flag=True, help="Also list lots used up (local only).")
def lots(opts: Options, party: str | None, show_all: bool) -> None:
    """List what a party holds, lot by lot, with the amount left and its reference.

    Use the lot label as an input of a body ({"lot": "LABEL", "amount": "..."}); attest
    resolves it to the reference shown here.

    \b
    Example:
      lotchain lots --party party:saigon-spinning --remote http://127.0.0.1:8080
    """
    party = desk_party(opts, party, "--party")
    found = [h for h in holdings(opts, party) if show_all or h.left > 0]
    value = {"party": party, "lots": [h.to_json() for h in found]}
    if opts.json:
        emit(opts, value)
        return
    if not found:
        click.echo(f"{party} holds no lot")
        return
    width = max(len(h.lot) for h in found)
    click.echo(f"{'lot':<{width}}  {'left':>14}  {'of':>14}  unit   material / reference")
    for h in found:
        click.echo(
            f"{h.lot:<{width}}  {h.left!s:>14}  {h.amount!s:>14}  {h.unit:<5}  "
            f"{h.material}\n{'':<{width}}  {h.ref}"
        )


# -- sign -----------------------------------------------------------------------------


@dataclass(frozen=True)
class KnownKey:
    key_id: str
    party: str
    public_key: bytes
    revoked: bool


class _Directory:
    """Keys and party names, from the server (``--remote``) or the local ledger."""

    def __init__(self, opts: Options) -> None:
        self.opts = opts
        self._ledger: Any = None
        self._client: Any = None
        if opts.remote:
            from ledger.client import Client

            self._client = Client(opts.remote, token=opts.token)
        else:
            self._ledger = opts.ledger()

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.store.close()

    def _root_key(self, kid: str) -> KnownKey | None:
        try:
            root = self.opts.install.trust_root().registrar_key(kid)
        except ConfigError:
            return None
        return None if root is None else KnownKey(kid, root.party, root.public_key, False)

    def key(self, kid: str) -> KnownKey | None:
        if self._client is not None:
            try:
                found = self._client.key(kid)
            except NotFoundError:
                return self._root_key(kid)
            public = b64decode(found["public_key"], what="public_key", length=32)
            return KnownKey(kid, str(found["party"]), public, found["revoked_at"] is not None)
        record = self._ledger.store.key(kid)
        if record is None:
            return self._root_key(kid)
        revoked = self._ledger.store.key_revoked_at(kid) is not None
        return KnownKey(kid, record.party, record.public_key, revoked)

    def legal_name(self, party: str) -> str:
        if self._client is not None:
            try:
                return str(self._client.party(party)["legal_name"])
            except NotFoundError:
                return party
        record = self._ledger.store.party(party)
        return party if record is None else str(record.legal_name)


@cli.command()
@home_options
@remote_options
@click.argument("envelope_file", metavar="ENVELOPE")
@click.option(
    "--key",
    "key_file",
    default=None,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Your encrypted private key file (default: the desk's key, from desk init).",
)
@passphrase_file_option
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the co-signed envelope here (default: standard output, unless --submit).",
)
@click.option(
    "--submit",
    "do_submit",
    is_flag=True,
    help="Append the co-signed envelope to the log right away (locally or --remote).",
)
def sign(
    opts: Options,
    envelope_file: str,
    key_file: Path | None,
    passphrase_file: Path | None,
    out: Path | None,
    do_submit: bool,
) -> int:
    """Add your signature to a signed envelope (co-signing, on your own machine).

    The signatures already there are checked first against the keys the ledger admitted
    (local database, or --remote); a second signature by the same key or party is refused.
    Either party may then submit the envelope.

    \b
    Example (the buyer co-signs the seller's transfer and submits it):
      lotchain sign transfer.env.json --key buyer.pem --passphrase-file buyer.pass \\
        --remote http://ledger.example:8080 --submit
    """
    envelope = parse_envelope(read_input(envelope_file, max_bytes=MAX_ENVELOPE_BYTES))
    directory = _Directory(opts)
    try:
        signed_by: list[KnownKey] = []
        for sig in envelope.signatures:
            known = directory.key(sig.keyid)
            if known is None:
                raise KeyInvalidError(
                    f"the envelope carries a signature by {sig.keyid}, a key the ledger "
                    "has not admitted; refusing to add to it"
                )
            if not verify_signature(known.public_key, envelope.signed_bytes(), sig.sig):
                raise SignatureError(
                    f"the signature by {sig.keyid} ({known.party}) does not verify: the "
                    "envelope was altered after signing; refusing to add to it"
                )
            signed_by.append(known)
        signer = load_signer(desk_key(opts, key_file), passphrase_file)
        mine = directory.key(signer.key_id)
        if mine is None:
            raise KeyInvalidError(
                f"your key {signer.key_id} is not admitted to the ledger; a registrar must "
                "admit it (party register) before it can sign"
            )
        if mine.revoked:
            raise KeyInvalidError(f"your key {signer.key_id} of {mine.party} is revoked")
        if any(k.key_id == mine.key_id for k in signed_by):
            raise UsageError(f"the envelope is already signed by your key {mine.key_id}")
        if any(k.party == mine.party for k in signed_by):
            raise UsageError(
                f"the envelope is already signed by {mine.party} "
                f"({directory.legal_name(mine.party)}); one signature per party"
            )
        cosigned = cosign(envelope, signer)
        payload = parse_json(envelope.payload)
        if not isinstance(payload, dict):
            raise MalformedError("the envelope's payload is not an attestation")
        names = [f"{k.party} ({directory.legal_name(k.party)})" for k in (*signed_by, mine)]
    finally:
        directory.close()
    text = json.dumps(cosigned.to_json(), indent=2)
    summary = {
        "type": payload.get("type"),
        "issuer": payload.get("issuer"),
        "signed_by": names,
        "out": None if out is None else str(out),
    }
    if do_submit:
        if out is not None:
            out.write_text(text + "\n", encoding="utf-8")
        if not opts.json:
            click.echo(f"{payload.get('type')} signed by: " + "; ".join(names))
        return print_receipts(opts, submit_envelopes(opts, [cosigned]), [cosigned])
    if out is not None:
        out.write_text(text + "\n", encoding="utf-8")
        emit(opts, summary, f"{payload.get('type')} signed by: " + "; ".join(names) + f" -> {out}")
    else:
        click.echo(text)
        click.echo(f"{payload.get('type')} signed by: " + "; ".join(names), err=True)
    return 0


# -- desk init --------------------------------------------------------------------------


@cli.group()
def desk() -> None:
    """A party's own desk: a folder that holds its keys and the ledger's public trust root."""


@desk.command("init")
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="LOTCHAIN_HOME",
    default=DEFAULT_HOME,
    show_default=True,
    help="Folder of the desk. Env: LOTCHAIN_HOME.",
)
@click.option(
    "--trust-root",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path, exists=True),
    help="The ledger's trust root, given out of band (the operator's keys/trust-root.json).",
)
@click.option(
    "--party",
    default=None,
    help="The party this desk acts for (party:...): the default of attest --issuer and "
    "lots --party.",
)
@click.option(
    "--generate-key",
    "key_name",
    default=None,
    metavar="NAME",
    help="Also generate the desk's key: HOME/keys/NAME.pem (encrypted, 0600) and NAME.pem.pub "
    "(to send to the registrar); the default --key of attest and sign.",
)
@passphrase_file_option
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def desk_init(
    home: Path,
    trust_root: Path,
    party: str | None,
    key_name: str | None,
    passphrase_file: Path | None,
    as_json: bool,
) -> None:
    """Set up a desk that talks to a served ledger with --remote: no database, no log key.

    The desk keeps the trust root, against which every receipt and verdict from the
    server is checked, and the party's own key (--generate-key, or keys generate).

    \b
    Example:
      lotchain desk init --trust-root trust-root.json --party party:shree-cotton \\
        --generate-key supplier --passphrase-file passphrase
    """
    root = TrustRoot.load(trust_root)  # refuses a malformed one before anything is written
    target = Home(home)
    if target.config_path.exists():
        raise UsageError(f"{home} is already a lotchain home")
    if party is not None and not PARTY_ID.fullmatch(party):
        raise UsageError(f"--party {party!r}: a party id looks like party:shree-cotton")
    config: dict[str, Any] = {"desk": True}
    signer = passphrase = None
    if key_name is not None:
        if not KEY_NAME.fullmatch(key_name):
            raise UsageError(
                f"--generate-key {key_name!r}: a plain name (letters, digits, . _ -), e.g. supplier"
            )
        passphrase = get_passphrase(
            f"Passphrase for the new key {key_name}.pem", confirm=True, file=passphrase_file
        )
        check_passphrase(passphrase)
        signer = Signer.generate()
        config["key"] = f"keys/{key_name}.pem"
    if party is not None:
        config["party"] = party
    target.keys.mkdir(parents=True, exist_ok=True)
    target.trust_root_path.write_text(json.dumps(root.to_json(), indent=2) + "\n", encoding="utf-8")
    value: dict[str, Any] = {
        "home": str(home),
        "trust_root": str(target.trust_root_path),
        "log": root.log_origin,
        "party": party,
    }
    text = f"desk ready in {home}: trust root of {root.log_origin} in {target.trust_root_path}"
    if signer is not None and passphrase is not None:
        key_path = home / config["key"]
        save_private_key(key_path, signer, passphrase)
        save_public_key(key_path.with_name(key_path.name + ".pub"), signer.public_key)
        value.update(key_id=signer.key_id, key=str(key_path), public_key=f"{key_path}.pub")
        text += f"\nkey {signer.key_id}: {key_path} (send {key_path}.pub to the registrar)"
    target.config_path.write_text(json.dumps(config) + "\n", encoding="utf-8")
    click.echo(json.dumps(value) if as_json else text)
