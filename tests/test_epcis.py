"""EPCIS 2.0 in: GS1 identifiers, a cotton chain imported end to end into a ledger that
audits clean, clear refusals, and the standard's own examples (read in ../shared)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from conftest import PASSPHRASE, T0, run_cli, shared_standards_path
from ledger.epcis import events_of
from ledger.errors import EpcisError
from ledger.gs1 import cbv_name, check_digit, location_keys, parse_item
from ledger.home import Home
from ledger.keys import save_private_key
from ledger.log import Ledger
from ledger.scenario import Scenario, output

DATA = Path(__file__).parent / "data" / "epcis"
FARM, GIN, SPINNER = "party:patel-farm", "party:rajkot-gin", "party:saigon-spinning"


# -- GS1 identifiers -----------------------------------------------------------------------


def test_gs1_keys_follow_the_tag_data_standard_examples() -> None:
    # GS1 EPC Tag Data Standard: SGTIN 0614141.812345.6789 is GTIN 80614141123458
    item = parse_item("urn:epc:id:sgtin:0614141.812345.6789")
    assert (item.gtin, item.serial, item.is_class) == ("80614141123458", "6789", False)
    lot = parse_item("urn:epc:class:lgtin:0614141.812345.ABC1")
    assert (lot.gtin, lot.lot, lot.is_class) == ("80614141123458", "ABC1", True)
    link = parse_item("https://example.com/01/80614141123458/10/ABC1?17=260101")
    assert (link.gtin, link.lot) == ("80614141123458", "ABC1")
    # SGLN 0614141.12345.5678 is GLN 0614141123452 with extension 5678
    assert location_keys("urn:epc:id:sgln:0614141.12345.5678") == [
        "urn:epc:id:sgln:0614141.12345.5678",
        "0614141123452.5678",
        "0614141123452",
    ]
    assert location_keys("https://id.gs1.org/414/0614141123452")[1] == "0614141123452"
    assert check_digit("629104150021") == "3"
    assert cbv_name("https://ref.gs1.org/cbv/BizStep-shipping") == "shipping"
    assert cbv_name("urn:epcglobal:cbv:sdt:owning_party") == "owning_party"


def test_a_document_that_is_not_epcis_is_refused_with_every_problem_at_once() -> None:
    with pytest.raises(EpcisError, match="EPCISDocument"):
        events_of({"type": "Something"})
    document = {
        "type": "EPCISDocument",
        "schemaVersion": "1.2",
        "epcisBody": {
            "eventList": [
                {"type": "ObjectEvent", "eventTime": "2025-13-01T00:00:00Z"},
                {"type": "Mystery", "eventTime": "2025-01-01T00:00:00Z", "epcList": "x"},
            ]
        },
    }
    with pytest.raises(EpcisError) as err:
        events_of(document)
    problems = err.value.detail["problems"]
    assert any(p.startswith("/schemaVersion") for p in problems)
    assert any(p.startswith("/epcisBody/eventList/0/eventTime") for p in problems)
    assert any(p.startswith("/epcisBody/eventList/1/type") for p in problems)
    assert any(p.startswith("/epcisBody/eventList/1/epcList") for p in problems)


# -- a cotton chain, end to end ----------------------------------------------------------------


@pytest.fixture
def cotton(scenario: Scenario) -> Scenario:
    s = scenario
    s.party(FARM, "Patel Cotton Farm", "IN", ["supplier"], T0)
    s.party(GIN, "Rajkot Cotton Ginning Co.", "IN", ["supplier"], T0)
    s.party(SPINNER, "Saigon Spinning JSC", "VN", ["supplier"], T0)
    s.facility("facility:patel-farm", "Patel Farm", FARM, "IN", ["farming"], T0, region="IN-GJ")
    s.facility("facility:rajkot-gin", "Rajkot Gin", GIN, "IN", ["ginning"], T0, region="IN-GJ")
    s.facility("facility:saigon-spinning", "Saigon Mill", SPINNER, "VN", ["spinning"], T0)
    return s


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOTCHAIN_PASSPHRASE", PASSPHRASE.decode())
    for name in ("LOTCHAIN_HOME", "LOTCHAIN_DB", "LOTCHAIN_REMOTE", "LOTCHAIN_EPCIS_SCHEMA"):
        monkeypatch.delenv(name, raising=False)


def _key(tmp_path: Path, scenario: Scenario, party: str) -> str:
    path = tmp_path / (party.split(":")[1] + ".pem")
    if not path.exists():
        save_private_key(path, scenario.signers[party], PASSPHRASE)
    return str(path)


def _import(
    capsys: pytest.CaptureFixture[str],
    home: Home,
    document: Path | str,
    key: str,
    issuer: str,
    *extra: str,
    mapping: Path | None = DATA / "cotton-map.json",
) -> tuple[int, dict[str, Any]]:
    args = ["import", "epcis", str(document), "--home", str(home.path), "--key", key]
    args += ["--issuer", issuer, "--json", *extra]
    if mapping is not None:
        args += ["--map", str(mapping)]
    code, out, err = run_cli(capsys, *args)
    return code, json.loads(out or err)


def _holding(ledger: Ledger, party: str, lot: str) -> tuple[str, str]:
    from ledger.storage.lookup import Lookups

    for ref in Lookups(ledger.store).refs_with_lot(lot):
        found = ledger.store.output(ref)
        if found is not None and found.holder == party and ledger.store.consumed(ref) == 0:
            return str(found.amount.normalize()), found.unit
    raise AssertionError(f"{party} holds no lot {lot}")


def test_a_cotton_chain_imports_end_to_end_into_a_ledger_that_audits_clean(
    tmp_path: Path,
    home: Home,
    ledger: Ledger,
    cotton: Scenario,
    capsys: pytest.CaptureFixture[str],
    cli_env: None,
) -> None:
    size = ledger.size()
    code, farm = _import(
        capsys, home, DATA / "cotton-farm.jsonld", _key(tmp_path, cotton, FARM), FARM, "--submit"
    )
    assert code == 0, farm
    assert [e["attestation_type"] for e in farm["events"]] == ["origin", "transfer"]
    origin, transfer = (e["body"] for e in farm["events"])
    assert origin["facility"] == "facility:patel-farm" and origin["produced_on"] == "2025-10-20"
    assert origin["outputs"] == [output("PF-SC-2025-014", "seed cotton", "5201.00", "12000")]
    assert transfer["inputs"] == [
        {"ref": farm["events"][0]["attestation"] + "#0", "amount": "12000"}
    ]
    assert (transfer["from"], transfer["to"]) == (FARM, GIN)
    assert transfer["ship_to"] == "facility:rajkot-gin"
    assert transfer["event_time"] == "2025-10-24T02:45:00Z"
    assert [d["kind"] for d in transfer["documents"]] == ["invoice", "other"]
    assert len(farm["receipts"]) == 2

    code, gin = _import(
        capsys, home, DATA / "cotton-gin.jsonld", _key(tmp_path, cotton, GIN), GIN, "--submit"
    )
    assert code == 0, gin
    kinds = [e["attestation_type"] for e in gin["events"]]
    assert kinds == [None, "transformation", "transfer"]
    assert "the seller's transfer records it" in gin["events"][0]["note"]
    ginning, shipping = gin["events"][1]["body"], gin["events"][2]["body"]
    # the seed cotton the gin received from the farm, found by its lot label
    assert ginning["inputs"] == [
        {"ref": farm["events"][1]["attestation"] + "#0", "amount": "12000"}
    ]
    assert ginning["process"] == "ginning"
    assert [o["quantity"] for o in ginning["outputs"]] == [
        {"amount": "4200", "unit": "kg"},
        {"amount": "6.6", "unit": "t"},
    ]
    # 4.2 t of a lot held in kilograms: the input is converted exactly
    assert shipping["inputs"] == [{"ref": gin["events"][1]["attestation"] + "#0", "amount": "4200"}]
    assert shipping["to"] == SPINNER and shipping["ship_to"] == "facility:saigon-spinning"
    assert shipping["extensions"]["epcis"]["biz_step"] == "shipping"
    assert ledger.size() == size + 4
    assert _holding(ledger, SPINNER, "RG-L-0931") == ("4.2", "t")
    assert _holding(ledger, GIN, "RG-CS-0931") == ("6.6", "t")
    code, out, err = run_cli(capsys, "audit", "--home", str(home.path), "--json")
    assert code == 0, out + err


def test_dry_run_shows_what_would_be_signed_and_writes_nothing(
    tmp_path: Path,
    home: Home,
    ledger: Ledger,
    cotton: Scenario,
    capsys: pytest.CaptureFixture[str],
    cli_env: None,
) -> None:
    size = ledger.size()
    key = _key(tmp_path, cotton, FARM)
    code, plan = _import(capsys, home, DATA / "cotton-farm.jsonld", key, FARM, "--dry-run")
    assert code == 0 and plan["dry_run"] is True and plan["attestations"] == 2
    assert plan["events"][0]["body"]["material"] == {"name": "seed cotton", "hs_code": "5201.00"}
    assert ledger.size() == size
    code, out, _ = run_cli(
        capsys,
        "import",
        "epcis",
        str(DATA / "cotton-farm.jsonld"),
        "--home",
        str(home.path),
        "--key",
        key,
        "--issuer",
        FARM,
        "--map",
        str(DATA / "cotton-map.json"),
        "--dry-run",
    )
    assert code == 0
    assert "event 0 ObjectEvent -> origin sha256:" in out and "PF-SC-2025-014 12000 kg" in out
    assert "dry run: nothing written" in out
    out_dir = tmp_path / "envelopes"
    code, written = _import(
        capsys, home, DATA / "cotton-farm.jsonld", key, FARM, "--out", str(out_dir)
    )
    assert code == 0 and written["out"] == str(out_dir)
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "0000-origin.json",
        "0001-transfer.json",
        "envelopes.json",
    ]
    assert ledger.size() == size


def _rewrite(tmp_path: Path, name: str, edit: Any) -> Path:
    document = json.loads((DATA / name).read_text())
    edit(document["epcisBody"]["eventList"])
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def test_unmappable_events_are_refused_with_what_to_fix_and_nothing_is_written(
    tmp_path: Path,
    home: Home,
    ledger: Ledger,
    cotton: Scenario,
    capsys: pytest.CaptureFixture[str],
    cli_env: None,
) -> None:
    size = ledger.size()
    farm_key, gin_key = _key(tmp_path, cotton, FARM), _key(tmp_path, cotton, GIN)

    def unknown_site_and_unit(events: list[dict[str, Any]]) -> None:
        events[0]["bizLocation"] = {"id": "urn:epc:id:sgln:8901234.00099.0"}
        events[1]["quantityList"][0]["uom"] = "XYZ"

    code, problem = _import(
        capsys,
        home,
        _rewrite(tmp_path, "cotton-farm.jsonld", unknown_site_and_unit),
        farm_key,
        FARM,
        "--submit",
    )
    assert code == 2 and problem["error"]["code"] == "EPCIS"
    found = {p["event"]: p for p in problem["error"]["problems"]}
    assert found[0]["code"] == "EPCIS_UNMAPPED"
    assert "8901234000991" in found[0]["message"] and "locations" in found[0]["message"]
    assert found[1]["code"] == "EPCIS_UNIT" and "KGM" in found[1]["message"]
    # the gin's events before the farm's: the seed cotton is not held by the gin yet
    code, problem = _import(capsys, home, DATA / "cotton-gin.jsonld", gin_key, GIN, "--submit")
    assert code == 2
    [unresolved, *_] = problem["error"]["problems"]
    assert unresolved["code"] == "EPCIS_UNRESOLVED" and "PF-SC-2025-014" in unresolved["message"]
    # a shipping event imported by someone who is not the seller
    code, problem = _import(capsys, home, DATA / "cotton-farm.jsonld", gin_key, GIN, "--submit")
    assert code == 2
    assert {p["code"] for p in problem["error"]["problems"]} >= {"EPCIS_ISSUER"}
    # no map at all: the first location is named with the keys to add
    code, problem = _import(
        capsys, home, DATA / "cotton-farm.jsonld", farm_key, FARM, "--dry-run", mapping=None
    )
    assert code == 2 and "not in the map's products" in problem["error"]["message"]
    assert ledger.size() == size


def test_a_batch_the_ledger_would_refuse_in_part_is_not_written_at_all(
    tmp_path: Path,
    home: Home,
    ledger: Ledger,
    cotton: Scenario,
    capsys: pytest.CaptureFixture[str],
    cli_env: None,
) -> None:
    size = ledger.size()

    def ship_from_the_gin_site(events: list[dict[str, Any]]) -> None:
        # the farm's transfer is fine; its origin claims the gin as the farm's own facility
        events[0]["bizLocation"] = {"id": "urn:epc:id:sgln:8905678.00010.0"}

    code, problem = _import(
        capsys,
        home,
        _rewrite(tmp_path, "cotton-farm.jsonld", ship_from_the_gin_site),
        _key(tmp_path, cotton, FARM),
        FARM,
        "--submit",
    )
    assert code != 0 and "would be refused" in problem["error"]["message"]
    assert ledger.size() == size


# -- the standard's own examples (GS1, read in ../shared, never copied) ----------------------

EXAMPLES = [
    "Example_9.6.4-TransformationEvent.jsonld.json",
    "Example-TransactionEvents-2020_07_03y.jsonld.json",
    "transformation_event_all_possible_fields.jsonld.json",
]


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_standard_examples_validate_against_the_epcis_schema(
    tmp_path: Path,
    home: Home,
    cotton: Scenario,
    name: str,
    capsys: pytest.CaptureFixture[str],
    cli_env: None,
) -> None:
    schema = shared_standards_path("epcis", "EPCIS-JSON-Schema.json")
    example = shared_standards_path("epcis", name)
    code, plan = _import(
        capsys,
        home,
        example,
        _key(tmp_path, cotton, GIN),
        GIN,
        "--dry-run",
        "--epcis-schema",
        str(schema),
        mapping=None,
    )
    if name == "Example_9.6.4-TransformationEvent.jsonld.json":
        # valid EPCIS, but its products and sites are not mapped: refused with the keys to add
        assert code == 2 and plan["error"]["code"] == "EPCIS"
        assert plan["error"]["problems"][0]["code"] == "EPCIS_UNMAPPED"
        return
    assert code == 0, plan
    notes = [e["note"] for e in plan["events"]]
    assert plan["attestations"] == 0 and all("not imported" in n for n in notes)
    broken = json.loads(example.read_text())
    broken["epcisBody"]["eventList"][0]["eventTime"] = 20131031
    bad = tmp_path / "broken.json"
    bad.write_text(json.dumps(broken))
    code, problem = _import(
        capsys,
        home,
        bad,
        _key(tmp_path, cotton, GIN),
        GIN,
        "--dry-run",
        "--epcis-schema",
        str(schema),
        mapping=None,
    )
    assert code == 2 and "EPCIS 2.0 JSON Schema" in problem["error"]["message"]
    assert any("/epcisBody/eventList/0" in p for p in problem["error"]["problems"])


def test_the_standard_transformation_example_imports_in_dry_run_from_holdings(
    tmp_path: Path,
    home: Home,
    ledger: Ledger,
    cotton: Scenario,
    capsys: pytest.CaptureFixture[str],
    cli_env: None,
) -> None:
    """GS1's example 9.6.4: inputs by EPC and by class, resolved from the gin's holdings."""
    example = shared_standards_path("epcis", "Example_9.6.4-TransformationEvent.jsonld.json")
    s = cotton
    farm = s.origin(
        FARM,
        "facility:patel-farm",
        "seed cotton",
        "5201.00",
        [
            output("4444", "seed cotton", "5201.00", "10"),
            output("987", "seed cotton", "5201.00", "30", "bales", mass_kg="5400"),
            output("066666", "seed cotton", "5201.00", "220", "bales", mass_kg="39600"),
            output("011122", "seed cotton", "5201.00", "1", "pcs", mass_kg="180"),
            output("065432", "seed cotton", "5201.00", "1", "pcs", mass_kg="180"),
        ],
        "2013-10-20",
        T0,
    )
    moved = [
        output(o, "seed cotton", "5201.00", a, u, mass_kg=m)
        for o, a, u, m in (
            ("4444", "10", "kg", None),
            ("987", "30", "bales", "5400"),
            ("066666", "220", "bales", "39600"),
            ("011122", "1", "pcs", "180"),
            ("065432", "1", "pcs", "180"),
        )
    ]
    s.transfer(
        FARM,
        GIN,
        [(f"{farm.attestation}#{i}", o["quantity"]["amount"]) for i, o in enumerate(moved)],
        moved,
        T0,
        T0,
    )
    mapping = {
        "locations": {
            "urn:epc:id:sgln:4012345.00001.0": {
                "facility": "facility:rajkot-gin",
                "process": "ginning",
            }
        },
        "products": {
            "urn:epc:class:lgtin:4012345.011111.4444": {
                "material": "seed cotton",
                "hs_code": "5201.00",
            },
            "urn:epc:class:lgtin:0614141.077777.987": {
                "material": "seed cotton",
                "hs_code": "5201.00",
                "lot": "987",
            },
            "urn:epc:idpat:sgtin:4012345.066666.*": {
                "material": "seed cotton",
                "hs_code": "5201.00",
                "lot": "066666",
            },
            "04012345111224": {"material": "seed cotton", "hs_code": "5201.00", "lot": "011122"},
            "04000001654321": {"material": "seed cotton", "hs_code": "5201.00", "lot": "065432"},
            "04012345778892": {
                "material": "cotton lint",
                "hs_code": "5201.00",
                "lot": "RG-L-2013-77889",
                "mass_kg_per_unit": "227",
            },
        },
    }
    map_path = tmp_path / "map.json"
    map_path.write_text(json.dumps(mapping))
    size = ledger.size()
    code, plan = _import(
        capsys, home, example, _key(tmp_path, s, GIN), GIN, "--dry-run", mapping=map_path
    )
    assert code == 0, plan
    [event] = plan["events"]
    body = event["body"]
    assert event["attestation_type"] == "transformation" and body["process"] == "ginning"
    assert body["event_time"] == "2013-10-31T14:58:56.591Z"
    transfer_outputs = {i["ref"].split("#")[0] for i in body["inputs"]}
    assert len(transfer_outputs) == 1 and len({i["ref"] for i in body["inputs"]}) == 5
    amounts = sorted(Decimal(i["amount"]) for i in body["inputs"])
    assert amounts == [1, 1, 10, 30, 220]
    assert body["outputs"] == [
        {
            "lot": "RG-L-2013-77889",
            "material": {"name": "cotton lint", "hs_code": "5201.00"},
            "quantity": {"amount": "4", "unit": "pcs"},
            "mass_kg": "908",
        }
    ]
    assert ledger.size() == size


def test_import_with_remote_resolves_lots_made_outside_the_document_on_the_server(
    tmp_path: Path,
    home: Home,
    ledger: Ledger,
    cotton: Scenario,
    capsys: pytest.CaptureFixture[str],
    cli_env: None,
) -> None:
    from ledger.tokens import TokenStore
    from test_api_server import _start, _stop

    code, farm = _import(
        capsys, home, DATA / "cotton-farm.jsonld", _key(tmp_path, cotton, FARM), FARM, "--submit"
    )
    assert code == 0, farm
    tokens = TokenStore(ledger.store)
    gin_token = tokens.issue(GIN, now=T0).token
    farm_token = tokens.issue(FARM, now=T0).token
    size = ledger.size()
    ledger.store.close()
    key = _key(tmp_path, cotton, GIN)
    url, process = _start(home.path)
    try:

        def log_size() -> int:
            code, out, err = run_cli(
                capsys, "checkpoint", "--home", str(home.path), "--remote", url, "--json"
            )
            assert code == 0, err
            return int(json.loads(out)["size"])

        # a token of another party may not read the gin's holdings: refused, nothing written
        code, problem = _import(
            capsys,
            home,
            DATA / "cotton-gin.jsonld",
            key,
            GIN,
            *("--remote", url, "--token", farm_token, "--submit"),
        )
        assert code == 2 and problem["error"]["code"] == "NOT_FOUND", problem
        assert log_size() == size

        code, gin = _import(
            capsys,
            home,
            DATA / "cotton-gin.jsonld",
            key,
            GIN,
            *("--remote", url, "--token", gin_token, "--submit"),
        )
        assert code == 0, gin
        ginning = gin["events"][1]["body"]
        assert ginning["inputs"] == [
            {"ref": farm["events"][1]["attestation"] + "#0", "amount": "12000"}
        ]
        assert len(gin["receipts"]) == 2 and log_size() == size + 2
    finally:
        _stop(process)
