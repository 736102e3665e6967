"""Inputs: ``--set`` and reforms, checked like the scenario file's own settings; default run folders."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import workload
from tests.conftest import read_raw, write_raw
from workload.cli import default_run_folder, main
from workload.load import ScenarioError, load_scenario
from workload.reform import Reform, ReformError, parse_value

PROTECTION_B = "allocation.protection.minimum_share_of_risk_hours.B"


def test_set_values_are_read_as_toml_scalars() -> None:
    assert parse_value("0.5") == 0.5 and parse_value("14") == 14 and parse_value("true") is True
    assert parse_value("rebalance") == "rebalance" and parse_value('"keep"') == "keep"
    with pytest.raises(TypeError):
        parse_value("[1, 2]")


def test_set_options_become_a_reform() -> None:
    reform = Reform.from_options(
        ["policy.continuity=rebalance", f"{PROTECTION_B}=0.5", "parameters.needs.hours_per_severity.drugs=14"]
    )
    assert reform.policy == {"continuity": "rebalance"}
    assert reform.parameters == {PROTECTION_B: 0.5, "needs.hours_per_severity.drugs": 14}
    with pytest.raises(ReformError) as err:
        Reform.from_options(["policy.continuity", "=3"])
    assert len(err.value.problems) == 2
    assert all(p.file == "--set" and p.code == "settings.set_syntax" for p in err.value.problems)


def test_run_with_set_changes_policy_and_parameters(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    options = ["--set", "policy.continuity=rebalance", "--set", f"{PROTECTION_B}=0.5"]
    assert main(["run", str(tiny), "--workers", "1", "--out", str(out), *options]) == 0
    resolved = json.loads((out / "scenario.resolved.json").read_text())
    assert resolved["policy"]["continuity"] == "rebalance"
    assert resolved["parameters_overridden"] == {PROTECTION_B: 0.5}


def test_set_replaces_the_files_own_parameter(tiny: Path) -> None:
    toml = tiny / "scenario.toml"
    toml.write_text(toml.read_text() + "\n[parameters.allocation.protection.minimum_share_of_risk_hours]\nB = 0.7\n")
    assert load_scenario(tiny).params[PROTECTION_B] == 0.7
    assert load_scenario(tiny, reform=Reform(parameters={PROTECTION_B: 0.4})).params[PROTECTION_B] == 0.4


def test_a_bad_set_exits_2_with_the_files_messages_and_writes_nothing(tiny: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    options = ["--set", "policy.continuity=sometimes", "--set", "policy.contnuity=keep"]
    options += ["--set", f"{PROTECTION_B}=2", "--set", "needs.hours_per_severty.drugs=3"]
    assert main(["run", str(tiny), "--out", str(out), *options]) == 2
    err = capsys.readouterr().err
    assert "4 problems found:" in err
    assert "--set: policy.continuity: Input should be 'keep', 'rebalance' or 'free' (found 'sometimes')" in err
    assert "--set: policy.contnuity is not a setting; did you mean continuity?" in err
    assert f"--set: [parameters]: parameter {PROTECTION_B}" in err
    assert "did you mean needs.hours_per_severity.drugs?" in err
    assert not out.exists()
    # the same value in the file gives the same message, naming the file
    toml = tiny / "scenario.toml"
    toml.write_text(toml.read_text().replace("[tables]", '[policy]\ncontinuity = "sometimes"\n[tables]'))
    assert main(["validate", str(tiny)]) == 2
    assert "scenario.toml: policy.continuity: Input should be 'keep', 'rebalance' or 'free'" in capsys.readouterr().err


def test_validate_takes_set_too(tiny: Path, capsys) -> None:
    assert main(["validate", str(tiny), "--set", "policy.caseload_cap=0"]) == 2
    assert "--set: policy.caseload_cap: Input should be greater than or equal to 1" in capsys.readouterr().err
    assert main(["validate", str(tiny), "--set", "policy.caseload_cap=30"]) == 0


def test_default_run_folders_of_two_scenario_files_in_one_folder_differ(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert default_run_folder(tiny / "scenario.toml") == Path("runs") / "tiny"
    assert default_run_folder(tiny / "rebalance.toml") == Path("runs") / "tiny-rebalance"
    shutil.copy(tiny / "scenario.toml", tiny / "rebalance.toml")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert main(["run", str(tiny), "--workers", "1"]) == 0
    assert main(["run", str(tiny / "rebalance.toml"), "--workers", "1", "--set", "policy.continuity=rebalance"]) == 0
    assert (work / "runs" / "tiny" / "summary.json").exists()
    assert (work / "runs" / "tiny-rebalance" / "summary.json").exists()


def test_reforms_add_up_and_apply_to_a_loaded_scenario(tiny: Path) -> None:
    scenario = workload.load_scenario(tiny)
    a = workload.Reform(policy={"continuity": "rebalance"})
    b = workload.Reform(parameters={PROTECTION_B: 0.5}, policy={"max_moves": 1})
    both = a + b
    assert both.policy == {"continuity": "rebalance", "max_moves": 1} and both.parameters == {PROTECTION_B: 0.5}
    reformed = both.apply(scenario)
    assert reformed.spec.policy.continuity == "rebalance" and reformed.params[PROTECTION_B] == 0.5
    assert scenario.spec.policy.continuity == "keep" and scenario.params[PROTECTION_B] != 0.5
    assert reformed.cases is scenario.cases
    with pytest.raises(ScenarioError) as err:
        workload.Reform(policy={"continuity": "x"}, parameters={PROTECTION_B: -1}).apply(scenario)
    assert [p.file for p in err.value.problems] == ["reform", "reform"]


def test_a_reform_that_leaves_a_pdu_with_nobody_to_hold_cases_is_refused(tiny: Path) -> None:
    scenario = workload.load_scenario(tiny)
    nobody = {f"allocation.capacity.grade_share.{g}": 0 for g in ("PO", "PSO", "PQiP", "SPO")}
    with pytest.raises(ScenarioError) as err:
        Reform(parameters=nobody).apply(scenario)
    assert {p.code for p in err.value.problems} == {"cross.pdu_without_practitioners"}


def test_every_problem_is_listed_in_one_pass(tiny: Path, capsys) -> None:
    """A bad header does not hide a bad cell, nor a bad policy value a bad parameter."""
    cases = read_raw(tiny, "cases.csv").rename(columns={"rosh": "rsh"})
    cases.loc[1, "tier"] = "E9"
    write_raw(cases, tiny, "cases.csv")
    toml = tiny / "scenario.toml"
    toml.write_text(
        toml.read_text().replace(
            "[tables]", '[policy]\ncontinuity = "sometimes"\n[parameters]\n"needs.nope" = 1\n[tables]'
        )
    )
    with pytest.raises(ScenarioError) as err:
        load_scenario(tiny)
    codes = {p.code for p in err.value.problems}
    assert {"header.missing_column", "header.unknown_column", "cell.unknown_category", "settings.invalid"} <= codes
    assert "parameter.unknown" in codes
    assert main(["validate", str(tiny)]) == 2
    err_text = capsys.readouterr().err
    assert "cases.csv, column rsh: is not a column of this table; did you mean rosh?" in err_text
    assert 'cases.csv, row 3, column tier: "E9"' in err_text
    assert "scenario.toml: policy.continuity: Input should be" in err_text
    assert "scenario.toml: [parameters]: needs.nope is not a parameter" in err_text


def test_a_column_twice_does_not_hide_the_other_columns_cells(tiny: Path) -> None:
    cases = read_raw(tiny, "cases.csv")
    cases.loc[0, "sex"] = "?"
    cases.insert(3, "tier_copy", cases["tier"])
    write_raw(cases, tiny, "cases.csv")
    (tiny / "cases.csv").write_text((tiny / "cases.csv").read_text().replace("tier_copy", "tier", 1))
    with pytest.raises(ScenarioError) as err:
        load_scenario(tiny)
    codes = [p.code for p in err.value.problems]
    assert "header.duplicate_column" in codes and "cell.unknown_category" in codes, codes


def implausible(tiny: Path) -> None:
    """The tiny scenario made implausible: its PSO holds an A-tier case, a licence case is at tier C0, and an SPO
    holds a case."""
    cases = read_raw(tiny, "cases.csv")
    cases.loc[2, "tier"] = "A1"  # C003, held by the PSO P02
    cases.loc[1, ["tier", "current_practitioner_id"]] = ["C0", "P03"]  # C002, licence, now held by an SPO
    write_raw(cases, tiny, "cases.csv")
    staff = read_raw(tiny, "practitioners.csv")
    staff.loc[2] = ["P03", "PDU1", "SPO", "37", "0", "", "0", "0"]
    write_raw(staff, tiny, "practitioners.csv")


def test_implausible_data_gives_warnings_not_errors(tiny: Path, capsys) -> None:
    implausible(tiny)
    scenario = load_scenario(tiny)
    by_code = {w.code: str(w) for w in scenario.warnings}
    assert set(by_code) == {
        "warning.grade_above_protect_level",
        "warning.tier_case_type",
        "warning.no_available_points",
    }
    assert by_code["warning.grade_above_protect_level"].startswith(
        "cases.csv, column current_practitioner_id: 1 case(s) at protect level A are held by 1 PSO practitioner(s)"
    )
    assert by_code["warning.grade_above_protect_level"].endswith("first on row 4")
    assert "1 case(s) are licence cases at tier C0" in by_code["warning.tier_case_type"]
    assert by_code["warning.no_available_points"].startswith(
        "practitioners.csv, row 4, column grade: practitioner P03 (SPO) holds 1 case(s) but has no available WMT points"
    )
    assert main(["validate", str(tiny)]) == 0
    err = capsys.readouterr().err
    assert err.count("warning: ") == 3 and "0% and ok" in err


def test_a_clean_scenario_has_no_warnings(tiny: Path) -> None:
    assert load_scenario(tiny).warnings == []


def test_warnings_reach_the_run_in_words(tiny: Path, tmp_path: Path) -> None:
    implausible(tiny)
    out = tmp_path / "run"
    assert main(["run", str(tiny), "--workers", "1", "--out", str(out)]) == 0
    warnings = json.loads((out / "summary.json").read_text())["warnings"]
    grade = [w for w in warnings if "protect level A are held by" in w]
    assert grade and grade[0].startswith("cases.csv, column current_practitioner_id: fewer than 5 case(s)"), warnings
    assert any("licence cases at tier C0" in w for w in warnings)
    assert "protect level A are held by" in (out / "report.html").read_text()


def test_a_reform_of_the_rules_checks_the_warnings_again(tiny: Path) -> None:
    implausible(tiny)
    scenario = load_scenario(tiny)
    allowed = Reform(parameters={"wmt.baseline_allocation.highest_protect_level.PSO": "A"}).apply(scenario)
    assert "warning.grade_above_protect_level" not in {w.code for w in allowed.warnings}
    assert len(allowed.warnings) == 2
