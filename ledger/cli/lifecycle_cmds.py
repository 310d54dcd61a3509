"""Lifecycle commands: a key revoked (back-dated to a compromise) or rotated, a
certificate revoked. Each signs and submits, or with ``--out`` writes the envelope."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ledger.attestation import make_attestation
from ledger.canonical import parse_json
from ledger.cli.common import Options, home_options, passphrase_file_option, remote_options
from ledger.cli.main import cli
from ledger.cli.registry_cmds import out_option, parse_time, sign_and_submit, utc_now
from ledger.cli.sign_cmds import keys, load_signer
from ledger.dsse import parse_envelope
from ledger.encoding import b64encode, format_timestamp
from ledger.errors import NotFoundError, UsageError
from ledger.keys import key_id, load_public_key

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
@out_option
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
    now = utc_now()
    effective = parse_time(compromised_since, "--compromised-since") or now
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
    return sign_and_submit(opts, [att.envelope], out)


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
@out_option
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
    now = utc_now()
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
    return sign_and_submit(opts, envelopes, out)


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
@out_option
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
    now = utc_now()
    effective = parse_time(effective_at, "--effective-at") or now
    body: dict[str, Any] = {
        "target": _certificate_id(opts, cert, issuer),
        "reason": reason,
        "effective_at": format_timestamp(effective),
    }
    if superseded_by:
        body["superseded_by"] = superseded_by
    signer = load_signer(key_file, passphrase_file)
    att = make_attestation("revocation", issuer, body, [signer], now=now)
    return sign_and_submit(opts, [att.envelope], out)
