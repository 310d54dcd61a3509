"""``export vc`` and ``verify vc``: certificates as W3C Verifiable Credentials.

``export vc`` renders a certificate and the audits it rests on as a UNTP Digital
Conformity Credential signed (eddsa-jcs-2022) by the auditor's key, named by its
did:key. ``verify vc`` checks such a credential's proof and did:key, then asks the
ledger (local, or ``--remote``) whether the certificate is still valid.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from ledger.canonical import parse_json
from ledger.cli.common import (
    Options,
    desk_key,
    emit,
    get_passphrase,
    home_options,
    passphrase_file_option,
    read_input,
    remote_options,
)
from ledger.cli.main import cli
from ledger.cli.verify_cmds import verify_group
from ledger.encoding import format_timestamp, parse_timestamp
from ledger.errors import KeyFileError, NotFoundError, UsageError
from ledger.keys import Signer, key_id, load_private_key
from ledger.log import Ledger
from ledger.vc import (
    AuditEntry,
    LedgerCertificate,
    Named,
    add_proof,
    build_credential,
    judge_credential,
    verify_proof,
)

MAX_CREDENTIAL_BYTES = 1 << 20


def _now() -> datetime:
    return datetime.now(UTC)


@cli.group("export")
def export_group() -> None:
    """Export ledger records in other standard formats (W3C Verifiable Credentials)."""


def _certificate_entry(ledger: Ledger, ref: str) -> Any:
    from api.queries import ATTESTATION_ID, body_of, entries_of_type

    if ATTESTATION_ID.fullmatch(ref):
        entry = ledger.store.find(ref)
        if entry is None or entry.type != "certificate":
            raise NotFoundError(f"no certificate {ref} in the log")
        return entry
    latest = None
    for entry in entries_of_type(ledger, "certificate"):
        if body_of(entry)["certificate_id"] == ref:
            latest = entry
    if latest is None:
        raise NotFoundError(
            f"no certificate numbered {ref} in the log; give its number as issued or its "
            "attestation id (sha256:...)"
        )
    return latest


def _named_party(ledger: Ledger, party_id: str) -> Named:
    record = ledger.store.party(party_id)
    return Named(party_id, record.legal_name if record else party_id)


def credential_of(ledger: Ledger, ref: str, public_key: bytes) -> dict[str, Any]:
    """The unsigned credential of the certificate ``ref`` (id or number) in ``ledger``."""
    from api.queries import body_of

    entry = _certificate_entry(ledger, ref)
    body = body_of(entry)
    audits = []
    for audit_id in body["audits"]:
        audit = ledger.store.find(audit_id)
        if audit is None or audit.type != "audit":
            raise NotFoundError(f"the certificate rests on {audit_id}, which is not an audit here")
        audits.append(AuditEntry(audit_id, body_of(audit)))
    facility = ledger.store.facility(body["facility"])
    operator = facility.operator if facility else entry.issuer
    return build_credential(
        entry.attestation_id,
        body,
        audits,
        auditor=_named_party(ledger, entry.issuer),
        operator=_named_party(ledger, operator),
        facility=Named(body["facility"], facility.name if facility else body["facility"]),
        public_key=public_key,
    )


@export_group.command("vc")
@home_options
@remote_options
@click.argument("ref", metavar="CERTIFICATE")
@click.option(
    "--key",
    "key_file",
    default=None,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The auditor's encrypted private key (the certificate's issuer; default: the "
    "desk's key, from desk init).",
)
@passphrase_file_option
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the credential here (default: standard output).",
)
def export_vc(
    opts: Options,
    ref: str,
    key_file: Path | None,
    passphrase_file: Path | None,
    out: Path | None,
) -> int:
    """Export certificate CERTIFICATE (number or attestation id) as a signed W3C credential.

    The credential is a UNTP Digital Conformity Credential (W3C VC 2.0) of the certificate
    and the audits it rests on, secured with an eddsa-jcs-2022 DataIntegrityProof by the
    auditor's key, whose did:key is the issuer: any VC verifier checks it without the
    ledger. The key must be a valid key of the auditor who issued the certificate. With
    --remote, the certificate and its audits are fetched from the server (with the
    desk's token) and checked against their attestation ids; the key signs here.

    \b
    Example:
      lotchain export vc SA8000-2025-0117 --key keys/auditor.pem --out cert.vc.json
      lotchain export vc SA8000-2025-0117 --remote http://ledger.example:8080 --out cert.vc.json
    """
    key_path = desk_key(opts, key_file)
    signer = load_private_key(
        key_path, get_passphrase(f"Passphrase of {key_path}", file=passphrase_file)
    )
    if opts.remote:
        from ledger.cli.vc_remote import remote_credential

        cert_id, unsigned = remote_credential(
            opts.remote, opts.token, ref, signer, str(key_path)
        )
    else:
        cert_id, unsigned = _local_credential(opts, ref, signer, key_path)
    credential = add_proof(unsigned, signer, created=_now())
    text = json.dumps(credential, indent=2, ensure_ascii=False)
    if out is not None:
        try:
            out.write_text(text + "\n", encoding="utf-8")
        except OSError as e:
            raise UsageError(f"cannot write {out}: {e.strerror}") from e
        summary = {
            "credential": credential["id"],
            "issuer": credential["issuer"]["id"],
            "certificate": cert_id,
            "out": str(out),
        }
        emit(opts, summary, f"wrote {credential['id']} signed by {summary['issuer']} -> {out}")
    elif opts.json:
        click.echo(json.dumps(credential))
    else:
        click.echo(text)
    return 0


def _local_credential(
    opts: Options, ref: str, signer: Signer, key_path: Path
) -> tuple[str, dict[str, Any]]:
    ledger = opts.ledger()
    try:
        entry = _certificate_entry(ledger, ref)
        record = ledger.store.key(signer.key_id)
        revoked = ledger.store.key_revoked_at(signer.key_id)
        if record is None or record.party != entry.issuer or revoked is not None:
            raise KeyFileError(
                f"{key_path} is not a valid key of {entry.issuer}, who issued the certificate: "
                "sign with the auditor's own key"
            )
        return entry.attestation_id, credential_of(ledger, entry.attestation_id, signer.public_key)
    finally:
        ledger.store.close()


# -- verify vc ---------------------------------------------------------------------------


def _local_certificate(
    ledger: Ledger, ref: str, public_key: bytes, created: str, now: datetime
) -> Any:
    from api.queries import audits_of, body_of, certificate_json, revocation_of

    entry = ledger.store.find(ref)
    if entry is None or entry.type != "certificate":
        return None
    body = body_of(entry)
    view = certificate_json(
        ledger, entry, body, revocation_of(ledger, ref), now, audits_of(ledger, body)
    )
    return _ledger_certificate(view, _issuer_keys_local(ledger, entry.issuer, public_key, created))


def _issuer_keys_local(ledger: Ledger, issuer: str, public_key: bytes, created: str) -> set[str]:
    kid = key_id(public_key)
    record = ledger.store.key(kid)
    revoked = ledger.store.key_revoked_at(kid)
    if record is None or record.party != issuer:
        return set()
    if revoked is not None and revoked <= parse_timestamp(created):
        return set()
    return {kid}


def _remote_certificate(opts: Options, ref: str, created: str) -> Any:
    from ledger.client import Client

    client = Client(str(opts.remote), token=opts.token)
    try:
        view = client.certificate(ref)
    except NotFoundError:
        return None
    keys: set[str] = set()
    for key in client.party(view["auditor"]).get("keys", []):
        revoked = key.get("revoked_at")
        if revoked is None or parse_timestamp(revoked) > parse_timestamp(created):
            keys.add(key["key_id"])
    return _ledger_certificate(view, keys)


def _ledger_certificate(view: dict[str, Any], keys: set[str]) -> LedgerCertificate:
    return LedgerCertificate(
        attestation=view["attestation"],
        issuer=view["auditor"],
        issuer_keys=frozenset(keys),
        certificate_id=view["certificate_id"],
        valid_from=view["valid_from"],
        valid_until=view["valid_until"],
        status=view["status"],
        reasons=tuple(view.get("reasons", [])),
    )


@verify_group.command("vc")
@home_options
@remote_options
@click.argument("file", metavar="FILE")
@click.option(
    "--offline",
    is_flag=True,
    help="Check the proof and dates only, consulting no ledger (the verdict is then at "
    "best review: a revocation since issue cannot be seen).",
)
def verify_vc(opts: Options, file: str, offline: bool) -> int:
    """Verify a W3C credential exported by `lotchain export vc` (FILE, or - for stdin).

    Steps: 1 the eddsa-jcs-2022 proof verifies; 2 its verificationMethod is a did:key
    that is the credential's issuer; 3 now is within validFrom and validUntil; 4 the
    ledger holds the certificate, issued by the owner of that key, with the same dates;
    5 the ledger holds it valid now (not revoked, expired or invalid since issue).

    Exit status: 0 pass, 1 fail (proof, key, dates or the ledger's status), 2 bad input,
    3 review (not yet valid, or --offline), 4 could not complete (ledger unreachable).

    \b
    Example:
      lotchain verify vc cert.vc.json --remote https://ledger.example
    """
    now = _now()
    credential = parse_json(read_input(file, max_bytes=MAX_CREDENTIAL_BYTES))
    proof = verify_proof(credential)
    assert isinstance(credential, dict)
    found: LedgerCertificate | None = None
    if not offline and proof.certificate is not None:
        if opts.remote:
            found = _remote_certificate(opts, proof.certificate, proof.created)
        else:
            ledger = opts.ledger()
            try:
                found = _local_certificate(
                    ledger, proof.certificate, proof.public_key, proof.created, now
                )
            finally:
                ledger.store.close()
    verdict = judge_credential(credential, proof, found, consulted=not offline, now=now)
    if opts.json:
        click.echo(json.dumps(verdict.to_json()))
    else:
        lines = [f"credential {verdict.credential}", f"issuer     {verdict.issuer}"]
        for check in verdict.checks:
            mark = {True: "ok  ", False: "FAIL", None: "--  "}[check.ok]
            lines.append(f"  {check.step}. {mark} {check.name}: {check.message}")
        lines.append(f"status: {verdict.status.upper()} (at {format_timestamp(now)})")
        click.echo("\n".join(lines))
    return verdict.exit_code
