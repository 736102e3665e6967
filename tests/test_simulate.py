"""Simulation: events drawn once per replication, the policies on them, the measures, resuming and the CLI."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workload.allocate.lp import capacity_hours
from workload.cli import main
from workload.load import load_scenario
from workload.simulate import consecutive_runs, draw_events, resolve_settings, run_replication, simulate
from workload.simulate.events import NEVER
from workload.simulate.measures import CONSECUTIVE_WEEKS, coverage_measures, red_runs
from workload.simulate.policies import with_capacity
from workload.simulate.run import part_path, parts_folder
from workload.simulate.step import start_state, step
from workload.synth import synth_scenario, write_scenario

WEEKS = 6


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-PDU synthetic scenario of 160 cases and 5 practitioners."""
    folder = tmp_path_factory.mktemp("sim") / "pdu"
    write_scenario(folder, synth_scenario(160, 5, 1, seed=11), "small PDU")
    return folder


@pytest.fixture(scope="module")
def scenario(small: Path):
    return load_scenario(small)


def _settings(scenario, **changes):
    base = resolve_settings(scenario, weeks=WEEKS, replications=2, seed=5, workers=1)
    return replace(base, **changes)


def test_same_seed_same_rows(scenario) -> None:
    s = _settings(scenario)
    a = run_replication(scenario, s, 0)
    b = run_replication(scenario, s, 0)
    pd.testing.assert_frame_equal(a, b)
    other = run_replication(scenario, replace(s, seed=6), 0)
    assert not a["arrivals"].equals(other["arrivals"]) or not a["endings"].equals(other["endings"])


def test_policies_meet_the_same_events(scenario) -> None:
    """Common random numbers: within a replication every policy sees the same arrivals, endings and staff."""
    frame = run_replication(scenario, _settings(scenario), 1)
    same = ["cases", "arrivals", "endings", "practitioners", "absent", "moved_after_leaver"]
    by_policy = {p: rows[same].reset_index(drop=True) for p, rows in frame.groupby("policy")}
    first = by_policy.pop("wmt_list")
    for rows in by_policy.values():
        pd.testing.assert_frame_equal(rows, first)
    assert frame["arrivals"].sum() > 0


def test_events_do_not_depend_on_the_policies_asked_for(scenario) -> None:
    s = _settings(scenario)
    both = run_replication(scenario, s, 0)
    alone = run_replication(scenario, replace(s, policies=("need_aware",)), 0)
    pd.testing.assert_frame_equal(
        both[both["policy"] == "need_aware"].reset_index(drop=True), alone.reset_index(drop=True)
    )


def test_cases_are_conserved(scenario) -> None:
    """Cases in (the starting caseload plus arrivals so far) = cases ended so far + cases on the caseload."""
    s = _settings(scenario, weeks=30)
    events = draw_events(scenario, s.weeks, s.seed, 0, s.arrivals_per_week, None)
    frame = run_replication(scenario, replace(s, policies=("wmt_list",)), 0)
    cases_in = len(scenario.cases) + frame["arrivals"].cumsum()
    ended = frame["endings"].cumsum()
    np.testing.assert_array_equal(cases_in.to_numpy(), (ended + frame["cases"]).to_numpy())
    assert ended.iloc[-1] > 0
    # every case is off the caseload from its end week on, and a custody case is released before it ends
    custody = events.release_week < NEVER
    assert (events.release_week[custody] < events.end_week[custody]).all()


@pytest.mark.parametrize("replan_weeks", [1, 3])
def test_keep_never_moves_a_held_case(scenario, replan_weeks: int) -> None:
    """Under continuity = keep a case moves only when its practitioner leaves, whether the week is a re-plan
    of every caseload or a week in which only the new cases are placed."""
    s = _settings(scenario, weeks=7, policies=("lp",), lp_continuity="keep")
    events = draw_events(scenario, s.weeks, s.seed, 0, s.arrivals_per_week, None)
    state = start_state(events)
    for week in range(s.weeks):
        before = state.holder.copy()
        in_post = events.active_staff(week)
        row = step(scenario, events, state, "lp", week, "keep", replan_weeks)
        active = events.active_cases(week)
        held = active & (before >= 0) & in_post[np.maximum(before, 0)]
        assert (state.holder[held] == before[held]).all()
        assert row["moved_by_policy"] == 0
        assert row["unplaced"] == 0
    assert (state.holder[events.active_cases(s.weeks - 1)] >= 0).all()


def test_capacity_set_by_reduction_hours(scenario) -> None:
    """Between re-plans the small LP sees each practitioner's freed hours as their capacity."""
    staff = scenario.practitioners
    hours = np.linspace(0.0, 900.0, len(staff))
    got = capacity_hours(with_capacity(staff, hours, scenario.params), scenario.params).to_numpy()
    holds = capacity_hours(staff, scenario.params).to_numpy() > 0
    np.testing.assert_allclose(got[holds], np.minimum(hours, capacity_hours(staff, scenario.params))[holds])


def test_rebalance_may_move_within_its_budget(scenario) -> None:
    frame = run_replication(scenario, _settings(scenario, weeks=3, policies=("lp",), lp_continuity="rebalance"), 0)
    budget = scenario.spec.policy.max_moves_share * frame["cases"].max()
    assert (frame["moved_by_policy"] <= np.ceil(budget) + 1).all()


def test_red_line_runs_against_a_hand_built_series() -> None:
    """Four or more consecutive weeks above 110%: counted from the week the fourth is reached, reset by a
    week below."""
    pct = np.array(
        [
            [111, 100, 120],
            [112, 111, 120],
            [115, 111, 120],
            [109, 111, 120],
            [111, 111, 120],
            [111, 111, 100],
            [111, 90, 120],
        ],
        dtype=float,
    )
    runs = consecutive_runs(pct > 110)
    np.testing.assert_array_equal(runs[:, 0], [1, 2, 3, 0, 1, 2, 3])
    np.testing.assert_array_equal(runs[:, 1], [0, 1, 2, 3, 4, 5, 0])
    np.testing.assert_array_equal(runs[:, 2], [1, 2, 3, 4, 5, 0, 1])
    np.testing.assert_array_equal((runs >= CONSECUTIVE_WEEKS).sum(axis=1), [0, 0, 0, 1, 2, 1, 0])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=30))
def test_a_run_is_the_weeks_since_the_last_week_below(red: list[bool]) -> None:
    runs = consecutive_runs(np.array(red)[:, None])[:, 0]
    for w in range(len(red)):
        since = w - max([i for i in range(w + 1) if not red[i]], default=-1)
        assert runs[w] == since
    assert (red_runs(np.array([3]), np.array([False])) == 0).all()


def test_resume_reads_finished_replications(scenario, tmp_path: Path) -> None:
    s = _settings(scenario, weeks=3, policies=("wmt_list", "need_aware"))
    out = tmp_path / "sim"
    first = simulate(scenario, s, out)
    assert first.resumed == 0 and part_path(parts_folder(out), 1).exists()
    # a stopped run: one replication's file gone; the rerun makes it again and reads the other back
    part_path(parts_folder(out), 1).unlink()
    mark = part_path(parts_folder(out), 0)
    text = mark.read_text()
    again = simulate(scenario, s, out)
    assert again.resumed == 1 and mark.read_text() == text
    pd.testing.assert_frame_equal(first.weekly, again.weekly)
    # other inputs: the parts of the first are not used
    other = simulate(scenario, replace(s, seed=99), out)
    assert other.resumed == 0 and any("other inputs" in n for n in other.notes)


def test_cli_writes_the_folder(small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = main(
        ["simulate", str(small), "--weeks", "3", "--replications", "2", "--workers", "1", "--policies",
         "wmt_list,need_aware", "--out", str(out)]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    names = {p.name for p in out.iterdir()}
    assert {"weekly.csv", "bands.csv", "summary.json", "simulate.html", "manifest.json"} <= names
    assert not parts_folder(out).exists()
    weekly = pd.read_csv(out / "weekly.csv")
    assert len(weekly) == 3 * 2 * 2
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["policies"]) == {"wmt_list", "need_aware"}
    assert 0 < summary["policies"]["wmt_list"]["mean_coverage"] <= 1
    assert "<svg" in (out / "simulate.html").read_text()


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (["--policies", "best"], "'best' is not a policy"),
        (["--weeks", "0"], "at least 1"),
        (["--weeks", "100000000"], "more than 260"),
        (["--replications", "5000"], "more than 1,000"),
        (["--pdu", "PDU99"], "'PDU99' is not one of its PDUs"),
        (["--continuity", "free"], "invalid choice"),
    ],
)
def test_cli_bad_options_exit_2(
    small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str], says: str
) -> None:
    out = tmp_path / "out"
    argparse_refuses = options[0] == "--continuity" or options[:2] == ["--weeks", "0"]
    with pytest.raises(SystemExit) if argparse_refuses else _nothing() as caught:
        code = main(["simulate", str(small), "--out", str(out), *options])
    code = caught.value.code if isinstance(caught, pytest.ExceptionInfo) else code
    assert code == 2
    assert says in capsys.readouterr().err
    assert not out.exists() and not parts_folder(out).exists()


def test_scenario_simulate_table_is_checked(small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    toml = small / "scenario.toml"
    folder = tmp_path / "bad"
    folder.mkdir()
    for f in small.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    (folder / "scenario.toml").write_text(toml.read_text() + "\n[simulate]\nweeks = 53.5\nreplicates = 3\n")
    code = main(["simulate", str(folder), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert "weeks" in err and "replicates" in err
    assert "Traceback" not in err


class _nothing:
    """A context manager that catches nothing (the options argparse itself refuses raise SystemExit)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return False


def test_small_groups_are_blank() -> None:
    """A group with fewer cases than the threshold shows neither its coverage nor its size."""
    need = np.array([10.0, 10.0, 10.0, 10.0, 10.0, 10.0])
    given = np.array([5.0, 10.0, 0.0, 10.0, 20.0, 2.0])
    groups = {"women": np.array([True, True, False, False, False, False]), "low_risk_complex": np.ones(6, bool)}
    out = coverage_measures(need, given, groups, threshold=5)
    assert np.isnan(out["coverage_women"]) and np.isnan(out["cases_women"])
    assert out["cases_low_risk_complex"] == 6
    assert out["coverage"] == pytest.approx((5 + 10 + 0 + 10 + 10 + 2) / 60)
    assert coverage_measures(need, given, groups, threshold=0)["coverage_women"] == pytest.approx(0.75)


def test_force_replaces_only_a_simulation_folder(
    small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    args = ["simulate", str(small), "--weeks", "2", "--replications", "1", "--workers", "1", "--policies", "wmt_list"]
    assert main([*args, "--out", str(out)]) == 0
    assert main([*args, "--out", str(out)]) == 2
    assert "exists already" in capsys.readouterr().err
    assert main([*args, "--out", str(out), "--force"]) == 0
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    assert main([*args, "--out", str(mine), "--force"]) == 2
    assert (mine / "notes.txt").read_text() == "mine"


def test_a_table_of_expected_arrivals(scenario) -> None:
    """Week 0 is the scenario as loaded; from week 1 the table's weeks in turn, repeated."""
    s = _settings(scenario, weeks=9, expected_arrivals=(0.0, 40.0))
    events = draw_events(scenario, s.weeks, s.seed, 0, s.arrivals_per_week, list(s.expected_arrivals))
    counts = np.bincount(events.arrive_week[len(scenario.cases) :], minlength=s.weeks)
    assert counts[0] == 0 and (counts[1::2] == 0).all()
    assert 20 < counts[2::2].mean() < 60


def test_one_pdu_of_several(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "two"
    write_scenario(folder, synth_scenario(200, 8, 2, seed=3), "two PDUs")
    args = ["simulate", str(folder), "--weeks", "2", "--replications", "1", "--workers", "1", "--policies", "wmt_list"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 2
    assert "name the one to simulate with --pdu" in capsys.readouterr().err
    assert main([*args, "--pdu", "PDU02", "--out", str(tmp_path / "b")]) == 0
    weekly = pd.read_csv(tmp_path / "b" / "weekly.csv")
    scenario = load_scenario(folder)
    assert weekly.loc[0, "cases"] == (scenario.cases["pdu"] == "PDU02").sum()


def test_replications_on_dask_match_the_pool(scenario, tmp_path: Path) -> None:
    """The same replications on a Dask LocalCluster and on one local worker give the same rows."""
    s = _settings(scenario, weeks=2, replications=2, policies=("wmt_list",))
    local = simulate(scenario, s, tmp_path / "local")
    dask = simulate(scenario, replace(s, workers=2, scheduler="local"), tmp_path / "dask")
    pd.testing.assert_frame_equal(local.weekly, dask.weekly)


def test_one_pdu_of_many_keeps_the_small_numbers_rule(tmp_path: Path) -> None:
    """--pdu cuts the scenario as a sweep does, but a simulation publishes, so small groups stay blank."""
    folder = tmp_path / "two"
    write_scenario(folder, synth_scenario(300, 12, 2, seed=3), "two PDUs")
    out = tmp_path / "out"
    assert (
        main(
            [
                "simulate",
                str(folder),
                "--pdu",
                "PDU02",
                "--weeks",
                "3",
                "--replications",
                "1",
                "--workers",
                "1",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    weekly = pd.read_csv(out / "weekly.csv")
    for column in [c for c in weekly.columns if c.startswith("cases_")]:
        shown = weekly[column].dropna()
        assert ((shown == 0) | (shown >= 5)).all(), column
    for column in ("moved_by_policy", "moved_after_leaver"):
        shown = weekly[column].dropna()
        assert ((shown == 0) | (shown >= 5)).all(), column
    assert "fewer than 0" not in (out / "simulate.html").read_text(encoding="utf-8")


def test_a_scenario_under_the_threshold_is_flagged(tmp_path: Path) -> None:
    tiny = Path(__file__).resolve().parent / "fixtures" / "tiny"
    out = tmp_path / "out"
    assert (
        main(["simulate", str(tiny), "--weeks", "2", "--replications", "1", "--workers", "1", "--out", str(out)]) == 0
    )
    notes = json.loads((out / "summary.json").read_text())["notes"]
    assert any("fewer than 5 cases" in n for n in notes)
    assert "fewer than 5 cases" in (out / "simulate.html").read_text(encoding="utf-8")


def test_a_failed_simulation_leaves_no_parts_folder(
    small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workload.simulate import run

    def broken(*args: object, **kwargs: object) -> None:
        raise MemoryError("no room")

    monkeypatch.setattr(run, "run_replication", broken)
    out = tmp_path / "out"
    assert (
        main(["simulate", str(small), "--weeks", "2", "--replications", "1", "--workers", "1", "--out", str(out)]) == 1
    )
    assert not out.exists() and not parts_folder(out).exists()
