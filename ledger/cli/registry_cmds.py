"""Registry commands: parties and facilities from flags, with no hand-written body.

Each builds the body, signs it and submits it (or, with ``--out``, writes the envelope
for an offline signer's later submit). The helpers here serve lifecycle_cmds too.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from ledger.attestation import make_attestation
from ledger.cli.common import Options, home_options, passphrase_file_option, remote_options
from ledger.cli.main import cli
from ledger.cli.sign_cmds import load_signer, print_receipts, submit_envelopes
from ledger.dsse import Envelope
from ledger.encoding import b64encode, format_timestamp, parse_timestamp
from ledger.errors import UsageError
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


def utc_now() -> datetime:
    return datetime.now(UTC)


def sign_and_submit(opts: Options, envelopes: list[Envelope], out: Path | None) -> int:
    """Write the envelopes to ``out`` (for a co-signer or a later submit), or submit them."""
    if out is not None:
        value: Any = (
            envelopes[0].to_json() if len(envelopes) == 1 else [e.to_json() for e in envelopes]
        )
        out.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")
        click.echo(f"signed {len(envelopes)} envelope(s) -> {out}", err=True)
        return 0
    return print_receipts(opts, submit_envelopes(opts, envelopes), envelopes)


def out_option(func: F) -> F:
    return click.option(
        "--out",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="Write the signed envelope here instead of submitting it.",
    )(func)


def parse_time(value: str | None, what: str) -> datetime | None:
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
@out_option
@click.option(
    "--token-out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Once admitted, also issue the party's API token into this new file (mode 0600; "
    "the operator's database, as token issue does).",
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
    token_out: Path | None,
) -> int:
    """Admit a party with its roles and keys: a party attestation signed by a registrar.

    With --token-out, the party's API token is issued in the same step (only once the
    party is admitted) and written to a new file readable by its owner alone, to hand
    to the party with the ledger's trust root.

    \b
    Example:
      lotchain party register --party party:dhaka-apparel --name "Dhaka Apparel Limited" \\
        --country BD --role supplier --public-key dhaka.pem.pub \\
        --address-street "Plot 14, BSCIC Industrial Estate" --address-locality Gazipur \\
        --address-region BD-18 --identifier DUNS=731234567 --identifier CBP-MID=BDDHAAPP14GAZ \\
        --token-out ../dhaka/token
    """
    if token_out is not None:
        check_token_out(token_out, out)
    if len(identifiers) > MAX_REPEATS or len(public_keys) > MAX_REPEATS:
        raise UsageError(f"at most {MAX_REPEATS} identifiers and {MAX_REPEATS} keys")
    home = opts.install
    registrar = registrar or str(home.config().get("registrar", DEFAULT_REGISTRAR))
    signer = load_signer(registrar_key or home.registrar_key_path, passphrase_file)
    now = utc_now()
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
    code = sign_and_submit(opts, [att.envelope], out)
    if code == 0 and token_out is not None:
        write_token(opts, party_id, token_out)
    return code


def check_token_out(path: Path, out: Path | None) -> None:
    """Refuse, before anything is signed, a token file that could not be written."""
    if out is not None:
        raise UsageError(
            "--token-out issues the token once the party is admitted; with --out nothing is "
            "submitted here (issue it later: lotchain token issue --party P)"
        )
    if path.exists():
        raise UsageError(f"--token-out {path} already exists; a token file is never overwritten")
    if not path.parent.is_dir():
        raise UsageError(f"--token-out {path}: no folder {path.parent}")


def write_token(opts: Options, party_id: str, path: Path) -> None:
    """Issue ``party_id`` a token in the local database and write it to a new 0600 file."""
    from ledger.tokens import TokenStore

    store = opts.install.open_store(opts.db)
    try:
        issued = TokenStore(store).issue(party_id, now=utc_now(), label="party register")
    finally:
        store.close()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(issued.token + "\n")
    click.echo(f"token {issued.info.id} for {party_id} -> {path} (mode 0600)", err=True)


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
@out_option
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
    att = make_attestation("facility", issuer or operator, body, [signer], now=utc_now())
    return sign_and_submit(opts, [att.envelope], out)
