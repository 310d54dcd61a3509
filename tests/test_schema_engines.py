"""The compiled validator that decides on the hot path agrees with the reference one.

``ledger.schemas.validate`` asks jsonschema-rs whether a value is valid and jsonschema
(the reference implementation) only words the error. Here both judge the example
bodies and many mutations of them: a disagreement would let one engine's reading of a
pattern or keyword decide what the ledger accepts.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import schemas
from test_schemas import BODY_TYPES, EXAMPLE_BODIES

MUTANTS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=12),
    st.sampled_from(
        [
            "party:x",
            "party:abc\n",
            "sha256:" + "a" * 64,
            "2025-13-01",
            "2025-01-01T00:00:00Z",
            "-1",
            "1.0000001",
            "kg",
            "CN-XJ",
            "ed25519:",
        ]
    ),
    st.lists(st.text(max_size=4), max_size=2),
    st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=2),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            out += _paths(child, (*prefix, i))
    return out


def _agree(name: str, value: Any) -> None:
    fast = schemas._fast(name).is_valid(value)
    reference = not any(schemas.validator(name).iter_errors(value))
    assert fast == reference, (name, value)


def test_examples_agree() -> None:
    for name in BODY_TYPES:
        _agree(name, EXAMPLE_BODIES[name])


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(BODY_TYPES), st.data(), MUTANTS, st.booleans())
def test_mutated_bodies_agree(name: str, data: st.DataObject, mutant: Any, drop: bool) -> None:
    body = copy.deepcopy(EXAMPLE_BODIES[name])
    path = data.draw(st.sampled_from(_paths(body)))
    parent = body
    for step in path[:-1]:
        parent = parent[step]
    if drop and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = mutant
    _agree(name, body)
