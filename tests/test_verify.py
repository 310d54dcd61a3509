"""Shipment verification: a clean chain passes; each rule broken alone gives its one code.

Every test builds a realistic chain through a real ledger. Rules the log enforces at
append time (signatures, keys, roles, references, custody, amounts) are broken by
letting one entry past a lying state view (:func:`verify_fixtures.bypass`), as a faulty
or dishonest operator could: the verifier must not rely on the log's admission.
"""

from __future__ import annotations

import copy
import dataclasses
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from verify_solar import SolarChain

import ledger.schemas
from ledger.errors import NotFoundError, UsageError
from ledger.keys import Signer
from ledger.log import Ledger
from ledger.scenario import output
from ledger.storage.ids import node_key
from ledger.verify import verify_shipment_online
from ledger.verify.verdict import STEP_OF, STEPS
from verify_bypass import bypass as _bypass
from verify_fixtures import (
    ENTRY_NUMBER,
    CottonChain,
    World,
    any_world_fixture,  # noqa: F401 - the `any_world` fixture
    day,
    only,
    world_fixture,  # noqa: F401 - the `world` fixture
)

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"


def verdict_validator() -> Draft202012Validator:
    import json

    docs = [json.loads(p.read_text()) for p in SCHEMAS.glob("*.schema.json")]
    registry: Registry[Any] = Registry().with_resources(
        (d["$id"], Resource.from_contents(d)) for d in docs
    )
    verdict = next(d for d in docs if d["$id"].endswith("/verdict.schema.json"))
    return Draft202012Validator(verdict, registry=registry)


# -- clean chains -----------------------------------------------------------------------------


def test_clean_cotton_chain_passes_with_no_findings(any_world: World) -> None:
    CottonChain(any_world).build()
    verdict = any_world.verify()
    assert verdict.status == "pass"
    assert verdict.findings == ()
    data = verdict.to_json()
    assert set(data) == {"shipment", "status", "checkpoint", "findings", "summary"}
    assert verdict_validator().is_valid(data)
    tiers = data["summary"]["tiers"]
    assert [t["process"] for t in tiers] == [
        "shipment",
        "transfer",
        "cut-and-sew",
        "transfer",
        "knitting",
        "transfer",
        "spinning",
        "transfer",
        "ginning",
        "transfer",
        "origin",
    ]
    assert [t["tier"] for t in tiers] == list(range(11))
    assert data["summary"]["countries"] == ["BD", "IN", "US"]
    assert data["summary"]["origins"][0]["region"] == "IN-GJ"
    spinning = next(t for t in tiers if t["process"] == "spinning")
    assert spinning["certificates"][0]["status"] == "valid"
    assert spinning["facility_name"] == "Coimbatore Mill No. 2"
    assert data["summary"]["rules_version"].startswith("2025.1/")


def test_clean_polysilicon_chain_passes_with_no_findings(world: World) -> None:
    SolarChain(world).build()
    verdict = world.verify()
    assert verdict.status == "pass", [f.to_json() for f in verdict.findings]
    processes = [t["process"] for t in verdict.summary["tiers"]]
    for step in (
        "smelting",
        "polysilicon-production",
        "wafering",
        "cell-production",
        "module-assembly",
        "origin",
    ):
        assert step in processes


def test_shipment_found_by_entry_number_and_refused_otherwise(world: World) -> None:
    shipment = CottonChain(world).build()
    assert verify_shipment_online(world.ledger, ENTRY_NUMBER).shipment == shipment
    assert verify_shipment_online(world.ledger, "ABC12345678").shipment == shipment
    with pytest.raises(NotFoundError):
        verify_shipment_online(world.ledger, "XYZ-7654321-0")
    with pytest.raises(NotFoundError):
        verify_shipment_online(world.ledger, "sha256:" + "0" * 64)
    with pytest.raises(UsageError):
        verify_shipment_online(world.ledger, world.ids["spinning"])
    index = world.ledger.entry(shipment).index
    assert verify_shipment_online(world.ledger, index).shipment == shipment
    assert verify_shipment_online(world.ledger, str(index)).shipment == shipment
    with pytest.raises(UsageError):
        verify_shipment_online(world.ledger, index - 1)
    with pytest.raises(NotFoundError):
        verify_shipment_online(world.ledger, 10**6)


def test_steps_are_numbered_and_cover_every_code() -> None:
    assert [n for n, _, _ in STEPS] == list(range(1, 20))
    table = {
        "LOG_INCLUSION",
        "LOG_CHAIN",
        "SIGNATURE",
        "KEY_INVALID",
        "ROLE",
        "SCHEMA",
        "REF_MISSING",
        "CUSTODY",
        "OVERCONSUMED",
        "YIELD",
        "UNIT",
        "TIME_ORDER",
        "CERT_MISSING",
        "CERT_INVALID",
        "ENTITY_LISTED",
        "REGION_HIGH_RISK",
        "MATERIAL",
        "LOCATION_CONFLICT",
        "SCREENING_MISSING",
        "ENTITY_FORMERLY_LISTED",
        "WRO",
        "FINDING",
    }
    assert table <= set(STEP_OF)


# -- the log: LOG_INCLUSION, LOG_CHAIN ----------------------------------------------------------


def _sql(w: World, statement: str, *params: Any) -> None:
    """Edit the SQLite file directly, as someone with the database (not the log key) could."""
    path = w.home.db_url()
    conn = sqlite3.connect(path)
    try:
        for op in ("update",):
            conn.execute(f'DROP TRIGGER IF EXISTS "node_no_{op}"')
            conn.execute(f'DROP TRIGGER IF EXISTS "checkpoint_no_{op}"')
        conn.execute(statement, params)
        conn.commit()
    finally:
        conn.close()


def test_log_inclusion_a_tampered_merkle_node(world: World) -> None:
    CottonChain(world).build()
    index = world.ledger.entry(world.ids["spinning"]).index
    # the sibling leaf hash is used only by the inclusion proof of the spinning entry
    _sql(world, "UPDATE node SET hash = ? WHERE key = ?", bytes(32), node_key(0, index ^ 1))
    found = only(world, "LOG_INCLUSION")
    assert world.ids["spinning"] in {f["attestation"] for f in found}


def test_log_chain_a_leaf_whose_prev_is_not_its_predecessor(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = CottonChain(world)
    chain.actors()
    chain.certify()
    chain.farm()
    chain.gin()
    real = Ledger._tail

    def wrong_prev(self: Ledger, head: Any) -> Any:
        return dataclasses.replace(real(self, head), prev_hash="ab" * 32)

    with monkeypatch.context() as m:
        m.setattr(Ledger, "_tail", wrong_prev)
        chain.spin()
    chain.knit()
    chain.sew()
    chain.ship()
    found = only(world, "LOG_CHAIN")
    assert {f["attestation"] for f in found} == {
        world.ids["spinning"],
        world.ids["t:spinner-knitter"],
    }


def test_checkpoint_that_does_not_verify_fails(world: World) -> None:
    CottonChain(world).build()
    _sql(
        world,
        "UPDATE checkpoint SET note = CAST(replace(CAST(note AS TEXT), 'lotchain', "
        "'lotchaim') AS BLOB) WHERE size = (SELECT MAX(size) FROM checkpoint)",
    )
    verdict = world.verify()
    assert verdict.status == "fail"
    assert verdict.codes() == {"CHECKPOINT"}


# -- SIGNATURE, SCHEMA, KEY_INVALID, ROLE -----------------------------------------------------


class Forger:
    """Signs with a key it does not own, under the key id of the party's real key."""

    def __init__(self, real: Signer) -> None:
        self.key_id = real.key_id
        self.forged = Signer.generate()

    def sign(self, message: bytes) -> bytes:
        return self.forged.sign(message)


def test_signature_that_does_not_verify(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    chain = CottonChain(world)
    chain.actors()
    chain.certify()
    chain.farm()
    chain.gin()
    spinner = chain.party("spinner")
    real = world.s.signers[spinner]
    forger = Forger(real)
    world.s.signers[spinner] = forger  # type: ignore[assignment]
    with _bypass(monkeypatch, forged_key=forger.forged):
        chain.spin()
    world.s.signers[spinner] = real
    chain.knit()
    chain.sew()
    chain.ship()
    found = only(world, "SIGNATURE")
    assert {f["attestation"] for f in found} == {
        world.ids["spinning"],
        world.ids["t:spinner-knitter"],
    }


def test_schema_a_payload_that_does_not_validate(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = CottonChain(world)
    chain.actors()
    chain.certify()
    chain.farm()
    chain.gin()
    chain.spin()
    now = world.at(day("2025-03-20"))
    body = {
        "facility": chain.facility("knitter"),
        "process": "knitting",
        "event_time": "2025-03-20T10:00:00Z",
        "inputs": [{"ref": world.ids["t:spinner-knitter"] + "#0", "amount": "3200"}],
        "outputs": [output("GKF-SJ-0042", "cotton single jersey fabric", "6006.21", "3100")],
        "colour": "white",
    }
    with monkeypatch.context() as m:
        m.setattr(ledger.schemas, "validate", lambda *a, **k: None)
        world.log("knitting", world.s.append("transformation", chain.party("knitter"), body, now))
    now = world.at(day("2025-03-22"))
    world.log(
        "t:knitter-garment",
        world.s.transfer(
            chain.party("knitter"),
            chain.party("garment"),
            [(world.ids["knitting"] + "#0", "3100")],
            [output("DAL-FAB-0042", "cotton single jersey fabric", "6006.21", "3100")],
            now,
            now,
        ),
    )
    chain.sew()
    chain.ship()
    found = only(world, "SCHEMA")
    assert [f["attestation"] for f in found] == [world.ids["knitting"]]
    assert "colour" in found[0]["message"]


def test_key_invalid_after_a_backdated_revocation(world: World) -> None:
    chain = CottonChain(world)
    chain.build()
    # the spinner's key was compromised on 10 March; the registrar says so on 11 April
    world.s.revoke_key(
        "party:registrar", chain.party("spinner"), day("2025-03-10"), world.at(day("2025-04-11"))
    )
    found = only(world, "KEY_INVALID")
    assert {f["attestation"] for f in found} == {
        world.ids["spinning"],
        world.ids["t:spinner-knitter"],
    }
    assert "revoked effective 2025-03-10" in found[0]["message"]


def test_key_revoked_after_the_entries_leaves_them_valid(world: World) -> None:
    chain = CottonChain(world)
    chain.build()
    world.s.revoke_key(
        "party:registrar", chain.party("spinner"), day("2025-04-05"), world.at(day("2025-04-11"))
    )
    assert world.verify().status == "pass"


def test_role_not_held_when_the_entry_was_logged(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = CottonChain(world)
    chain.actors()
    chain.certify()
    chain.farm()
    chain.gin()
    chain.spin()
    # the knitter becomes a mere importer (re-registered) before it claims to knit
    knitter = chain.party("knitter")
    world.s.party(
        knitter, "Gazipur Knit Fabrics Ltd.", "BD", ["importer"], world.at(day("2025-03-18"))
    )
    with _bypass(monkeypatch, roles={knitter: ["supplier"]}):
        chain.knit()
    chain.sew()
    chain.ship()
    found = only(world, "ROLE")
    assert [f["attestation"] for f in found] == [world.ids["knitting"]]


# -- REF_MISSING, CUSTODY, OVERCONSUMED ------------------------------------------------------


def test_ref_missing_an_input_that_does_not_exist(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = CottonChain(world)
    chain.actors()
    chain.certify()
    chain.farm()
    chain.gin()
    chain.spin()
    knitter = chain.party("knitter")
    ghost = "sha256:" + "7" * 64 + "#0"
    now = world.at(day("2025-03-20"))
    with _bypass(monkeypatch, fake_output=knitter):
        world.log(
            "knitting",
            world.s.transform(
                knitter,
                chain.facility("knitter"),
                "knitting",
                [(world.ids["t:spinner-knitter"] + "#0", "3200"), (ghost, "500")],
                [output("GKF-SJ-0042", "cotton single jersey fabric", "6006.21", "3100")],
                now,
                now,
            ),
        )
    now = world.at(day("2025-03-22"))
    world.log(
        "t:knitter-garment",
        world.s.transfer(
            knitter,
            chain.party("garment"),
            [(world.ids["knitting"] + "#0", "3100")],
            [output("DAL-FAB-0042", "cotton single jersey fabric", "6006.21", "3100")],
            now,
            now,
        ),
    )
    chain.sew()
    chain.ship()
    found = only(world, "REF_MISSING")
    assert [f["attestation"] for f in found] == [world.ids["knitting"]]


def test_ref_missing_an_input_revoked_before_it_was_consumed(world: World) -> None:
    chain = CottonChain(world)
    chain.actors()
    chain.certify()
    chain.farm()
    chain.gin()
    # the gin withdraws its ginning record (entered in error) before selling the lint
    world.s.revoke(
        chain.party("gin"),
        world.ids["ginning"],
        "Entered twice by mistake",
        day("2025-03-06"),
        world.at(day("2025-03-06")),
    )
    chain.spin()
    chain.knit()
    chain.sew()
    chain.ship()
    found = only(world, "REF_MISSING")
    assert [f["attestation"] for f in found] == [world.ids["t:gin-spinner"]]


def test_custody_consuming_what_another_party_holds(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = CottonChain(world)
    chain.actors()
    chain.certify()
    chain.farm()
    chain.gin()
    chain.spin(transfer=False)  # the yarn never leaves the spinner
    with _bypass(monkeypatch, holder=chain.party("knitter")):
        chain.knit(source="spinning")
    chain.sew()
    chain.ship()
    found = only(world, "CUSTODY")
    assert [f["attestation"] for f in found] == [world.ids["knitting"]]
    assert "held by Coimbatore Spinners Limited (party:coimbatore-spinners)" in found[0]["message"]


def test_overconsumed_the_same_yarn_sold_twice(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = CottonChain(world)
    chain.actors()
    chain.certify()
    chain.farm()
    chain.gin()
    chain.spin()
    rival = "party:rival-knit"
    world.s.party(rival, "Rival Knit Ltd.", "BD", ["supplier"], world.at(day("2025-03-16")))
    spinner = chain.party("spinner")
    with _bypass(monkeypatch, no_spends=True):
        world.log(
            "t:double",
            world.s.transfer(
                spinner,
                rival,
                [(world.ids["spinning"] + "#0", "3200")],
                [output("RK-IN-1", "combed cotton yarn 30s", "5205.26", "3200")],
                world.at(day("2025-03-16")),
                world.clock.now,
                invoice="CSL-EXP-0043",
            ),
        )
    chain.knit()
    chain.sew()
    chain.ship()
    found = only(world, "OVERCONSUMED")
    assert [f["attestation"] for f in found] == [world.ids["t:spinner-knitter"]]
    assert "6400" in found[0]["message"] and world.ids["t:double"] in found[0]["message"]


# -- the verdict shape ----------------------------------------------------------------------


def test_verdict_is_deterministic_and_frozen(world: World) -> None:
    CottonChain(world).build()
    first, second = world.verify(), world.verify()
    assert first == second and first.to_json() == second.to_json()
    with pytest.raises(AttributeError):
        first.status = "pass"  # type: ignore[misc]
    data = copy.deepcopy(first.to_json())
    data["findings"] = [
        {"code": "YIELD", "severity": "error", "attestation": None, "message": "x", "step": 13}
    ]
    assert verdict_validator().is_valid(data)


def test_verification_sees_the_log_as_of_its_checkpoint(world: World) -> None:
    CottonChain(world).build()
    later = world.verify(now=world.clock.now + timedelta(days=400))
    assert later.status == "pass"


def test_the_report_says_who_signed_each_step(world: World) -> None:
    from ledger.verify.report import render
    from verify_fixtures import COTTON_SITES

    CottonChain(world).build()
    verdict = world.verify()
    tiers = verdict.to_json()["summary"]["tiers"]
    gin, spinner = COTTON_SITES["gin"], COTTON_SITES["spinner"]
    sale = next(t for t in tiers if t["type"] == "transfer" and t["party"] == gin[0])
    assert [(s["party"], s["legal_name"]) for s in sale["signed_by"]] == [
        (gin[0], gin[1]),
        (spinner[0], spinner[1]),
    ]
    assert all(s["key_id"].startswith("ed25519:") for s in sale["signed_by"])
    assert all(t["signed_by"] for t in tiers)
    text = render(verdict)
    assert f"signed by: {gin[1]} ({gin[0]}); {spinner[1]} ({spinner[0]})" in text
