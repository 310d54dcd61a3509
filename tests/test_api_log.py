"""Public log routes through the real app: checkpoint, proofs and leaves, checked offline."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from api import create_app
from api_fixtures import World, build_world, problem
from ledger import merkle
from ledger.checkpoint import verify_checkpoint
from ledger.home import Home
from ledger.log import Ledger
from ledger.storage import open_store


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = build_world(tmp_path_factory.mktemp("log"))
    yield w
    w.ledger.store.close()


@pytest.fixture
def client(world: World) -> FlaskClient:
    return world.client()


def _root(world: World, size: int | None = None) -> tuple[int, bytes]:
    note = world.client().get("/v1/checkpoint" + (f"?size={size}" if size else "")).data
    cp = verify_checkpoint(note, world.ledger.trust.log_vkey)
    return cp.size, cp.root


def test_checkpoint_is_a_signed_note_for_the_trust_root(world: World, client: FlaskClient) -> None:
    response = client.get("/v1/checkpoint")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    cp = verify_checkpoint(response.data, world.ledger.trust.log_vkey)
    assert cp.size == world.ledger.size()
    older = client.get("/v1/checkpoint?size=3")
    assert verify_checkpoint(older.data, world.ledger.trust.log_vkey).size == 3


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("size=0", 400, "MALFORMED"),
        ("size=x", 400, "MALFORMED"),
        ("size=-1", 400, "MALFORMED"),
        ("size=1&size=2", 400, "MALFORMED"),
        ("size=99999", 404, "NOT_FOUND"),
    ],
)
def test_checkpoint_errors(client: FlaskClient, query: str, status: int, code: str) -> None:
    problem(client.get(f"/v1/checkpoint?{query}"), status, code)


def test_empty_log_has_no_checkpoint(home: Home, tmp_path: Path) -> None:
    empty = Ledger(open_store(str(tmp_path / "empty.db")), home.trust_root())
    try:
        problem(create_app(ledger=empty).test_client().get("/v1/checkpoint"), 404, "NOT_FOUND")
    finally:
        empty.store.close()


def test_inclusion_proofs_verify_by_id_and_index(world: World, client: FlaskClient) -> None:
    size, root = _root(world)
    by_id = client.get(f"/v1/proofs/inclusion?id={world.ids['origin']}").get_json()
    entry = world.ledger.entry(world.ids["origin"])
    assert by_id["index"] == entry.index and by_id["tree_size"] == size
    merkle.InclusionProof.from_json(by_id).verify(root)
    by_index = client.get(f"/v1/proofs/inclusion?id={entry.index}").get_json()
    assert by_index == by_id
    old_size, old_root = _root(world, entry.index + 1)
    old = client.get(f"/v1/proofs/inclusion?id={entry.index}&tree_size={old_size}").get_json()
    merkle.InclusionProof.from_json(old).verify(old_root)


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("", 400, "MALFORMED"),
        ("id=nonsense", 400, "MALFORMED"),
        ("id=sha256:" + "0" * 64, 404, "NOT_FOUND"),
        ("id=99999", 404, "NOT_FOUND"),
        ("id=30&tree_size=5", 400, "MALFORMED"),
        ("id=1&tree_size=99999", 404, "NOT_FOUND"),
        ("id=1&tree_size=0", 400, "MALFORMED"),
    ],
)
def test_inclusion_errors(client: FlaskClient, query: str, status: int, code: str) -> None:
    problem(client.get(f"/v1/proofs/inclusion?{query}"), status, code)


def test_consistency_proofs_verify(world: World, client: FlaskClient) -> None:
    size, root = _root(world)
    for old in (1, 2, 7, size):
        _, old_root = _root(world, old)
        proof = client.get(f"/v1/proofs/consistency?old={old}").get_json()
        assert proof["new_size"] == size
        merkle.ConsistencyProof.from_json(proof).verify(old_root, root)
    _, mid_root = _root(world, 10)
    proof = client.get("/v1/proofs/consistency?old=4&new=10").get_json()
    merkle.ConsistencyProof.from_json(proof).verify(_root(world, 4)[1], mid_root)


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("", 400, "MALFORMED"),
        ("old=0", 400, "MALFORMED"),
        ("old=5&new=3", 400, "MALFORMED"),
        ("old=1&new=99999", 404, "NOT_FOUND"),
        ("old=abc", 400, "MALFORMED"),
    ],
)
def test_consistency_errors(client: FlaskClient, query: str, status: int, code: str) -> None:
    problem(client.get(f"/v1/proofs/consistency?{query}"), status, code)


def test_leaves_rebuild_the_signed_root(world: World, client: FlaskClient) -> None:
    """A mirror that reads only leaves recomputes the root the log signed."""
    size, root = _root(world)
    leaves = client.get(f"/v1/log/leaves?start=0&end={size}").get_json()["leaves"]
    assert [leaf["index"] for leaf in leaves] == list(range(size))
    hashes = [merkle.leaf_hash(base64.b64decode(leaf["leaf"])) for leaf in leaves]
    assert merkle.root_hash(size, merkle.MemoryNodes.from_leaf_hashes(hashes)) == root


def test_leaves_are_paged(world: World) -> None:
    client = create_app(ledger=world.ledger, config={"LOTCHAIN_PAGE_SIZE": 4}).test_client()
    size = world.ledger.size()
    first = client.get("/v1/log/leaves?start=0&end=10").get_json()["leaves"]
    assert [leaf["index"] for leaf in first] == [0, 1, 2, 3]  # fewer than asked: ask again
    tail = client.get(f"/v1/log/leaves?start={size - 2}&end={size + 5}").get_json()["leaves"]
    assert [leaf["index"] for leaf in tail] == [size - 2, size - 1]
    assert client.get(f"/v1/log/leaves?start={size}&end={size + 1}").get_json() == {"leaves": []}
    assert client.get("/v1/log/leaves?start=5&end=5").get_json() == {"leaves": []}


@pytest.mark.parametrize(
    "query",
    ["", "start=0", "end=3", "start=-1&end=3", "start=0&end=0", "start=a&end=2", "start=9&end=3"],
)
def test_leaves_errors(client: FlaskClient, query: str) -> None:
    problem(client.get(f"/v1/log/leaves?{query}"), 400, "MALFORMED")
