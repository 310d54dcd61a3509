"""W3C Verifiable Credentials out: a certificate as a UNTP Digital Conformity Credential.

The credential follows the W3C VC 2.0 data model and the UNTP DCC schema, and is secured
with the Data Integrity ``eddsa-jcs-2022`` cryptosuite: the signed bytes are
SHA-256(JCS(proof configuration)) || SHA-256(JCS(document without proof)), signed with
Ed25519; ``proofValue`` is base58btc multibase. The verification method is the signer's
``did:key``, so any VC verifier checks it without the ledger. Pure: dicts and bytes in,
dicts out or a coded error; the ledger's view of the certificate is the caller's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ledger.canonical import canonical_bytes
from ledger.didkey import (
    did_key,
    multibase_decode,
    multibase_encode,
    public_key_of_did,
    verification_method,
)
from ledger.encoding import format_timestamp, parse_timestamp
from ledger.errors import CredentialError, MalformedError
from ledger.keys import Signer, key_id, verify_signature

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
DCC_CONTEXT = "https://test.uncefact.org/vocabulary/untp/dcc/working/"
DCC_LINK_TYPE = "https://test.uncefact.org/vocabulary/linkTypes/dcc"
PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"
PROOF_PURPOSE = "assertionMethod"
URN_PREFIX = "urn:lotchain:"
SUBJECT_PREFIX = URN_PREFIX + "attestation:"
#: ILO forced-labour indicators (the audit topics), as UNTP assessment criteria names.
ILO_INDICATOR_NAMES = {
    "abuse-of-vulnerability": "Abuse of vulnerability",
    "deception": "Deception",
    "restriction-of-movement": "Restriction of movement",
    "isolation": "Isolation",
    "physical-and-sexual-violence": "Physical and sexual violence",
    "intimidation-and-threats": "Intimidation and threats",
    "retention-of-identity-documents": "Retention of identity documents",
    "withholding-of-wages": "Withholding of wages",
    "debt-bondage": "Debt bondage",
    "abusive-working-conditions": "Abusive working and living conditions",
    "excessive-overtime": "Excessive overtime",
}


@dataclass(frozen=True)
class Named:
    """A party or facility as the credential names it: ledger id and display name."""

    id: str
    name: str


@dataclass(frozen=True)
class AuditEntry:
    id: str
    body: dict[str, Any]


@dataclass(frozen=True)
class ProofCheck:
    """What a verified credential proves by itself, before any ledger is asked."""

    issuer_did: str
    public_key: bytes
    created: str
    certificate: str | None  # the certificate attestation id the subject names, if any
    valid_from: datetime | None
    valid_until: datetime | None


def urn(ledger_id: str) -> str:
    """A ledger id (``party:acme``, ``sha256:...``) as a URI for the credential's ids."""
    return URN_PREFIX + ledger_id


def _party(named: Named) -> dict[str, Any]:
    return {"id": urn(named.id), "name": named.name, "registeredId": named.id}


def _criterion(topic: str) -> dict[str, Any]:
    name = ILO_INDICATOR_NAMES.get(topic, topic)
    return {
        "type": ["Criterion"],
        "id": urn("ilo-forced-labour-indicator:" + topic),
        "name": name,
        "description": f"ILO indicator of forced labour: {name.lower()}",
        "conformityTopic": "social.labour",
        "status": "active",
    }


def _assessment(audit: AuditEntry, facility: Named, auditor: Named) -> dict[str, Any]:
    body = audit.body
    findings = body.get("findings", [])
    summary = f"{body['scheme']} audit of {facility.name} on {body['audit_date']}: {body['result']}"
    if findings:
        summary += "; findings: " + "; ".join(
            f"{f['severity']} ({f['topic']}): {f['description']}" for f in findings
        )
    out: dict[str, Any] = {
        "type": ["ConformityAssessment", "Declaration"],
        "id": SUBJECT_PREFIX + audit.id,
        "name": f"{body['scheme']} audit {body.get('audit_ref', body['audit_date'])}",
        "description": summary,
        "assessmentDate": body["audit_date"],
        "assessmentCriteria": [_criterion(t) for t in body["topics"]],
        "conformityTopic": "social.labour",
        "conformance": body["result"] != "fail",
        "assessedFacility": [
            {
                "type": ["FacilityVerification"],
                "facility": _party(facility),
                "IDverifiedByCAB": True,
            }
        ],
        "auditor": _party(auditor),
    }
    return out


def build_credential(
    certificate_id: str,
    certificate: dict[str, Any],
    audits: Sequence[AuditEntry],
    *,
    auditor: Named,
    operator: Named,
    facility: Named,
    public_key: bytes,
) -> dict[str, Any]:
    """The unsigned UNTP DCC of a certificate body and the audits it rests on."""
    scope = certificate["scope"]
    processes = ", ".join(scope["processes"])
    materials = ", ".join(scope.get("materials", [])) or "any material"
    subject: dict[str, Any] = {
        "type": ["ConformityAttestation", "Attestation"],
        "id": SUBJECT_PREFIX + certificate_id,
        "name": f"{certificate['scheme']} certificate {certificate['certificate_id']}",
        "assessorLevel": "3rdParty",
        "assessmentLevel": "Unspecified",
        "attestationType": "certification",
        "description": (
            f"{certificate['scheme']} certificate {certificate['certificate_id']} of "
            f"{facility.name} ({facility.id}) for {processes} of {materials}, valid from "
            f"{certificate['valid_from']} to {certificate['valid_until']}, resting on "
            f"{len(audits)} audit(s) against ILO forced-labour indicators."
        ),
        "issuedToParty": _party(operator),
        "conformityCertificate": {
            "linkURL": SUBJECT_PREFIX + certificate_id,
            "linkName": f"certificate {certificate['certificate_id']} in the lotchain log",
            "linkType": DCC_LINK_TYPE,
            "hashDigest": certificate_id.removeprefix("sha256:"),
            "hashMethod": "SHA-256",
        },
        "assessment": [_assessment(a, facility, auditor) for a in audits],
    }
    evidence = [a for a in audits if "evidence_sha256" in a.body]
    if evidence:
        latest = max(evidence, key=lambda a: str(a.body["audit_date"]))
        subject["auditableEvidence"] = {
            "linkURL": SUBJECT_PREFIX + latest.id,
            "linkName": f"audit report of {latest.body['audit_date']}",
            "hashDigest": latest.body["evidence_sha256"],
            "hashMethod": "SHA-256",
        }
    return {
        "@context": [VC_CONTEXT, DCC_CONTEXT],
        "type": ["DigitalConformityCredential", "VerifiableCredential"],
        "id": URN_PREFIX + "credential:" + certificate_id,
        "issuer": {
            "type": ["CredentialIssuer"],
            "id": did_key(public_key),
            "name": auditor.name,
            "issuerAlsoKnownAs": [_party(auditor)],
        },
        "validFrom": certificate["valid_from"] + "T00:00:00Z",
        "validUntil": certificate["valid_until"] + "T23:59:59Z",
        "credentialSubject": subject,
    }


# -- eddsa-jcs-2022 --------------------------------------------------------------------


def _hash_data(document: dict[str, Any], proof_config: dict[str, Any]) -> bytes:
    """SHA-256(JCS(proof config)) || SHA-256(JCS(document)): the bytes Ed25519 signs."""
    return (
        hashlib.sha256(canonical_bytes(proof_config)).digest()
        + hashlib.sha256(canonical_bytes(document)).digest()
    )


def add_proof(
    document: dict[str, Any],
    signer: Signer,
    *,
    created: datetime | str,
    method: str | None = None,
) -> dict[str, Any]:
    """``document`` with an eddsa-jcs-2022 DataIntegrityProof by ``signer``."""
    if "proof" in document:
        raise MalformedError("the document already carries a proof")
    config: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created if isinstance(created, str) else format_timestamp(created),
        "verificationMethod": method or verification_method(signer.public_key),
        "proofPurpose": PROOF_PURPOSE,
    }
    if "@context" in document:
        config["@context"] = document["@context"]
    signature = signer.sign(_hash_data(document, config))
    return {**document, "proof": {**config, "proofValue": multibase_encode(signature)}}


def _issuer_id(document: dict[str, Any]) -> str | None:
    issuer = document.get("issuer")
    if isinstance(issuer, str):
        return issuer
    if isinstance(issuer, dict) and isinstance(issuer.get("id"), str):
        return str(issuer["id"])
    return None


def _optional_time(document: dict[str, Any], name: str) -> datetime | None:
    if name not in document:
        return None
    try:
        return parse_timestamp(document[name], what=name)
    except MalformedError:
        value = document[name]
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
            except ValueError:
                pass
        raise


def verify_data_integrity(credential: object) -> bytes:
    """Check a document's eddsa-jcs-2022 proof by its did:key; return the key, or raise."""
    if not isinstance(credential, dict):
        raise MalformedError("a verifiable credential is a JSON object")
    proof = credential.get("proof")
    if not isinstance(proof, dict):
        raise CredentialError("the credential carries no proof object")
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        raise CredentialError(
            f"the proof is not a {PROOF_TYPE} with cryptosuite {CRYPTOSUITE} "
            f"(found {proof.get('type')!r}, {proof.get('cryptosuite')!r})"
        )
    if proof.get("proofPurpose") != PROOF_PURPOSE:
        raise CredentialError(f"the proof's purpose must be {PROOF_PURPOSE}")
    method = proof.get("verificationMethod")
    try:
        public_key = public_key_of_did(method)
    except MalformedError as e:
        raise CredentialError(f"verificationMethod: {e.message}") from e
    parse_timestamp(proof.get("created"), what="proof.created")
    document = {k: v for k, v in credential.items() if k != "proof"}
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    if "@context" in config and config["@context"] != document.get("@context"):
        raise CredentialError("the proof's @context differs from the credential's")
    try:
        signature = multibase_decode(proof.get("proofValue"), what="proofValue")
    except MalformedError as e:
        raise CredentialError(e.message) from e
    if len(signature) != 64 or not verify_signature(
        public_key, _hash_data(document, config), signature
    ):
        raise CredentialError(
            "the proof does not verify: the credential or its proof was changed after signing, "
            "or was signed by another key"
        )
    return public_key


def verify_proof(credential: object) -> ProofCheck:
    """Check a credential's proof, and that the did:key which signed it is its issuer."""
    public_key = verify_data_integrity(credential)
    assert isinstance(credential, dict)
    did = str(credential["proof"]["verificationMethod"]).partition("#")[0]
    issuer = _issuer_id(credential)
    if issuer != did:
        raise CredentialError(
            f"the credential's issuer ({issuer}) is not the did:key that signed it ({did})"
        )
    created = str(credential["proof"]["created"])
    document = {k: v for k, v in credential.items() if k != "proof"}
    subject = credential.get("credentialSubject")
    subject_id = subject.get("id") if isinstance(subject, dict) else None
    certificate = None
    if isinstance(subject_id, str) and subject_id.startswith(SUBJECT_PREFIX):
        certificate = subject_id.removeprefix(SUBJECT_PREFIX)
    return ProofCheck(
        issuer_did=did,
        public_key=public_key,
        created=created,
        certificate=certificate,
        valid_from=_optional_time(document, "validFrom"),
        valid_until=_optional_time(document, "validUntil"),
    )


# -- judging a credential against the ledger -------------------------------------------

PASS, REVIEW, FAIL = "pass", "review", "fail"
EXIT_CODES = {PASS: 0, FAIL: 1, REVIEW: 3}


@dataclass(frozen=True)
class LedgerCertificate:
    """What the ledger says of the certificate a credential names (None: not in it)."""

    attestation: str
    issuer: str
    issuer_keys: frozenset[str]  # key ids admitted for the issuer, not revoked
    certificate_id: str
    valid_from: str
    valid_until: str
    status: str  # a ledger.certificates status
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Check:
    step: int
    name: str
    ok: bool | None  # None: not checked
    message: str


@dataclass(frozen=True)
class CredentialVerdict:
    status: str
    credential: str | None
    issuer: str
    certificate: str | None
    checks: tuple[Check, ...]

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "credential": self.credential,
            "issuer": self.issuer,
            "certificate": self.certificate,
            "checks": [
                {"step": c.step, "name": c.name, "ok": c.ok, "message": c.message}
                for c in self.checks
            ],
        }


def judge_credential(
    credential: dict[str, Any],
    proof: ProofCheck,
    ledger: LedgerCertificate | None,
    *,
    consulted: bool,
    now: datetime,
) -> CredentialVerdict:
    """Steps after the proof (step 1-2, already held): validity, then the ledger's word."""
    checks = [
        Check(1, "proof", True, f"{CRYPTOSUITE} proof verifies, created {proof.created}"),
        Check(2, "did:key", True, f"signed by {proof.issuer_did}, the credential's issuer"),
    ]
    status = PASS
    # 3. validity window of the credential itself
    if proof.valid_until is not None and now > proof.valid_until:
        checks.append(Check(3, "validity", False, f"expired at {credential['validUntil']}"))
        status = FAIL
    elif proof.valid_from is not None and now < proof.valid_from:
        checks.append(Check(3, "validity", False, f"not valid before {credential['validFrom']}"))
        status = REVIEW
    else:
        checks.append(Check(3, "validity", True, "within validFrom and validUntil"))
    # 4. the certificate in the ledger, its auditor's key and dates
    if not consulted:
        checks.append(
            Check(4, "ledger", None, "no ledger consulted: revocation since issue not checked")
        )
        status = FAIL if status == FAIL else REVIEW
    elif proof.certificate is None or ledger is None:
        what = proof.certificate or "no lotchain certificate (credentialSubject.id)"
        checks.append(Check(4, "ledger", False, f"the ledger holds no certificate {what}"))
        status = FAIL
    else:
        mismatch = []
        if key_id(proof.public_key) not in ledger.issuer_keys:
            mismatch.append(f"the signing key is not a valid key of {ledger.issuer}")
        if (
            credential.get("validFrom") != ledger.valid_from + "T00:00:00Z"
            or credential.get("validUntil") != ledger.valid_until + "T23:59:59Z"
        ):
            mismatch.append(
                f"its validity differs from the certificate's ({ledger.valid_from} to "
                f"{ledger.valid_until})"
            )
        if mismatch:
            checks.append(Check(4, "ledger", False, "; ".join(mismatch)))
            status = FAIL
        else:
            checks.append(
                Check(
                    4,
                    "ledger",
                    True,
                    f"certificate {ledger.certificate_id} issued by "
                    f"{ledger.issuer} with this key ({ledger.attestation})",
                )
            )
        # 5. the certificate's status now: revoked, expired or invalid since issue
        reasons = "; ".join(ledger.reasons)
        if ledger.status == "valid":
            checks.append(Check(5, "status", True, "the ledger holds the certificate valid"))
        elif ledger.status == "not_yet_valid":
            checks.append(Check(5, "status", False, f"not yet valid: {reasons}"))
            status = FAIL if status == FAIL else REVIEW
        else:
            checks.append(Check(5, "status", False, f"{ledger.status}: {reasons}"))
            status = FAIL
    issuer = credential.get("issuer")
    name = issuer.get("name") if isinstance(issuer, dict) else None
    credential_id = credential.get("id")
    return CredentialVerdict(
        status=status,
        credential=credential_id if isinstance(credential_id, str) else None,
        issuer=f"{name} ({proof.issuer_did})" if isinstance(name, str) else proof.issuer_did,
        certificate=proof.certificate,
        checks=tuple(checks),
    )
