"""The material rules cost what the event holds, not its inputs times its outputs.

A transfer may split one harvest into hundreds of lots or merge hundreds into one; the
append path judges MATERIAL on every such event, so classifying a material must happen
once per distinct code and name, not once per pair of input and output (no timing is
asserted: the count of classifications is the cost).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ledger import materials


def _lot(label: str, name: str = "cotton lint", hs: str = "5201.00") -> dict[str, Any]:
    return {
        "lot": label,
        "material": {"name": name, "hs_code": hs},
        "quantity": {"amount": "100", "unit": "kg"},
    }


def test_a_wide_transfer_classifies_each_material_once(monkeypatch: pytest.MonkeyPatch) -> None:
    rules = materials.default_material_rules()
    rules._classified.clear()
    calls: list[tuple[str, str]] = []
    real = materials.MaterialRules._classify

    def counted(self: materials.MaterialRules, hs_code: str, name: str) -> frozenset[str]:
        calls.append((hs_code, name))
        return real(self, hs_code, name)

    monkeypatch.setattr(materials.MaterialRules, "_classify", counted)
    n = 300
    inputs = [materials.Consumed(_lot(f"IN-{i}"), Decimal(100)) for i in range(n)]
    outputs = [_lot(f"OUT-{i}") for i in range(n)]
    assert materials.transfer_problems(rules, inputs, outputs, materials.default_mass_units()) == []
    assert len(calls) == len(set(calls)) == 1


def test_the_remembered_classes_are_the_computed_ones() -> None:
    rules = materials.default_material_rules()
    for name, hs in (("seed cotton", "5201.00"), ("cotton yarn", "5205.11"), ("x", "9999.99")):
        first = rules.classify({"name": name, "hs_code": hs})
        assert rules.classify({"name": name, "hs_code": hs}) == first
        assert first == rules._classify(hs, name)


def test_a_wide_transfer_still_refuses_more_than_it_consumes() -> None:
    rules = materials.default_material_rules()
    inputs = [materials.Consumed(_lot(f"IN-{i}"), Decimal(100)) for i in range(200)]
    outputs = [_lot(f"OUT-{i}") for i in range(201)]
    found = materials.transfer_problems(rules, inputs, outputs, materials.default_mass_units())
    assert [p.code for p in found] == ["MATERIAL"]
