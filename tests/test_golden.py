"""Golden files: every signed and hashed format is byte-for-byte what it was."""

from __future__ import annotations

import pytest

from golden import VECTORS, generate

GENERATED = generate()


def test_the_golden_set_is_complete() -> None:
    on_disk = {p.name for p in VECTORS.iterdir() if p.is_file()}
    assert on_disk == set(GENERATED), "run scripts/regen-vectors and review the diff"


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_golden_file_matches_byte_for_byte(name: str) -> None:
    assert (VECTORS / name).read_bytes() == GENERATED[name], (
        f"tests/vectors/{name} changed: a signed or hashed format changed; if on purpose, "
        "run scripts/regen-vectors and review the diff"
    )
