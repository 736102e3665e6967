"""Parameter ranges (red-team round 2, finding 10): every number in every parameter file declares the values it
may take, every default lies inside, and an override outside is refused by `workload validate` and `run`
(exit 2, one message naming the file, the parameter, the value and the range, nothing written) instead of an
internal error, negative costs or an infinite capacity."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from tests.conftest import FIXTURES
from workload.cli import main
from workload.docs import parameters_markdown
from workload.params import PARAMETER_FILES, ParameterError, _walk, load_parameters, parse_range


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _raw_leaves() -> list[tuple[str, dict]]:
    """Every leaf of every parameter file, as the YAML holds it (not through the model being tested)."""
    out: list[tuple[str, dict]] = []

    def walk(node: dict, prefix: str) -> None:
        for key, child in node.items():
            if key == "description":
                continue
            if isinstance(child, dict) and "value" in child:
                out.append((f"{prefix}.{key}", child))
            elif isinstance(child, dict):
                walk(child, f"{prefix}.{key}")

    for name in PARAMETER_FILES:
        ref = resources.files("workload.params").joinpath(f"{name}.yaml")
        walk(yaml.safe_load(ref.read_text(encoding="utf-8")), name)
    return out


def test_every_numeric_parameter_declares_a_range_and_its_default_lies_inside() -> None:
    leaves = _raw_leaves()
    assert len(leaves) == len(load_parameters().leaves) > 100
    unbounded, outside, numbers = [], [], 0
    for path, leaf in leaves:
        value = leaf["value"]
        entries = value if isinstance(value, dict) else {None: value}
        for key, number in entries.items():
            if isinstance(number, str):
                allowed = leaf.get("allowed")
                assert allowed is None or number in allowed, (path, key, number, allowed)
                continue
            if not _is_number(number):
                continue
            numbers += 1
            declared = leaf.get("range")
            text = declared.get(key) if isinstance(declared, dict) else declared
            if text is None:
                unbounded.append(f"{path}.{key}" if key else path)
                continue
            rng = parse_range(text)
            integer_ok = not leaf.get("integer") or float(number).is_integer()
            if not (rng.contains(number) and integer_ok):
                outside.append((path, key, number, text))
    assert numbers > 600
    assert unbounded == [], f"numbers without a range: {unbounded[:10]}"
    assert outside == [], outside


def test_ranges_follow_what_the_numbers_mean() -> None:
    params = load_parameters()

    def rng(path: str) -> str:
        leaf, key = params.leaf_of(path)
        return leaf.range_of(key).notation

    assert rng("allocation.capacity.productive_hours_per_fte_year") == "(0, 8784]", "a divisor: above 0"
    assert rng("allocation.capacity.fte_hours_per_week") == "(0, 168]"
    assert rng("wmt.default_hours.PO") == "(0, 168]" and rng("wmt.default_hours.SPO") == "[0, 168]"
    assert rng("outcomes.reoffending.effect_of_full_coverage") == "[0, 1]"
    assert rng("outcomes.reoffending.base_rate") == "[0, 1]"
    assert rng("needs.hours_per_severity.drugs") == "[0, inf)"
    assert rng("costs.staff_cost_per_hour.PO") == "[0, inf)"
    assert rng("synth.risk.ogrs_logit_mean.female") == "(-inf, inf)", "a logit may be negative"
    assert rng("outcomes.sensitivity.low.base_rate") == "[0, 1]"
    assert params.leaves["wmt.weights.community"].integer
    assert params.leaves["wmt.baseline_allocation.highest_protect_level"].allowed == ["A", "B", "C", "D"]


@pytest.mark.parametrize(
    "leaf, message",
    [
        ({"value": 1}, "needs a 'range'"),
        ({"value": {"a": 1, "b": 2}}, "needs a 'range'"),
        ({"value": 1, "range": "0 to 1"}, "is not an interval"),
        ({"value": 1, "range": "[0, inf]"}, "an infinite end is never included"),
        ({"value": 1, "range": "[2, 1]"}, "the low end must be below the high end"),
        ({"value": 2, "range": "[0, 1]"}, "the default is not allowed: must be from 0 to 1, range [0, 1]; found 2"),
        ({"value": 0, "range": "(0, inf)"}, "must be above 0, range (0, inf); found 0"),
        ({"value": 1.5, "range": "[0, 9]", "integer": True}, "must be a whole number from 0 to 9"),
        ({"value": {"a": 1, "b": 2}, "range": {"a": "[0, 1]"}}, "a range per entry must name each entry"),
        ({"value": "x", "range": "[0, 1]"}, "'range' is for numbers"),
        ({"value": "E", "allowed": ["A", "B"]}, "must be one of A, B; found 'E'"),
        ({"value": "=1+1"}, "starts with '='"),
    ],
)
def test_a_parameter_file_with_a_missing_or_bad_range_is_refused(leaf: dict, message: str) -> None:
    node = {"x": {"description": "d", "unit": "u", "source": "s", **leaf}}
    with pytest.raises(ParameterError) as caught:
        list(_walk(node, "t", "t.yaml"))
    assert "t.yaml: parameter t.x" in str(caught.value) and message in str(caught.value), str(caught.value)


def test_range_notation_in_words_and_vectorised() -> None:
    assert parse_range("[0, inf)").describe() == "0 or more"
    assert parse_range("(0, inf)").describe() == "above 0"
    assert parse_range("[0, 1]").describe() == "from 0 to 1"
    assert parse_range("(0, 8784]").describe() == "above 0 and at most 8784"
    assert parse_range("(-inf, inf)").describe() == "any finite number"
    assert parse_range(" [ -1 , 1 ] ").notation == "[-1, 1]"
    outside = parse_range("(0, 1]").outside(np.array([0.0, 1e-12, 1.0, 1.5, np.nan, np.inf, -np.inf]))
    assert outside.tolist() == [True, False, False, True, True, True, True]


def test_every_bad_override_is_reported_at_once_naming_parameter_value_and_range() -> None:
    with pytest.raises(ParameterError) as caught:
        load_parameters(
            {
                "needs.hours_per_severity.drugs": -40,
                "outcomes": {"reoffending": {"effect_of_full_coverage": 3}},
                "allocation.capacity.productive_hours_per_fte_year": 0,
                "wmt.baseline_allocation.highest_protect_level.PSO": '=HYPERLINK("http://x")',
                "wmt.workload_pct_decimals": 1.5,
            }
        )
    problems = caught.value.messages
    assert [p.code for p in caught.value.problems] == ["parameter.out_of_range"] * 3 + [
        "parameter.not_allowed",
        "parameter.out_of_range",
    ]
    assert [p.key for p in caught.value.problems] == [
        "needs.hours_per_severity.drugs",
        "outcomes.reoffending.effect_of_full_coverage",
        "allocation.capacity.productive_hours_per_fte_year",
        "wmt.baseline_allocation.highest_protect_level.PSO",
        "wmt.workload_pct_decimals",
    ]
    assert problems == [
        "parameter needs.hours_per_severity.drugs must be 0 or more, range [0, inf); found -40",
        "parameter outcomes.reoffending.effect_of_full_coverage must be from 0 to 1, range [0, 1]; found 3",
        (
            "parameter allocation.capacity.productive_hours_per_fte_year must be above 0 and at most 8784, "
            "range (0, 8784]; found 0"
        ),
        (
            "parameter wmt.baseline_allocation.highest_protect_level.PSO must be one of A, B, C, D; "
            "found '=HYPERLINK(\"http://x\")'"
        ),
        "parameter wmt.workload_pct_decimals must be a whole number from 0 to 6, range [0, 6]; found 1.5",
    ]
    assert str(caught.value) == "; ".join(problems)


def test_overrides_at_the_ends_of_a_range_are_allowed() -> None:
    params = load_parameters(
        {
            "outcomes.reoffending.effect_of_full_coverage": 1,
            "needs.hours_per_severity.drugs": 0,
            "allocation.capacity.productive_hours_per_fte_year": 1e-6,
            "wmt.default_hours.SPO": 0,
            "wmt.workload_pct_decimals": 2.0,
            "wmt.baseline_allocation.highest_protect_level.PSO": "B",
        }
    )
    assert params["outcomes.reoffending.effect_of_full_coverage"] == 1
    assert params["wmt.baseline_allocation.highest_protect_level.PSO"] == "B"


def test_values_problem_checks_many_draws_at_once() -> None:
    params = load_parameters()
    draws = np.linspace(-0.5, 1.5, 201)
    message = params.values_problem("outcomes.children.care_share", draws, what="draws")
    assert message == (
        "100 of 201 draws of parameter outcomes.children.care_share are not from 0 to 1, its range "
        "[0, 1] (found -0.5 to 1.5)"
    )
    assert params.values_problem("outcomes.children.care_share", np.linspace(0, 1, 50)) is None
    whole = params.values_problem("wmt.workload_pct_decimals", np.array([1.0, 2.0, 2.5]))
    assert whole is not None and whole.startswith("1 of 3 values") and "whole number" in whole


CASES = [
    (
        '"needs.hours_per_severity.drugs" = -40',
        "parameter needs.hours_per_severity.drugs must be 0 or more, range [0, inf); found -40",
    ),
    (
        '"outcomes.reoffending.effect_of_full_coverage" = 3',
        "parameter outcomes.reoffending.effect_of_full_coverage must be from 0 to 1, range [0, 1]; found 3",
    ),
    (
        '"allocation.capacity.productive_hours_per_fte_year" = 0',
        (
            "parameter allocation.capacity.productive_hours_per_fte_year must be above 0 and at most 8784, "
            "range (0, 8784]; found 0"
        ),
    ),
    (
        '"wmt.baseline_allocation.highest_protect_level.PSO" = "=HYPERLINK(1)"',
        (
            "parameter wmt.baseline_allocation.highest_protect_level.PSO must be one of A, B, C, D; "
            "found '=HYPERLINK(1)'"
        ),
    ),
]


@pytest.mark.parametrize("override, message", CASES, ids=["negative-hours", "effect-3", "fte-year-0", "formula-text"])
def test_validate_and_run_refuse_an_override_outside_its_range(
    override: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "scenario"
    shutil.copytree(FIXTURES / "tiny", scenario)
    with open(scenario / "scenario.toml", "a", encoding="utf-8") as handle:
        handle.write(f"\n[parameters]\n{override}\n")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    out = tmp_path / "run"
    for argv in (["validate", str(scenario)], ["run", str(scenario), "--out", str(out)]):
        code = main(argv)
        err = capsys.readouterr().err
        assert code == 2, (argv[0], err)
        assert "Traceback" not in err and "internal error" not in err, err
        assert f"scenario.toml: [parameters]: {message}" in err, err
    assert not out.exists() and sorted(p.name for p in tmp_path.rglob("*")) == before


def test_parameters_md_shows_every_range() -> None:
    text = parameters_markdown()
    assert "| parameter | value | allowed | unit | basis |" in text
    assert "`allocation.capacity.productive_hours_per_fte_year`" in text
    row = next(line for line in text.splitlines() if "`allocation.capacity.productive_hours_per_fte_year`" in line)
    assert "| `(0, 8784]` |" in row
    row = next(line for line in text.splitlines() if "`wmt.weights.community`" in line)
    assert "`[0, 999]` whole numbers" in row
    row = next(line for line in text.splitlines() if "`wmt.baseline_allocation.highest_protect_level`" in line)
    assert "| A, B, C, D |" in row
    committed = (Path(__file__).resolve().parents[2] / "docs" / "parameters.md").read_text(encoding="utf-8")
    assert committed == text, "docs/parameters.md is stale: run `workload docs`"
