"""Generated docs are current: the schema and the parameter files are the only definitions."""

from __future__ import annotations

import json

from tests.conftest import REPO
from workload.cli import main
from workload.docs import generated_docs
from workload.params import load_parameters


def test_generated_docs_are_not_stale() -> None:
    for rel, text in generated_docs().items():
        committed = (REPO / rel).read_text(encoding="utf-8")
        assert committed == text, f"{rel} is stale: run `workload docs`"


def test_parameters_doc_lists_every_parameter_with_unit() -> None:
    text = generated_docs()["docs/parameters.md"]
    params = load_parameters()
    for path, leaf in params.leaves.items():
        assert f"`{path}`" in text
        assert leaf.unit


def test_schema_command_prints_json_schema(capsys) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    tiers = schema["tables"]["cases"]["$defs"]["Tier"]["enum"]
    assert tiers[:2] == ["A3", "A2"] and "D0S" in tiers
    assert schema["scenario.toml"]["additionalProperties"] is False
