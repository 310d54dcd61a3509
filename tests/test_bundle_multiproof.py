"""Bundles with one multi-proof instead of per-leaf proofs; each leaf and payload checked once.

A multi-proof bundle reaches the verdict the online verifier and the per-leaf bundle
reach; any edit of its proof fails with LOG_INCLUSION, the code of a bad inclusion
proof; old (per-leaf) bundles verify as before.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
from typing import Any

import pytest

from ledger import merkle, schemas
from ledger.errors import LedgerError, SchemaError
from ledger.verify import build_bundle, verify_bundle
from verify_fixtures import (
    AUDITOR,
    CottonChain,
    World,
    day,
    world_fixture,  # noqa: F401 - the `world` fixture
)

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def offline(w: World, bundle: dict[str, Any]) -> Any:
    return verify_bundle(json.dumps(bundle).encode(), w.ledger.trust, now=w.clock.now)


def _flip(text: str, at: int) -> str:
    old = text[at]
    new = B64[(B64.index(old) + 1) % 64] if old in B64 else "A"
    return text[:at] + new + text[at + 1 :]


@pytest.fixture
def bundles(world: World) -> tuple[World, dict[str, Any], dict[str, Any]]:
    # entries the bundle does not carry, before and after the chain: the multi-proof has
    # hashes of subtrees on both sides
    for i in range(7):
        world.s.party(
            f"party:early-{i}", f"Early {i}", "US", ["supplier"], world.at(day("2025-02-20"))
        )
    CottonChain(world).build()
    for i in range(5):
        world.s.party(
            f"party:other-{i}", f"Other {i}", "US", ["supplier"], world.at(day("2025-04-12"))
        )
    shipment = world.ids["shipment"]
    per_leaf = build_bundle(world.ledger, shipment, now=world.clock.now)
    multi = build_bundle(world.ledger, shipment, now=world.clock.now, multiproof=True)
    return world, per_leaf, multi


def test_a_multiproof_bundle_reaches_the_online_verdict(
    bundles: tuple[World, dict[str, Any], dict[str, Any]],
) -> None:
    w, per_leaf, multi = bundles
    schemas.validate("bundle", multi)
    items = [*multi["entries"], *multi["leaves"]]
    assert items and all("inclusion" not in item for item in items)
    assert multi["multiproof"]["tree_size"] == w.ledger.store.size()
    online = w.verify(now=w.clock.now)
    assert offline(w, multi).to_json() == online.to_json() == offline(w, per_leaf).to_json()
    assert online.status == "pass"
    assert len(json.dumps(multi)) < len(json.dumps(per_leaf))


def test_a_failing_chain_fails_the_same_from_a_multiproof_bundle(world: World) -> None:
    chain = CottonChain(world)
    chain.build()
    world.s.revoke(
        AUDITOR,
        world.ids["cert:knitter"],
        "Withdrawn",
        day("2025-03-15"),
        world.at(day("2025-04-12")),
    )
    online = world.verify(now=world.clock.now)
    multi = build_bundle(world.ledger, world.ids["shipment"], now=world.clock.now, multiproof=True)
    assert online.status != "pass"
    assert offline(world, multi).to_json() == online.to_json()


def test_every_edit_of_the_multiproof_fails_with_log_inclusion(
    bundles: tuple[World, dict[str, Any], dict[str, Any]],
) -> None:
    w, per_leaf, multi = bundles
    assert multi["multiproof"]["hashes"]
    # the code a bad per-leaf inclusion proof gets
    bad = copy.deepcopy(per_leaf)
    hashes = bad["entries"][0]["inclusion"]["hashes"]
    bad["entries"][0]["inclusion"]["hashes"] = [_flip(hashes[0], 3), *hashes[1:]]
    expected = offline(w, bad)
    assert expected.status == "fail" and "LOG_INCLUSION" in expected.codes()
    for i in range(len(multi["multiproof"]["hashes"])):
        edited = copy.deepcopy(multi)
        edited["multiproof"]["hashes"][i] = _flip(edited["multiproof"]["hashes"][i], 7)
        verdict = offline(w, edited)
        assert verdict.status == "fail", i
        assert "LOG_INCLUSION" in verdict.codes(), i
    dropped, extra, resized, swapped = (copy.deepcopy(multi) for _ in range(4))
    dropped["multiproof"]["hashes"].pop()
    extra["multiproof"]["hashes"].append(multi["multiproof"]["hashes"][0])
    resized["multiproof"]["tree_size"] += 1
    hs = swapped["multiproof"]["hashes"]
    assert len(set(hs)) > 1
    hs[0], hs[-1] = hs[-1], hs[0]
    for name, edited in (
        ("dropped", dropped),
        ("extra", extra),
        ("resized", resized),
        ("swapped", swapped),
    ):
        verdict = offline(w, edited)
        assert verdict.status == "fail", name
        assert "LOG_INCLUSION" in verdict.codes(), name


def test_an_edited_leaf_under_a_multiproof_fails_with_log_inclusion(
    bundles: tuple[World, dict[str, Any], dict[str, Any]],
) -> None:
    w, _, multi = bundles
    for part in ("entries", "leaves"):
        edited = copy.deepcopy(multi)
        item = edited[part][0]
        item["leaf"] = _flip(item["leaf"], len(item["leaf"]) // 2)
        verdict = offline(w, edited)
        assert verdict.status == "fail" and "LOG_INCLUSION" in verdict.codes(), part


def test_random_edits_of_a_multiproof_bundle_never_pass(
    bundles: tuple[World, dict[str, Any], dict[str, Any]],
) -> None:
    w, _, multi = bundles
    rng = random.Random(20261202)
    for _ in range(60):
        edited = copy.deepcopy(multi)
        hashes = edited["multiproof"]["hashes"]
        entry = rng.choice(edited["entries"])
        holder: Any
        field, holder = rng.choice(
            [("leaf", entry), ("payload", entry["envelope"])]
            + [(i, hashes) for i in range(len(hashes))]
        )
        holder[field] = _flip(holder[field], rng.randrange(len(holder[field])))
        try:
            verdict = offline(w, edited)
        except LedgerError:  # refused outright (not base64 of 32 bytes, say): not a pass
            continue
        assert verdict.status == "fail", field


def test_proofs_are_per_leaf_or_one_multiproof_never_both_nor_neither(
    bundles: tuple[World, dict[str, Any], dict[str, Any]],
) -> None:
    w, per_leaf, multi = bundles
    mixed = copy.deepcopy(multi)
    mixed["entries"][0]["inclusion"] = per_leaf["entries"][0]["inclusion"]
    neither = copy.deepcopy(multi)
    del neither["multiproof"]
    missing = copy.deepcopy(per_leaf)
    del missing["leaves"][0]["inclusion"]
    for bad in (mixed, neither, missing):
        with pytest.raises(SchemaError):
            offline(w, bad)


def test_multiproof_paths_are_the_inclusion_proofs() -> None:
    rng = random.Random(5)
    for _ in range(200):
        size = rng.randint(1, 300)
        leaves = [hashlib.sha256(b"%d" % i).digest() for i in range(size)]
        nodes = merkle.MemoryNodes.from_leaf_hashes(leaves)
        root = merkle.root_hash(size, nodes)
        chosen = rng.sample(range(size), rng.randint(1, min(size, 40)))
        hashes = merkle.multiproof(chosen, size, nodes)
        assert len(hashes) == len(merkle.multiproof_ranges(chosen, size))
        paths = merkle.multiproof_paths({i: leaves[i] for i in chosen}, size, hashes)
        for i in chosen:
            assert list(paths[i]) == merkle.inclusion_proof(i, size, nodes)
            merkle.verify_inclusion(leaves[i], i, size, paths[i], root)


def test_a_multiproof_needs_its_exact_hashes() -> None:
    leaves = [hashlib.sha256(b"%d" % i).digest() for i in range(10)]
    nodes = merkle.MemoryNodes.from_leaf_hashes(leaves)
    hashes = merkle.multiproof([2, 7], 10, nodes)
    with pytest.raises(merkle.InclusionError):
        merkle.multiproof_paths({2: leaves[2], 7: leaves[7]}, 10, hashes[:-1])
    with pytest.raises(merkle.InclusionError):
        merkle.multiproof_paths({2: leaves[2], 7: leaves[7]}, 10, [*hashes, hashes[0]])
    with pytest.raises(merkle.InclusionError):
        merkle.multiproof_ranges([10], 10)
