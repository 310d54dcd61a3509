"""Where the verifier reads a chain from: the narrow :class:`ChainSource` protocol.

The verifier trusts nothing a source says. A source hands over bytes (leaves,
envelopes) and inclusion proofs, and names the entries that may matter (a party's
versions, a key's admission and revocations, a facility's certificates...); the
verifier checks each against the signed checkpoint before using it. Two sources exist:
:class:`LedgerSource` reads a live database, one indexed query per question, so cost
follows the chain and not the log; :class:`BundleSource` reads an evidence bundle.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ledger import merkle
from ledger.canonical import canonical_bytes
from ledger.dsse import parse_envelope
from ledger.encoding import b64decode, sha256_id
from ledger.errors import LedgerError, NotFoundError
from ledger.log import Ledger
from ledger.storage.base import StoredCheckpoint, StoredEntry
from ledger.storage.lookup import Lookups
from ledger.verify.parsed import Parsed


@dataclass(frozen=True)
class ChainEntry:
    """One log entry as a source gives it: bytes and a proof, all still unverified."""

    index: int
    leaf: bytes
    envelope: bytes | None
    proof: merkle.InclusionProof | None
    stored_leaf_hash: bytes | None = None


class ChainSource(Protocol):
    """The questions a verifier asks; every answer is checked before it is used."""

    def checkpoint_note(self) -> bytes: ...

    def entry(self, attestation_id: str) -> ChainEntry | None:
        """The entry of an attestation under the checkpoint, or None."""
        ...

    def leaf(self, index: int) -> ChainEntry | None:
        """The leaf at ``index`` (envelope optional), to check ``prev`` links."""
        ...

    def related(self, kind: str, key: str) -> Sequence[str]:
        """Attestation ids that may matter: see :meth:`Lookups.related` for the kinds."""
        ...


class LedgerSource:
    """A live ledger at its latest checkpoint (later appends are not seen)."""

    def __init__(self, ledger: Ledger, head: StoredCheckpoint | None = None) -> None:
        self.store = ledger.store
        self.lookups = Lookups(ledger.store)
        found = head or ledger.store.head()
        if found is None:
            raise NotFoundError("the log is empty: there is nothing to verify")
        self.head = found
        self.size = found.size
        # the log is append-only: stored nodes and entries never change, so each is
        # read once per verification, and each leaf's proof is built once
        self._nodes: dict[merkle.NodeKey, bytes] = {}
        self._subtrees: dict[merkle.Range, bytes] = {}
        self._stored: dict[int, StoredEntry] = {}
        self._indexes: dict[str, int] = {}
        self._proofs: dict[int, merkle.InclusionProof | None] = {}

    def get_nodes(self, keys: Sequence[merkle.NodeKey]) -> Mapping[merkle.NodeKey, bytes]:
        """The store's nodes, each read once per verification (proofs share their paths)."""
        missing = [k for k in keys if k not in self._nodes]
        if missing:
            self._nodes.update(self.store.get_nodes(missing))
        return {k: self._nodes[k] for k in keys}

    def checkpoint_note(self) -> bytes:
        return self.head.note

    def _proof(self, index: int, leaf_hash: bytes) -> merkle.InclusionProof | None:
        if index not in self._proofs:
            try:
                hashes = merkle.inclusion_proof_shared(index, self.size, self, self._subtrees)
            except LedgerError:
                self._proofs[index] = None
            else:
                self._proofs[index] = merkle.InclusionProof(
                    index, self.size, leaf_hash, tuple(hashes)
                )
        found = self._proofs[index]
        if found is not None and found.leaf_hash != leaf_hash:  # never, in one store
            return merkle.InclusionProof(index, self.size, leaf_hash, found.hashes)
        return found

    def _remember(self, stored: StoredEntry) -> StoredEntry:
        self._stored[stored.index] = stored
        self._indexes[stored.attestation_id] = stored.index
        return stored

    def entry(self, attestation_id: str) -> ChainEntry | None:
        if attestation_id in self._indexes:
            stored: StoredEntry | None = self._stored[self._indexes[attestation_id]]
        else:
            stored = self.store.find(attestation_id)
            if stored is not None:
                self._remember(stored)
        if stored is None or stored.index >= self.size:
            return None
        return ChainEntry(
            stored.index,
            stored.leaf,
            stored.envelope,
            self._proof(stored.index, stored.leaf_hash),
            stored.leaf_hash,
        )

    def leaf(self, index: int) -> ChainEntry | None:
        if not 0 <= index < self.size:
            return None
        stored = self._stored.get(index)
        if stored is None:
            try:
                stored = self._remember(self.store.get(index))
            except LedgerError:
                return None
        return ChainEntry(
            index, stored.leaf, None, self._proof(index, stored.leaf_hash), stored.leaf_hash
        )

    def related(self, kind: str, key: str) -> Sequence[str]:
        return self.lookups.related(kind, key)


def _leaf_bytes(text: str) -> bytes:
    """Leaf bytes, or none when the base64 is damaged (the leaf then proves nothing)."""
    try:
        return b64decode(text, what="leaf")
    except LedgerError:
        return b""


def _proof_or_none(raw: Any) -> merkle.InclusionProof | None:
    try:
        return merkle.InclusionProof.from_json(raw)
    except LedgerError:
        return None


class BundleSource:
    """An evidence bundle (already schema-checked): only what it carries exists.

    ``carried_ids`` and ``carried_leaves`` list everything the bundle holds, so the
    verifier can check all of it (an edited byte anywhere must fail, even in an entry
    the verdict would not need); ``problems`` notes entries that cannot even be named.
    """

    def __init__(self, bundle: dict[str, Any], parsed: Parsed | None = None) -> None:
        self.parsed = parsed or Parsed.empty()
        self.note = str(bundle["checkpoint"]).encode("utf-8")
        self._entries: dict[str, ChainEntry] = {}
        self._leaves: dict[int, ChainEntry] = {}
        self._related: dict[tuple[str, str], list[str]] = {}
        self.carried_ids: list[str] = []
        self.carried_leaves: list[int] = []
        self.problems: list[str] = []
        self._paths = _multiproof_paths(bundle)
        for item in bundle.get("leaves", []):
            leaf = _leaf_bytes(item["leaf"])
            self._put_leaf(ChainEntry(item["index"], leaf, None, self._proof(item, leaf)))
            self.carried_leaves.append(item["index"])
        for position, item in enumerate(bundle["entries"]):
            self._add(position, item)

    def _proof(self, item: dict[str, Any], leaf: bytes) -> merkle.InclusionProof | None:
        """The item's own inclusion proof, or its path rebuilt from the multi-proof."""
        if "inclusion" in item:
            return _proof_or_none(item["inclusion"])
        if self._paths is None:
            return None
        size, paths = self._paths
        index = item["index"]
        return merkle.InclusionProof(index, size, merkle.leaf_hash(leaf), paths[index])

    def _put_leaf(self, entry: ChainEntry) -> None:
        if entry.index in self._leaves:
            self.problems.append(f"the bundle carries leaf {entry.index} twice")
        self._leaves[entry.index] = entry

    def _add(self, position: int, item: dict[str, Any]) -> None:
        leaf = _leaf_bytes(item["leaf"])
        envelope = canonical_bytes(item["envelope"])
        entry = ChainEntry(item["index"], leaf, envelope, self._proof(item, leaf))
        self._put_leaf(entry)
        names: list[str] = []
        with contextlib.suppress(LedgerError):
            names.append(self.parsed.leaf(leaf).attestation)
        try:
            att = self.parsed.attestation(parse_envelope(item["envelope"]))
        except LedgerError:
            payload = item["envelope"].get("payload")
            with contextlib.suppress(LedgerError):
                names.append(sha256_id(b64decode(payload, what="payload")))
        else:
            names.append(att.id)
            for kind, key in _relations(att.type, att.body):
                self._related.setdefault((kind, key), []).append(att.id)
        names = list(dict.fromkeys(names))
        if not names:
            self.problems.append(f"bundle entry {position} has no readable leaf or payload")
            return
        for name in names:
            if self._entries.setdefault(name, entry) is not entry:
                self.problems.append(f"the bundle carries two entries for {name}")
        self.carried_ids.append(names[0])

    def checkpoint_note(self) -> bytes:
        return self.note

    def entry(self, attestation_id: str) -> ChainEntry | None:
        return self._entries.get(attestation_id)

    def leaf(self, index: int) -> ChainEntry | None:
        return self._leaves.get(index)

    def related(self, kind: str, key: str) -> Sequence[str]:
        return list(dict.fromkeys(self._related.get((kind, key), [])))


def _multiproof_paths(
    bundle: dict[str, Any],
) -> tuple[int, dict[int, tuple[bytes, ...]]] | None:
    """Every carried leaf's path from the bundle's multi-proof; None without one, or
    when it is malformed (then no leaf is proven: LOG_INCLUSION for each)."""
    raw = bundle.get("multiproof")
    if raw is None:
        return None
    leaf_hashes: dict[int, bytes] = {}  # the last item at an index, as ``leaf`` answers
    for item in [*bundle.get("leaves", []), *bundle["entries"]]:
        leaf_hashes[item["index"]] = merkle.leaf_hash(_leaf_bytes(item["leaf"]))
    try:
        hashes = [merkle.json_hash(h, "multiproof hash") for h in raw["hashes"]]
        return raw["tree_size"], merkle.multiproof_paths(leaf_hashes, raw["tree_size"], hashes)
    except LedgerError:
        return None


def _relations(type_: str, body: dict[str, Any]) -> list[tuple[str, str]]:
    """The ``(kind, key)`` pairs under which an attestation is found, as in the database."""
    if type_ == "party":
        return [("party", body["party_id"])] + [("key", k["key_id"]) for k in body["keys"]]
    if type_ == "key":
        return [("key", body["key_id"])]
    if type_ == "facility":
        return [("facility", body["facility_id"])]
    if type_ in ("certificate", "audit"):
        return [(type_, body["facility"])]
    if type_ == "revocation":
        return [("revocation", body["target"])]
    return [("consumer", item["ref"]) for item in body.get("inputs", [])]
