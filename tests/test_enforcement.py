"""Detention to determination: each admission rule with its code and nothing written,
status transitions and deadlines from the rules, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from conftest import T0, Clock
from ledger import enforcement
from ledger.errors import LedgerError
from ledger.log import Ledger
from ledger.scenario import Scenario, output

CBP = "party:us-cbp"
ACME = "party:acme"
RIVAL = "party:rival"
BUNDLE = "ab" * 32
ARRIVAL = "2025-02-20"


def _tables(ledger: Ledger) -> dict[str, int]:
    return {m._meta.table_name: m.select().count() for m in ledger.store.m.values()}


@pytest.fixture
def world(scenario: Scenario) -> dict[str, str]:
    """A farm sells seed cotton to Acme, which imports it; CBP and a rival importer."""
    s = scenario
    s.party("party:farm", "Patel Cotton Farm", "IN", ["supplier"], T0)
    s.party(ACME, "Acme Apparel Inc.", "US", ["importer"], T0, filer_codes=["ACM"])
    s.party(RIVAL, "Rival Imports LLC", "US", ["importer"], T0, filer_codes=["RIV"])
    s.party(CBP, "U.S. Customs and Border Protection", "US", ["cbp"], T0)
    s.facility("facility:farm", "Patel Farm", "party:farm", "IN", ["farming"], T0, region="IN-GJ")
    lot = output("SC-1", "seed cotton", "5201.00", "1000")
    made = s.origin(
        "party:farm", "facility:farm", "seed cotton", "5201.00", [lot], "2024-10-01", T0
    )
    sold = s.transfer(
        "party:farm", ACME, [(made.attestation + "#0", "1000")], [lot], T0 - timedelta(days=2), T0
    )
    ship = s.shipment(
        ACME,
        "ACM-0000001-5",
        [(sold.attestation + "#0", "1000")],
        "party:farm",
        "party:farm",
        "IN",
        ARRIVAL,
        T0,
        hts_code="5201.00",
        description="Seed cotton",
    )
    return {"shipment": ship.attestation, "transfer": sold.attestation}


def _refused(s: Scenario, type_: str, issuer: str, body: dict[str, object], code: str) -> str:
    ledger = s.ledger
    before, head = _tables(ledger), ledger.store.head()
    with pytest.raises(LedgerError) as err:
        s.append(type_, issuer, body, T0)
    assert err.value.code == code, err.value.message
    assert _tables(ledger) == before, "a refused envelope must write nothing"
    assert ledger.store.head() == head
    return err.value.message


def _detention(shipment: str, basis: str = "uflpa", **extra: object) -> dict[str, object]:
    return {
        "shipment": shipment,
        "legal_basis": basis,
        "entered_on": ARRIVAL,
        "detained_on": "2025-02-24",
        "reason": "Cotton may originate in CN-XJ",
        **extra,
    }


def _detain(s: Scenario, shipment: str, basis: str = "uflpa") -> str:
    return s.detain(CBP, shipment, basis, ARRIVAL, "2025-02-24", T0).attestation


# -- detention ------------------------------------------------------------------------


def test_only_cbp_detains(scenario: Scenario, world: dict[str, str]) -> None:
    _refused(scenario, "detention", ACME, _detention(world["shipment"]), "ROLE")


def test_detention_of_a_missing_or_non_shipment(scenario: Scenario, world: dict[str, str]) -> None:
    _refused(scenario, "detention", CBP, _detention("sha256:" + "0" * 64), "REF_MISSING")
    _refused(scenario, "detention", CBP, _detention(world["transfer"]), "REF_MISSING")


def test_detained_once(scenario: Scenario, world: dict[str, str]) -> None:
    _detain(scenario, world["shipment"])
    _refused(scenario, "detention", CBP, _detention(world["shipment"]), "REPLAY")


def test_detention_dates_in_order(scenario: Scenario, world: dict[str, str]) -> None:
    body = _detention(world["shipment"], detained_on="2025-02-19")
    _refused(scenario, "detention", CBP, body, "TIME_ORDER")
    body = _detention(world["shipment"], detained_on="2025-04-01")  # after the log's clock
    _refused(scenario, "detention", CBP, body, "TIME_ORDER")
    body = _detention(world["shipment"], detained_on="2025-02-30")  # no such day
    _refused(scenario, "detention", CBP, body, "SCHEMA")


def test_detention_entry_date_is_the_arrival_date(
    scenario: Scenario, world: dict[str, str]
) -> None:
    body = _detention(world["shipment"], entered_on="2025-02-21", detained_on="2025-02-24")
    message = _refused(scenario, "detention", CBP, body, "MALFORMED")
    assert ARRIVAL in message


def test_detention_requests_what_its_basis_takes(scenario: Scenario, world: dict[str, str]) -> None:
    body = _detention(world["shipment"], requested=["certificate-of-origin"])
    _refused(scenario, "detention", CBP, body, "ENFORCEMENT")


# -- admissibility --------------------------------------------------------------------


def _submission(
    shipment: str, detention: str, kind: str = "applicability-review"
) -> dict[str, object]:
    return {"shipment": shipment, "detention": detention, "kind": kind, "bundle_sha256": BUNDLE}


def test_only_the_importer_of_the_shipment_submits(
    scenario: Scenario, world: dict[str, str]
) -> None:
    detention = _detain(scenario, world["shipment"])
    body = _submission(world["shipment"], detention)
    _refused(scenario, "admissibility", CBP, body, "ROLE")  # not an importer at all
    message = _refused(scenario, "admissibility", RIVAL, body, "ROLE")
    # the rival learns nothing it could not read in the public leaves: no type, no state
    assert "detain" not in message and "shipment " + world["shipment"] not in message


def test_a_rival_gets_the_same_answer_for_a_detained_and_an_undetained_shipment(
    scenario: Scenario, world: dict[str, str]
) -> None:
    body = _submission(world["shipment"], "sha256:" + "1" * 64)
    before = _refused(scenario, "admissibility", RIVAL, body, "ROLE")
    _detain(scenario, world["shipment"])
    after = _refused(scenario, "admissibility", RIVAL, body, "ROLE")
    assert before == after


def test_submission_refers_to_a_detention_of_that_shipment(
    scenario: Scenario, world: dict[str, str]
) -> None:
    body = _submission(world["shipment"], "sha256:" + "2" * 64)
    _refused(scenario, "admissibility", ACME, body, "REF_MISSING")  # not detained at all
    _detain(scenario, world["shipment"])
    body = _submission(world["shipment"], world["transfer"])
    _refused(scenario, "admissibility", ACME, body, "REF_MISSING")
    # another party's entry, whatever its type: the same answer as any entry not its own
    body = _submission(world["transfer"], world["transfer"])
    _refused(scenario, "admissibility", ACME, body, "ROLE")


def test_submission_kind_fits_the_basis(scenario: Scenario, world: dict[str, str]) -> None:
    detention = _detain(scenario, world["shipment"], "wro-2021-01-13-xinjiang-cotton-tomato")
    body = _submission(world["shipment"], detention, "exception-request")
    _refused(scenario, "admissibility", ACME, body, "ENFORCEMENT")
    scenario.append(
        "admissibility",
        ACME,
        _submission(world["shipment"], detention, "certificate-of-origin"),
        T0,
    )


def test_no_submission_after_the_determination(scenario: Scenario, world: dict[str, str]) -> None:
    detention = _detain(scenario, world["shipment"])
    scenario.determine(CBP, world["shipment"], detention, "excluded", "2025-02-28", T0)
    body = _submission(world["shipment"], detention)
    _refused(scenario, "admissibility", ACME, body, "ENFORCEMENT")


# -- determination --------------------------------------------------------------------


def _determination(shipment: str, detention: str, outcome: str = "released") -> dict[str, object]:
    return {
        "shipment": shipment,
        "detention": detention,
        "outcome": outcome,
        "decided_on": "2025-02-28",
        "reasons": "Supply chain traced to India",
    }


def test_only_cbp_determines(scenario: Scenario, world: dict[str, str]) -> None:
    detention = _detain(scenario, world["shipment"])
    _refused(scenario, "determination", ACME, _determination(world["shipment"], detention), "ROLE")


def test_a_determination_follows_a_detention(scenario: Scenario, world: dict[str, str]) -> None:
    body = _determination(world["shipment"], "sha256:" + "3" * 64)
    _refused(scenario, "determination", CBP, body, "REF_MISSING")
    _refused(
        scenario,
        "determination",
        CBP,
        _determination("sha256:" + "4" * 64, "sha256:" + "3" * 64),
        "REF_MISSING",
    )


def test_a_determination_is_made_once(scenario: Scenario, world: dict[str, str]) -> None:
    detention = _detain(scenario, world["shipment"])
    scenario.append("determination", CBP, _determination(world["shipment"], detention), T0)
    body = _determination(world["shipment"], detention, "excluded")
    _refused(scenario, "determination", CBP, body, "REPLAY")


@pytest.mark.parametrize(
    ("basis", "outcome"),
    [
        ("uflpa", "seized"),
        ("wro-2021-06-24-hoshine", "seized"),
        ("fnd-2024-12-04-kingtom", "re-exported"),
        ("fnd-2024-12-04-kingtom", "excluded"),
    ],
)
def test_outcomes_the_basis_allows(
    scenario: Scenario, world: dict[str, str], basis: str, outcome: str
) -> None:
    detention = _detain(scenario, world["shipment"], basis)
    body = _determination(world["shipment"], detention, outcome)
    _refused(scenario, "determination", CBP, body, "ENFORCEMENT")


def test_determination_dates_and_references(scenario: Scenario, world: dict[str, str]) -> None:
    detention = _detain(scenario, world["shipment"])
    body = {**_determination(world["shipment"], detention), "decided_on": "2025-02-23"}
    _refused(scenario, "determination", CBP, body, "TIME_ORDER")
    body = {**_determination(world["shipment"], detention), "rested_on": ["sha256:" + "5" * 64]}
    _refused(scenario, "determination", CBP, body, "REF_MISSING")


def test_seizure_under_a_finding(scenario: Scenario, world: dict[str, str]) -> None:
    detention = _detain(scenario, world["shipment"], "fnd-2024-12-04-kingtom")
    scenario.determine(CBP, world["shipment"], detention, "seized", "2025-02-28", T0)
    assert enforcement.status(scenario.ledger.store.enforcement(world["shipment"])) == "seized"


# -- status and deadlines -------------------------------------------------------------


def test_status_moves_from_none_to_released(
    scenario: Scenario, world: dict[str, str], clock: Clock
) -> None:
    store, shipment = scenario.ledger.store, world["shipment"]
    assert enforcement.status(store.enforcement(shipment)) == "none"
    detention = _detain(scenario, shipment)
    assert enforcement.status(store.enforcement(shipment)) == "detained"
    scenario.submit_admissibility(ACME, shipment, detention, "applicability-review", BUNDLE, T0)
    assert enforcement.status(store.enforcement(shipment)) == "submitted"
    early = {**_determination(shipment, detention), "decided_on": "2025-02-28"}
    _refused(scenario, "determination", CBP, early, "TIME_ORDER")  # before the submission
    decided = scenario.determine(CBP, shipment, detention, "released", "2025-03-01", T0)
    steps = store.enforcement(shipment)
    assert [s.status for s in steps] == ["detained", "submitted", "released"]
    view = enforcement.status_json(shipment, steps, T0.date())
    assert view["status"] == "released" and view["cbp_result"] == "released"
    assert view["history"][-1]["attestation"] == decided.attestation
    assert store.enforcement_statuses() == {shipment: "released"}


def test_uflpa_deadlines_from_the_rules(scenario: Scenario, world: dict[str, str]) -> None:
    # detained Mon 2025-02-24; notice by 5 business days later; 30 days to submit from the
    # notice; CBP decides within 30 days of presentation (the arrival, 2025-02-20)
    due = enforcement.deadlines(
        "uflpa", {"entered_on": ARRIVAL, "detained_on": "2025-02-24", "notice_date": "2025-02-26"}
    )
    assert due.notice_by == date(2025, 3, 3)
    assert due.submit_by == date(2025, 3, 28)
    assert due.decide_by == date(2025, 3, 22)
    _detain(scenario, world["shipment"])
    (step,) = scenario.ledger.store.enforcement(world["shipment"])
    assert (step.due, step.decide_by) == ("2025-03-26", "2025-03-22")


def test_wro_and_finding_deadlines_are_three_months_from_importation() -> None:
    dates = {"entered_on": "2024-11-30", "detained_on": "2024-12-05"}
    assert enforcement.deadlines("wro-2021-06-24-hoshine", dates).submit_by == date(2025, 2, 28)
    assert enforcement.deadlines("fnd-2024-12-04-kingtom", dates).decide_by is None


def test_business_days_skip_federal_holidays() -> None:
    # Wed 2025-11-26 + 5 business days: Thanksgiving (Thu 27) is skipped
    assert enforcement.add_business_days(date(2025, 11, 26), 5) == date(2025, 12, 4)
    # July 4th 2026 is a Saturday: observed Friday July 3rd
    assert date(2026, 7, 3) in enforcement.federal_holidays(2026)


def test_a_late_submission_is_accepted_and_flagged(
    scenario: Scenario, world: dict[str, str], clock: Clock
) -> None:
    shipment = world["shipment"]
    detention = scenario.detain(
        CBP, shipment, "uflpa", ARRIVAL, "2025-02-24", T0, respond_by="2025-02-27"
    ).attestation
    clock.now = T0 + timedelta(days=3)  # 2025-03-04, after the notice's date
    scenario.submit_admissibility(ACME, shipment, detention, "exception-request", BUNDLE, clock.now)
    view = enforcement.status_json(
        shipment, scenario.ledger.store.enforcement(shipment), date(2025, 3, 4)
    )
    assert view["status"] == "submitted" and view["late"] is True
    assert view["history"][1]["late"] is True


def test_no_determination_in_time_is_deemed_exclusion(
    scenario: Scenario, world: dict[str, str]
) -> None:
    shipment = world["shipment"]
    _detain(scenario, shipment)
    steps = scenario.ledger.store.enforcement(shipment)
    assert "deemed" not in enforcement.status_json(shipment, steps, date(2025, 3, 22))
    view = enforcement.status_json(shipment, steps, date(2025, 3, 23))
    assert view["deemed"]["outcome"] == "excluded" and view["deemed"]["since"] == "2025-03-23"
    assert view["cbp_result"] == "pending"


def test_wro_exclusion_names_the_abandonment_date(
    scenario: Scenario, world: dict[str, str]
) -> None:
    shipment = world["shipment"]
    detention = _detain(scenario, shipment, "wro-2021-01-13-xinjiang-cotton-tomato")
    scenario.determine(CBP, shipment, detention, "excluded", "2025-02-28", T0)
    view = enforcement.status_json(shipment, scenario.ledger.store.enforcement(shipment), T0.date())
    assert view["abandoned_after"] == "2025-04-29"
    assert view["cbp_result"] == "denied"


def test_the_audit_replays_enforcement(scenario: Scenario, world: dict[str, str]) -> None:
    from ledger.audit import audit_log

    detention = _detain(scenario, world["shipment"])
    scenario.submit_admissibility(
        ACME, world["shipment"], detention, "applicability-review", BUNDLE, T0
    )
    scenario.determine(CBP, world["shipment"], detention, "released", "2025-03-01", T0)
    report = audit_log(scenario.ledger.store, scenario.ledger.trust)
    assert report.ok, report.to_json()


def test_the_migration_adds_the_table_to_an_older_database(
    scenario: Scenario, world: dict[str, str]
) -> None:
    from ledger.storage.migrations import _enforcement_steps

    store = scenario.ledger.store
    store.db.execute_sql('DROP TABLE "enforcement_step"')  # a database from before the table
    with store.db.atomic():
        _enforcement_steps(store)
    assert store.enforcement(world["shipment"]) == ()
    _detain(scenario, world["shipment"])
    assert enforcement.status(store.enforcement(world["shipment"])) == "detained"
    with pytest.raises(Exception, match="append-only"):  # guarded like every table
        store.db.execute_sql('DELETE FROM "enforcement_step"')
