"""Sweeps: the sweep file, variants and draws, per-PDU tasks, resuming, executors, the published table."""

from __future__ import annotations

import argparse
import functools
import io
import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workload import outcomes
from workload.errors import InputError, Problem, render
from workload.load import load_scenario
from workload.pipeline import run_scenario
from workload.sweep import (
    ALL_PDUS,
    CELL_FIGURES,
    HEADLINE_METRICS,
    METRICS,
    Draw,
    Progress,
    SweepError,
    SweepFolderError,
    Task,
    _restore_environ,
    _worker_malloc_trim,
    add_sweep_parser,
    apply_variant,
    draw_values,
    group_metric,
    open_executor,
    plan_sweep,
    prepare_folder,
    read_sweep_file,
    run_sweep,
    run_task,
    scenario_fingerprint,
    small_cell_rule,
    tidy_results,
)
from workload.synth import synth_scenario, write_scenario

SWEEP = """
name = "test sweep"
[grid]
"policy.women_specialist_pool" = ["off", "hard"]
[draws]
"parameters.outcomes.reoffending.cost_per_reoffender" = { distribution = "triangular", low = 50000, mode = 128000, high = 255900 }
[objective]
metric = "needs_lp.whole_life_cost"
direction = "min"
"""


@pytest.fixture(scope="module")
def synth_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3-PDU synthetic scenario whose one women's centre serves all three PDUs."""
    folder = tmp_path_factory.mktemp("synth") / "x"
    write_scenario(folder, synth_scenario(n_cases=300, n_practitioners=12, n_pdus=3, seed=1), name="x")
    return folder


@pytest.fixture(scope="module")
def scenario(synth_folder: Path):
    return load_scenario(synth_folder)


def sweep_file(folder: Path, text: str, name: str = "sweep.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------------------------------------
# the sweep file, variants and draws


def test_grid_is_the_product_in_file_order_and_draws_are_shared_by_grid_points(tmp_path: Path, scenario) -> None:
    text = """
[grid]
"policy.women_specialist_pool" = ["off", "soft", "hard"]
parameters.outcomes.reoffending.effect_of_full_coverage = [0.05, 0.2]
[draws]
"parameters.outcomes.children.care_share" = { distribution = "uniform", low = 0.05, high = 0.30 }
"""
    plan = plan_sweep(scenario, read_sweep_file(sweep_file(tmp_path, text), scenario), n_draws=4)
    assert len(plan.variants) == 3 * 2 * 4
    table = plan.variants_table()
    assert list(table.index[:5]) == ["g00-d00", "g00-d01", "g00-d02", "g00-d03", "g01-d00"]
    points = table.drop_duplicates("grid_point")
    assert points["policy.women_specialist_pool"].tolist() == ["off", "off", "soft", "soft", "hard", "hard"]
    assert points["parameters.outcomes.reoffending.effect_of_full_coverage"].tolist() == [0.05, 0.2] * 3
    shares = table.pivot(index="draw", columns="grid_point", values="parameters.outcomes.children.care_share")
    assert (shares.nunique(axis=1) == 1).all(), "draw d must be the same in every grid point"
    assert shares.iloc[:, 0].nunique() == 4
    assert len(plan.tasks) == 24 * 3 and plan.tasks[0].file_name == "g00-d00__PDU01.csv"


def test_draws_depend_only_on_seed_key_and_draw_number() -> None:
    tri = Draw("parameters.a", "triangular", {"low": 1.0, "mode": 2.0, "high": 5.0})
    uni = Draw("parameters.b", "uniform", {"low": 0.0, "high": 1.0})
    pick = Draw("policy.c", "choice", {"values": ["off", "soft", "hard"], "weights": [1, 0, 3]})
    both = draw_values({"parameters.a": tri, "parameters.b": uni, "policy.c": pick}, 200, seed=7)
    alone = draw_values({"parameters.a": tri}, 50, seed=7)
    assert both["parameters.a"].iloc[:50].tolist() == alone["parameters.a"].tolist()
    assert both.equals(draw_values({"parameters.a": tri, "parameters.b": uni, "policy.c": pick}, 200, seed=7))
    assert not both["parameters.a"].equals(draw_values({"parameters.a": tri}, 200, seed=8)["parameters.a"])
    assert both["parameters.a"].between(1.0, 5.0).all() and both["parameters.b"].between(0.0, 1.0).all()
    assert set(both["policy.c"]) == {"off", "hard"}
    assert abs(both["parameters.a"].mean() - (1 + 2 + 5) / 3) < 0.25


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            '[grid]\n"policy.women_specialist_pol" = ["off"]',
            ["sweep.toml", "policy.women_specialist_pol", "did you mean policy.women_specialist_pool?"],
        ),
        (
            '[grid]\n"policy.women_specialist_pool" = ["off", "medium"]',
            ["sweep.toml", "policy.women_specialist_pool", "'medium'", "'off', 'soft' or 'hard'"],
        ),
        (
            '[grid]\n"parameters.outcomes.reoffending.effect_of_full_coverag" = [0.1]',
            ["did you mean parameters.outcomes.reoffending.effect_of_full_coverage?"],
        ),
        (
            '[grid]\n"parameters.outcomes.reoffending.effect_of_full_coverage" = ["high"]',
            ["effect_of_full_coverage", "must be a number"],
        ),
        (
            '[grid]\n"outcomes.reoffending.base_rate" = [0.2]',
            ['keys start with "policy." or "parameters."', "did you mean parameters.outcomes.reoffending.base_rate?"],
        ),
        ('[grid]\n"policy.workers" = [1, 2]', ["policy.workers", "--workers"]),
        (
            '[draws]\n"parameters.outcomes.children.care_share" = { distribution = "unifrm", low = 0, high = 1 }',
            ["did you mean uniform?", "Allowed: uniform, triangular, normal, lognormal, choice"],
        ),
        (
            '[draws]\n"parameters.outcomes.children.care_share" = { distribution = "triangular", low = 0.3, mode = 0.1, high = 0.2 }',
            ["care_share", "low <= mode <= high"],
        ),
        (
            '[draws]\n"parameters.outcomes.children.care_share" = { distribution = "uniform", lo = 0, high = 1 }',
            ["'lo' is not an argument", "takes low, high"],
        ),
        (
            '[grid]\n"policy.exact" = [true]\n[objective]\nmetric = "needs_lp.coverage_woman"',
            ["did you mean needs_lp.coverage_women?"],
        ),
        ('[grid]\n"policy.exact" = [true]\n[objective]\ndirection = "up"', ['direction must be "max" or "min"']),
        ('[grids]\n"policy.exact" = [true]', ["'grids' is not a sweep setting; did you mean grid?"]),
        ('[grid]\n"policy.exact" = [true, true]', ["lists a value twice"]),
        ("", ["nothing to sweep"]),
    ],
)
def test_a_bad_sweep_file_names_file_key_and_allowed_values(
    tmp_path: Path, scenario, text: str, expected: list[str]
) -> None:
    path = sweep_file(tmp_path, text)
    with pytest.raises(SweepError) as caught:
        plan_sweep(scenario, read_sweep_file(path, scenario), n_draws=2 if "[draws]" in text else None)
    message = "\n".join(str(problem) for problem in caught.value.problems)
    for part in expected:
        assert part in message


def test_draws_and_the_draws_table_go_together(tmp_path: Path, scenario) -> None:
    with_draws = read_sweep_file(sweep_file(tmp_path, SWEEP), scenario)
    with pytest.raises(SweepError, match="give --draws N"):
        plan_sweep(scenario, with_draws, None)
    grid_only = read_sweep_file(sweep_file(tmp_path, '[grid]\n"policy.exact" = [false]', "g.toml"), scenario)
    with pytest.raises(SweepError, match="no \\[draws\\] table"):
        plan_sweep(scenario, grid_only, 3)


@pytest.mark.parametrize(
    "text, n_draws, code, file, key, line",
    [
        (
            "name = [",
            None,
            "sweep.file",
            "sweep.toml",
            None,
            "sweep.toml: is not valid TOML: Invalid value (at end of document)",
        ),
        (
            'nme = "x"\n[grid]\n"policy.exact" = [true]',
            None,
            "sweep.setting",
            "sweep.toml",
            "nme",
            "sweep.toml: 'nme' is not a sweep setting; did you mean name? Allowed: name, description, seed, grid, draws, objective",
        ),
        (
            '[grid]\n"policy.exact" = []',
            None,
            "sweep.grid",
            "sweep.toml",
            "policy.exact",
            'sweep.toml: [grid] "policy.exact" has an empty list; give at least one value',
        ),
        (
            '[draws]\n"parameters.outcomes.children.care_share" = { distribution = "normal", mean = 2, sd = 0 }',
            2,
            "sweep.draws",
            "sweep.toml",
            "parameters.outcomes.children.care_share",
            'sweep.toml: [draws] "parameters.outcomes.children.care_share": sd must be above 0 (found 0)',
        ),
        (
            '[grid]\n"policy.women_specialist_pol" = ["off"]',
            None,
            "sweep.key",
            "sweep.toml",
            "policy.women_specialist_pol",
            None,
        ),
        (
            '[grid]\n"policy.women_specialist_pool" = ["medium"]',
            None,
            "sweep.value",
            "sweep.toml",
            "policy.women_specialist_pool",
            None,
        ),
        (
            '[grid]\n"policy.exact" = [true]\n[objective]\ndirection = "up"',
            None,
            "sweep.objective",
            "sweep.toml",
            "direction",
            """sweep.toml: [objective] direction must be "max" or "min" (found 'up')""",
        ),
        (
            '[grid]\n"policy.exact" = [true]',
            3,
            "sweep.option",
            "--draws",
            None,
            "--draws 3 was given but sweep.toml has no [draws] table to draw from",
        ),
        (
            '[draws]\n"parameters.outcomes.children.care_share" = { distribution = "uniform", low = 0, high = 1 }',
            None,
            "sweep.option",
            "sweep.toml",
            None,
            "sweep.toml has a [draws] table (parameters.outcomes.children.care_share); give --draws N, the number of draws per grid point",
        ),
    ],
)
def test_sweep_problems_are_the_one_error_model_and_print_as_before(
    tmp_path: Path, scenario, text: str, n_draws: int | None, code: str, file: str, key: str | None, line: str | None
) -> None:
    with pytest.raises(SweepError) as caught:
        plan_sweep(scenario, read_sweep_file(sweep_file(tmp_path, text), scenario), n_draws)
    assert isinstance(caught.value, InputError) and isinstance(caught.value, ValueError)
    [problem] = caught.value.problems
    assert isinstance(problem, Problem)
    assert (problem.code, problem.file, problem.key) == (code, file, key)
    if line is not None:
        assert str(problem) == line
    assert str(caught.value) == str(problem)
    assert render(caught.value.problems) == f"1 problem found:\n  - {problem}"


def test_folder_problems_have_the_folder_code(tmp_path: Path, scenario) -> None:
    plan = plan_sweep(scenario, read_sweep_file(sweep_file(tmp_path, '[grid]\n"policy.exact" = [true]'), scenario))
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(SweepFolderError) as caught:
        prepare_folder(stranger, plan)
    [problem] = caught.value.problems
    assert (problem.code, problem.file) == ("sweep.folder", str(stranger))
    assert str(problem) == f"{stranger} exists, is not empty and holds no sweep (no sweep.json); choose another --out"
    with pytest.raises(SweepFolderError) as caught:
        prepare_folder(tmp_path, plan)  # the sweep file's folder
    [problem] = caught.value.problems
    assert (problem.code, problem.file) == ("sweep.folder", "--out")
    assert str(problem).startswith(f"--out {tmp_path} is ") and str(problem).endswith("(nothing was changed)")


# ----------------------------------------------------------------------------------------------------------
# publishing: totals, suppression, progress, the folder


def test_small_cell_rule_follows_the_run_tables() -> None:
    rng = np.random.default_rng(3)
    groups = ["female", "male", "other", "unknown"]
    counts = pd.DataFrame(rng.integers(0, 9, size=(400, 4)), columns=groups).astype(float)
    counts.iloc[:40] = rng.integers(0, 3, size=(40, 4))  # rows where even the pool of small groups is small
    shown, absorbs = small_cell_rule(counts, threshold=5)
    for i, row in counts.iterrows():
        table = row[row > 0].to_frame("cases").assign(required_hours=1.0, afforded_hours=0.5, partner_hours=0.0)
        published = outcomes.suppress(pd.concat([table, table.sum().to_frame("Total").T]), 5).index
        merged = [f"{g} + small groups" in published for g in groups]
        assert absorbs.loc[i].tolist() == merged, row.to_dict()
        assert shown.loc[i].tolist() == [g in published or m for g, m in zip(groups, merged)], row.to_dict()
    assert absorbs.to_numpy().any() and shown.to_numpy().any() and not shown.to_numpy().all()
    shown, absorbs = small_cell_rule(counts, threshold=0)
    assert (shown.to_numpy() == (counts.to_numpy() > 0)).all() and not absorbs.to_numpy().any()


def _raw(variant: str, pdu: str, afforded: float, required: float, women: float) -> pd.DataFrame:
    rows = {}
    for cell in outcomes.CELLS:
        for figure in CELL_FIGURES:
            rows[f"{cell}.{figure}"] = 1.0
        rows[f"{cell}.afforded_hours"], rows[f"{cell}.partner_hours"], rows[f"{cell}.required_hours"] = (
            afforded,
            0.0,
            required,
        )
        rows[f"{cell}.cases"] = 50.0 + women
        rows[group_metric("sex", "female", "given_hours", cell)] = afforded / 2
        rows[group_metric("sex", "male", "given_hours", cell)] = afforded / 2
    rows[group_metric("sex", "female", "cases")] = women
    rows[group_metric("sex", "male", "cases")] = 50.0
    rows[group_metric("sex", "female", "required_hours")] = required / 2
    rows[group_metric("sex", "male", "required_hours")] = required / 2
    rows["fte.available"] = 2.0
    return pd.DataFrame({"variant": variant, "pdu": pdu, "metric": list(rows), "value": list(rows.values())})


def test_tidy_results_total_pdus_and_recompute_coverage() -> None:
    raw = pd.concat(
        [
            _raw("g01", "P2", 30.0, 100.0, 3.0),
            _raw("g01", "P1", 150.0, 100.0, 10.0),
            _raw("g00", "P1", 10.0, 20.0, 10.0),
        ]
    )
    tidy = tidy_results(raw, threshold=5)
    assert list(tidy.columns) == ["variant", "pdu", "metric", "value"]
    assert tidy.equals(tidy.sort_values(["variant", "pdu", "metric"]).reset_index(drop=True))
    assert set(tidy["metric"]) == set(METRICS)
    value = tidy.set_index(["variant", "pdu", "metric"])["value"]
    assert value[("g01", ALL_PDUS, "needs_lp.afforded_hours")] == 180.0
    assert value[("g01", ALL_PDUS, "fte.available")] == 4.0
    assert value[("g01", ALL_PDUS, "needs_lp.coverage")] == pytest.approx(
        0.9
    )  # min(180, 200) / 200, not the PDUs' mean
    assert value[("g01", "P1", "needs_lp.coverage")] == 1.0 and value[("g01", "P2", "needs_lp.coverage")] == 0.3
    assert value[("g01", "P1", "needs_lp.coverage_women")] == 1.0
    assert np.isnan(value[("g01", "P2", "needs_lp.coverage_women")]), "3 women < 5: not shown"
    assert value[("g01", "P2", "needs_lp.coverage_men")] == pytest.approx(30.0 / 100.0), (
        "the 3 are merged into the men's row"
    )
    assert value[("g01", "P1", "needs_lp.coverage_men")] == pytest.approx(1.0)
    assert value[("g01", ALL_PDUS, "needs_lp.coverage_women")] == pytest.approx(90.0 / 100.0)
    assert np.isnan(value[("g00", "P1", "needs_lp.coverage_low_risk_complex")]), "no such group in the rows"


def test_tidy_results_pool_pdus_too_small_to_show() -> None:
    # the disclosure rule over PDUs: a PDU of 2 cases is never a row of its own, and the total still adds up
    tiny = _raw("g01", "P9", 4.0, 8.0, 0.0)
    tiny.loc[tiny["metric"].str.endswith(".cases"), "value"] = 2.0
    tiny.loc[tiny["metric"] == group_metric("sex", "male", "cases"), "value"] = 2.0
    raw = pd.concat([_raw("g01", "P1", 150.0, 100.0, 10.0), _raw("g01", "P2", 30.0, 100.0, 10.0), tiny])
    tidy = tidy_results(raw, threshold=5)
    pdus = set(tidy["pdu"])
    assert "P9" not in pdus and "P1 + small PDUs" in pdus and "P2" in pdus
    value = tidy.set_index(["variant", "pdu", "metric"])["value"]
    assert value[("g01", "P1 + small PDUs", "needs_lp.afforded_hours")] == 154.0
    assert value[("g01", ALL_PDUS, "needs_lp.afforded_hours")] == 184.0
    assert not tidy_results(raw, threshold=2)["pdu"].str.contains("small").any()  # 2 cases: not small at T = 2


def test_tidy_results_blank_figures_from_few_cases() -> None:
    raw = _raw("g01", "P1", 150.0, 100.0, 10.0)
    extra = pd.DataFrame(
        {
            "variant": "g01",
            "pdu": "P1",
            "metric": ["needs_lp.contributors_partner_hours", "wmt_today.contributors_partner_hours"],
            "value": [2.0, 0.0],
        }
    )
    tidy = tidy_results(pd.concat([raw, extra]), threshold=5)
    value = tidy.set_index(["variant", "pdu", "metric"])["value"]
    for figure in ("partner_hours", "partner_cost", "afforded_hours", "staff_cost"):
        assert np.isnan(value[("g01", "P1", f"needs_lp.{figure}")]), figure
        assert not np.isnan(value[("g01", "P1", f"wmt_today.{figure}")]), figure
    assert np.isnan(value[("g01", "P1", "net_whole_life_cost_reform_vs_baseline")])
    assert not [m for m in tidy["metric"] if "contributors" in m]


def test_progress_bar_only_on_a_terminal() -> None:
    quiet = io.StringIO()
    bar = Progress(10, 5, stream=quiet)
    bar.update(4, 2)
    bar.close()
    assert quiet.getvalue() == ""

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    ticks = iter([0.0, 10.0, 10.0, 20.0, 20.0])
    shown = Terminal()
    bar = Progress(10, 5, stream=shown, clock=lambda: next(ticks))
    bar.update(4, 2)
    assert "\r" in shown.getvalue() and "2/5 variants" in shown.getvalue() and "4/10 tasks" in shown.getvalue()
    assert "0m15s left" in shown.getvalue()  # 4 tasks in 10 s, 6 to go


def test_an_out_folder_of_another_sweep_or_scenario_is_refused(tmp_path: Path, synth_folder: Path, scenario) -> None:
    plan = plan_sweep(scenario, read_sweep_file(sweep_file(tmp_path, SWEEP), scenario), n_draws=2)
    out = tmp_path / "out"
    prepare_folder(out, plan)
    (out / "tasks" / "g00-d00__PDU01.csv").write_text("metric,value\n", encoding="utf-8")
    prepare_folder(out, plan)  # the same sweep: resumed, finished tasks kept
    assert (out / "tasks" / "g00-d00__PDU01.csv").exists()
    other_draws = plan_sweep(scenario, plan.spec, n_draws=3)
    with pytest.raises(SweepFolderError, match="a different sweep"):
        prepare_folder(out, other_draws)
    copy = tmp_path / "copy"
    shutil.copytree(synth_folder, copy)
    with open(copy / "cases.csv", "a", encoding="utf-8") as handle:
        handle.write("\n")
    changed = plan_sweep(load_scenario(copy), plan.spec, n_draws=2)
    with pytest.raises(SweepFolderError, match="a different scenario"):
        prepare_folder(out, changed)
    prepare_folder(out, other_draws, force=True)
    assert not (out / "tasks" / "g00-d00__PDU01.csv").exists()
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(SweepFolderError, match="holds no sweep"):
        prepare_folder(stranger, plan, force=True)
    assert (stranger / "notes.txt").exists()


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="workload")
    add_sweep_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_bad_sweep_file_exits_2_with_the_problem_and_no_traceback(
    tmp_path: Path, synth_folder: Path, capsys
) -> None:
    bad = sweep_file(tmp_path, '[grid]\n"policy.women_specialist_pool" = ["off", "medium"]')
    code = _cli(["sweep", str(synth_folder), "--grid", str(bad), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert "sweep.toml" in err and "policy.women_specialist_pool" in err and "'off', 'soft' or 'hard'" in err
    assert "Traceback" not in err and not (tmp_path / "out").exists()


# ----------------------------------------------------------------------------------------------------------
# running: tasks reproduce the whole run; resuming; executors agree


@pytest.mark.parametrize("policy", [{}, {"women_specialist_pool": "hard", "continuity_penalty": 5.0}])
def test_per_pdu_tasks_add_up_to_the_whole_run(scenario, policy: dict) -> None:
    """PDUs are solved apart in a run too, so the tasks (with the shared partner's hours apportioned as the
    allocator does) must give the whole run's figures: this proves the split loses nothing. The second policy
    runs in the same process after the first, so it also proves that reusing the first's PDU shares (the
    worker cache keyed by SHARE_POLICY_FIELDS) is right."""
    scenario = apply_variant(scenario, policy, {})
    whole_scenario = replace(
        scenario,
        spec=scenario.spec.model_copy(
            update={"output": scenario.spec.output.model_copy(update={"suppression_threshold": 0})}
        ),
    )
    whole = run_scenario(whole_scenario, workers=1).summary
    assert len(scenario.partners) == 1 and len(scenario.partners["pdus"].iloc[0]) == 3
    rows = []
    for pdu in scenario.pdus:
        task = Task(str(scenario.path), scenario_fingerprint(scenario), "g00", pdu, policy, {})
        rows += [("g00", pdu, m, v) for m, v in run_task(task)]
    tidy = tidy_results(pd.DataFrame(rows, columns=["variant", "pdu", "metric", "value"]), threshold=0)
    total = tidy[tidy["pdu"] == ALL_PDUS].set_index("metric")["value"]
    for cell, figures in whole["cells"].items():
        for figure in CELL_FIGURES:
            assert total[f"{cell}.{figure}"] == pytest.approx(figures[figure], rel=1e-6, abs=1e-6), (cell, figure)
        assert total[f"{cell}.coverage_women"] == pytest.approx(whole["coverage_women"][cell], rel=1e-9)
        assert total[f"{cell}.coverage_low_risk_complex"] == pytest.approx(
            whole["coverage_low_risk_complex"][cell], rel=1e-9
        )
    assert total["needs_lp.partner_hours"] > 0 or policy, "with the default policy the shared partner is used"
    assert total["net_whole_life_cost_reform_vs_baseline"] == pytest.approx(
        whole["net_whole_life_cost_reform_vs_baseline"], rel=1e-6
    )
    assert total["fte.needed_for_assessed_need"] == pytest.approx(whole["fte"]["needed_for_assessed_need"], rel=1e-9)

    published = run_scenario(scenario, workers=1).summary  # the scenario's own small-cell threshold
    shown = tidy_results(
        pd.DataFrame(rows, columns=["variant", "pdu", "metric", "value"]),
        threshold=scenario.spec.output.suppression_threshold,
    )
    shown = shown[shown["pdu"] == ALL_PDUS].set_index("metric")["value"]
    for group in ("women", "men", "low_risk_complex"):
        for cell in outcomes.CELLS:
            expected = published[f"coverage_{group}"][cell]
            if expected is None:
                assert np.isnan(shown[f"{cell}.coverage_{group}"]), (group, cell)
            else:
                assert shown[f"{cell}.coverage_{group}"] == pytest.approx(expected, rel=1e-9), (group, cell)
    assert published["coverage_men"]["needs_lp"] != whole["coverage_men"]["needs_lp"], (
        "2 cases of unknown sex merge into men's row"
    )


def test_a_sweep_stopped_half_way_resumes_and_skips_finished_tasks(tmp_path: Path, synth_folder: Path) -> None:
    path = sweep_file(tmp_path, SWEEP)
    clean = run_sweep(synth_folder, path, tmp_path / "clean", draws=2, workers=1, progress=False)
    assert clean.ran == 12 and clean.skipped == 0

    done: list[str] = []

    def stop_after_five(task) -> None:
        done.append(task.file_name)
        if len(done) == 5:
            raise KeyboardInterrupt

    out = tmp_path / "stopped"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(synth_folder, path, out, draws=2, workers=1, progress=False, on_task_done=stop_after_five)
    finished = sorted(p.name for p in (out / "tasks").glob("*.csv"))
    assert finished == sorted(done) and len(finished) == 5 and not (out / "results.csv").exists()

    rerun: list[str] = []
    resumed = run_sweep(
        synth_folder, path, out, draws=2, workers=1, progress=False, on_task_done=lambda t: rerun.append(t.file_name)
    )
    assert resumed.skipped == 5 and resumed.ran == 7 and not set(rerun) & set(finished)
    assert (out / "results.csv").read_bytes() == (tmp_path / "clean" / "results.csv").read_bytes()
    assert (out / "sweep.html").read_bytes() == (tmp_path / "clean" / "sweep.html").read_bytes()
    again = run_sweep(synth_folder, path, out, draws=2, workers=1, progress=False)
    assert again.ran == 0 and again.skipped == 12

    results = pd.read_csv(out / "results.csv")
    assert list(results.columns) == ["variant", "pdu", "metric", "value"]
    assert set(results["pdu"]) == {"PDU01", "PDU02", "PDU03", ALL_PDUS}
    assert len(results) == 4 * 4 * len(METRICS)
    costs = results[(results["pdu"] == ALL_PDUS) & (results["metric"] == "needs_lp.reoffending_cost")].set_index(
        "variant"
    )["value"]
    drawn = pd.read_csv(out / "variants.csv", index_col="variant")[
        "parameters.outcomes.reoffending.cost_per_reoffender"
    ]
    assert costs["g00-d00"] / costs["g00-d01"] == pytest.approx(drawn["g00-d00"] / drawn["g00-d01"], rel=1e-6)
    ranking = pd.read_csv(out / "ranking.csv", index_col="policy")
    assert sorted(ranking.index) == ["women_specialist_pool=hard", "women_specialist_pool=off"]
    assert (ranking["assumptions"] == "(all)").all(), "only drawn assumptions: one block"
    assert ranking["rank"].min() == 1 and ranking["values"].tolist() == [2, 2], "ranked within each of 2 draws"
    html = (out / "sweep.html").read_text(encoding="utf-8")
    assert "ranked by needs_lp.whole_life_cost (lower is better)" in html and "within each value" in html
    assert html.count("<svg") == len({"needs_lp.whole_life_cost", *HEADLINE_METRICS}) and "share best" in html
    assert "women_specialist_pool=hard" in html


def test_process_pool_and_dask_local_cluster_give_identical_results(
    tmp_path: Path, synth_folder: Path, monkeypatch
) -> None:
    path = sweep_file(tmp_path, SWEEP)
    pool = run_sweep(synth_folder, path, tmp_path / "pool", draws=2, workers=2, progress=False)
    dask = run_sweep(synth_folder, path, tmp_path / "dask", draws=2, workers=2, scheduler="local", progress=False)
    assert pool.ran == dask.ran == 12
    assert (tmp_path / "pool" / "results.csv").read_bytes() == (tmp_path / "dask" / "results.csv").read_bytes()
    assert (tmp_path / "pool" / "ranking.csv").read_bytes() == (tmp_path / "dask" / "ranking.csv").read_bytes()
    # As an earlier Dask nanny in the same Python session leaves it in the parent's environment:
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    omp_before = "OMP_NUM_THREADS" in os.environ
    with open_executor(workers=1, scheduler="local") as (executor, notes):
        settings = executor._client.run(_worker_malloc_trim)
    assert settings and all(v is None for v in settings.values()), (
        "LocalCluster workers must not get MALLOC_TRIM_THRESHOLD_=65536"
    )
    assert notes == []
    assert os.environ["MALLOC_TRIM_THRESHOLD_"] == "65536" and ("OMP_NUM_THREADS" in os.environ) == omp_before, (
        "the caller's environment is left as it was"
    )

    from distributed import LocalCluster

    before = dict(os.environ)
    try:
        with (
            LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None, silence_logs=40) as remote,
            open_executor(scheduler=remote.scheduler_address) as (executor, notes),
        ):
            pass
    finally:
        _restore_environ(before)
    assert "1 of 1 Dask workers run with MALLOC_TRIM_THRESHOLD_=65536" in " ".join(notes), (
        "an eager remote cluster is reported"
    )


def test_pool_workers_run_one_thread_each_and_leave_the_callers_environment(monkeypatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "3")  # a value the user set is kept
    with open_executor(workers=2) as (executor, notes):
        omp = {executor.submit(functools.partial(os.getenv, "OMP_NUM_THREADS")).result() for _ in range(4)}
        mkl = executor.submit(functools.partial(os.getenv, "MKL_NUM_THREADS")).result()
    assert omp == {"1"} and mkl == "3" and notes == []
    assert "OMP_NUM_THREADS" not in os.environ


def test_cli_sweep_writes_the_folder_and_resumes(tmp_path: Path, synth_folder: Path, capsys) -> None:
    path = sweep_file(tmp_path, '[grid]\n"policy.continuity_penalty" = [5.0, 40.0]\n')
    out = tmp_path / "cli"
    assert (
        _cli(
            [
                "sweep",
                str(synth_folder),
                "--grid",
                str(path),
                "--out",
                str(out),
                "--workers",
                "1",
                "--objective",
                "needs_lp.moved",
                "--direction",
                "min",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert (
        "Sweep written to" in printed
        and "6 task(s) run" in printed
        and "Best by needs_lp.moved, ranked within each value of the assumptions" in printed
    )
    manifest = json.loads((out / "sweep.json").read_text(encoding="utf-8"))
    assert manifest["variants"] == 2 and manifest["tasks"] == 6 and manifest["pdus"] == ["PDU01", "PDU02", "PDU03"]
    moved = pd.read_csv(out / "ranking.csv", index_col="policy")["mean"]
    assert moved["continuity_penalty=40.0"] <= moved["continuity_penalty=5.0"], "a larger penalty moves no more"
    assert _cli(["sweep", str(synth_folder), "--grid", str(path), "--out", str(out)]) == 0
    assert "0 task(s) run, 6 already done" in capsys.readouterr().out
    assert (
        _cli(["sweep", str(synth_folder), "--grid", str(path), "--out", str(out), "--objective", "needs_lp.moved"]) == 2
    )
    assert "--direction max or --direction min" in capsys.readouterr().err
