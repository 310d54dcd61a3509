"""External standards read where they lie (../shared/standards), never copied into the project.

Their licences differ from the project's, so a clone on its own skips these tests with the
reason; ``LOTCHAIN_REQUIRE_SHARED=1`` (set by .ci/run) turns the skip into a failure.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest

from conftest import shared_standards_path


def _load(*parts: str) -> Any:
    return json.loads(shared_standards_path(*parts).read_bytes())


def test_the_epcis_json_schema_is_a_json_schema_that_judges_gs1_examples() -> None:
    schema = _load("epcis", "EPCIS-JSON-Schema.json")
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)  # raises SchemaError if it is not a JSON Schema
    validator = validator_class(schema)
    example = _load("epcis", "Example_9.6.4-TransformationEvent.jsonld.json")
    assert list(validator.iter_errors(example)) == []
    broken = copy.deepcopy(example)
    del broken["type"]
    assert list(validator.iter_errors(broken)), "a document without its type must not validate"


def test_a_missing_standard_skips_or_fails_as_ci_demands(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LOTCHAIN_REQUIRE_SHARED", raising=False)
    with pytest.raises(pytest.skip.Exception, match="not beside the project"):
        shared_standards_path("epcis", "no-such-file.json")
    monkeypatch.setenv("LOTCHAIN_REQUIRE_SHARED", "1")
    with pytest.raises(pytest.fail.Exception, match="LOTCHAIN_REQUIRE_SHARED=1"):
        shared_standards_path("epcis", "no-such-file.json")
