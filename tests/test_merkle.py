"""The Merkle tree against the vendored RFC 6962 vectors and against itself for small trees."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from conftest import EXTERNAL_VECTORS
from ledger.errors import ConsistencyError, InclusionError, MalformedError, ProofError
from ledger.merkle import (
    EMPTY_ROOT,
    ConsistencyProof,
    InclusionProof,
    MemoryNodes,
    NodeKey,
    build_nodes,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    nodes_to_store,
    nodes_to_store_batch,
    root_hash,
    verify_consistency,
    verify_inclusion,
)


def vectors_dir() -> Path:
    """The public vectors vendored in tests/vectors/external; a missing one must fail."""
    return EXTERNAL_VECTORS


MERKLE = vectors_dir() / "merkle"


def _files(kind: str) -> list[Path]:
    found = sorted((MERKLE / kind).rglob("*.json"))
    return found or [MERKLE / kind / "MISSING.json"]


def _ids(paths: Sequence[Path]) -> list[str]:
    return [str(p.relative_to(MERKLE)) for p in paths]


def _b64(text: str) -> bytes:
    return base64.b64decode(text)


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


class CountingReader:
    """Wraps a reader and records every get_nodes call."""

    def __init__(self, inner: MemoryNodes) -> None:
        self.inner = inner
        self.calls: list[list[NodeKey]] = []

    def get_nodes(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
        self.calls.append(list(keys))
        return self.inner.get_nodes(keys)


def _leaves(n: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def _naive_root(hashes: Sequence[bytes]) -> bytes:
    """MTH straight from RFC 6962, as an independent reference."""
    if not hashes:
        return EMPTY_ROOT
    if len(hashes) == 1:
        return hashes[0]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    return node_hash(_naive_root(hashes[:k]), _naive_root(hashes[k:]))


LEAVES = _leaves(40)
TREE = MemoryNodes.from_leaf_hashes(LEAVES)
ROOTS = [_naive_root(LEAVES[:n]) for n in range(41)]


def test_vectors_present() -> None:
    assert len(sorted((MERKLE / "inclusion").rglob("*.json"))) > 50
    assert len(sorted((MERKLE / "consistency").rglob("*.json"))) > 50
    assert (MERKLE / "reference-tree.json").is_file()


@pytest.mark.parametrize("path", _files("inclusion"), ids=_ids(_files("inclusion")))
def test_inclusion_vector(path: Path) -> None:
    v = _load(path)
    args = (
        _b64(v["leafHash"]),
        v["leafIdx"],
        v["treeSize"],
        [_b64(h) for h in v["proof"] or []],
        _b64(v["root"]),
    )
    if v["wantErr"]:
        with pytest.raises(InclusionError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("path", _files("consistency"), ids=_ids(_files("consistency")))
def test_consistency_vector(path: Path) -> None:
    v = _load(path)
    args = (
        v["size1"],
        v["size2"],
        [_b64(h) for h in v["proof"] or []],
        _b64(v["root1"]),
        _b64(v["root2"]),
    )
    if v["wantErr"]:
        with pytest.raises(ConsistencyError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def test_reference_tree_one_at_a_time_and_batch() -> None:
    ref = _load(MERKLE / "reference-tree.json")
    leaves = [leaf_hash(bytes.fromhex(h)) for h in ref["leaf_inputs_hex"]]
    want = [bytes.fromhex(h) for h in ref["root_hashes_hex_by_tree_size"]]
    assert len(want) == len(leaves) + 1
    one = MemoryNodes()
    assert root_hash(0, one) == EMPTY_ROOT == want[0]
    for size, h in enumerate(leaves):
        one.put_many(nodes_to_store(size, h, one))
        assert root_hash(size + 1, one) == want[size + 1]
    for split in range(len(leaves) + 1):
        batch = MemoryNodes()
        batch.put_many(nodes_to_store_batch(0, leaves[:split], batch))
        batch.put_many(nodes_to_store_batch(split, leaves[split:], batch))
        for size in range(len(want)):
            assert root_hash(size, batch) == want[size]


def test_roots_match_naive_for_every_size() -> None:
    for n in range(41):
        assert root_hash(n, TREE) == ROOTS[n]


def test_batch_equals_one_at_a_time() -> None:
    one = MemoryNodes()
    expected: dict[NodeKey, bytes] = {}
    for size, h in enumerate(LEAVES):
        added = nodes_to_store(size, h, one)
        one.put_many(added)
        expected.update(added)
    assert dict(build_nodes(LEAVES)) == expected
    for old in range(0, 41, 3):
        for new in sorted({*range(old, 41, 5), 40}):
            reader = CountingReader(MemoryNodes())
            reader.inner.put_many(build_nodes(LEAVES[:old]))
            got = nodes_to_store_batch(old, LEAVES[old:new], reader)
            assert len(reader.calls) <= 1
            assert dict(got) == {k: v for k, v in expected.items() if _new_node(k, old, new)}


def _new_node(key: NodeKey, old: int, new: int) -> bool:
    level, index = key
    return old < (index + 1) << level <= new


def test_append_reads_once_and_only_left_siblings() -> None:
    reader = CountingReader(MemoryNodes())
    for size, h in enumerate(LEAVES):
        reader.calls.clear()
        new = nodes_to_store(size, h, reader)
        reader.inner.put_many(new)
        assert len(reader.calls) <= 1
        # appending leaf i completes one node per trailing 1-bit of i, plus the leaf
        trailing = (size ^ (size + 1)).bit_length() - 1
        assert len(new) == trailing + 1
        if reader.calls:
            assert len(reader.calls[0]) == trailing


def test_every_inclusion_proof_verifies() -> None:
    reader = CountingReader(TREE)
    for n in range(1, 41):
        root = root_hash(n, TREE)
        for i in range(n):
            reader.calls.clear()
            proof = inclusion_proof(i, n, reader)
            assert len(reader.calls) <= 1
            verify_inclusion(LEAVES[i], i, n, proof, root)
            with pytest.raises(InclusionError):
                verify_inclusion(LEAVES[i], i, n, proof, ROOTS[n - 1] if n > 1 else EMPTY_ROOT)


def test_every_consistency_proof_verifies() -> None:
    reader = CountingReader(TREE)
    for n in range(1, 41):
        for m in range(1, n + 1):
            reader.calls.clear()
            proof = consistency_proof(m, n, reader)
            assert len(reader.calls) <= 1
            verify_consistency(m, n, proof, ROOTS[m], ROOTS[n])


def test_root_reads_once() -> None:
    reader = CountingReader(TREE)
    for n in range(1, 41):
        reader.calls.clear()
        root_hash(n, reader)
        assert len(reader.calls) == 1
        assert len(reader.calls[0]) == bin(n).count("1")


def test_bit_flip_in_any_proof_hash_fails() -> None:
    for n in (1, 2, 3, 5, 7, 8, 13, 16, 31, 40):
        for i in range(n):
            proof = inclusion_proof(i, n, TREE)
            for j in range(len(proof)):
                for bit in (0, 7, 255):
                    bad = list(proof)
                    bad[j] = _flip(bad[j], bit)
                    with pytest.raises(InclusionError):
                        verify_inclusion(LEAVES[i], i, n, bad, ROOTS[n])
        for m in range(1, n):
            proof = consistency_proof(m, n, TREE)
            for j in range(len(proof)):
                for bit in (0, 7, 255):
                    bad = list(proof)
                    bad[j] = _flip(bad[j], bit)
                    with pytest.raises(ConsistencyError):
                        verify_consistency(m, n, bad, ROOTS[m], ROOTS[n])


def _flip(h: bytes, bit: int) -> bytes:
    b = bytearray(h)
    b[bit // 8] ^= 1 << (bit % 8)
    return bytes(b)


def test_proof_arguments_rejected() -> None:
    with pytest.raises(InclusionError):
        inclusion_proof(5, 5, TREE)
    with pytest.raises(MalformedError):
        inclusion_proof(-1, 5, TREE)
    with pytest.raises(ConsistencyError):
        consistency_proof(6, 5, TREE)
    with pytest.raises(MalformedError):
        consistency_proof(-1, 5, TREE)
    with pytest.raises(ConsistencyError):
        consistency_proof(0, 5, TREE)
    assert consistency_proof(0, 0, TREE) == []
    assert consistency_proof(7, 7, TREE) == []
    with pytest.raises(MalformedError):
        nodes_to_store(0, b"short", MemoryNodes())
    with pytest.raises(ProofError):
        verify_inclusion(LEAVES[0], 0, 1, [b"x" * 31], LEAVES[0])


def test_inclusion_proof_json_round_trip() -> None:
    proof = InclusionProof(3, 11, LEAVES[3], tuple(inclusion_proof(3, 11, TREE)))
    obj = proof.to_json()
    assert set(obj) == {"index", "tree_size", "leaf_hash", "hashes"}
    assert obj["leaf_hash"] == base64.b64encode(LEAVES[3]).decode()
    again = InclusionProof.from_json(json.loads(json.dumps(obj)))
    assert again == proof
    again.verify(ROOTS[11])
    with pytest.raises(InclusionError):
        again.verify(ROOTS[10])


def test_consistency_proof_json_round_trip() -> None:
    proof = ConsistencyProof(6, 19, tuple(consistency_proof(6, 19, TREE)))
    obj = proof.to_json()
    assert set(obj) == {"old_size", "new_size", "hashes"}
    again = ConsistencyProof.from_json(json.loads(json.dumps(obj)))
    assert again == proof
    again.verify(ROOTS[6], ROOTS[19])
    with pytest.raises(ConsistencyError):
        again.verify(ROOTS[5], ROOTS[19])


GOOD_HASH = base64.b64encode(bytes(32)).decode()


@pytest.mark.parametrize(
    "obj",
    [
        None,
        [],
        {"index": 0, "tree_size": 1, "leaf_hash": GOOD_HASH},
        {"index": 0, "tree_size": 1, "leaf_hash": GOOD_HASH, "hashes": [], "x": 1},
        {"index": -1, "tree_size": 1, "leaf_hash": GOOD_HASH, "hashes": []},
        {"index": True, "tree_size": 1, "leaf_hash": GOOD_HASH, "hashes": []},
        {"index": "0", "tree_size": 1, "leaf_hash": GOOD_HASH, "hashes": []},
        {"index": 0, "tree_size": 2**63, "leaf_hash": GOOD_HASH, "hashes": []},
        {"index": 1, "tree_size": 1, "leaf_hash": GOOD_HASH, "hashes": []},
        {"index": 0, "tree_size": 1.0, "leaf_hash": GOOD_HASH, "hashes": []},
        {"index": 0, "tree_size": 1, "leaf_hash": GOOD_HASH[:-1], "hashes": []},
        {"index": 0, "tree_size": 1, "leaf_hash": GOOD_HASH.replace("A", "-"), "hashes": []},
        {
            "index": 0,
            "tree_size": 1,
            "leaf_hash": base64.b64encode(bytes(31)).decode(),
            "hashes": [],
        },
        {"index": 0, "tree_size": 1, "leaf_hash": GOOD_HASH, "hashes": [GOOD_HASH] * 65},
        {"index": 0, "tree_size": 1, "leaf_hash": GOOD_HASH, "hashes": GOOD_HASH},
        {"index": 0, "tree_size": 1, "leaf_hash": GOOD_HASH, "hashes": [1]},
        {"index": 0, "tree_size": 1, "leaf_hash": GOOD_HASH, "hashes": ["AAAA"]},
    ],
)
def test_inclusion_from_json_rejects(obj: object) -> None:
    with pytest.raises(MalformedError):
        InclusionProof.from_json(obj)


@pytest.mark.parametrize(
    "obj",
    [
        "x",
        {"old_size": 2, "new_size": 1, "hashes": []},
        {"old_size": 1, "new_size": 2},
        {"old_size": 1, "new_size": 2, "hashes": [GOOD_HASH + "="]},
        {"old_size": 1, "new_size": 2**64, "hashes": []},
        {"old_size": None, "new_size": 2, "hashes": []},
    ],
)
def test_consistency_from_json_rejects(obj: object) -> None:
    with pytest.raises(MalformedError):
        ConsistencyProof.from_json(obj)
