"""Allocation day (`workload allocate`): shortlists for each new case, the batch placed jointly, the folder."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import FIXTURES
from workload.allocation_day import plan_allocation_day, read_new_cases, write_allocation_day
from workload.allocation_day.write import FILES
from workload.cli import main
from workload.load import ScenarioError, load_scenario
from workload.synth import synth_scenario, write_scenario


@pytest.fixture(scope="module")
def scenario_folder(tmp_path_factory) -> Path:
    """A synthetic PDU of 300 cases with some new ones, written once for the module."""
    root = tmp_path_factory.mktemp("allocation-day")
    return write_scenario(
        root / "scenario", synth_scenario(n_cases=300, n_practitioners=12, n_pdus=1, seed=5), name="allocation day"
    )


@pytest.fixture(scope="module")
def day(scenario_folder: Path):
    return plan_allocation_day(load_scenario(scenario_folder), workers=1)


def test_every_new_case_is_placed_and_no_held_case_moves(scenario_folder: Path, day) -> None:
    scenario = load_scenario(scenario_folder)
    new = scenario.cases.index[scenario.cases["current_practitioner_id"].isna()]
    assert len(new) > 0
    assert set(day.assignment.index) == set(new)
    assert day.assignment["practitioner_id"].notna().all()
    held = scenario.cases["current_practitioner_id"].value_counts()
    assert (day.caseloads["cases_held"] == held.reindex(day.caseloads.index, fill_value=0)).all()
    assert day.caseloads["new_cases"].sum() == len(new)


def test_shortlists_are_ranked_eligible_and_agree_with_the_batch(scenario_folder: Path, day) -> None:
    scenario = load_scenario(scenario_folder)
    short = day.shortlist
    assert (short.groupby("case_id")["rank"].apply(lambda r: list(r) == list(range(1, len(r) + 1)))).all()
    assert short.groupby("case_id").size().max() <= 5
    tier = scenario.cases.loc[short["case_id"], "tier"].astype(str).str[0].to_numpy()
    assert not ((short["grade"].to_numpy() == "PSO") & np.isin(tier, ["A", "B"])).any(), "PSOs hold no A or B"
    first = short[short["rank"] == 1].set_index("case_id")
    assert (first["recommended_for_batch"] == "yes").all()
    assert (first["practitioner_id"] == day.assignment.loc[first.index, "practitioner_id"]).all()
    # what the recommended practitioner could give is what the batch gives it (the LP's own valuation)
    np.testing.assert_allclose(
        first["hours_it_could_get"], day.assignment.loc[first.index, "afforded_hours"], rtol=1e-6, atol=0.5
    )
    assert (short["workload_pct_after"] >= short["workload_pct_today"]).all()
    np.testing.assert_allclose(
        short["hours_free_after"],
        day.caseloads.loc[short["practitioner_id"], "capacity_hours"].to_numpy()
        - day.caseloads.loc[short["practitioner_id"], "hours_needed_before"].to_numpy()
        - short["case_required_hours"].to_numpy(),
    )
    assert short["reason"].str.len().min() > 20


def test_the_batch_is_placed_jointly_so_two_cases_do_not_both_take_the_one_free_practitioner(tmp_path: Path) -> None:
    """Two new D cases of R hours each. P01 has free time for 1.2 of them, P02 for exactly one: each case alone
    would be best with P01 (more time free), but placed together they go one to each, so both are fully met."""
    from workload.allocate.arrays import capacity_hours
    from workload.pipeline import score_cases

    scenario = load_scenario(FIXTURES / "tiny")
    cases = scenario.cases.copy()
    extra = cases.loc[["C003"]].copy()
    extra.index = pd.Index(["N1"], name=cases.index.name)
    extra["current_practitioner_id"] = None
    extra[["accommodation", "drugs", "emotional_wellbeing"]] = 2
    cases = pd.concat([cases, extra, extra.rename(index={"N1": "N2"})])
    cases.loc["C002", "current_practitioner_id"] = "P01"
    sub = dataclasses.replace(scenario, cases=cases)
    required = score_cases(sub)["required_hours"]
    need = float(required["N1"])
    held = {p: float(required[cases["current_practitioner_id"] == p].sum()) for p in ("P01", "P02")}
    staff = scenario.practitioners.copy()
    staff["reduction_hours_per_week"] = 0.0
    per_hour = float(capacity_hours(staff.assign(contracted_hours_per_week=1.0), scenario.params)["P01"])
    staff.loc["P01", "contracted_hours_per_week"] = (held["P01"] + 1.2 * need) / per_hour
    staff.loc["P02", "contracted_hours_per_week"] = (held["P02"] + 1.0 * need) / per_hour
    day = plan_allocation_day(dataclasses.replace(sub, practitioners=staff))
    assert set(day.assignment.index) == {"N1", "N2"}
    placed = day.assignment["practitioner_id"]
    assert set(placed) == {"P01", "P02"}, f"the batch spreads the two cases: {placed.to_dict()}"
    met = day.assignment["afforded_hours"] + day.assignment["partner_hours"]
    np.testing.assert_allclose(met, [need, need], rtol=1e-6)  # both fully met (the women's centre gives some)
    free = day.shortlist.pivot(index="case_id", columns="practitioner_id", values="hours_free_after")
    assert (free["P01"] > free["P02"]).all(), "alone, each case would leave P01 with more time free"


def test_a_new_case_nobody_may_hold_is_named_with_why(tmp_path: Path) -> None:
    scenario = load_scenario(FIXTURES / "tiny")
    staff = scenario.practitioners.loc[["P02"]]  # a PSO only: the new B2 case C002 has nobody
    cases = scenario.cases.copy()
    cases.loc["C001", "current_practitioner_id"] = "P02"
    day = plan_allocation_day(dataclasses.replace(scenario, cases=cases, practitioners=staff))
    assert day.assignment.loc["C002", "practitioner_id"] is None or pd.isna(
        day.assignment.loc["C002", "practitioner_id"]
    )
    assert "grade" in day.assignment.loc["C002", "reason"]
    assert any("C002" in w and "cannot be placed" in w for w in day.warnings)


def test_the_folder_is_written_atomically_and_never_overwritten_without_force(
    scenario_folder: Path, day, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "meeting"
    write_allocation_day(day, out)
    assert {p.name for p in out.iterdir()} == {*FILES, "manifest.json"}
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "allocation" and manifest["new_cases"] == len(day.assignment)
    from openpyxl import load_workbook

    book = load_workbook(out / "allocation.xlsx")
    assert book.sheetnames == ["notes", "assignment", "shortlist", "caseloads"]
    sheet = book["shortlist"]
    assert sheet.freeze_panes == "B2" and sheet.auto_filter.ref and sheet["A1"].font.bold
    html = (out / "allocation.html").read_text(encoding="utf-8")
    assert html.count('class="case"') == len(day.assignment) and "nan" not in html
    assert main(["allocate", str(scenario_folder), "--out", str(out)]) == 2  # exists: no --force
    assert "exists" in capsys.readouterr().err
    assert main(["allocate", str(scenario_folder), "--out", str(out), "--force"]) == 0
    assert main(["allocate", str(scenario_folder), "--out", str(scenario_folder), "--force"]) == 2  # never the input


def test_a_new_table_adds_cases_and_bad_rows_are_refused_with_nothing_written(
    scenario_folder: Path, tmp_path: Path, capsys
) -> None:
    scenario = load_scenario(scenario_folder)
    table = pd.read_csv(scenario_folder / "cases.csv", dtype=str).head(3)
    table["case_id"] = ["W1", "W2", "W3"]
    table["current_practitioner_id"] = ""
    good = tmp_path / "new.csv"
    table.to_csv(good, index=False)
    grown = read_new_cases(scenario, good)
    assert {"W1", "W2", "W3"} <= set(grown.cases.index) and len(grown.cases) == len(scenario.cases) + 3

    bad = table.copy()
    bad.loc[0, "case_id"] = scenario.cases.index[0]  # already in the scenario
    bad.loc[1, "current_practitioner_id"] = scenario.practitioners.index[0]  # not new
    bad.loc[2, "pdu"] = "NOWHERE"
    bad_path = tmp_path / "bad.csv"
    bad.to_csv(bad_path, index=False)
    with pytest.raises(ScenarioError) as caught:
        read_new_cases(scenario, bad_path)
    codes = sorted(p.code for p in caught.value.problems)
    assert codes == ["allocate.new_held", "allocate.new_known", "allocate.new_pdu"]
    out = tmp_path / "not-written"
    assert main(["allocate", str(scenario_folder), "--new", str(bad_path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "bad.csv, row 2, column case_id" in err and "Traceback" not in err
    assert not out.exists()


def test_set_changes_a_setting_for_the_allocation_and_is_checked(
    scenario_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from workload import allocation_day

    planned = []

    def plan(scenario, **options):
        planned.append(scenario)
        return plan_allocation_day(scenario, **options)

    monkeypatch.setattr(allocation_day, "plan_allocation_day", plan)
    out = tmp_path / "day"
    args = ["allocate", str(scenario_folder), "--out", str(out), "--set", "policy.continuity=rebalance"]
    assert main(args) == 0
    assert [s.spec.policy.continuity for s in planned] == ["rebalance"]
    assert load_scenario(scenario_folder).spec.policy.continuity == "keep"  # the file itself is not changed
    capsys.readouterr()
    bad = ["allocate", str(scenario_folder), "--out", str(tmp_path / "bad"), "--set", "policy.continuity=sometimes"]
    assert main(bad) == 2
    err = capsys.readouterr().err
    assert "--set" in err and "sometimes" in err and "Traceback" not in err
    assert not (tmp_path / "bad").exists()
