"""Step 17: entity lists judged on the shipment's entry (arrival) date.

The cotton chain's events run from 2025-03-01 (harvest) to 2025-04-02 (sale to the
importer); the goods arrive on 2025-04-18. Each test loads a list whose dates put one
listing before, across or after those dates, and expects exactly one code, once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import run_cli
from ledger.screening import parse_list, record_list
from ledger.verify import build_bundle, impacted_by_list, verify_bundle
from verify_fixtures import (
    ENTRY_NUMBER,
    IMPORTER,
    PASSPHRASE,
    T0,
    CottonChain,
    World,
    any_world_fixture,  # noqa: F401 - the `any_world` fixture
    day,
    only,
    world_fixture,  # noqa: F401 - the `world` fixture
)

HEADER = "name,aliases,list_section,effective_date,removed_date\n"
SPINNER = "Coimbatore Spinners Limited"  # the spinner's legal name in the cotton chain




def cotton(w: World, **actors: Any) -> CottonChain:
    chain = CottonChain(w)
    chain.actors(**actors)
    chain.certify()
    for stage in (chain.farm, chain.gin, chain.spin, chain.knit, chain.sew, chain.ship):
        stage()
    assert w.verify().status == "pass"  # no list loaded yet
    return chain


def load(w: World, rows: str, name: str = "Test Entity List") -> None:
    record_list(w.ledger.store, (HEADER + rows).encode(), name=name, source=None, now=w.clock.now)


def offline_equals_online(w: World) -> None:
    online = w.verify()
    bundle = build_bundle(w.ledger, w.ids["shipment"], now=w.clock.now)
    offline = verify_bundle(json.dumps(bundle).encode(), w.ledger.trust, now=w.clock.now)
    assert offline.status == online.status
    assert offline.findings == online.findings


def test_made_before_the_listing_entered_after_it_is_listed(any_world: World) -> None:
    w = any_world
    cotton(w)
    # spun 2025-03-12, listed from 2025-04-15, entered 2025-04-18
    load(w, '"Coimbatore Spinners Private Limited",,(v),2025-04-15,\n')
    found = only(w, "ENTITY_LISTED")
    assert [f["attestation"] for f in found] == [w.ids["spinning"]]
    message = found[0]["message"]
    assert "party Coimbatore Spinners Limited (party:coimbatore-spinners)" in message
    assert '"Coimbatore Spinners Private Limited"' in message
    assert "effective 2025-04-15" in message and "entry date 2025-04-18" in message
    assert "Coimbatore Mill No. 2 (facility:coimbatore-mill-2)" in message
    assert "lot CSL-Y-30S-0042" in message
    offline_equals_online(w)


def test_listed_at_the_event_removed_before_entry_is_a_warning(any_world: World) -> None:
    w = any_world
    cotton(w)
    load(w, f'"{SPINNER}",,(v),2025-01-01,2025-04-01\n')
    verdict = w.verify()
    assert verdict.status == "review"
    assert [(f.code, f.severity, f.attestation) for f in verdict.findings] == [
        ("ENTITY_FORMERLY_LISTED", "warning", w.ids["spinning"])
    ]
    message = verdict.findings[0].message
    assert message.startswith("party Coimbatore Spinners Limited (party:coimbatore-spinners) was")
    assert "effective 2025-01-01, removed 2025-04-01" in message
    assert "entry date 2025-04-18" in message
    offline_equals_online(w)


@pytest.mark.parametrize(
    ("effective", "removed"),
    [("2025-05-01", ""), ("2025-04-19", ""), ("2024-01-01", "2025-02-01")],
    ids=["listed after entry", "listed the day after entry", "removed before the chain"],
)
def test_a_listing_not_in_force_on_entry_nor_at_an_event(
    world: World, effective: str, removed: str
) -> None:
    cotton(world)
    load(world, f'"{SPINNER}",,(v),{effective},{removed}\n')
    verdict = world.verify()
    assert (verdict.status, verdict.findings) == ("pass", ())


def test_listed_on_the_entry_date_itself(world: World) -> None:
    cotton(world)
    load(world, f'"{SPINNER}",,(v),2025-04-18,\n')
    assert len(only(world, "ENTITY_LISTED")) == 1


def test_removed_on_the_entry_date_no_longer_bars(world: World) -> None:
    cotton(world)
    load(world, f'"{SPINNER}",,(v),2025-01-01,2025-04-18\n')
    assert world.verify().codes() == {"ENTITY_FORMERLY_LISTED"}


def test_by_alias_names_the_main_name_and_the_alias(world: World) -> None:
    cotton(world, aliases={"spinner": ["CSL Yarns"]})
    load(world, '"Southern Yarn Group Co., Ltd.","CSL Yarns (Pvt.) Ltd. | SYG",(ii),2025-04-01,\n')
    found = only(world, "ENTITY_LISTED")
    message = found[0]["message"]
    assert '"Southern Yarn Group Co., Ltd."' in message
    assert 'alias "CSL Yarns (Pvt.) Ltd."' in message and 'by the name "CSL Yarns"' in message


def test_one_finding_for_a_party_and_its_facility_on_one_listing(world: World) -> None:
    cotton(world)
    load(world, f'"{SPINNER}","Coimbatore Mill No. 2",(v),2025-04-01,\n')
    found = only(world, "ENTITY_LISTED")
    assert len(found) == 1
    assert "party Coimbatore Spinners Limited" in found[0]["message"]
    assert "facility Coimbatore Mill No. 2" in found[0]["message"]


def test_relisted_under_another_row_is_listed_once_and_not_formerly(world: World) -> None:
    cotton(world)
    load(
        world,
        f'"{SPINNER}",,(i),2024-01-01,2025-04-05\n"{SPINNER}",,(v),2025-04-05,\n',
    )
    found = only(world, "ENTITY_LISTED")
    assert len(found) == 1 and "section (v)" in found[0]["message"]


def test_one_finding_per_list(world: World) -> None:
    cotton(world)
    load(world, f'"{SPINNER}",,(v),2025-04-01,\n', name="List A")
    load(world, f'"{SPINNER} Pvt Ltd",,(v),2025-04-01,\n', name="List B")
    found = only(world, "ENTITY_LISTED")
    assert len(found) == 2
    assert ['"List A"' in f["message"] for f in found].count(True) == 1


def test_a_listed_garment_maker_is_found_once_where_it_acts(world: World) -> None:
    cotton(world)
    load(world, '"Dhaka Apparel Ltd.",,(v),2025-04-01,\n')
    found = only(world, "ENTITY_LISTED")
    # the garment maker acts first in its sewing; the finding sits there, once
    assert [f["attestation"] for f in found] == [world.ids["sewing"]]


def test_the_real_uflpa_list_on_the_entry_date(world: World) -> None:
    # an alias of Aksu Huafu, listed effective 2025-01-15: in force on entry; the world
    # has the project's UFLPA Entity List loaded (verify_fixtures.load_both_lists)
    chain = CottonChain(world)
    chain.actors(names={"spinner": "Akesu Huafu Melange Yarn Co., Ltd."})
    chain.certify()
    for stage in (chain.farm, chain.gin, chain.spin, chain.knit, chain.sew, chain.ship):
        stage()
    found = only(world, "ENTITY_LISTED")
    assert len(found) == 1
    assert '"Aksu Huafu Color Spinning Co., Ltd."' in found[0]["message"]
    assert 'alias "Akesu Huafu Melange Yarn Co., Ltd."' in found[0]["message"]


def test_a_new_list_version_names_the_shipments_it_now_fails_by_entry_date(
    world: World,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cotton(world)
    before = parse_list(
        (HEADER + f'"{SPINNER}",,(v),2025-04-15,\n').encode(), name="v2", loaded_at=world.clock.now
    )
    found = impacted_by_list(world.ledger, before)
    assert [(x["entry_number"], x["entry_date"]) for x in found] == [
        ("ABC-1234567-8", "2025-04-18")
    ]
    assert [f["code"] for f in found[0]["findings"]] == ["ENTITY_LISTED"]
    after = parse_list(
        (HEADER + f'"{SPINNER}",,(v),2025-04-19,\n').encode(), name="v3", loaded_at=world.clock.now
    )
    assert impacted_by_list(world.ledger, after) == []  # listed the day after entry
    # the command line says the same
    monkeypatch.setenv("LOTCHAIN_PASSPHRASE", PASSPHRASE.decode())
    for name in ("LOTCHAIN_HOME", "LOTCHAIN_DB", "LOTCHAIN_REMOTE", "LOTCHAIN_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "new-list.csv"
    path.write_bytes(before.data)
    home = str(world.home.path)
    code, out, _ = run_cli(capsys, "screening", "load", str(path), "--impact", "--home", home)
    assert code == 0 and "now fails: ABC-1234567-8 (entry date 2025-04-18)" in out
    code, out, _ = run_cli(capsys, "impact", "--party", "party:coimbatore-spinners", "--home", home)
    assert code == 0 and "ABC-1234567-8  entry date 2025-04-18" in out


def test_a_listed_exporter_named_only_on_the_entry_is_found_on_it(world: World) -> None:
    chain = CottonChain(world)
    chain.actors()
    world.s.party("party:hk-trading", "Victoria Harbour Trading Ltd", "HK", ["supplier"], T0)
    chain.certify()
    for stage in (chain.farm, chain.gin, chain.spin, chain.knit, chain.sew):
        stage()
    world.log(
        "shipment",
        world.s.shipment(
            IMPORTER,
            ENTRY_NUMBER,
            [(world.ids["t:garment-importer"] + "#0", "12000")],
            "party:hk-trading",
            chain.party("garment"),
            "BD",
            "2025-04-18",
            world.at(day("2025-04-10")),
        ),
    )
    assert world.verify().status == "pass"
    load(world, '"Victoria Harbour Trading Limited",,(v),2025-04-10,\n')
    found = only(world, "ENTITY_LISTED")
    assert [f["attestation"] for f in found] == [world.ids["shipment"]]
    assert "entry ABC-1234567-8, arrival date 2025-04-18" in found[0]["message"]
    offline_equals_online(world)
