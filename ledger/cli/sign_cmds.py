"""Commands that sign and submit: keys generate, submit (attest: attest_cmds)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from ledger.attestation import attestation_id
from ledger.canonical import parse_json
from ledger.cli.common import (
    Options,
    get_passphrase,
    home_options,
    passphrase_file_option,
    read_input,
    remote_options,
)
from ledger.cli.main import cli
from ledger.dsse import Envelope, parse_envelope
from ledger.encoding import b64encode
from ledger.errors import LedgerError, MalformedError, UsageError
from ledger.keys import (
    Signer,
    load_private_key,
    save_private_key,
    save_public_key,
)
from ledger.log import verify_receipt


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
@passphrase_file_option
def keys_generate(out: Path, as_json: bool, passphrase_file: Path | None) -> None:
    """Generate a key pair: OUT (encrypted, 0600) and OUT.pub (SPKI PEM); print its key id.

    \b
    Example:
      lotchain keys generate --out desk/keys/gin.pem --passphrase-file desk/passphrase
    """
    passphrase = get_passphrase(
        f"Passphrase for the new key {out}", confirm=True, file=passphrase_file
    )
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


def load_signer(path: Path, passphrase_file: Path | None = None) -> Signer:
    """A private key opened with its own passphrase (file, environment or a prompt)."""
    return load_private_key(path, get_passphrase(f"Passphrase of {path}", file=passphrase_file))


# -- signing and submitting ------------------------------------------------------------


def submit_envelopes(
    opts: Options, envelopes: list[Envelope], *, atomic: bool = False
) -> list[dict[str, Any]]:
    """Append envelopes locally (needs the log key) or through --remote; ``atomic``: all or
    none of them."""
    if opts.remote:
        from ledger.client import Client

        client = Client(opts.remote, token=opts.token)
        if len(envelopes) == 1:
            answers: list[Any] = [client.submit(envelopes[0].canonical)]
        else:
            answers = list(client.submit_batch([e.canonical for e in envelopes], atomic=atomic))
        return _checked_receipts(opts, envelopes, answers)
    ledger = opts.ledger(write=True)
    try:
        out: list[dict[str, Any]] = []
        for result in ledger.append_batch(envelopes, atomic=atomic):
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


def _outputs(envelope: Envelope, attestation: str) -> list[dict[str, Any]]:
    """The output references and lot labels an envelope creates (empty for most types)."""
    try:
        body = parse_json(envelope.payload).get("body", {})
    except LedgerError:
        return []
    outputs = body.get("outputs") if isinstance(body, dict) else None
    if not isinstance(outputs, list):
        return []
    out = []
    for i, item in enumerate(outputs):
        quantity = item.get("quantity", {}) if isinstance(item, dict) else {}
        out.append(
            {
                "ref": f"{attestation}#{i}",
                "lot": item.get("lot") if isinstance(item, dict) else None,
                "amount": quantity.get("amount"),
                "unit": quantity.get("unit"),
            }
        )
    return out


def print_receipts(opts: Options, receipts: list[dict[str, Any]], envelopes: list[Envelope]) -> int:
    """Each receipt (or refusal), with the output references and lot labels it created."""
    failed = sum(1 for r in receipts if "error" in r)
    shown: list[dict[str, Any]] = []
    for receipt, envelope in zip(receipts, envelopes, strict=True):
        if "error" in receipt:
            shown.append(receipt)
            continue
        outputs = _outputs(envelope, str(receipt["attestation"]))
        shown.append({**receipt, "outputs": outputs} if outputs else receipt)
    if opts.json:
        click.echo(json.dumps(shown[0] if len(shown) == 1 else shown))
    else:
        for r in shown:
            if "error" in r:
                click.echo(f"refused [{r['error']['code']}]: {r['error']['message']}")
                continue
            click.echo(f"appended {r['attestation']} at index {r['index']}")
            for o in r.get("outputs", []):
                click.echo(f"  output {o['ref']}  lot {o['lot']}  {o['amount']} {o['unit']}")
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
    return print_receipts(opts, submit_envelopes(opts, envelopes), envelopes)
