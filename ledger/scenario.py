"""Build realistic ledgers in code: used by the demo, the tests and the benchmarks.

A :class:`Scenario` holds the signers of the parties it admits and appends signed
attestations through a real :class:`~ledger.log.Ledger`; nothing is faked. Dates
come from the caller, so test data is fixed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ledger.attestation import Attestation, make_attestation
from ledger.encoding import b64encode, format_timestamp
from ledger.keys import Signer
from ledger.log import Ledger, Receipt


def doc_hash(text: str) -> str:
    """A stand-in document digest (the ledger stores hashes of documents, never the files)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def output(
    lot: str, material: str, hs_code: str, amount: str, unit: str = "kg", mass_kg: str | None = None
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "lot": lot,
        "material": {"name": material, "hs_code": hs_code},
        "quantity": {"amount": amount, "unit": unit},
    }
    if mass_kg is not None:
        item["mass_kg"] = mass_kg
    return item


def address(street: str, locality: str, country: str) -> dict[str, str]:
    return {"street": street, "locality": locality, "country": country}


@dataclass
class Scenario:
    """A ledger plus the private keys of the parties admitted through it."""

    ledger: Ledger
    registrar: str
    signers: dict[str, Signer] = field(default_factory=dict)
    seed: bytes | None = None
    _counter: int = 0

    def _nonce(self) -> str | None:
        if self.seed is None:
            return None
        self._counter += 1
        return hashlib.sha256(self.seed + self._counter.to_bytes(8, "big")).hexdigest()[:32]

    def _signer_for(self, party: str) -> Signer:
        if party not in self.signers and self.seed is not None:
            self.signers[party] = Signer.from_seed(
                hashlib.sha256(self.seed + party.encode()).digest()
            )
        return self.signers.setdefault(party, Signer.generate())

    def sign(
        self,
        type_: str,
        issuer: str,
        body: dict[str, Any],
        now: datetime,
        cosigners: tuple[str, ...] = (),
    ) -> Attestation:
        signers = [self.signers[issuer], *(self.signers[c] for c in cosigners)]
        return make_attestation(type_, issuer, body, signers, now=now, nonce=self._nonce())

    def append(
        self,
        type_: str,
        issuer: str,
        body: dict[str, Any],
        now: datetime,
        cosigners: tuple[str, ...] = (),
    ) -> Receipt:
        return self.ledger.append(self.sign(type_, issuer, body, now, cosigners).envelope)

    # -- actors ------------------------------------------------------------------------

    def party(
        self,
        party_id: str,
        legal_name: str,
        country: str,
        roles: list[str],
        now: datetime,
        *,
        aliases: list[str] | None = None,
        street: str = "1 Main Road",
        locality: str = "Capital",
        filer_codes: list[str] | None = None,
    ) -> Receipt:
        signer = self._signer_for(party_id)
        body: dict[str, Any] = {
            "party_id": party_id,
            "legal_name": legal_name,
            "country": country,
            "roles": roles,
            "address": address(street, locality, country),
            "keys": [
                {
                    "key_id": signer.key_id,
                    "public_key": b64encode(signer.public_key),
                    "valid_from": format_timestamp(now),
                }
            ],
        }
        if aliases:
            body["aliases"] = aliases
        if filer_codes:
            body["filer_codes"] = filer_codes
        return self.append("party", self.registrar, body, now)

    def facility(
        self,
        facility_id: str,
        name: str,
        operator: str,
        country: str,
        processes: list[str],
        now: datetime,
        *,
        region: str | None = None,
        locality: str = "Industrial Park",
    ) -> Receipt:
        body: dict[str, Any] = {
            "facility_id": facility_id,
            "name": name,
            "operator": operator,
            "address": address("1 Mill Road", locality, country),
            "country": country,
            "processes": processes,
        }
        if region:
            body["region"] = region
        return self.append("facility", operator, body, now)

    # -- material ----------------------------------------------------------------------

    def origin(
        self,
        issuer: str,
        facility: str,
        material: str,
        hs_code: str,
        outputs: list[dict[str, Any]],
        produced_on: str,
        now: datetime,
    ) -> Receipt:
        body = {
            "facility": facility,
            "material": {"name": material, "hs_code": hs_code},
            "produced_on": produced_on,
            "outputs": outputs,
        }
        return self.append("origin", issuer, body, now)

    def transform(
        self,
        issuer: str,
        facility: str,
        process: str,
        inputs: list[tuple[str, str]],
        outputs: list[dict[str, Any]],
        event_time: datetime,
        now: datetime,
    ) -> Receipt:
        body = {
            "facility": facility,
            "process": process,
            "event_time": format_timestamp(event_time),
            "inputs": [{"ref": ref, "amount": amount} for ref, amount in inputs],
            "outputs": outputs,
        }
        return self.append("transformation", issuer, body, now)

    def transfer(
        self,
        seller: str,
        buyer: str,
        inputs: list[tuple[str, str]],
        outputs: list[dict[str, Any]],
        event_time: datetime,
        now: datetime,
        *,
        invoice: str = "INV-0001",
        cosign: bool = False,
    ) -> Receipt:
        body = {
            "from": seller,
            "to": buyer,
            "event_time": format_timestamp(event_time),
            "inputs": [{"ref": ref, "amount": amount} for ref, amount in inputs],
            "outputs": outputs,
            "documents": [
                {"kind": "invoice", "number": invoice, "sha256": doc_hash(invoice)},
                {
                    "kind": "bill-of-lading",
                    "number": "BL-" + invoice,
                    "sha256": doc_hash("BL-" + invoice),
                },
            ],
        }
        return self.append("transfer", seller, body, now, (buyer,) if cosign else ())

    def hand_over(
        self,
        seller: str,
        buyer: str,
        made: Receipt,
        item: dict[str, Any],
        event_time: datetime,
        now: datetime,
        *,
        invoice: str,
        cosign: bool = False,
    ) -> Receipt:
        """Sell the whole first output of ``made`` (described by ``item``) as it is."""
        whole = item["quantity"]["amount"]
        return self.transfer(
            seller,
            buyer,
            [(made.attestation + "#0", whole)],
            [item],
            event_time,
            now,
            invoice=invoice,
            cosign=cosign,
        )

    def shipment(
        self,
        importer: str,
        entry_number: str,
        inputs: list[tuple[str, str]],
        exporter: str,
        manufacturer: str,
        country_of_origin: str,
        arrival_date: str,
        now: datetime,
        *,
        hts_code: str = "6109.10.0012",
        description: str = "Men's cotton knit T-shirts",
        value_usd: str | None = None,
        lines: list[dict[str, Any]] | None = None,
    ) -> Receipt:
        """An entry of one line (the first input's amount in pieces), or of ``lines``."""
        pieces = inputs[0][1] if inputs else "1"
        line: dict[str, Any] = {
            "hts_code": hts_code,
            "description": description,
            "quantity": {"amount": pieces, "unit": "pcs"},
        }
        if value_usd is not None:
            line["value_usd"] = value_usd
        body: dict[str, Any] = {
            "entry_number": entry_number,
            "hts_lines": lines if lines is not None else [line],
            "exporter": exporter,
            "manufacturer": manufacturer,
            "country_of_origin": country_of_origin,
            "arrival_date": arrival_date,
            "inputs": [{"ref": ref, "amount": amount} for ref, amount in inputs],
        }
        return self.append("shipment", importer, body, now)

    def audit(
        self,
        auditor: str,
        facility: str,
        result: str,
        audit_date: str,
        now: datetime,
        *,
        scheme: str = "SA8000",
    ) -> Receipt:
        body = {
            "facility": facility,
            "scheme": scheme,
            "audit_date": audit_date,
            "result": result,
            "topics": [
                "restriction-of-movement",
                "retention-of-identity-documents",
                "withholding-of-wages",
                "debt-bondage",
                "excessive-overtime",
            ],
            "findings": [],
            "evidence_sha256": doc_hash(f"audit report {facility} {audit_date}"),
        }
        return self.append("audit", auditor, body, now)

    def certificate(
        self,
        auditor: str,
        certificate_id: str,
        facility: str,
        audits: list[str],
        valid_from: str,
        valid_until: str,
        now: datetime,
        *,
        scheme: str = "SA8000",
        processes: list[str] | None = None,
    ) -> Receipt:
        body = {
            "certificate_id": certificate_id,
            "facility": facility,
            "scheme": scheme,
            "scope": {"processes": processes or ["processing"], "materials": ["cotton"]},
            "valid_from": valid_from,
            "valid_until": valid_until,
            "audits": audits,
        }
        return self.append("certificate", auditor, body, now)

    # -- revocations -------------------------------------------------------------------

    def revoke(
        self, issuer: str, target: str, reason: str, effective_at: datetime, now: datetime
    ) -> Receipt:
        """Revoke an earlier attestation (a certificate, an audit, an erroneous event)."""
        body = {"target": target, "reason": reason, "effective_at": format_timestamp(effective_at)}
        return self.append("revocation", issuer, body, now)

    def revoke_key(
        self,
        issuer: str,
        party: str,
        effective_at: datetime,
        now: datetime,
        *,
        reason: str = "Key compromised",
    ) -> Receipt:
        """Revoke ``party``'s key, possibly back-dated to a compromise before ``now``."""
        body = {
            "party": party,
            "action": "revoke",
            "key_id": self.signers[party].key_id,
            "effective_at": format_timestamp(effective_at),
            "reason": reason,
        }
        return self.append("key", issuer, body, now)

    # -- enforcement -------------------------------------------------------------------

    def detain(
        self,
        cbp: str,
        shipment: str,
        basis: str,
        entered_on: str,
        detained_on: str,
        now: datetime,
        *,
        reason: str = "Goods may be produced with forced labor",
        **extra: Any,
    ) -> Receipt:
        """A notice of detention (``extra``: presented_on, notice_date, merchandise...)."""
        body = {
            "shipment": shipment,
            "legal_basis": basis,
            "entered_on": entered_on,
            "detained_on": detained_on,
            "reason": reason,
            **extra,
        }
        return self.append("detention", cbp, body, now)

    def submit_admissibility(
        self,
        importer: str,
        shipment: str,
        detention: str,
        kind: str,
        bundle_sha256: str,
        now: datetime,
        *,
        documents: list[dict[str, str]] | None = None,
    ) -> Receipt:
        body: dict[str, Any] = {
            "shipment": shipment,
            "detention": detention,
            "kind": kind,
            "bundle_sha256": bundle_sha256,
        }
        if documents:
            body["documents"] = documents
        return self.append("admissibility", importer, body, now)

    def determine(
        self,
        cbp: str,
        shipment: str,
        detention: str,
        outcome: str,
        decided_on: str,
        now: datetime,
        *,
        reasons: str = "Determined on the evidence submitted",
        rested_on: list[str] | None = None,
    ) -> Receipt:
        body: dict[str, Any] = {
            "shipment": shipment,
            "detention": detention,
            "outcome": outcome,
            "decided_on": decided_on,
            "reasons": reasons,
        }
        if rested_on:
            body["rested_on"] = rested_on
        return self.append("determination", cbp, body, now)
