"""The verifier: walk a shipment's chain and judge every entry it relies on.

Steps 1-7 (checkpoint, inclusion, log chain, envelopes and signatures, schemas, keys,
roles) are judged here for every entry the verdict relies on; steps 8-16 (the chain's
material and compliance rules) live in :mod:`ledger.verify.material` and
:mod:`ledger.verify.compliance`. The numbers match :data:`ledger.verify.verdict.STEPS`.

Nothing a source says is trusted: every leaf is proven under the signed checkpoint,
every envelope must be the one its leaf commits to, and keys and roles are those
admitted by entries integrated *before* the entry they authorise. Revocations are
judged by their effective time, so a key revoked with a back-dated compromise time
invalidates what it signed after that time, even if the revocation came later.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ledger import merkle
from ledger.admission import ISSUER_ROLES
from ledger.attestation import Attestation
from ledger.checkpoint import Checkpoint, verify_checkpoint
from ledger.dsse import Envelope, parse_envelope
from ledger.encoding import b64decode, parse_date, parse_timestamp, sha256_id
from ledger.encoding import format_timestamp as ts
from ledger.errors import LedgerError, UsageError
from ledger.keys import key_id, verify_signature
from ledger.leaf import ZERO_HASH, Leaf
from ledger.lineage import Lineage
from ledger.orders import OrderList
from ledger.screening import ScreeningList
from ledger.trustroot import TrustRoot
from ledger.verify.parsed import Parsed
from ledger.verify.rules import Rules, default_rules
from ledger.verify.source import ChainEntry, ChainSource
from ledger.verify.verdict import Finding
from ledger.verify.words import article, joined, party_label

MATERIAL_TYPES = ("origin", "transformation", "transfer", "shipment")
MAX_CHAIN = 50_000
_EPOCH = datetime.min.replace(tzinfo=UTC)


@dataclass
class Node:
    """An entry as loaded: its attestation (None if unusable) and its own findings."""

    id: str
    index: int
    integrated_at: datetime | None
    att: Attestation | None
    findings: list[Finding] = field(default_factory=list)
    authorised: bool = False
    #: event_time's answer, once asked (a loaded node's attestation never changes)
    when: When | bool | None = field(default=False, repr=False, compare=False)

    @property
    def type(self) -> str:
        return self.att.type if self.att else ""

    @property
    def body(self) -> dict[str, Any]:
        return self.att.body if self.att else {}

    def flag(self, code: str, message: str, **kw: Any) -> None:
        self.findings.append(Finding.of(code, self.id, message, **kw))

    def has(self, *codes: str) -> bool:
        return any(f.code in codes for f in self.findings)


@dataclass(frozen=True)
class KeyInfo:
    party: str
    public_key: bytes
    valid_from: datetime
    revoked_at: datetime | None
    revoked_by: str | None


@dataclass(frozen=True)
class When:
    """An event's time; ``is_date`` when the attestation gives only a day."""

    at: datetime
    is_date: bool

    def label(self) -> str:
        return self.at.date().isoformat() if self.is_date else ts(self.at)


def event_time(node: Node) -> When | None:
    """When the event of a material attestation happened, as its body says."""
    if node.when is False:
        node.when = _event_time(node)
    return node.when if isinstance(node.when, When) else None


def _event_time(node: Node) -> When | None:
    body = node.body
    try:
        if node.type == "origin":
            return When(parse_date(body["produced_on"]), True)
        if node.type == "shipment":
            return When(parse_date(body["arrival_date"]), True)
        if node.type in ("transformation", "transfer"):
            return When(parse_timestamp(body["event_time"]), False)
    except LedgerError:
        return None
    return None


def effective_time(node: Node) -> datetime:
    """When a key change or revocation takes effect; if its ``effective_at`` is not a real
    time, from the entry's own integration (never earlier than it could be known)."""
    try:
        return parse_timestamp(node.body["effective_at"])
    except LedgerError:
        return node.integrated_at or _EPOCH


def is_before(a: When, b: When) -> bool:
    """``a`` strictly before ``b``, comparing days when either gives only a day."""
    if a.is_date or b.is_date:
        return a.at.date() < b.at.date()
    return a.at < b.at


class Verifier:
    """One verification run over one source; not reusable across shipments."""

    def __init__(
        self,
        source: ChainSource,
        trust: TrustRoot,
        *,
        now: datetime,
        lists: Sequence[ScreeningList | OrderList] = (),
        rules: Rules | None = None,
        parsed: Parsed | None = None,
    ) -> None:
        self.source = source
        self.parsed = parsed or Parsed.empty()
        self.trust = trust
        self.now = now
        self.lists = tuple(x for x in lists if isinstance(x, ScreeningList))  # entity lists
        self.order_lists = tuple(x for x in lists if isinstance(x, OrderList))  # WRO/Findings
        self.rules = rules or default_rules()
        self.nodes: dict[str, Node | None] = {}
        self.used: dict[str, None] = {}
        self.findings: list[Finding] = []
        self.checkpoint: Checkpoint | None = None
        self.chain: dict[str, Node] = {}
        self.tiers: dict[str, int] = {}
        self._prev: dict[int, tuple[bytes | None, datetime | None, str | None]] = {}
        # one check per distinct (index, leaf bytes, proof), however many steps ask
        self._leaf_checks: dict[
            tuple[int, bytes, merkle.InclusionProof | None], tuple[bytes, str | None]
        ] = {}
        self._related: dict[tuple[str, str], list[str]] = {}
        self._related_nodes: dict[tuple[str, str, bool], list[Node]] = {}
        self.lineage: Lineage | None = None  # what ambiguous lots are (verify.material)

    # -- 1. checkpoint ------------------------------------------------------------------

    def open_checkpoint(self) -> bool:
        """Step 1: the checkpoint is signed by the trust root's log key."""
        try:
            self.checkpoint = verify_checkpoint(self.source.checkpoint_note(), self.trust.log_vkey)
        except LedgerError as e:
            self.findings.append(Finding.of("CHECKPOINT", None, f"checkpoint: {e.message}"))
            return False
        return True

    # -- loading one entry: steps 2-5 ---------------------------------------------------

    def peek(self, att_id: str) -> Node | None:
        """Load an entry without relying on it (its findings count only once used)."""
        if att_id not in self.nodes:
            found = self.source.entry(att_id)
            self.nodes[att_id] = None if found is None else self._load(att_id, found)
        return self.nodes[att_id]

    def use(self, att_id: str) -> Node | None:
        """Load an entry the verdict relies on, and judge its signatures, keys and role."""
        node = self.peek(att_id)
        if node is not None:
            self.used.setdefault(att_id)
            if not node.authorised:
                node.authorised = True
                self._authorise(node)
        return node

    def _load(self, att_id: str, entry: ChainEntry) -> Node:
        node = Node(att_id, entry.index, None, None)
        leaf = self._check_log(node, entry)
        if leaf is not None:
            node.index, node.integrated_at = leaf.index, leaf.integrated_at
        # 4. the envelope is the one the leaf commits to, and its payload hashes to the id
        try:
            env = parse_envelope(entry.envelope or b"")
        except LedgerError as e:
            node.flag("SIGNATURE", f"envelope cannot be read: {e.message}")
            return node
        self._check_envelope(node, env, leaf)
        # 5. the payload validates against its schema
        try:
            att = self.parsed.attestation(env)
        except LedgerError as e:
            node.flag("SCHEMA", f"payload does not validate: {e.message}")
            return node
        if leaf is not None and leaf.issuer != att.issuer:
            node.flag("LOG_CHAIN", f"leaf names issuer {leaf.issuer}, payload {att.issuer}")
        node.att = att
        return node

    def _check_log(self, node: Node, entry: ChainEntry) -> Leaf | None:
        # 2. the leaf is proven under the checkpoint
        leaf_hash, problem = self._proven(entry)
        leaf: Leaf | None = None
        try:
            leaf = self.parsed.leaf(entry.leaf)
        except LedgerError as e:
            node.flag(
                "LOG_INCLUSION", f"leaf of entry {entry.index} is not a valid leaf: {e.message}"
            )
        if problem:
            node.flag("LOG_INCLUSION", f"entry {entry.index} is not proven in the log: {problem}")
        if leaf is not None and leaf.index != entry.index:
            node.flag("LOG_INCLUSION", f"leaf says index {leaf.index}, not {entry.index}")
        # 3. the log's record of the leaf agrees, and prev links to the leaf before it
        if entry.stored_leaf_hash is not None and entry.stored_leaf_hash != leaf_hash:
            node.flag(
                "LOG_CHAIN", f"stored hash of leaf {entry.index} is not the hash of its bytes"
            )
        if leaf is not None:
            self._check_prev(node, leaf)
        return leaf

    def _proven(self, entry: ChainEntry) -> tuple[bytes, str | None]:
        """The leaf's hash, and why its proof does not put it under the checkpoint (or
        None); checked once per distinct leaf and proof."""
        key = (entry.index, entry.leaf, entry.proof)
        found = self._leaf_checks.get(key)
        if found is None:
            assert self.checkpoint is not None
            digest = merkle.leaf_hash(entry.leaf)
            found = (digest, self._proof_problem(entry, digest, self.checkpoint))
            self._leaf_checks[key] = found
        return found

    @staticmethod
    def _proof_problem(entry: ChainEntry, leaf_hash: bytes, cp: Checkpoint) -> str | None:
        proof = entry.proof
        if proof is None:
            return "no valid inclusion proof"
        if proof.leaf_hash != leaf_hash:
            return "the proof is for another leaf hash"
        if proof.index != entry.index or proof.tree_size != cp.size:
            return f"the proof is for index {proof.index} of a tree of {proof.tree_size}"
        try:
            proof.verify(cp.root)
        except LedgerError as e:
            return e.message
        return None

    def _prev_leaf(self, index: int) -> tuple[bytes | None, datetime | None, str | None]:
        """Hash and time of the proven leaf at ``index``, or why it cannot be had."""
        if index not in self._prev:
            assert self.checkpoint is not None
            entry = self.source.leaf(index)
            if entry is None:
                self._prev[index] = (None, None, f"leaf {index} is not available")
            else:
                digest, problem = self._proven(entry)
                try:
                    when: datetime | None = self.parsed.leaf(entry.leaf).integrated_at
                except LedgerError:
                    when, problem = None, problem or "it is not a valid leaf"
                self._prev[index] = (
                    (None, None, f"leaf {index} is not proven: {problem}")
                    if problem
                    else (digest, when, None)
                )
        return self._prev[index]

    def _check_prev(self, node: Node, leaf: Leaf) -> None:
        if leaf.index == 0:
            if leaf.prev != ZERO_HASH:
                node.flag("LOG_CHAIN", "the first leaf must have an all-zero prev")
            return
        digest, when, problem = self._prev_leaf(leaf.index - 1)
        if digest is None:
            # the leaf before is not proven: an inclusion failure, reported as such
            node.flag(
                "LOG_INCLUSION", f"cannot check the prev link of leaf {leaf.index}: {problem}"
            )
        elif leaf.prev != digest.hex():
            node.flag(
                "LOG_CHAIN", f"leaf {leaf.index}'s prev is not the hash of leaf {leaf.index - 1}"
            )
        elif when is not None and when > leaf.integrated_at:
            node.flag("LOG_CHAIN", f"leaf {leaf.index} is integrated before the leaf preceding it")

    @staticmethod
    def _check_envelope(node: Node, env: Envelope, leaf: Leaf | None) -> None:
        payload_id = sha256_id(env.payload)
        if payload_id != node.id:
            node.flag("SIGNATURE", f"payload bytes hash to {payload_id}, not to the id")
        if leaf is not None and leaf.attestation != payload_id:
            node.flag("SIGNATURE", f"the leaf commits to {leaf.attestation}, not this payload")
        if leaf is not None and leaf.envelope != env.digest:
            node.flag("SIGNATURE", "envelope bytes are not the ones the log committed to")

    # -- steps 4 (signatures), 6 (keys) and 7 (roles) -----------------------------------

    def _authorise(self, node: Node) -> None:
        att, at = node.att, node.integrated_at
        if att is None or at is None:
            return
        message = att.envelope.signed_bytes()
        issuer_key_seen = False
        for sig in att.envelope.signatures:
            key = self.key_at(sig.keyid, node.index)
            if key is None:
                node.flag(
                    "KEY_INVALID",
                    f"signed with key {sig.keyid}, which no entry before this one admits",
                )
                continue
            if not verify_signature(key.public_key, message, sig.sig):
                node.flag(
                    "SIGNATURE",
                    f"the signature by key {sig.keyid} of "
                    f"{party_label(self, key.party, node.index)} does not verify",
                )
                continue
            issuer_key_seen |= key.party == att.issuer
            if key.valid_from > at:
                node.flag(
                    "KEY_INVALID",
                    f"key {sig.keyid} of {party_label(self, key.party, node.index)} is "
                    f"valid only from {ts(key.valid_from)}, but this entry was logged at "
                    f"{ts(at)} (log time)",
                )
            elif key.revoked_at is not None and key.revoked_at <= at:
                node.flag(
                    "KEY_INVALID",
                    f"key {sig.keyid} of {party_label(self, key.party, node.index)} was revoked "
                    f"effective {ts(key.revoked_at)} (revocation time, by {key.revoked_by}), "
                    f"before this entry was logged at {ts(at)} (log time)",
                )
        if not issuer_key_seen and not node.has("SIGNATURE", "KEY_INVALID"):
            node.flag(
                "KEY_INVALID",
                f"no signature by a key of the issuer {party_label(self, att.issuer, node.index)}",
            )
        self._check_role(node, att)

    def key_at(self, kid: str, index: int) -> KeyInfo | None:
        """The key as admitted before entry ``index``, with its earliest revocation."""
        admitted: KeyInfo | None = None
        root = self.trust.registrar_key(kid)
        if root is not None:
            admitted = KeyInfo(root.party, root.public_key, _EPOCH, None, None)
        revoked: tuple[datetime, str] | None = None
        for other in self.related_nodes("key", kid):
            body, at = other.body, other.integrated_at or _EPOCH
            found = _admission(other, kid)
            if found is not None and other.index < index and admitted is None:
                party, public, valid_from = found
                admitted = KeyInfo(party, public, max(valid_from, at), None, None)
            if other.type == "key" and body["action"] == "revoke" and body["key_id"] == kid:
                effective = effective_time(other)
                if revoked is None or effective < revoked[0]:
                    revoked = (effective, other.id)
        if admitted is None or revoked is None:
            return admitted
        return KeyInfo(admitted.party, admitted.public_key, admitted.valid_from, *revoked)

    def roles_at(self, party: str, index: int) -> frozenset[str]:
        """Roles of ``party`` as its latest party entry before ``index`` gives them."""
        roles: frozenset[str] = frozenset()
        for version in self.related_nodes("party", party):
            if version.index < index and version.type == "party":
                roles = frozenset(version.body["roles"])
        return roles | ({"registrar"} if self.trust.is_root_registrar(party) else set())

    def _check_role(self, node: Node, att: Attestation) -> None:
        roles = self.roles_at(att.issuer, node.index)
        allowed = ISSUER_ROLES[att.type]
        if not roles & allowed:
            plural_s = "s" if len(roles) > 1 else ""
            held = f"the role{plural_s} {joined(sorted(roles))}" if roles else "no role"
            node.flag(
                "ROLE",
                f"{party_label(self, att.issuer, node.index)} held {held} when this "
                f"{att.type} was logged; {article(att.type)} is issued by "
                f"{joined([article(r) for r in sorted(allowed)]).replace(' and ', ' or ')}",
            )
            return
        registrar = "registrar" in roles
        owner = {"key": "party", "facility": "operator"}.get(att.type)
        if owner and att.body[owner] != att.issuer and not registrar:
            node.flag(
                "ROLE",
                f"only {party_label(self, att.body[owner], node.index)} or a registrar may "
                f"issue this {att.type} declaration, not "
                f"{party_label(self, att.issuer, node.index)}",
            )
        if att.type == "revocation":
            target = self.use(att.body["target"])
            if target is None:
                node.flag("REF_MISSING", f"revokes {att.body['target']}, which is not in the log")
            elif target.att and target.att.issuer != att.issuer and not registrar:
                node.flag(
                    "ROLE",
                    f"only {party_label(self, target.att.issuer, node.index)} or a registrar "
                    f"may revoke {article(target.type)} it issued ({target.id})",
                )

    # -- lookups of what a chain relies on ----------------------------------------------

    def related_nodes(self, kind: str, key: str, *, rely: bool = True) -> list[Node]:
        """Entries found by ``(kind, key)`` that load, in log order.

        The answer never changes within a run (the source's answer is fixed, and so is
        each entry once loaded), so it is computed, and its entries used, once."""
        found = self._related_nodes.get((kind, key, rely))
        if found is not None:
            return list(found)
        out = []
        if (kind, key) not in self._related:
            self._related[kind, key] = list(self.source.related(kind, key))
        for att_id in self._related[kind, key]:
            node = self.use(att_id) if rely else self.peek(att_id)
            if node is not None and node.att is not None:
                out.append(node)
        out.sort(key=lambda n: n.index)
        self._related_nodes[kind, key, rely] = out
        return list(out)

    def facility_at(self, facility: str, index: int) -> Node | None:
        """The latest facility declaration integrated before entry ``index``."""
        found = None
        for version in self.related_nodes("facility", facility):
            if version.type == "facility" and version.index < index:
                found = version
        return found

    def party_at(self, party: str, index: int) -> Node | None:
        found = None
        for version in self.related_nodes("party", party):
            if version.type == "party" and version.index < index:
                found = version
        return found

    def revocations(self, target: Node) -> list[tuple[datetime, Node]]:
        """Revocations of ``target`` by its issuer or a registrar, earliest first."""
        out = []
        issuer = target.att.issuer if target.att else None
        for rev in self.related_nodes("revocation", target.id):
            body = rev.body
            if rev.type != "revocation" or body.get("target") != target.id or rev.att is None:
                continue
            if rev.att.issuer == issuer or "registrar" in self.roles_at(rev.att.issuer, rev.index):
                out.append((effective_time(rev), rev))
        return sorted(out, key=lambda pair: (pair[0], pair[1].index))

    # -- the walk -----------------------------------------------------------------------

    def walk(self, shipment: Node) -> None:
        """Collect the chain: the shipment and every material entry upstream, by tier."""
        queue = [(shipment, 0)]
        self.chain[shipment.id], self.tiers[shipment.id] = shipment, 0
        while queue:
            node, tier = queue.pop(0)
            for producer_id in input_producers(node):
                if producer_id in self.chain:
                    continue
                producer = self.use(producer_id)
                if producer is None or producer.type not in MATERIAL_TYPES[:3]:
                    continue
                if len(self.chain) >= MAX_CHAIN:
                    raise UsageError(f"the chain has more than {MAX_CHAIN} entries")
                self.chain[producer_id], self.tiers[producer_id] = producer, tier + 1
                queue.append((producer, tier + 1))

    def check_carried(
        self, ids: Sequence[str], leaves: Sequence[int], problems: Sequence[str]
    ) -> None:
        """Offline: everything a bundle carries must verify, whether the verdict needs it or not."""
        for att_id in ids:
            self.use(att_id)
        for index in leaves:
            problem = self._prev_leaf(index)[2]
            if problem:
                self.findings.append(Finding.of("LOG_INCLUSION", None, problem))
        for problem in problems:
            self.findings.append(Finding.of("LOG_INCLUSION", None, problem))

    def all_findings(self) -> list[Finding]:
        """Findings of every relied-on entry plus the chain rules, in step order."""
        out = list(self.findings)
        for att_id in self.used:
            node = self.nodes.get(att_id)
            if node is not None:
                out.extend(node.findings)
        order = {att_id: (n.index if n else -1) for att_id, n in self.nodes.items()}
        unique = list(dict.fromkeys(out))
        return sorted(
            unique, key=lambda f: (f.step, order.get(f.attestation or "", -1), f.code, f.message)
        )


def input_producers(node: Node) -> list[str]:
    """Attestation ids whose outputs ``node`` consumes, in input order."""
    ids = [str(item["ref"]).split("#", 1)[0] for item in node.body.get("inputs", [])]
    return list(dict.fromkeys(ids))


def _admission(node: Node, kid: str) -> tuple[str, bytes, datetime] | None:
    """``(party, public key, valid_from)`` if ``node`` admits key ``kid``."""
    body = node.body
    candidates: Iterable[dict[str, Any]] = ()
    if node.type == "party":
        candidates = ({**k, "party": body["party_id"]} for k in body["keys"])
    elif node.type == "key" and body["action"] == "add":
        candidates = ({**body, "valid_from": body["effective_at"]},)
    for item in candidates:
        if item["key_id"] != kid:
            continue
        try:
            public = b64decode(item["public_key"], what="public_key", length=32)
        except LedgerError:
            return None
        if key_id(public) != kid:
            return None
        try:
            valid_from = parse_timestamp(item["valid_from"])
        except LedgerError:  # not a real time: valid from its admission, no earlier
            valid_from = node.integrated_at or _EPOCH
        return item["party"], public, valid_from
    return None
