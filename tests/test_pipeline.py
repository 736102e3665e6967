"""The whole run on a small synthetic scenario: contracts, conservation, and headline numbers that agree with the tables."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from workload.cli import main
from workload.load import load_scenario
from workload.synth import synth_scenario, write_scenario


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("pipeline")
    folder = write_scenario(
        root / "scenario", synth_scenario(n_cases=500, n_practitioners=18, n_pdus=2, seed=11), name="pipeline test"
    )
    out = root / "run"
    assert main(["run", str(folder), "--out", str(out), "--workers", "1"]) == 0
    return out


def read(run: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(run / name, keep_default_na=False, na_values=[""])


def test_output_contracts(run: Path) -> None:
    cases = read(run, "cases.csv")
    for column in (
        "case_id",
        "wmt_points",
        "wmt_hours",
        "baseline_practitioner_id",
        "hours_risk",
        "hours_needs",
        "hours_complexity",
        "hours_relationship",
        "hours_responsive",
        "required_hours",
    ):
        assert column in cases.columns, column
    allocations = read(run, "allocations.csv")
    assert list(allocations.columns) == [
        "case_id",
        "practitioner_id",
        "previous_practitioner_id",
        "afforded_hours",
        "partner_id",
        "partner_hours",
        "unmet_hours",
        "floor_hours",
        "floor_shortfall_hours",
        "moved",
        "move_reason",
        "restart_hours",
    ]
    held = allocations["previous_practitioner_id"].notna()
    moved = allocations["moved"] == 1
    assert held.any() and not (moved & ~held).any()  # only a held case can move
    assert (allocations.loc[moved, "move_reason"].notna()).all() and allocations.loc[~moved, "move_reason"].isna().all()
    assert (allocations.loc[~moved, "restart_hours"] == 0).all()
    staff = read(run, "practitioners.csv")
    for column in (
        "practitioner_id",
        "wmt_points",
        "available_points",
        "workload_pct",
        "wmt_flag",
        "allocated_hours",
        "capacity_hours",
        "utilisation",
    ):
        assert column in staff.columns, column
    assert set(staff["wmt_flag"]) <= {"ok", "over", "red"}
    assert {
        "report.html",
        "report.xlsx",
        "summary.json",
        "totals.csv",
        "equity.csv",
        "sensitivity.csv",
        "pdus.csv",
    } <= {p.name for p in run.iterdir()}


def test_every_case_scored_and_allocated_once(run: Path) -> None:
    cases = read(run, "cases.csv")
    allocations = read(run, "allocations.csv")
    assert cases["case_id"].is_unique and allocations["case_id"].is_unique
    assert set(cases["case_id"]) == set(allocations["case_id"])


def test_hours_conserved_in_the_reform_allocation(run: Path) -> None:
    cases = read(run, "cases.csv").set_index("case_id")
    allocations = read(run, "allocations.csv").set_index("case_id")
    total = allocations["afforded_hours"] + allocations["partner_hours"] + allocations["unmet_hours"]
    assert (total - cases.loc[allocations.index, "required_hours"]).abs().max() < 1e-3


def test_components_sum_to_required_hours(run: Path) -> None:
    cases = read(run, "cases.csv")
    parts = cases[["hours_risk", "hours_needs", "hours_complexity", "hours_relationship", "hours_responsive"]].sum(
        axis=1
    )
    assert (parts - cases["required_hours"]).abs().max() < 1e-3


def test_headline_numbers_agree_with_the_tables(run: Path) -> None:
    summary = json.loads((run / "summary.json").read_text())
    totals = read(run, "totals.csv").set_index("cell")
    allocations = read(run, "allocations.csv")
    cases = read(run, "cases.csv")
    assert list(totals.index) == ["wmt_today", "needs_today", "wmt_lp", "needs_lp"]
    for cell, figures in summary["cells"].items():
        for key in ("required_hours", "afforded_hours", "unmet_hours", "whole_life_cost", "coverage"):
            assert figures[key] == pytest.approx(totals.loc[cell, key], rel=1e-5), (cell, key)
    assert summary["cells"]["needs_lp"]["afforded_hours"] == pytest.approx(
        allocations["afforded_hours"].sum(), rel=1e-5
    )
    assert summary["cells"]["needs_lp"]["partner_hours"] == pytest.approx(
        allocations["partner_hours"].sum(), rel=1e-5, abs=1e-6
    )
    assert summary["cells"]["wmt_today"]["required_hours"] == pytest.approx(
        cases["assessed_need_hours"].sum(), rel=1e-5
    )
    assert summary["net_whole_life_cost_reform_vs_baseline"] == pytest.approx(
        totals.loc["needs_lp", "whole_life_cost"] - totals.loc["wmt_today", "whole_life_cost"], rel=1e-5
    )
    by_group = read(run, "outcomes_by_group.csv")
    women = by_group[
        (by_group["dimension"] == "sex") & (by_group["group"] == "female") & (by_group["cell"] == "needs_lp")
    ]
    assert summary["coverage_women"]["needs_lp"] == pytest.approx(float(women["coverage"].iloc[0]), rel=1e-5)


def test_published_group_tables_have_no_small_rows(run: Path) -> None:
    by_group = read(run, "outcomes_by_group.csv")
    rows = by_group[by_group["group"] != "Total"]
    assert (rows["cases"] >= 5).all()


def test_report_has_no_case_ids(run: Path) -> None:
    html = (run / "report.html").read_text()
    cases = read(run, "cases.csv")
    assert not any(case_id in html for case_id in cases["case_id"].head(200))


def test_baseline_allocation_keeps_current_practitioners(run: Path, tmp_path: Path) -> None:
    scenario_cases = load_scenario(run.parent / "scenario").cases
    cases = read(run, "cases.csv").set_index("case_id")
    held = scenario_cases["current_practitioner_id"].dropna()
    assert (cases.loc[held.index, "baseline_practitioner_id"] == held).all()


def test_the_run_folder_is_the_same_whether_workers_write_part_of_it_or_not(tmp_path: Path) -> None:
    """With worker processes running, cases.csv, allocations.csv and caseload.xlsx are written by them while the
    main process writes the rest; without, all here: the same bytes either way."""
    scenario = write_scenario(
        tmp_path / "s", synth_scenario(n_cases=400, n_practitioners=20, n_pdus=2, seed=3), name="aside"
    )
    from workload.allocate.parallel import running_pool

    for workers in ("1", "2"):
        assert main(["run", str(scenario), "--out", str(tmp_path / workers), "--workers", workers]) == 0
    assert running_pool() is not None, "the 2-worker run had its workers write part of the folder"
    names = sorted(p.name for p in (tmp_path / "1").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "2").iterdir())
    assert {"cases.csv", "allocations.csv", "caseload.xlsx"} <= set(names)
    for name in names:
        if name != "manifest.json":
            assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "2" / name).read_bytes(), name


def test_writes_not_started_on_workers_are_done_here(tmp_path: Path) -> None:
    """Without a pool, every write is done in this process (and an error in writing is raised, not lost)."""
    from workload.pipeline import _finish_aside, _start_aside

    written: list[str] = []
    started = _start_aside(None, [(written.append, ("a",)), (written.append, ("b",))])
    _finish_aside(started)
    assert written == ["a", "b"]

    def fail(_: str) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        _finish_aside(_start_aside(None, [(fail, ("x",))]))


def test_a_failed_run_waits_for_writes_already_running_and_cancels_the_rest(tmp_path: Path) -> None:
    """When the run fails while workers write, the folder is removed only after they stop: a write already running
    is waited for (its error ignored), one not begun is cancelled, so nothing lands in a folder being removed."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from workload.pipeline import _abandon_aside

    go = threading.Event()
    late = tmp_path / "late.xlsx"

    def slow(path: Path) -> None:
        go.wait(5)
        path.write_text("written")

    def broken(_: Path) -> None:
        raise OSError("disk full")

    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(slow, late)
        second = pool.submit(broken, tmp_path / "x")  # queued behind the first
        never = pool.submit(slow, tmp_path / "never.csv")
        threading.Timer(0.2, go.set).start()
        _abandon_aside([(first, (slow, (late,))), (second, (broken, (tmp_path,))), (never, (slow, (tmp_path,)))])
        assert first.done() and late.read_text() == "written"
        assert second.cancelled() and never.cancelled()
    assert not (tmp_path / "never.csv").exists()


def test_workers_write_into_the_run_folder_after_the_working_folder_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers started from one working folder write into a run folder given relative to another."""
    scenario = write_scenario(
        tmp_path / "s", synth_scenario(n_cases=200, n_practitioners=10, n_pdus=2, seed=4), name="cwd"
    )
    assert main(["run", str(scenario), "--out", str(tmp_path / "first"), "--workers", "2"]) == 0
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert main(["run", str(scenario), "--out", "runs/second", "--workers", "2"]) == 0
    for name in ("cases.csv", "allocations.csv", "caseload.xlsx"):
        assert (tmp_path / "elsewhere" / "runs" / "second" / name).read_bytes() == (
            tmp_path / "first" / name
        ).read_bytes()
