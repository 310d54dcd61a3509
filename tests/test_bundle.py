"""Evidence bundles: offline verdict == online verdict; any edited byte fails, never passes."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from verify_solar import SolarChain

from ledger import schemas
from ledger.encoding import b64decode
from ledger.errors import CheckpointError, LedgerError, MalformedError, SchemaError
from ledger.home import init_home
from ledger.leaf import parse_leaf
from ledger.scenario import output
from ledger.screening import record_list
from ledger.verify import build_bundle, chain_ids, verify_bundle
from verify_bypass import bypass
from verify_fixtures import (
    AUDITOR,
    ENTITY_LIST,
    PASSPHRASE,
    CottonChain,
    World,
    day,
    world_fixture,  # noqa: F401 - the `world` fixture
)

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def offline(w: World, bundle: dict[str, Any]) -> Any:
    return verify_bundle(json.dumps(bundle).encode(), w.ledger.trust, now=w.clock.now)


def assert_same_verdict(w: World) -> dict[str, Any]:
    online = w.verify(now=w.clock.now)
    bundle = build_bundle(w.ledger, w.ids["shipment"], now=w.clock.now)
    schemas.validate("bundle", bundle)
    again = offline(w, bundle)
    assert again.to_json() == online.to_json()
    assert again == online
    return bundle


# -- offline == online ---------------------------------------------------------------------


def _listed(w: World) -> None:
    chain = CottonChain(w)
    chain.actors(names={"spinner": "Aksu Huafu Textiles Co. Ltd"})  # a UFLPA alias
    chain.certify()
    for stage in (chain.farm, chain.gin, chain.spin, chain.knit, chain.sew, chain.ship):
        stage()
    record_list(
        w.ledger.store,
        ENTITY_LIST.read_bytes(),
        name="UFLPA Entity List",
        source="uflpa-entity-list.csv",
        now=w.clock.now,
    )


def _cert_revoked(w: World) -> None:
    chain = CottonChain(w)
    chain.build()
    w.s.revoke(
        AUDITOR, w.ids["cert:knitter"], "Withdrawn", day("2025-03-15"), w.at(day("2025-04-12"))
    )


def _key_revoked(w: World) -> None:
    chain = CottonChain(w)
    chain.build()
    w.s.revoke_key(
        "party:registrar", chain.party("gin"), day("2025-03-04"), w.at(day("2025-04-12"))
    )


SCENARIOS: dict[str, Callable[[World], Any]] = {
    "clean cotton": lambda w: CottonChain(w).build(),
    "clean polysilicon": lambda w: SolarChain(w).build(),
    "entity listed": _listed,
    "certificate revoked": _cert_revoked,
    "key revoked": _key_revoked,
    "high-risk region": lambda w: SolarChain(w).build(regions={"wafer": "CN-65"}),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_offline_verdict_equals_online(world: World, name: str) -> None:
    SCENARIOS[name](world)
    assert_same_verdict(world)


def test_offline_equals_online_when_overconsumed(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = CottonChain(world)
    chain.actors()
    chain.certify()
    chain.farm()
    chain.gin()
    chain.spin()
    world.s.party("party:rival-knit", "Rival Knit Ltd.", "BD", ["supplier"], world.clock.now)
    with bypass(monkeypatch, no_spends=True):
        world.log(
            "t:double",
            world.s.transfer(
                chain.party("spinner"),
                "party:rival-knit",
                [(world.ids["spinning"] + "#0", "3200")],
                [output("RK-IN-1", "combed cotton yarn 30s", "5205.26", "3200")],
                world.at(day("2025-03-16")),
                world.clock.now,
                invoice="CSL-EXP-0043",
            ),
        )
    for stage in (chain.knit, chain.sew, chain.ship):
        stage()
    bundle = assert_same_verdict(world)
    assert world.verify().codes() == {"OVERCONSUMED"}
    assert world.ids["t:double"] in _ids(bundle)  # the double spend is shown, as evidence


def _ids(bundle: dict[str, Any]) -> set[str]:
    return {parse_leaf(b64decode(e["leaf"])).attestation for e in bundle["entries"]}


def test_bundle_holds_what_the_verdict_relies_on_and_no_other_trade(world: World) -> None:
    chain = CottonChain(world)
    chain.actors()
    chain.certify()
    chain.farm(amount="12000")
    # the gin sells 2000 kg of the same seed cotton to another gin: not this chain's business
    world.s.party("party:other-gin", "Other Gin Pvt. Ltd.", "IN", ["supplier"], world.clock.now)
    now = world.at(day("2025-03-04"))
    world.log(
        "t:other",
        world.s.transfer(
            chain.party("gin"),
            "party:other-gin",
            [(world.ids["t:farm-gin"] + "#0", "2000")],
            [output("OG-IN-1", "seed cotton", "5201.00", "2000")],
            now,
            now,
        ),
    )
    for stage in (chain.gin, chain.spin, chain.knit, chain.sew, chain.ship):
        stage()
    bundle = assert_same_verdict(world)
    ids = _ids(bundle)
    assert world.ids["t:other"] not in ids
    assert ids == chain_ids(world.ledger, world.ids["shipment"])
    for key in ("shipment", "origin", "ginning", "cert:spinner", "audit:garment"):
        assert world.ids[key] in ids
    # every entry's predecessor leaf is there, so prev links can be checked offline
    have = {e["index"] for e in bundle["entries"]} | {x["index"] for x in bundle["leaves"]}
    assert all(e["index"] == 0 or e["index"] - 1 in have for e in bundle["entries"])


# -- any edited byte fails --------------------------------------------------------------------


def _flip(text: str, at: int) -> str:
    """Replace one base64 character by another (the bundle stays schema-valid)."""
    old = text[at]
    new = B64[(B64.index(old) + 1) % 64] if old in B64 else "A"
    return text[:at] + new + text[at + 1 :]


def _edit(bundle: dict[str, Any], i: int, part: str) -> dict[str, Any]:
    out = copy.deepcopy(bundle)
    entry = out["entries"][i]
    if part == "payload":
        payload = entry["envelope"]["payload"]
        entry["envelope"]["payload"] = _flip(payload, len(payload) // 2)
    elif part == "signature":
        entry["envelope"]["signatures"][0]["sig"] = _flip(
            entry["envelope"]["signatures"][0]["sig"], 10
        )
    elif part == "leaf":
        entry["leaf"] = _flip(entry["leaf"], len(entry["leaf"]) // 2)
    elif part == "proof hash":
        hashes = entry["inclusion"]["hashes"]
        entry["inclusion"]["hashes"] = [_flip(hashes[0], 5), *hashes[1:]]
    elif part == "proof leaf hash":
        entry["inclusion"]["leaf_hash"] = _flip(entry["inclusion"]["leaf_hash"], 7)
    elif part == "proof index":
        entry["inclusion"]["index"] ^= 1
    return out


EXPECTED = {
    "payload": "SIGNATURE",
    "signature": "SIGNATURE",
    "leaf": "LOG_INCLUSION",
    "proof hash": "LOG_INCLUSION",
    "proof leaf hash": "LOG_INCLUSION",
    "proof index": "LOG_INCLUSION",
}


@pytest.fixture
def cotton_bundle(world: World) -> tuple[World, dict[str, Any]]:
    CottonChain(world).build()
    return world, assert_same_verdict(world)


@pytest.mark.parametrize("part", sorted(EXPECTED))
def test_an_edited_byte_in_any_entry_fails_with_its_code(
    cotton_bundle: tuple[World, dict[str, Any]], part: str
) -> None:
    w, bundle = cotton_bundle
    for i in range(len(bundle["entries"])):
        verdict = offline(w, _edit(bundle, i, part))
        assert verdict.status == "fail", (part, i)
        assert EXPECTED[part] in verdict.codes(), (part, i, verdict.codes())


def test_an_edited_byte_in_a_predecessor_leaf_fails(
    cotton_bundle: tuple[World, dict[str, Any]],
) -> None:
    w, bundle = cotton_bundle
    assert bundle["leaves"] or all(
        e["index"] - 1 in {x["index"] for x in bundle["entries"]}
        for e in bundle["entries"]
        if e["index"]
    )
    for i in range(len(bundle["leaves"])):
        edited = copy.deepcopy(bundle)
        edited["leaves"][i]["leaf"] = _flip(edited["leaves"][i]["leaf"], 20)
        verdict = offline(w, edited)
        assert verdict.status == "fail" and "LOG_INCLUSION" in verdict.codes()


def test_every_edited_character_of_the_checkpoint_fails(
    cotton_bundle: tuple[World, dict[str, Any]],
) -> None:
    w, bundle = cotton_bundle
    note = bundle["checkpoint"]
    for at in range(len(note)):
        edited = dict(
            bundle, checkpoint=note[:at] + ("x" if note[at] != "x" else "y") + note[at + 1 :]
        )
        verdict = offline(w, edited)
        assert verdict.status == "fail", at
        assert verdict.codes() == {"CHECKPOINT"}, at


def test_a_bundle_checked_against_another_trust_root_fails(
    cotton_bundle: tuple[World, dict[str, Any]], tmp_path: Path
) -> None:
    w, bundle = cotton_bundle
    other = init_home(tmp_path / "other", PASSPHRASE, now=w.clock.now).trust_root()
    verdict = verify_bundle(json.dumps(bundle).encode(), other)
    assert verdict.status == "fail" and verdict.codes() == {"CHECKPOINT"}


def test_a_bundle_missing_an_entry_fails(cotton_bundle: tuple[World, dict[str, Any]]) -> None:
    w, bundle = cotton_bundle
    for i in range(len(bundle["entries"])):
        edited = copy.deepcopy(bundle)
        del edited["entries"][i]
        try:
            verdict = offline(w, edited)
        except LedgerError:
            continue  # e.g. the shipment itself gone: refused outright
        assert verdict.status == "fail", i


def test_hostile_bundles_are_refused_with_codes(
    cotton_bundle: tuple[World, dict[str, Any]],
) -> None:
    w, bundle = cotton_bundle
    with pytest.raises(MalformedError):
        verify_bundle(b"{not json", w.ledger.trust)
    with pytest.raises(SchemaError):
        verify_bundle(json.dumps(dict(bundle, kind="other")).encode(), w.ledger.trust)
    with pytest.raises(CheckpointError):
        verify_bundle(json.dumps(dict(bundle, log_origin="elsewhere/log")).encode(), w.ledger.trust)
    with pytest.raises(LedgerError):
        verify_bundle(json.dumps(dict(bundle, shipment=w.ids["spinning"])).encode(), w.ledger.trust)


def test_an_edited_screening_list_is_refused(world: World) -> None:
    _listed(world)
    bundle = assert_same_verdict(world)
    edited = copy.deepcopy(bundle)
    edited["screening_lists"][0]["csv"] = edited["screening_lists"][0]["csv"].replace(
        "Aksu Huafu Textiles", "Aksu Huafu Textile"
    )
    with pytest.raises(MalformedError, match="hash"):
        offline(world, edited)
    dropped = dict(bundle, screening_lists=[])
    # and its verdict says no list was applied
    assert offline(world, dropped).codes() == {"SCREENING_MISSING"}
    assert offline(world, dropped).summary["screening_lists"] == []


def test_random_edits_anywhere_in_the_evidence_never_pass(
    cotton_bundle: tuple[World, dict[str, Any]],
) -> None:
    import random

    w, bundle = cotton_bundle
    rng = random.Random(20250301)
    for _ in range(150):
        edited = copy.deepcopy(bundle)
        entry = rng.choice(edited["entries"])
        field, holder = rng.choice(
            [
                ("leaf", entry),
                ("payload", entry["envelope"]),
                ("sig", entry["envelope"]["signatures"][0]),
                ("leaf_hash", entry["inclusion"]),
            ]
            + [(i, entry["inclusion"]["hashes"]) for i in range(len(entry["inclusion"]["hashes"]))]
        )
        text = holder[field]
        holder[field] = _flip(text, rng.randrange(len(text)))
        try:
            verdict = offline(w, edited)
        except LedgerError:
            continue
        assert verdict.status == "fail", (field, holder)
