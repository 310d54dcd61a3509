"""What the demo chains share: lot kinds, fixed dates and a builder that records shipments.

The demo ledger: cotton apparel and polysilicon solar chains across several countries.

Every party, facility and lot is fictional except the screened names, which are real
UFLPA Entity List names. Among the shipments some pass, one needs review (a facility
without a certificate), and some fail (Xinjiang origin, an entity-listed spinner, an
expired certificate, an over-yield gin). A double spend is refused at append.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ledger.scenario import Scenario, output


def at(day: str, hour: int = 9) -> datetime:
    """An event time on a fixed date (demo data never depends on today's date)."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@dataclass
class DemoLedger:
    """What the demo built: shipments with their ids, and what happened to the double spend."""

    shipments: list[dict[str, Any]] = field(default_factory=list)
    parties: list[dict[str, str]] = field(default_factory=list)
    refused: list[dict[str, str]] = field(default_factory=list)


SEED_COTTON = ("seed cotton", "5201.00")
LINT = ("cotton lint", "5201.00")
YARN = ("cotton yarn", "5205.11")
TSHIRTS = ("cotton knit T-shirts", "6109.10")


def lot(
    label: str, kind: tuple[str, str], amount: str, unit: str = "kg", mass_kg: str | None = None
) -> dict[str, Any]:
    return output(label, kind[0], kind[1], amount, unit, mass_kg)


class Builder:
    def __init__(self, scenario: Scenario, now: datetime) -> None:
        self.s = scenario
        self.now = now
        self.result = DemoLedger()

    def party(
        self,
        pid: str,
        name: str,
        country: str,
        roles: list[str],
        *,
        aliases: list[str] | None = None,
        locality: str = "Capital",
        filer_codes: list[str] | None = None,
    ) -> None:
        self.s.party(
            pid,
            name,
            country,
            roles,
            self.now,
            aliases=aliases,
            locality=locality,
            filer_codes=filer_codes,
        )
        self.result.parties.append(
            {"id": pid, "name": name, "country": country, "roles": ",".join(roles)}
        )

    def facility(
        self,
        fid: str,
        name: str,
        operator: str,
        country: str,
        region: str,
        processes: list[str],
        locality: str,
    ) -> None:
        self.s.facility(
            fid, name, operator, country, processes, self.now, region=region, locality=locality
        )

    def certify(
        self,
        auditor: str,
        facility: str,
        cert_id: str,
        audit_day: str,
        valid_from: str,
        valid_until: str,
        processes: list[str],
    ) -> None:
        audit = self.s.audit(auditor, facility, "pass", audit_day, self.now)
        self.s.certificate(
            auditor,
            cert_id,
            facility,
            [audit.attestation],
            valid_from,
            valid_until,
            self.now,
            processes=processes,
        )

    def ship(
        self,
        label: str,
        expect: str,
        importer: str,
        entry: str,
        lot: str,
        amount: str,
        exporter: str,
        manufacturer: str,
        origin_country: str,
        arrival: str,
        hts: str,
        description: str,
        unit_price_usd: str,
    ) -> None:
        value = (Decimal(amount) * Decimal(unit_price_usd)).quantize(Decimal("0.01"))
        receipt = self.s.shipment(
            importer,
            entry,
            [(lot, amount)],
            exporter,
            manufacturer,
            origin_country,
            arrival,
            self.now,
            hts_code=hts,
            description=description,
            value_usd=str(value),
        )
        self.result.shipments.append(
            {
                "label": label,
                "id": receipt.attestation,
                "entry_number": entry,
                "expected": expect,
                "importer": importer,
            }
        )
