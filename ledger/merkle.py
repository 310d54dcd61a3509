"""RFC 6962 / RFC 9162 Merkle tree over stored perfect-subtree nodes.

Node ``(level, index)`` is the hash of the perfect subtree over leaves
``[index * 2**level, (index + 1) * 2**level)``; level 0 holds leaf hashes. Only perfect
subtrees are stored, so a node never changes once written, an append writes O(log n) nodes,
and any root or proof needs O(log n) of them, fetched from storage in one query.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, Self, TypeAlias

from ledger.errors import (
    ConsistencyError,
    InclusionError,
    LogChainError,
    MalformedError,
    NotFoundError,
)

HASH_SIZE = 32
MAX_TREE_SIZE = 2**63 - 1
MAX_PROOF_HASHES = 64
EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()

NodeKey: TypeAlias = tuple[int, int]
Range: TypeAlias = tuple[int, int]


def leaf_hash(data: bytes) -> bytes:
    """Hash a leaf with the 0x00 prefix so a leaf can never pass for an interior node."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash two children with the 0x01 prefix (RFC 6962 domain separation)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


class NodeReader(Protocol):
    """Storage of perfect-subtree nodes; answers a batch of keys in one query."""

    def get_nodes(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]: ...


class MemoryNodes:
    """A dict-backed NodeReader for tests, evidence bundles and benchmarks."""

    def __init__(self) -> None:
        self._nodes: dict[NodeKey, bytes] = {}

    @classmethod
    def from_leaf_hashes(cls, leaf_hashes: Sequence[bytes]) -> MemoryNodes:
        """Build every stored node of the tree over ``leaf_hashes``."""
        nodes = cls()
        nodes.put_many(build_nodes(leaf_hashes))
        return nodes

    def put(self, key: NodeKey, value: bytes) -> None:
        self._nodes[key] = value

    def put_many(self, items: Iterable[tuple[NodeKey, bytes]]) -> None:
        self._nodes.update(items)

    def get_nodes(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
        try:
            return {key: self._nodes[key] for key in keys}
        except KeyError as e:
            raise NotFoundError(f"Merkle node {e.args[0]} is not stored") from e


def build_nodes(leaf_hashes: Sequence[bytes]) -> list[tuple[NodeKey, bytes]]:
    """All stored nodes of the tree over ``leaf_hashes`` (no reads needed from size 0)."""
    return nodes_to_store_batch(0, leaf_hashes, MemoryNodes())


def _check_size(name: str, value: object) -> int:
    """A tree size or index: an int (not a bool) in [0, 2**63 - 1]."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedError(f"{name} must be an integer")
    if value < 0 or value > MAX_TREE_SIZE:
        raise MalformedError(f"{name} {value} is out of range")
    return value


def _split(n: int) -> int:
    """Largest power of two strictly below ``n`` (n >= 2), the RFC 6962 split point."""
    return 1 << ((n - 1).bit_length() - 1)


def _range_keys(lo: int, hi: int) -> list[NodeKey]:
    """Perfect subtrees, left to right, that make up the RFC subtree over ``[lo, hi)``."""
    keys: list[NodeKey] = []
    start, size = lo, hi - lo
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            keys.append((level, start >> level))
            start += 1 << level
    return keys


def frontier_keys(tree_size: int) -> list[NodeKey]:
    """The perfect subtrees whose hashes make up the root at ``tree_size``, left to right.

    They are the only stored nodes that appending the next leaves, or proving the last
    leaves, reads: a writer that keeps them needs no node reads at all.
    """
    _check_size("tree_size", tree_size)
    return _range_keys(0, tree_size)


def _fold(hashes: Sequence[bytes]) -> bytes:
    """Combine right-edge perfect subtrees into the hash of their (unbalanced) parent."""
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def _fetch(reader: NodeReader, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
    """One get_nodes call; a missing or short node means storage is corrupt."""
    unique = list(dict.fromkeys(keys))
    got = reader.get_nodes(unique) if unique else {}
    out = {key: bytes(got.get(key, b"")) for key in unique}
    for key, value in out.items():
        if len(value) != HASH_SIZE:
            raise LogChainError(f"Merkle node {key} is missing from storage or corrupt")
    return out


def _hash_ranges(ranges: Sequence[Range], reader: NodeReader) -> list[bytes]:
    """Hashes of RFC subtrees, computed from their perfect parts fetched in one call."""
    key_lists = [_range_keys(lo, hi) for lo, hi in ranges]
    nodes = _fetch(reader, [k for keys in key_lists for k in keys])
    return [_fold([nodes[k] for k in keys]) for keys in key_lists]


def _inclusion_ranges(index: int, size: int) -> list[Range]:
    """Subtrees whose hashes form PATH(index, D[0:size]), leaf level first."""
    out: list[Range] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo += k
    out.reverse()
    return out


def _consistency_ranges(old_size: int, new_size: int) -> list[Range]:
    """Subtrees whose hashes form PROOF(old_size, D[0:new_size]) (RFC 9162 SUBPROOF)."""
    tail: list[Range] = []
    lo, m, n, complete = 0, old_size, new_size, True
    while m != n:
        k = _split(n)
        if m <= k:
            tail.append((lo + k, lo + n))
            n = k
        else:
            tail.append((lo, lo + k))
            lo, m, n, complete = lo + k, m - k, n - k, False
    head: list[Range] = [] if complete else [(lo, lo + m)]
    return head + tail[::-1]


def nodes_to_store(
    tree_size: int, new_leaf_hash: bytes, reader: NodeReader
) -> list[tuple[NodeKey, bytes]]:
    """Nodes to write when appending leaf number ``tree_size``: the leaf and its new parents."""
    return nodes_to_store_batch(tree_size, [new_leaf_hash], reader)


def nodes_to_store_batch(
    old_size: int, leaf_hashes: Sequence[bytes], reader: NodeReader
) -> list[tuple[NodeKey, bytes]]:
    """Nodes to write when appending ``leaf_hashes`` after ``old_size`` leaves.

    Only left siblings that already existed are read (one call); the rest is computed here.
    Returned bottom-up, left to right.
    """
    _check_size("old_size", old_size)
    for h in leaf_hashes:
        if not isinstance(h, bytes) or len(h) != HASH_SIZE:
            raise MalformedError(f"leaf hash must be {HASH_SIZE} bytes")
    new_size = old_size + len(leaf_hashes)
    _check_size("new_size", new_size)
    if not leaf_hashes:
        return []

    needed: list[NodeKey] = []
    level = 0
    while (new_size >> level) > (old_size >> level):
        lo = old_size >> level
        if lo & 1 and (new_size >> (level + 1)) > (lo >> 1):
            needed.append((level, lo - 1))
        level += 1
    old_nodes = _fetch(reader, needed)

    out: list[tuple[NodeKey, bytes]] = []
    current: dict[int, bytes] = {old_size + i: h for i, h in enumerate(leaf_hashes)}
    level = 0
    while current:
        out.extend(((level, j), h) for j, h in current.items())
        lo, hi = old_size >> (level + 1), new_size >> (level + 1)
        parents: dict[int, bytes] = {}
        for j in range(lo, hi):
            left = current.get(2 * j) or old_nodes[(level, 2 * j)]
            parents[j] = node_hash(left, current[2 * j + 1])
        current = parents
        level += 1
    return out


def root_hash(tree_size: int, reader: NodeReader) -> bytes:
    """Root of the first ``tree_size`` leaves, from O(log n) stored nodes."""
    _check_size("tree_size", tree_size)
    if tree_size == 0:
        return EMPTY_ROOT
    return _hash_ranges([(0, tree_size)], reader)[0]


def inclusion_proof(index: int, tree_size: int, reader: NodeReader) -> list[bytes]:
    """RFC 9162 PATH(index, D[0:tree_size]), leaf level first."""
    _check_size("index", index)
    _check_size("tree_size", tree_size)
    if index >= tree_size:
        raise InclusionError(f"index {index} is not in a tree of size {tree_size}")
    return _hash_ranges(_inclusion_ranges(index, tree_size), reader)


def inclusion_proof_shared(
    index: int, tree_size: int, reader: NodeReader, memo: dict[Range, bytes]
) -> list[bytes]:
    """:func:`inclusion_proof`, reusing the subtree hashes in ``memo`` (of the same tree
    size and reader) and adding those it computes: proofs of many leaves share most of
    their upper subtrees, so each is read and folded once."""
    _check_size("index", index)
    _check_size("tree_size", tree_size)
    if index >= tree_size:
        raise InclusionError(f"index {index} is not in a tree of size {tree_size}")
    ranges = _inclusion_ranges(index, tree_size)
    missing = [r for r in ranges if r not in memo]
    if missing:
        memo.update(zip(missing, _hash_ranges(missing, reader), strict=True))
    return [memo[r] for r in ranges]


def consistency_proof(old_size: int, new_size: int, reader: NodeReader) -> list[bytes]:
    """RFC 9162 PROOF(old_size, D[0:new_size]); empty when the sizes are equal."""
    _check_size("old_size", old_size)
    _check_size("new_size", new_size)
    if old_size > new_size:
        raise ConsistencyError(f"old size {old_size} is larger than new size {new_size}")
    if old_size == new_size:
        return []
    if old_size == 0:
        raise ConsistencyError("a consistency proof from the empty tree proves nothing")
    return _hash_ranges(_consistency_ranges(old_size, new_size), reader)


def _check_hashes(proof: Sequence[bytes], error: type[InclusionError | ConsistencyError]) -> None:
    for i, h in enumerate(proof):
        if not isinstance(h, bytes) or len(h) != HASH_SIZE:
            raise error(f"proof hash {i} is not {HASH_SIZE} bytes")


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 section 2.1.3.2; returns None or raises InclusionError saying why."""
    if index < 0 or tree_size < 0:
        raise InclusionError("index and tree size must not be negative")
    if index >= tree_size:
        raise InclusionError(f"index {index} is not in a tree of size {tree_size}")
    if len(leaf_hash) != HASH_SIZE:
        raise InclusionError(f"leaf hash is not {HASH_SIZE} bytes")
    _check_hashes(proof, InclusionError)
    fn, sn, r = index, tree_size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise InclusionError("proof has more hashes than the tree size allows")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise InclusionError("proof has fewer hashes than the tree size needs")
    if r != root:
        raise InclusionError("computed root does not match the expected root")


def verify_consistency(
    old_size: int, new_size: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes
) -> None:
    """RFC 9162 section 2.1.4.2; returns None or raises ConsistencyError saying why."""
    if old_size < 0 or new_size < 0:
        raise ConsistencyError("tree sizes must not be negative")
    if old_size > new_size:
        raise ConsistencyError(f"old size {old_size} is larger than new size {new_size}")
    _check_hashes(proof, ConsistencyError)
    if old_size == new_size:
        if proof:
            raise ConsistencyError("sizes are equal but the proof is not empty")
        if old_size == 0 and (old_root != EMPTY_ROOT or new_root != EMPTY_ROOT):
            raise ConsistencyError("a tree of size 0 must have the empty root")
        if old_root != new_root:
            raise ConsistencyError("sizes are equal but the roots differ")
        return
    if old_size == 0:
        raise ConsistencyError("a consistency proof from the empty tree proves nothing")
    if not proof:
        raise ConsistencyError("proof is empty but the sizes differ")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ConsistencyError("proof has more hashes than the tree sizes allow")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if fr != old_root:
        raise ConsistencyError("computed old root does not match the old root")
    if sr != new_root:
        raise ConsistencyError("computed new root does not match the new root")
    if sn != 0:
        raise ConsistencyError("proof has fewer hashes than the tree sizes need")


def multiproof_ranges(indices: Iterable[int], tree_size: int) -> list[Range]:
    """The RFC subtrees, left to right, that hold none of ``indices`` but are siblings on
    their paths: with the leaves at ``indices`` they give the root, and every path."""
    _check_size("tree_size", tree_size)
    wanted = sorted(set(indices))
    if not wanted or wanted[0] < 0 or wanted[-1] >= tree_size:
        raise InclusionError(f"a multi-proof needs leaves within a tree of size {tree_size}")
    out: list[Range] = []
    stack: list[tuple[int, int, int, int]] = [(0, tree_size, 0, len(wanted))]
    while stack:  # depth first, left before right: the order the hashes are listed in
        lo, hi, a, b = stack.pop()
        if a == b:
            out.append((lo, hi))
        elif hi - lo > 1:
            mid = lo + _split(hi - lo)
            cut = bisect.bisect_left(wanted, mid, a, b)
            stack += [(mid, hi, cut, b), (lo, mid, a, cut)]
    return out


def multiproof(indices: Iterable[int], tree_size: int, reader: NodeReader) -> list[bytes]:
    """The hashes of :func:`multiproof_ranges`, from stored nodes in one read."""
    return _hash_ranges(multiproof_ranges(indices, tree_size), reader)


def multiproof_paths(
    leaf_hashes: Mapping[int, bytes], tree_size: int, hashes: Sequence[bytes]
) -> dict[int, tuple[bytes, ...]]:
    """Each leaf's RFC 9162 inclusion path, from the leaves and a multi-proof's hashes.

    Subtrees are hashed once for all paths. The paths are not yet checked against any
    root: each is verified as an inclusion proof would be, so a wrong hash fails the
    leaves whose paths it is on. Raises InclusionError when the hash count is wrong."""
    ranges = multiproof_ranges(leaf_hashes, tree_size)
    _check_hashes(hashes, InclusionError)
    if len(hashes) != len(ranges):
        raise InclusionError(
            f"the multi-proof has {len(hashes)} hashes; its leaves need {len(ranges)}"
        )
    known: dict[Range, bytes] = dict(zip(ranges, hashes, strict=True))
    known.update(((i, i + 1), h) for i, h in leaf_hashes.items())

    def subtree(lo: int, hi: int) -> bytes:
        found = known.get((lo, hi))
        if found is None:
            mid = lo + _split(hi - lo)
            found = known[lo, hi] = node_hash(subtree(lo, mid), subtree(mid, hi))
        return found

    return {
        i: tuple(subtree(lo, hi) for lo, hi in _inclusion_ranges(i, tree_size)) for i in leaf_hashes
    }


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _json_hash(value: object, what: str) -> bytes:
    """Strict standard base64 of exactly 32 bytes (canonical: re-encodes to the same text)."""
    if not isinstance(value, str) or len(value) != 44:
        raise MalformedError(f"{what} must be base64 of {HASH_SIZE} bytes")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as e:
        raise MalformedError(f"{what} is not valid base64") from e
    if len(raw) != HASH_SIZE or _b64(raw) != value:
        raise MalformedError(f"{what} must be base64 of {HASH_SIZE} bytes")
    return raw


def json_hash(value: object, what: str) -> bytes:
    """A hash from JSON: strict standard base64 of exactly 32 bytes."""
    return _json_hash(value, what)


def _json_object(obj: object, keys: set[str], what: str) -> Mapping[str, Any]:
    if not isinstance(obj, dict):
        raise MalformedError(f"{what} must be a JSON object")
    if set(obj) != keys:
        raise MalformedError(f"{what} must have exactly the fields {sorted(keys)}")
    return obj


def _json_hashes(value: object) -> tuple[bytes, ...]:
    if not isinstance(value, list):
        raise MalformedError("hashes must be a list")
    if len(value) > MAX_PROOF_HASHES:
        raise MalformedError(f"a proof has at most {MAX_PROOF_HASHES} hashes")
    return tuple(_json_hash(h, f"hashes[{i}]") for i, h in enumerate(value))


@dataclass(frozen=True)
class InclusionProof:
    """An inclusion proof in the DESIGN.md wire shape."""

    index: int
    tree_size: int
    leaf_hash: bytes
    hashes: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "tree_size": self.tree_size,
            "leaf_hash": _b64(self.leaf_hash),
            "hashes": [_b64(h) for h in self.hashes],
        }

    @classmethod
    def from_json(cls, obj: object) -> Self:
        o = _json_object(obj, {"index", "tree_size", "leaf_hash", "hashes"}, "inclusion proof")
        index, tree_size = (
            _check_size("index", o["index"]),
            _check_size("tree_size", o["tree_size"]),
        )
        if index >= tree_size:
            raise MalformedError(f"index {index} is not below tree_size {tree_size}")
        return cls(
            index, tree_size, _json_hash(o["leaf_hash"], "leaf_hash"), _json_hashes(o["hashes"])
        )

    def verify(self, root: bytes) -> None:
        """Raise InclusionError unless this proof puts the leaf under ``root``."""
        verify_inclusion(self.leaf_hash, self.index, self.tree_size, self.hashes, root)


@dataclass(frozen=True)
class ConsistencyProof:
    """A consistency proof in the DESIGN.md wire shape."""

    old_size: int
    new_size: int
    hashes: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "old_size": self.old_size,
            "new_size": self.new_size,
            "hashes": [_b64(h) for h in self.hashes],
        }

    @classmethod
    def from_json(cls, obj: object) -> Self:
        o = _json_object(obj, {"old_size", "new_size", "hashes"}, "consistency proof")
        old_size, new_size = (
            _check_size("old_size", o["old_size"]),
            _check_size("new_size", o["new_size"]),
        )
        if old_size > new_size:
            raise MalformedError(f"old_size {old_size} is larger than new_size {new_size}")
        return cls(old_size, new_size, _json_hashes(o["hashes"]))

    def verify(self, old_root: bytes, new_root: bytes) -> None:
        """Raise ConsistencyError unless the new tree extends the old one."""
        verify_consistency(self.old_size, self.new_size, self.hashes, old_root, new_root)
