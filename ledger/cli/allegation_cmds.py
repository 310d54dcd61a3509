"""``lotchain allegation submit|list|show|link|verify``: forced-labor allegations.

Anyone submits (``--remote URL`` to a server, no token needed; locally it needs the log
key); the receipt printed (or written with ``--receipt``) is what the submitter keeps and
later checks with ``allegation verify``. Listing, reading and linking are CBP's: over
``--remote`` with a CBP token, or on the local database by its operator.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from ledger.allegation import (
    INDICATORS,
    MAX_ALLEGATION_BYTES,
    MAX_UPLOAD_BYTES,
    parse_allegation,
    verify_allegation_receipt,
)
from ledger.canonical import parse_json
from ledger.cli.common import Options, emit, home_options, read_input, remote_options
from ledger.cli.main import cli
from ledger.encoding import b64encode
from ledger.errors import UsageError
from ledger.storage.allegations import LINK_KINDS, AllegationStore
from ledger.trustroot import TrustRoot


@cli.group("allegation")
def allegation_group() -> None:
    """Forced-labor allegations: anyone submits, CBP reads and links them to the ledger.

    \b
    Example (a member of the public, anonymously):
      lotchain allegation submit --remote https://ledger.example --name "Kashgar Cotton Co." \\
        --merchandise "cotton lint" --hs 5201.00 --region CN-XJ \\
        --indicator withholding-of-wages --statement "Pickers were paid months late." \\
        --receipt receipt.json
    """


def _evidence(path: Path, upload: bool) -> dict[str, Any]:
    """A file bound by hash and size (read in chunks: it may be large), or uploaded."""
    if upload:
        data = read_input(str(path), max_bytes=MAX_UPLOAD_BYTES)
        digest, size = hashlib.sha256(data), len(data)
    else:
        digest, size = hashlib.sha256(), 0
        try:
            with path.open("rb") as f:
                while chunk := f.read(1 << 20):
                    digest.update(chunk)
                    size += len(chunk)
        except OSError as e:
            raise UsageError(f"cannot read {path}: {e.strerror}") from e
    item: dict[str, Any] = {"name": path.name[:256], "sha256": digest.hexdigest(), "size": size}
    if upload:
        item["content"] = b64encode(data)
    return item


def _from_flags(flags: dict[str, Any]) -> dict[str, Any]:
    if not flags["name"] or not flags["merchandise"] or not flags["statement"]:
        raise UsageError(
            "give --file BODY.json, or at least --name, --merchandise and --statement "
            "(see: lotchain allegation submit --help)"
        )
    alleged = [{"name": n} for n in flags["name"]]
    merchandise: dict[str, Any] = {"description": flags["merchandise"]}
    if flags["hs"]:
        merchandise["hs_codes"] = list(flags["hs"])
    value: dict[str, Any] = {
        "v": 1,
        "alleged": alleged,
        "merchandise": merchandise,
        "statement": flags["statement"],
    }
    production = {
        k: v
        for k, v in (
            ("country", flags["country"]),
            ("region", flags["region"]),
            ("facility", flags["facility"]),
        )
        if v
    }
    if production:
        value["production"] = production
    if flags["indicator"]:
        value["indicators"] = list(flags["indicator"])
    evidence = [_evidence(p, False) for p in flags["evidence"]]
    evidence += [_evidence(p, True) for p in flags["upload"]]
    if evidence:
        value["evidence"] = evidence
    contact = {
        k: v
        for k, v in (
            ("name", flags["contact_name"]),
            ("email", flags["contact_email"]),
            ("phone", flags["contact_phone"]),
        )
        if v
    }
    if contact:
        value["contact"] = contact
    return value


@allegation_group.command("submit")
@home_options
@remote_options
@click.option("--file", "file", help="The allegation as JSON (schemas/allegation.schema.json).")
@click.option("--name", multiple=True, help="An alleged party or company (repeatable).")
@click.option("--merchandise", help="A description of the merchandise.")
@click.option("--hs", multiple=True, help="An HS code of the merchandise (repeatable).")
@click.option("--country", help="Country of production (ISO 3166-1 alpha-2).")
@click.option("--region", help="Region of production (ISO 3166-2, e.g. CN-XJ).")
@click.option("--facility", help="Name of the facility, farm, mine or vessel.")
@click.option(
    "--indicator",
    multiple=True,
    type=click.Choice(INDICATORS),
    help="An ILO forced-labour indicator observed (repeatable).",
)
@click.option("--statement", help="The reasons for the belief, and the facts known.")
@click.option(
    "--evidence",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A file bound by its SHA-256 and size, not sent (repeatable).",
)
@click.option(
    "--upload",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A file sent with the allegation, at most 512 KiB (repeatable).",
)
@click.option("--contact-name", help="Your name (leave out every --contact-* to stay anonymous).")
@click.option("--contact-email", help="Your email address.")
@click.option("--contact-phone", help="Your telephone number.")
@click.option(
    "--receipt",
    "receipt_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the receipt to this file (else it is printed).",
)
def submit_cmd(opts: Options, file: str | None, receipt_path: Path | None, **flags: Any) -> None:
    """Submit an allegation; print (or write) the receipt to keep.

    \b
    Example:
      lotchain allegation submit --file allegation.json --remote https://ledger.example \\
        --receipt receipt.json
      lotchain allegation verify receipt.json --allegation allegation.json
    """
    data = read_input(file, max_bytes=MAX_ALLEGATION_BYTES) if file else b""
    if not file:
        data = json.dumps(_from_flags(flags), ensure_ascii=False).encode("utf-8")
    elif any(v for v in flags.values()):
        raise UsageError("give --file or the flags that describe the allegation, not both")
    allegation = parse_allegation(data)  # the same checks as the server, before sending
    if opts.remote:
        from ledger.client import Client

        receipt = Client(opts.remote).submit_allegation(data)
    else:
        ledger = opts.ledger(write=True)
        try:
            receipt = AllegationStore(ledger).submit(allegation).to_json()
        finally:
            ledger.store.close()
    if receipt_path is not None:
        receipt_path.write_text(json.dumps(receipt, indent=2) + "\n", encoding="utf-8")
    if not file and receipt_path is not None:
        sent = receipt_path.with_name(receipt_path.stem + ".allegation.json")
        sent.write_bytes(data)
    text = (
        f"allegation {receipt['allegation']} received {receipt['received_at']}, "
        f"committed at log index {receipt['index']}"
        + (f"; receipt written to {receipt_path}" if receipt_path else "")
    )
    emit(opts, receipt, text if receipt_path else None)


@allegation_group.command("list")
@home_options
@remote_options
def list_cmd(opts: Options) -> None:
    """Allegations received, oldest first (CBP: a CBP token with --remote).

    \b
    Example:
      lotchain allegation list --remote https://ledger.example --token "$CBP_TOKEN"
    """
    items: list[dict[str, Any]] = []
    if opts.remote:
        from ledger.client import Client

        items = Client(opts.remote, token=opts.token).allegations()
    else:
        ledger = opts.ledger()
        try:
            store, after = AllegationStore(ledger), -1
            while True:
                page, after = store.page(after=after, limit=1000)
                items += [a.summary() for a in page]
                if after < 0:
                    break
        finally:
            ledger.store.close()
    text = "\n".join(
        f"{a['id']}  {a['received_at']}  {', '.join(a['alleged'])[:60]}  "
        f"{a['region'] or a['country'] or '-'}  links: {len(a['links'])}"
        for a in items
    )
    emit(opts, {"allegations": items}, text or "no allegation received")


@allegation_group.command("show")
@home_options
@remote_options
@click.argument("ident", metavar="ID")
def show_cmd(opts: Options, ident: str) -> None:
    """One allegation, whole, and whether it still matches its logged hash (CBP).

    \b
    Example:
      lotchain allegation show alg_0123456789abcdef01234567 --json
    """
    if opts.remote:
        from ledger.client import Client

        value = Client(opts.remote, token=opts.token).allegation(ident)
    else:
        ledger = opts.ledger()
        try:
            value = AllegationStore(ledger).get(ident).to_json()
        finally:
            ledger.store.close()
    emit(opts, value)


@allegation_group.command("link")
@home_options
@remote_options
@click.argument("ident", metavar="ID")
@click.option("--party", "parties", multiple=True, help="A party id (repeatable).")
@click.option("--facility", "facilities", multiple=True, help="A facility id (repeatable).")
@click.option("--region", "regions", multiple=True, help="An ISO 3166-2 region (repeatable).")
@click.option("--by", help="Who links it (recorded; over --remote, the token's party).")
def link_cmd(
    opts: Options,
    ident: str,
    parties: tuple[str, ...],
    facilities: tuple[str, ...],
    regions: tuple[str, ...],
    by: str | None,
) -> None:
    """Link an allegation to parties, facilities or regions (CBP); `impact --allegation ID`
    then names the shipments whose chains touch them.

    \b
    Example:
      lotchain allegation link alg_0123456789abcdef01234567 --party party:kashgar-cotton
      lotchain impact --allegation alg_0123456789abcdef01234567
    """
    wanted = [
        (kind, value)
        for kind, values in zip(LINK_KINDS, (parties, facilities, regions), strict=True)
        for value in values
    ]
    if not wanted:
        raise UsageError("give at least one --party, --facility or --region")
    links: list[dict[str, Any]] = []
    if opts.remote:
        from ledger.client import Client

        client = Client(opts.remote, token=opts.token)
        for kind, value in wanted:
            links = client.link_allegation(ident, kind, value)["links"]
    else:
        ledger = opts.ledger()
        try:
            store = AllegationStore(ledger)
            for kind, value in wanted:
                store.link(ident, kind, value, by=by, now=datetime.now(UTC))
            links = [k.to_json() for k in store.links(ident)]
        finally:
            ledger.store.close()
    text = "\n".join(f"{ident} -> {k['kind']} {k['value']}" for k in links)
    emit(opts, {"allegation": ident, "links": links}, text)


@allegation_group.command("verify")
@click.argument("receipt", metavar="RECEIPT")
@click.option(
    "--allegation",
    "allegation_file",
    help="The allegation as submitted: check that its bytes are the ones committed.",
)
@click.option(
    "--trust-root",
    envvar="LOTCHAIN_TRUST_ROOT",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The trust root given out of band (default: ./lotchain-home/keys/trust-root.json). "
    "Env: LOTCHAIN_TRUST_ROOT.",
)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def verify_cmd(
    receipt: str, allegation_file: str | None, trust_root: Path | None, as_json: bool
) -> None:
    """Check a receipt offline: signed checkpoint, inclusion proof, the log's signed
    commitment, and (with --allegation) that the allegation is the one committed.
    Exit 0 when it holds, 1 when it does not.

    \b
    Example:
      lotchain allegation verify receipt.json --allegation allegation.json \\
        --trust-root trust-root.json
    """
    trust = TrustRoot.load(trust_root or Path("lotchain-home/keys/trust-root.json"))
    obj = parse_json(read_input(receipt, max_bytes=1 << 20))
    data = read_input(allegation_file, max_bytes=MAX_ALLEGATION_BYTES) if allegation_file else None
    checked = verify_allegation_receipt(obj, trust, data)
    value = checked.to_json()
    text = (
        f"pass: allegation {checked.allegation} is entry {checked.index} of the log "
        f"(integrated {value['integrated_at']}, proven under tree size {checked.tree_size})"
        + ("; the allegation given is the one committed" if data is not None else "")
    )
    if as_json:
        click.echo(json.dumps(value))
    else:
        click.echo(text)
