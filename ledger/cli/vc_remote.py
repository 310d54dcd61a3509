"""``export vc --remote``: the certificate and its audits fetched from a served ledger.

The auditor's desk holds no database: the certificate, the audits it rests on and the
names of the parties come from the server (with the desk's token), the key stays on the
desk and signs there. Nothing the server sends is taken on trust where it is signed:
each entry's payload must hash to the attestation id asked for, the certificate must be
of the type asked and carry a valid signature by the very key that signs the credential,
and that key must be one the ledger gives the certificate's issuer, not revoked.
"""

from __future__ import annotations

from typing import Any

from ledger.attestation import attestation_id
from ledger.canonical import parse_json
from ledger.dsse import parse_envelope
from ledger.errors import KeyFileError, MalformedError, NotFoundError
from ledger.keys import Signer, verify_signature
from ledger.vc import AuditEntry, Named, build_credential


def _entry(client: Any, ref: str, type_: str) -> tuple[dict[str, Any], Any]:
    """The payload and envelope of entry ``ref``, checked to hash to ``ref``."""
    answer = client.entry(ref)
    envelope = parse_envelope(answer["envelope"])
    if attestation_id(envelope.payload) != ref:
        raise MalformedError(f"the server sent an entry for {ref} whose payload hashes otherwise")
    payload = parse_json(envelope.payload)
    if not isinstance(payload, dict) or payload.get("type") != type_:
        raise NotFoundError(f"{ref} is not a {type_} in the log")
    return payload, envelope


def _name(client: Any, party: str) -> Named:
    try:
        return Named(party, str(client.party(party)["legal_name"]))
    except NotFoundError:
        return Named(party, party)


def remote_credential(
    remote: str, token: str | None, ref: str, signer: Signer, key_file: str
) -> tuple[str, dict[str, Any]]:
    """(certificate attestation id, the unsigned credential) of ``ref`` on the server."""
    from ledger.client import Client

    client = Client(remote, token=token)
    view = client.certificate(ref)
    cert_id = str(view["attestation"])
    payload, envelope = _entry(client, cert_id, "certificate")
    issuer, body = str(payload["issuer"]), payload["body"]
    try:
        key = client.key(signer.key_id)
    except NotFoundError:
        key = None
    own = any(
        s.keyid == signer.key_id
        and verify_signature(signer.public_key, envelope.signed_bytes(), s.sig)
        for s in envelope.signatures
    )
    if key is None or key["party"] != issuer or key["revoked_at"] is not None or not own:
        raise KeyFileError(
            f"{key_file} is not a valid key of {issuer} that signed the certificate: sign "
            "with the auditor's own key"
        )
    audits = [
        AuditEntry(audit_id, _entry(client, audit_id, "audit")[0]["body"])
        for audit_id in body["audits"]
    ]
    operator = view.get("operator") or issuer
    credential = build_credential(
        cert_id,
        body,
        audits,
        auditor=_name(client, issuer),
        operator=_name(client, str(operator)),
        facility=Named(body["facility"], view.get("facility_name") or body["facility"]),
        public_key=signer.public_key,
    )
    return cert_id, credential
