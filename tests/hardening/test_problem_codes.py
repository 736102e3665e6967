"""Every problem the loader reports is a :class:`workload.errors.Problem` with a stable, specific code, its
cell's value as data (never a personal-data value), and the same text as before the codes existed.

The catalogue (tests/hardening/catalogue.py) fixes each problem's text; here each problem's code is checked
to be specific (not the generic ``input.invalid``) and from one of the loader's families, and a sample of
entries to have the code their kind calls for.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.hardening.catalogue import CATALOGUE, BadInput, Edit, apply, set_cell, toml
from workload import errors
from workload.cli import main
from workload.load import Problem, ScenarioError, load_scenario

CODE = re.compile(r"[a-z]+(?:\.[a-z_]+)+")
"""A code is dotted lower-case words: family, then what is wrong."""

FAMILIES = {"file", "csv", "xlsx", "header", "table", "cell", "row", "cross", "settings", "toml", "parameter"}
"""The loader's families of code."""

EXPECTED = {
    "months-as-words": "cell.not_a_number",
    "infinite-months": "cell.not_a_number",
    "mappa-fraction": "cell.not_a_whole_number",
    "hours-400-a-week": "cell.out_of_range",
    "thousands-separator": "cell.number_format",
    "flag-maybe": "cell.not_allowed",
    "blank-required-enum": "cell.blank",
    "formula-in-free-text": "cell.formula",
    "control-character-in-free-text": "cell.control_character",
    "tier-unknown": "cell.unknown_category",
    "specialism-unknown": "cell.not_allowed",
    "id-with-space": "cell.not_an_identifier",
    "reduction-over-contract": "row.over_limit",
    "duplicate-case-id": "table.duplicate_id",
    "missing-rosh": "header.missing_column",
    "column-typo": "header.unknown_column",
    "column-twice": "header.duplicate_column",
    "column-unnamed-with-values": "header.unnamed_column",
    "windows-1252-accent": "file.encoding",
    "utf16-unicode-text": "file.encoding",
    "workbook-named-csv": "file.not_csv",
    "quote-left-open": "csv.unclosed_quote",
    "empty-file": "file.empty",
    "header-only": "table.no_rows",
    "pdu-without-practitioners": "cross.pdu_without_practitioners",
    "current-practitioner-elsewhere": "cross.practitioner_in_other_pdu",
    "current-practitioner-unknown": "cross.unknown_practitioner",
    "partner-serves-unknown-pdu": "cross.unknown_pdu",
    "parameter-unknown": "parameter.unknown",
    "parameter-wrong-type": "parameter.wrong_type",
    "parameter-nan": "parameter.not_finite",
    "toml-unclosed-table": "toml.syntax",
    "toml-not-utf8": "file.encoding",
    "toml-empty": "settings.missing",
    "setting-typo": "settings.unknown",
    "policy-bad-choice": "settings.invalid",
    "path-dotdot": "settings.table_path",
    "path-missing-file": "file.not_found",
    "path-is-folder": "file.folder",
    "path-same-file-twice": "settings.same_file",
    "too-many-rows": "table.too_many_rows",
    "file-too-big": "file.too_large",
    "column-surname": "header.personal_data",
    "value-crn": "cell.personal_data",
    "value-crn-as-current-practitioner": "cell.personal_data",
}
"""The code of the first problem of some catalogue entries, one or more of each family."""


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    target = tmp_path / "work" / "scenario"
    shutil.copytree(FIXTURES / "tiny", target)
    return target


def problems_of(scenario: Path) -> list[Problem]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(scenario)
    return caught.value.problems


def test_the_loaders_problem_is_the_one_error_model() -> None:
    assert Problem is errors.Problem
    assert issubclass(ScenarioError, errors.InputError)
    assert set(EXPECTED) <= {entry.id for entry in CATALOGUE}
    assert {code.split(".")[0] for code in EXPECTED.values()} == FAMILIES - {"xlsx"}  # xlsx: a test below


@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda e: e.id)
def test_every_catalogued_problem_has_a_specific_code(
    entry: BadInput, scenario: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    apply(entry.edits, scenario, monkeypatch)
    problems = problems_of(scenario)
    assert problems
    for problem in problems:
        assert isinstance(problem, errors.Problem)
        assert problem.code != errors.GENERIC, str(problem)
        assert CODE.fullmatch(problem.code) and problem.code.split(".")[0] in FAMILIES, problem.code
        if problem.code == "cell.personal_data":
            assert problem.value is None and not problem.show_value, "a personal-data value is never kept"
        elif problem.value is not None:
            assert str(problem) == f"{problem.where()}: {errors.quote(problem.value)} {problem.message}"
            assert not problem.message.startswith('"'), "the value is given once, as data"
    if entry.id in EXPECTED:
        assert problems[0].code == EXPECTED[entry.id]


def test_a_cells_value_is_data_not_part_of_the_message(scenario: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    apply(
        (set_cell("cases.csv", 3, "tier", "E9"), set_cell("cases.csv", 2, "case_id", "X123456")), scenario, monkeypatch
    )
    tier, personal = sorted(problems_of(scenario), key=lambda p: p.column or "", reverse=True)
    assert (tier.column, tier.row, tier.value, tier.show_value) == ("tier", 3, "E9", True)
    assert tier.message.startswith("is not a valid tier; expected one of A3")
    assert (personal.column, personal.row, personal.value, personal.show_value) == ("case_id", 2, None, False)
    assert "X123456" not in str(personal)


def test_a_reserved_label_and_a_list_holding_one_have_their_code(
    scenario: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    apply(
        (set_cell("cases.csv", 2, "ethnicity", "Total"), set_cell("partners.csv", 2, "pdus", "PDU1;TOTAL")),
        scenario,
        monkeypatch,
    )
    assert [(p.file, p.code, p.value) for p in problems_of(scenario)] == [
        ("cases.csv", "cell.reserved_label", "Total"),
        ("partners.csv", "cell.reserved_label", "PDU1;TOTAL"),
    ]


def test_a_personal_value_in_a_list_is_hidden_as_the_list(scenario: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    apply((set_cell("partners.csv", 2, "pdus", "PDU1;X123456"),), scenario, monkeypatch)
    (problem,) = problems_of(scenario)
    assert (problem.code, problem.value, problem.show_value) == ("cell.personal_data", None, False)
    assert "X123456" not in str(problem)


def test_more_bad_cells_than_are_listed_are_counted_under_their_code(
    scenario: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import workload.load.limits

    monkeypatch.setattr(workload.load.limits, "MAX_PROBLEMS_PER_COLUMN", 1)
    apply(tuple(set_cell("cases.csv", r, "tier", "E9") for r in (2, 3, 4)), scenario, monkeypatch)
    problems = problems_of(scenario)
    assert [str(p) for p in problems][1] == "cases.csv, column tier: and 2 more rows with the same problem"
    assert [p.code for p in problems] == ["cell.unknown_category"] * 2


def test_each_bad_parameter_is_its_own_problem_on_its_own_line(
    scenario: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    apply(
        (
            toml(
                None,
                '\n[parameters]\n"wmt.red_pct" = "high"\n"wmt.red_pc" = 1\n"needs.hours_per_severity.drugs" = -40\n',
            ),
        ),
        scenario,
        monkeypatch,
    )
    problems = problems_of(scenario)
    assert [(p.code, p.key) for p in problems] == [
        ("parameter.wrong_type", "[parameters]"),
        ("parameter.unknown", "[parameters]"),
        ("parameter.out_of_range", "[parameters]"),
    ]
    assert main(["validate", str(scenario)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "3 problems found:",
        "  - scenario.toml: [parameters]: parameter wmt.red_pct must be a number (the default is 110); found 'high'",
        "  - scenario.toml: [parameters]: wmt.red_pc is not a parameter; did you mean wmt.red_pct? (docs/parameters.md lists them all)",
        "  - scenario.toml: [parameters]: parameter needs.hours_per_severity.drugs must be 0 or more, range [0, inf); found -40",
    ]


def test_workbook_problems_have_their_code(scenario: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    apply(
        (
            Edit("write", "practitioners.xlsx", value=b"not a zip"),
            toml('practitioners = "practitioners.csv"', 'practitioners = "practitioners.xlsx"'),
        ),
        scenario,
        monkeypatch,
    )
    assert [p.code for p in problems_of(scenario)] == ["xlsx.unreadable"]


def test_run_folder_and_synth_errors_are_problems_too(tmp_path: Path) -> None:
    from workload.compare import RunFolderError, read_run
    from workload.synth import SynthError, synth_scenario

    with pytest.raises(RunFolderError) as run:
        read_run(tmp_path)
    assert isinstance(run.value, errors.InputError) and isinstance(run.value, ValueError)
    (problem,) = run.value.problems
    assert problem.code == "run.not_a_run_folder"
    assert str(run.value) == f"{tmp_path}: not a run folder (no summary.json); give a folder written by `workload run`"
    with pytest.raises(SynthError) as synth:
        synth_scenario(0, 10, 1, women_share=2.0)
    assert [(p.key, p.code) for p in synth.value.problems] == [
        ("n_cases", "synth.option"),
        ("women_share", "synth.option"),
    ]
    assert str(synth.value) == "n_cases must be at least 1 (found 0); women_share must be between 0 and 1 (found 2.0)"
