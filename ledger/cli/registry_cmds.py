"""Lifecycle commands: parties and facilities from flags, key revocation and rotation,
certificate revocation. Each builds the body, signs it and submits it (or, with
``--out``, writes the envelope for someone else to co-sign or submit).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from ledger.attestation import make_attestation
from ledger.canonical import parse_json
from ledger.cli.common import Options, home_options, passphrase_file_option, remote_options
from ledger.cli.main import cli
from ledger.cli.sign_cmds import keys, load_signer, print_receipts, submit_envelopes
from ledger.dsse import Envelope, parse_envelope
from ledger.encoding import b64encode, format_timestamp, parse_timestamp
from ledger.errors import NotFoundError, UsageError
from ledger.home import DEFAULT_REGISTRAR
from ledger.keys import key_id, load_public_key

F = TypeVar("F", bound=Callable[..., Any])

ROLES = ["registrar", "supplier", "auditor", "importer", "cbp"]
IDENTIFIER_SCHEMES = {
    "lei": "lei",
    "gln": "gln",
    "cbp-mid": "cbp-mid",
    "mid": "cbp-mid",
    "duns": "duns",
    "vat": "vat",
}
MAX_REPEATS = 64


def _now() -> datetime:
    return datetime.now(UTC)


def _sign_and_submit(opts: Options, envelopes: list[Envelope], out: Path | None) -> int:
    """Write the envelopes to ``out`` (for a co-signer or a later submit), or submit them."""
    if out is not None:
        value: Any = (
            envelopes[0].to_json() if len(envelopes) == 1 else [e.to_json() for e in envelopes]
        )
        out.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")
        click.echo(f"signed {len(envelopes)} envelope(s) -> {out}", err=True)
        return 0
    return print_receipts(opts, submit_envelopes(opts, envelopes), envelopes)


def _out_option(func: F) -> F:
    return click.option(
        "--out",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="Write the signed envelope here instead of submitting it.",
    )(func)


def _time(value: str | None, what: str) -> datetime | None:
    return None if value is None else parse_timestamp(value, what=what)


# -- addresses and identifiers --------------------------------------------------------


def address_options(func: F) -> F:
    """``--address-street`` and friends: a postal address (the country is ``--country``)."""
    for name, help_text in reversed(
        [
            ("street", "Street address (street name, number, building)."),
            ("locality", "City, town or village."),
            ("region-name", "Name of the state, province or district."),
            ("postal-code", "Postal or ZIP code."),
        ]
    ):
        func = click.option(f"--address-{name}", default=None, help=help_text)(func)
    return func


def build_address(
    country: str, region: str | None, values: dict[str, str | None]
) -> dict[str, str] | None:
    """The schema's address from the ``--address-*`` options, or None when none is given."""
    given = {k: v for k, v in values.items() if v}
    if not given:
        return None
    missing = [k for k in ("street", "locality") if k not in given]
    if missing:
        raise UsageError(
            "an address needs --address-street and --address-locality "
            f"(missing: {', '.join('--address-' + m for m in missing)})"
        )
    address: dict[str, str] = {"street": given["street"], "locality": given["locality"]}
    if "region_name" in given:
        address["region_name"] = given["region_name"]
    if region:
        address["region"] = region
    if "postal_code" in given:
        address["postal_code"] = given["postal_code"]
    address["country"] = country
    return address


def parse_identifier(spec: str) -> dict[str, str]:
    """``SCHEME=VALUE``: LEI, GLN, DUNS, VAT, CBP-MID (or MID); any other scheme is kept
    by name as ``other`` (e.g. ``CN-USCC=91320500MA1XXXXXX``)."""
    scheme, sep, value = spec.partition("=")
    scheme, value = scheme.strip(), value.strip()
    if not sep or not scheme or not value:
        raise UsageError(
            f"--identifier {spec!r}: write SCHEME=VALUE, e.g. LEI=5493001KJTIIGC8Y1R12"
        )
    known = IDENTIFIER_SCHEMES.get(scheme.lower())
    if known is not None:
        return {"scheme": known, "value": value}
    return {"scheme": "other", "value": value, "scheme_name": scheme}


# -- party register -----------------------------------------------------------------


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
    type=click.Choice(ROLES),
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
@address_options
@click.option("--address-region", default=None, help="ISO 3166-2 code of the address, e.g. BD-18.")
@click.option(
    "--identifier",
    "identifiers",
    multiple=True,
    metavar="SCHEME=VALUE",
    help="A registered identifier: LEI, GLN, DUNS, VAT, CBP-MID, or another scheme by name "
    "(repeatable), e.g. --identifier LEI=5493001KJTIIGC8Y1R12.",
)
@click.option("--accreditation-body", default=None, help="An auditor's accreditation body.")
@click.option("--accreditation-scheme", default=None, help="Scheme the accreditation covers.")
@click.option("--accreditation-number", default=None, help="Accreditation number.")
@click.option(
    "--accreditation-valid-until", default=None, help="End of the accreditation (YYYY-MM-DD)."
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
@passphrase_file_option
@_out_option
def party_register(
    opts: Options,
    party_id: str,
    legal_name: str,
    country: str,
    roles: tuple[str, ...],
    public_keys: tuple[Path, ...],
    aliases: tuple[str, ...],
    filer_codes: tuple[str, ...],
    address_street: str | None,
    address_locality: str | None,
    address_region_name: str | None,
    address_postal_code: str | None,
    address_region: str | None,
    identifiers: tuple[str, ...],
    accreditation_body: str | None,
    accreditation_scheme: str | None,
    accreditation_number: str | None,
    accreditation_valid_until: str | None,
    registrar: str | None,
    registrar_key: Path | None,
    passphrase_file: Path | None,
    out: Path | None,
) -> int:
    """Admit a party with its roles and keys: a party attestation signed by a registrar.

    \b
    Example:
      lotchain party register --party party:dhaka-apparel --name "Dhaka Apparel Limited" \\
        --country BD --role supplier --public-key dhaka.pem.pub \\
        --address-street "Plot 14, BSCIC Industrial Estate" --address-locality Gazipur \\
        --address-region BD-18 --identifier DUNS=731234567 --identifier CBP-MID=BDDHAAPP14GAZ
    """
    if len(identifiers) > MAX_REPEATS or len(public_keys) > MAX_REPEATS:
        raise UsageError(f"at most {MAX_REPEATS} identifiers and {MAX_REPEATS} keys")
    home = opts.install
    registrar = registrar or str(home.config().get("registrar", DEFAULT_REGISTRAR))
    signer = load_signer(registrar_key or home.registrar_key_path, passphrase_file)
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
    address = build_address(
        country,
        address_region,
        {
            "street": address_street,
            "locality": address_locality,
            "region_name": address_region_name,
            "postal_code": address_postal_code,
        },
    )
    if address is not None:
        body["address"] = address
    if identifiers:
        body["identifiers"] = [parse_identifier(spec) for spec in identifiers]
    accreditation = {
        "body": accreditation_body,
        "scheme": accreditation_scheme,
        "number": accreditation_number,
        "valid_until": accreditation_valid_until,
    }
    if any(accreditation.values()):
        missing = [k for k in ("body", "scheme", "number") if not accreditation[k]]
        if missing:
            raise UsageError(
                "an accreditation needs " + ", ".join(f"--accreditation-{k}" for k in missing)
            )
        body["accreditation"] = {k: v for k, v in accreditation.items() if v}
    att = make_attestation("party", registrar, body, [signer], now=now)
    return _sign_and_submit(opts, [att.envelope], out)


# -- facility register --------------------------------------------------------------


@cli.group()
def facility() -> None:
    """Declare facilities (as their operator)."""


def parse_geo(value: str) -> dict[str, Any]:
    """``LAT,LON`` in decimal degrees as a GeoJSON Point (which is ``[lon, lat]``)."""
    lat_text, sep, lon_text = value.partition(",")
    try:
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        lat = lon = float("nan")
    if not sep or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise UsageError(f"--geo {value!r}: write LAT,LON in decimal degrees, e.g. 21.9617,70.7931")
    return {"type": "Point", "coordinates": [lon, lat]}


@facility.command("register")
@home_options
@remote_options
@click.option("--facility-id", required=True, help="Facility id, e.g. facility:patel-farm-rajkot.")
@click.option("--name", required=True, help="Name of the site.")
@click.option("--operator", required=True, help="Party id of the operator (the signer).")
@click.option("--country", required=True, help="ISO 3166-1 alpha-2 country code.")
@click.option("--region", default=None, help="ISO 3166-2 subdivision code, e.g. IN-GJ.")
@address_options
@click.option("--geo", default=None, metavar="LAT,LON", help="Location of the site.")
@click.option(
    "--process",
    "processes",
    multiple=True,
    required=True,
    help="A process category run there (farming, ginning, spinning, ...); repeatable.",
)
@click.option("--alias", "aliases", multiple=True, help="Another name of the site.")
@click.option(
    "--identifier",
    "identifiers",
    multiple=True,
    metavar="SCHEME=VALUE",
    help="A registered identifier of the site, e.g. GLN=8930000123452 (repeatable).",
)
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The operator's encrypted private key file.",
)
@click.option("--issuer", default=None, help="Signer party id (default: the operator).")
@passphrase_file_option
@_out_option
def facility_register(
    opts: Options,
    facility_id: str,
    name: str,
    operator: str,
    country: str,
    region: str | None,
    address_street: str | None,
    address_locality: str | None,
    address_region_name: str | None,
    address_postal_code: str | None,
    geo: str | None,
    processes: tuple[str, ...],
    aliases: tuple[str, ...],
    identifiers: tuple[str, ...],
    key_file: Path,
    issuer: str | None,
    passphrase_file: Path | None,
    out: Path | None,
) -> int:
    """Declare a facility from flags: a facility attestation signed by its operator.

    \b
    Example:
      lotchain facility register --facility-id facility:patel-farm-rajkot \\
        --name "Patel Cotton Farm" --operator party:patel-cotton-farm --country IN \\
        --region IN-GJ --address-street "Survey no. 112/2" --address-locality Gondal \\
        --geo 21.9617,70.7931 --process farming --key farm.pem
    """
    address = build_address(
        country,
        region,
        {
            "street": address_street,
            "locality": address_locality,
            "region_name": address_region_name,
            "postal_code": address_postal_code,
        },
    )
    if address is None:
        raise UsageError("a facility needs its address: --address-street and --address-locality")
    body: dict[str, Any] = {
        "facility_id": facility_id,
        "name": name,
        "operator": operator,
        "address": address,
        "country": country,
        "processes": list(dict.fromkeys(processes)),
    }
    if region:
        body["region"] = region
    if geo:
        body["geo"] = parse_geo(geo)
    if aliases:
        body["aliases"] = list(aliases)
    if identifiers:
        body["identifiers"] = [parse_identifier(spec) for spec in identifiers[:MAX_REPEATS]]
    signer = load_signer(key_file, passphrase_file)
    att = make_attestation("facility", issuer or operator, body, [signer], now=_now())
    return _sign_and_submit(opts, [att.envelope], out)


# -- keys revoke / rotate -----------------------------------------------------------


def _key_id_of(value: str) -> str:
    """A key id given as ``ed25519:<hex>`` or as a public key file."""
    if value.startswith("ed25519:"):
        return value
    path = Path(value)
    if path.is_file():
        return key_id(load_public_key(path))
    raise UsageError(f"--key-id {value!r}: give ed25519:<64 hex> or a public key file (.pub)")


@keys.command("revoke")
@home_options
@remote_options
@click.option("--party", "party_id", required=True, help="The party whose key is revoked.")
@click.option(
    "--key-id", "revoked", required=True, help="The key revoked: its id, or its .pub file."
)
@click.option("--reason", required=True, help="Why (compromise, staff change, retired device...).")
@click.option(
    "--compromised-since",
    default=None,
    metavar="TIME",
    help="Date the revocation back to a compromise (RFC 3339 UTC); what the key signed "
    "after it no longer counts. Default: now.",
)
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Signing key: one of the party's keys, or a registrar's key (with --issuer).",
)
@click.option("--issuer", default=None, help="Signer party id (default: --party; or a registrar).")
@passphrase_file_option
@_out_option
def keys_revoke(
    opts: Options,
    party_id: str,
    revoked: str,
    reason: str,
    compromised_since: str | None,
    key_file: Path,
    issuer: str | None,
    passphrase_file: Path | None,
    out: Path | None,
) -> int:
    """Revoke a key of a party: a key attestation (action revoke), possibly back-dated.

    \b
    Example (a laptop stolen on 2 March; the registrar signs):
      lotchain keys revoke --party party:shree-ginning --key-id old.pem.pub \\
        --compromised-since 2025-03-02T00:00:00Z --reason "laptop stolen" \\
        --issuer party:registrar --key lotchain-home/keys/registrar.pem
    """
    now = _now()
    effective = _time(compromised_since, "--compromised-since") or now
    if effective > now:
        raise UsageError("--compromised-since is in the future")
    body = {
        "party": party_id,
        "action": "revoke",
        "key_id": _key_id_of(revoked),
        "effective_at": format_timestamp(effective),
        "reason": reason,
    }
    signer = load_signer(key_file, passphrase_file)
    att = make_attestation("key", issuer or party_id, body, [signer], now=now)
    return _sign_and_submit(opts, [att.envelope], out)


@keys.command("rotate")
@home_options
@remote_options
@click.option("--party", "party_id", required=True, help="The party whose key is rotated.")
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The current (old) private key; it signs both the addition and its own retirement.",
)
@click.option(
    "--new-public-key",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="The new key's public key file (from keys generate).",
)
@click.option("--reason", default="scheduled key rotation", show_default=True, help="Why.")
@click.option(
    "--keep-old", is_flag=True, help="Add the new key but leave the old one valid (an overlap)."
)
@passphrase_file_option
@_out_option
def keys_rotate(
    opts: Options,
    party_id: str,
    key_file: Path,
    new_public_key: Path,
    reason: str,
    keep_old: bool,
    passphrase_file: Path | None,
    out: Path | None,
) -> int:
    """Rotate a key: add the new key (replacing the old) and revoke the old one, now.

    Two key attestations signed by the old key, submitted as one batch.

    \b
    Example:
      lotchain keys generate --out gin-2026.pem
      lotchain keys rotate --party party:shree-ginning --key gin.pem \\
        --new-public-key gin-2026.pem.pub
    """
    now = _now()
    signer = load_signer(key_file, passphrase_file)
    public = load_public_key(new_public_key)
    new_id = key_id(public)
    if new_id == signer.key_id:
        raise UsageError("the new key is the old key; generate a new one with keys generate")
    when = format_timestamp(now)
    add = {
        "party": party_id,
        "action": "add",
        "key_id": new_id,
        "public_key": b64encode(public),
        "effective_at": when,
        "reason": reason,
        "replaces": signer.key_id,
    }
    envelopes = [make_attestation("key", party_id, add, [signer], now=now).envelope]
    if not keep_old:
        retire = {
            "party": party_id,
            "action": "revoke",
            "key_id": signer.key_id,
            "effective_at": when,
            "reason": f"{reason}: replaced by {new_id}",
        }
        envelopes.append(make_attestation("key", party_id, retire, [signer], now=now).envelope)
    return _sign_and_submit(opts, envelopes, out)


# -- certificate revoke -------------------------------------------------------------


@cli.group()
def certificate() -> None:
    """Certificates issued by auditors: revoke one."""


def _certificate_id(opts: Options, ref: str, issuer: str) -> str:
    """The attestation id of a certificate named by id or by number (the issuer's latest)."""
    if ref.startswith("sha256:"):
        return ref
    if opts.remote:
        from ledger.client import Client

        found = Client(opts.remote, token=opts.token).certificate(ref)
        return str(found["attestation"])
    from ledger.storage.sql import SqlStore

    ledger = opts.ledger()
    try:
        store = ledger.store
        if not isinstance(store, SqlStore):
            raise UsageError("finding a certificate by number needs the SQL store")
        latest: str | None = None
        after = -1
        while True:
            batch = store.entries_of_type("certificate", after=after, limit=500, issuer=issuer)
            for entry in batch:
                payload = parse_json(parse_envelope(entry.envelope).payload)
                if payload["body"]["certificate_id"] == ref:
                    latest = entry.attestation_id
            if len(batch) < 500:
                break
            after = batch[-1].index
    finally:
        ledger.store.close()
    if latest is None:
        raise NotFoundError(f"{issuer} issued no certificate numbered {ref}")
    return latest


@certificate.command("revoke")
@home_options
@remote_options
@click.argument("cert")
@click.option("--reason", required=True, help="Why the certificate no longer holds.")
@click.option(
    "--effective-at",
    default=None,
    metavar="TIME",
    help="From when it no longer holds (RFC 3339 UTC; may be in the past). Default: now.",
)
@click.option("--superseded-by", default=None, help="Attestation id of a replacement, if any.")
@click.option("--issuer", required=True, help="The auditor that issued it (or a registrar).")
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The issuer's encrypted private key file.",
)
@passphrase_file_option
@_out_option
def certificate_revoke(
    opts: Options,
    cert: str,
    reason: str,
    effective_at: str | None,
    superseded_by: str | None,
    issuer: str,
    key_file: Path,
    passphrase_file: Path | None,
    out: Path | None,
) -> int:
    """Revoke certificate CERT (its attestation id or its number): a revocation attestation.

    \b
    Example:
      lotchain certificate revoke SA8000-BD-2024/0193 --issuer party:social-audit-bd \\
        --key auditor.pem --reason "follow-up audit found retained passports"
    """
    now = _now()
    effective = _time(effective_at, "--effective-at") or now
    body: dict[str, Any] = {
        "target": _certificate_id(opts, cert, issuer),
        "reason": reason,
        "effective_at": format_timestamp(effective),
    }
    if superseded_by:
        body["superseded_by"] = superseded_by
    signer = load_signer(key_file, passphrase_file)
    att = make_attestation("revocation", issuer, body, [signer], now=now)
    return _sign_and_submit(opts, [att.envelope], out)
