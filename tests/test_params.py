"""Parameters as data: every leaf sourced, overrides checked before they apply, duplicates refused."""

from __future__ import annotations

import pytest
import yaml

from workload.params import ParameterError, _UniqueKeyLoader, _walk, load_parameters


def test_every_leaf_has_unit_and_source_or_assumption() -> None:
    params = load_parameters()
    assert len(params.leaves) > 50
    for path, leaf in params.leaves.items():
        assert leaf.unit, path
        assert leaf.source or leaf.assumption, path


def test_duplicate_keys_are_refused() -> None:
    with pytest.raises(ParameterError, match="duplicate key 'value'"):
        yaml.load("a:\n  value: 1\n  value: 2\n", Loader=_UniqueKeyLoader)


def test_leaf_without_source_is_refused() -> None:
    with pytest.raises(ParameterError, match="needs a 'source' or an 'assumption'"):
        list(_walk({"x": {"description": "d", "unit": "h", "value": 1}}, "t", "t.yaml"))


def test_leaf_with_unknown_metadata_is_refused() -> None:
    with pytest.raises(ParameterError, match="refrence"):
        list(_walk({"x": {"description": "d", "unit": "h", "value": 1, "source": "s", "refrence": "r"}}, "t", "t.yaml"))


def test_overrides_apply_to_leaves_and_table_entries_and_record_what_changed() -> None:
    params = load_parameters({"wmt.red_pct": 120, "wmt": {"weights": {"licence": {"C2": 70}}}})
    assert params["wmt.red_pct"] == 120
    assert params.table("wmt.weights.licence")["C2"] == 70
    assert params.table("wmt.weights.licence")["C1"] == 52
    assert params.overridden == ("wmt.red_pct", "wmt.weights.licence.C2")
    assert load_parameters()["wmt.red_pct"] == 110, "defaults untouched"


def test_all_problems_reported_before_anything_applies() -> None:
    with pytest.raises(ParameterError) as info:
        load_parameters({"wmt.red_pct": "x", "wmt.nope": 1})
    message = str(info.value)
    assert "wmt.red_pct must be a number" in message and "wmt.nope is not a parameter" in message


def test_whole_table_override_is_refused_with_a_hint() -> None:
    with pytest.raises(ParameterError, match="override its entries one by one"):
        load_parameters({"wmt.weights.custody": 3})


def test_flat_lists_every_scalar() -> None:
    flat = load_parameters().flat()
    assert flat["wmt.weights.community.A3"] == 206
    assert flat["wmt.nominal_target.PO"] == 2176
