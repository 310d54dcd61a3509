"""The demo ledger: cotton apparel and polysilicon solar chains across several countries.

Every party, facility and lot is fictional except the screened names, which are real
UFLPA Entity List names. Among the shipments some pass, one needs review (a facility
without a certificate), and some fail (Xinjiang origin, an entity-listed spinner, an
expired certificate, an over-yield gin). A double spend is refused at append.
"""

from __future__ import annotations

from datetime import datetime

from ledger.demo.base import Builder, DemoLedger
from ledger.demo.cotton import add_cotton_chains
from ledger.demo.solar import add_hoshine_chain, add_solar_chain
from ledger.scenario import Scenario

__all__ = ["DemoLedger", "build_demo"]


def build_demo(scenario: Scenario, now: datetime) -> DemoLedger:
    """Append the whole demo through ``scenario`` (integration time ``now``)."""
    b = Builder(scenario, now)
    s = scenario
    _actors(b)
    add_cotton_chains(b, s)
    add_solar_chain(b, s)
    add_hoshine_chain(b, s)
    return b.result


def _actors(b: Builder) -> None:
    b.party(
        "party:us-cbp", "U.S. Customs and Border Protection", "US", ["cbp"], locality="Washington"
    )
    b.party(
        "party:northbridge-cert",
        "Northbridge Certification Services Ltd.",
        "GB",
        ["auditor"],
        locality="Manchester",
    )
    b.party(
        "party:meridian-audit",
        "Meridian Social Compliance Pte. Ltd.",
        "SG",
        ["auditor"],
        locality="Singapore",
    )
    b.party(
        "party:acme-apparel",
        "Acme Apparel Inc.",
        "US",
        ["importer"],
        locality="New York",
        filer_codes=["AAP"],
    )
    b.party(
        "party:sunrise-solar",
        "Sunrise Solar Imports LLC",
        "US",
        ["importer"],
        locality="Phoenix",
        filer_codes=["SSI"],
    )
