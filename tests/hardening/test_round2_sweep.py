"""Sweeps (red-team round 2): values checked at plan time against the parameters' ranges and allowed values
(finding 9 and 10: exit 2, nothing written), no spreadsheet formula in any sweep CSV (9), resume trusts only
whole task files (11), and a named pipe as the sweep file is refused without hanging (6)."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workload.cli import main
from workload.load import load_scenario
from workload.sweep import (
    SweepError,
    SweepTaskError,
    Variant,
    _csv_text,
    plan_sweep,
    prepare_folder,
    read_sweep_file,
    read_task_file,
    read_task_files,
    run_sweep,
    task_file_text,
)
from workload.synth import synth_scenario, write_scenario

GRID = '[grid]\n"policy.continuity_penalty" = [5.0, 40.0]\n'


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small 2-PDU synthetic scenario."""
    path = tmp_path_factory.mktemp("synth") / "x"
    write_scenario(path, synth_scenario(n_cases=120, n_practitioners=8, n_pdus=2, seed=3), name="x")
    return path


@pytest.fixture(scope="module")
def scenario(folder: Path):
    return load_scenario(folder)


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory, folder: Path) -> tuple[Path, Path]:
    """A finished sweep (2 variants x 2 PDUs) and its sweep file, copied by the tests that break it."""
    root = tmp_path_factory.mktemp("finished")
    path = root / "sweep.toml"
    path.write_text(GRID, encoding="utf-8")
    result = run_sweep(folder, path, root / "out", workers=1, progress=False)
    assert result.ran == 4
    return root / "out", path


def _sweep_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sweep.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _cli_refuses(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and "internal error" not in err, err
    return err


# ----------------------------------------------------------------------------------------------------------
# values checked at plan time


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            '[grid]\n"parameters.wmt.baseline_allocation.highest_protect_level.PSO" = ["C", "=HYPERLINK(\\"http://x\\",\\"y\\")"]\n',
            (
                'sweep.toml: [grid] "parameters.wmt.baseline_allocation.highest_protect_level.PSO": parameter '
                "wmt.baseline_allocation.highest_protect_level.PSO must be one of A, B, C, D; "
                'found \'=HYPERLINK("http://x","y")\''
            ),
        ),
        (
            '[grid]\n"parameters.outcomes.reoffending.effect_of_full_coverage" = [0.1, 3]\n',
            (
                'sweep.toml: [grid] "parameters.outcomes.reoffending.effect_of_full_coverage": parameter '
                "outcomes.reoffending.effect_of_full_coverage must be from 0 to 1, range [0, 1]; found 3"
            ),
        ),
        (
            '[grid]\n"parameters.allocation.capacity.productive_hours_per_fte_year" = [0]\n',
            "must be above 0 and at most 8784, range (0, 8784]; found 0",
        ),
        (
            '[grid]\n"parameters.needs.hours_per_severity.drugs" = [-40]\n',
            "parameter needs.hours_per_severity.drugs must be 0 or more, range [0, inf); found -40",
        ),
    ],
    ids=["formula-text", "effect-3", "fte-year-0", "negative-hours"],
)
def test_a_grid_value_outside_what_the_parameter_allows_exits_2_and_writes_nothing(
    text: str, expected: str, tmp_path: Path, folder: Path, scenario, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _sweep_file(tmp_path, text)
    with pytest.raises(SweepError) as caught:
        plan_sweep(scenario, read_sweep_file(path, scenario))
    assert any(expected in str(p) for p in caught.value.problems), caught.value.problems
    out = tmp_path / "out"
    err = _cli_refuses(["sweep", str(folder), "--grid", str(path), "--out", str(out)], capsys)
    assert expected in err
    assert not out.exists(), "nothing written"


def test_every_draw_is_checked_against_the_range_at_once(
    tmp_path: Path, folder: Path, scenario, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        '[draws]\n"parameters.outcomes.children.care_share" = { distribution = "normal", mean = 0.12, sd = 0.1 }\n'
        '"parameters.outcomes.reoffending.cost_per_reoffender" = { distribution = "uniform", low = 50000, high = 90000 }\n'
    )
    path = _sweep_file(tmp_path, text)
    spec = read_sweep_file(path, scenario)
    with pytest.raises(SweepError) as caught:
        plan_sweep(scenario, spec, n_draws=5000)
    [found] = caught.value.problems
    assert found.code == "sweep.value" and found.file == "sweep.toml"
    assert found.key == "parameters.outcomes.children.care_share"
    problem = str(found)
    assert problem.startswith('sweep.toml: [draws] "parameters.outcomes.children.care_share": ')
    count = int(problem.split(": ", 2)[2].split(" of ")[0])
    assert 500 < count < 800, problem  # about P(N(0.12, 0.1) < 0) = 11.5% of 5000
    assert "of 5000 draws of parameter outcomes.children.care_share are not from 0 to 1, its range [0, 1]" in problem
    assert "choose a normal distribution whose draws stay inside it" in problem
    out = tmp_path / "out"
    err = _cli_refuses(["sweep", str(folder), "--grid", str(path), "--draws", "5000", "--out", str(out)], capsys)
    assert "care_share" in err and not out.exists()
    # the same key drawn inside its range plans
    inside = _sweep_file(
        tmp_path,
        text.replace(
            'distribution = "normal", mean = 0.12, sd = 0.1', 'distribution = "uniform", low = 0.05, high = 0.3'
        ),
    )
    assert len(plan_sweep(scenario, read_sweep_file(inside, scenario), n_draws=50).variants) == 50


def test_a_drawn_whole_number_parameter_needs_whole_draws(tmp_path: Path, scenario) -> None:
    path = _sweep_file(
        tmp_path, '[draws]\n"parameters.wmt.workload_pct_decimals" = { distribution = "uniform", low = 0, high = 3 }\n'
    )
    with pytest.raises(SweepError, match="of 20 draws of parameter wmt.workload_pct_decimals are not a whole number"):
        plan_sweep(scenario, read_sweep_file(path, scenario), n_draws=20)
    chosen = _sweep_file(
        tmp_path, '[draws]\n"parameters.wmt.workload_pct_decimals" = { distribution = "choice", values = [0, 1, 2] }\n'
    )
    assert len(plan_sweep(scenario, read_sweep_file(chosen, scenario), n_draws=20).variants) == 20


def test_a_text_choice_outside_the_allowed_values_is_refused(tmp_path: Path, scenario) -> None:
    path = _sweep_file(
        tmp_path,
        '[draws]\n"parameters.wmt.baseline_allocation.highest_protect_level.PSO" = '
        '{ distribution = "choice", values = ["C", "@SUM(1)"] }\n',
    )
    with pytest.raises(SweepError, match=r"must be one of A, B, C, D; found '@SUM\(1\)'"):
        plan_sweep(scenario, read_sweep_file(path, scenario), n_draws=10)


# ----------------------------------------------------------------------------------------------------------
# no formula in a sweep CSV


def test_sweep_csvs_escape_formula_text_and_keep_negative_numbers() -> None:
    frame = pd.DataFrame(
        {
            "key": ['=HYPERLINK("http://x")', "+1", "-cmd", "@SUM(A1)", "\tx", "fine", "-"],
            "mixed": [-3.5, "=1+1", 2, None, -1, "a", "b"],
            "number": [-3.5, -1.0, 0.0, 1.0, 2.0, 3.0, -0.25],
        },
        index=pd.Index(["g0", "=g1", "g2", "g3", "g4", "g5", "g6"], name="variant"),
    )
    text = _csv_text(frame)
    lines = text.splitlines()
    assert lines[1] == 'g0,"\'=HYPERLINK(""http://x"")",-3.5,-3.5'
    assert lines[2].startswith("'=g1,'+1,'=1+1,-1")
    assert lines[3] == "g2,'-cmd,2,0"
    assert lines[4] == "g3,'@SUM(A1),,1"
    assert lines[5].startswith("g4,'\tx,-1,2")
    assert lines[7] == "g6,'-,b,-0.25"
    assert not any(cell.startswith(("=", "+", "@")) for line in lines for cell in line.split(","))


def test_variants_csv_never_holds_a_formula(tmp_path: Path, scenario) -> None:
    plan = plan_sweep(scenario, read_sweep_file(_sweep_file(tmp_path, GRID), scenario))
    # as if a formula had got past every check: the writer still escapes it
    bad = [dataclasses.replace(v, settings={**v.settings, "policy.continuity_penalty": "=1+1"}) for v in plan.variants]
    bad.append(Variant("g02", "g02", None, {"policy.continuity_penalty": -7.5}))
    prepare_folder(tmp_path / "out", dataclasses.replace(plan, variants=bad))
    text = (tmp_path / "out" / "variants.csv").read_text(encoding="utf-8")
    assert "'=1+1" in text and ",=1+1" not in text
    assert text.splitlines()[-1] == "g02,g02,,-7.5", "a negative number stays a number"


# ----------------------------------------------------------------------------------------------------------
# resume trusts only whole task files


def test_a_task_file_round_trips_and_is_checked_whole(tmp_path: Path, finished: tuple[Path, Path]) -> None:
    out, _ = finished
    path = out / "tasks" / "g00__PDU01.csv"
    rows, problem = read_task_file(path)
    assert problem is None and rows is not None and len(rows) > 50
    text = path.read_text(encoding="utf-8")
    assert text.startswith("metric,value\n") and text.splitlines()[-1].startswith("# sha256:")
    assert task_file_text(rows) == text

    def check(content: str | bytes) -> str | None:
        target = tmp_path / "t.csv"
        target.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        return read_task_file(target)[1]

    assert check("") == "is empty"
    assert check("metric,value\n") == "has no checksum line at its end (cut short?)"
    assert "cut short" in check(text[: len(text) // 2])
    assert "cut short" in check(text[:-1])
    assert check(text.replace("metric,value\n", "metric,value\nwmt_lp.cases,1.0\n", 1)).startswith("does not match")
    assert check(b"\xff\xfe" + text.encode()) == "is not UTF-8 text"
    # a checksum that matches is not enough: the metrics must be those a task writes, every value a number
    assert "missing" in check(task_file_text(rows[:-1]))
    assert "is there twice" in check(task_file_text(rows + rows[-1:]))
    assert "not one a task writes" in check(task_file_text(rows + [("extra", 1.0)]))
    assert "not complete" in check(task_file_text([r for r in rows if r[0] != "_group/sex/female/cases"]))
    assert "not a finite number" in check(task_file_text(rows[:-1] + [(rows[-1][0], float("inf"))]))
    body = "metric,value\n" + "".join(f"{m},{v!r}\n" for m, v in rows[:-1]) + f"{rows[-1][0]},abc\n"
    assert "'abc' is not a number" in check(body + f"# sha256:{hashlib.sha256(body.encode()).hexdigest()}\n")
    assert read_task_file(tmp_path / "nope.csv")[1] == "is missing"
    nan_rows = [(m, float("nan")) if m.endswith(".coverage") else (m, v) for m, v in rows]
    again, problem = read_task_file(_write(tmp_path / "nan.csv", task_file_text(nan_rows)))
    assert problem is None and again is not None and np.isnan(dict(again)["wmt_lp.coverage"]), "nan is a blank figure"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _break(tasks: Path) -> list[str]:
    """Break four task files four ways; returns their names."""
    files = sorted(p.name for p in tasks.glob("*.csv"))
    assert len(files) == 4
    truncated, emptied, garbled, piped = files
    text = (tasks / truncated).read_text(encoding="utf-8")
    (tasks / truncated).write_text(text[: len(text) // 3], encoding="utf-8")
    (tasks / emptied).write_text("", encoding="utf-8")
    (tasks / garbled).write_bytes(b"metric,value\n\x00\x01garbage;;;\n")
    (tasks / piped).unlink()
    os.mkfifo(tasks / piped)
    return files


def test_read_task_files_names_broken_files_and_never_crashes(
    tmp_path: Path, finished: tuple[Path, Path], scenario
) -> None:
    out, path = finished
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    plan = plan_sweep(scenario, read_sweep_file(path, scenario))
    names = _break(copy / "tasks")
    with pytest.raises(SweepTaskError) as caught:
        read_task_files(copy, plan.tasks)
    message = str(caught.value)
    assert message.startswith("4 task(s) failed") and names[0] in message
    assert len(caught.value.failures) == 4
    assert {f.split(" ", 3)[3] for _, _, f in caught.value.failures} == {
        "has no checksum line at its end (cut short?)",
        "is empty",
        "is a named pipe, not a regular file; only regular files are read",
    }


def test_resume_redoes_task_files_that_are_not_whole(tmp_path: Path, finished: tuple[Path, Path], folder: Path) -> None:
    out, path = finished
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    for name in ("results.csv", "ranking.csv", "sweep.html"):
        (copy / name).unlink()
    broken = _break(copy / "tasks")
    notes: list[str] = []
    rerun: list[str] = []
    result = run_sweep(
        folder,
        path,
        copy,
        workers=1,
        progress=False,
        on_note=notes.append,
        on_task_done=lambda t: rerun.append(t.file_name),
    )
    assert result.ran == 4 and result.skipped == 0 and sorted(rerun) == broken
    assert any(n.startswith("4 task file(s)") and "were not whole" in n for n in notes), notes
    assert (copy / "results.csv").read_bytes() == (out / "results.csv").read_bytes()
    results = pd.read_csv(copy / "results.csv")
    assert set(results["variant"]) == {"g00", "g01"}
    for name in broken:
        assert read_task_file(copy / "tasks" / name)[1] is None
    again = run_sweep(folder, path, copy, workers=1, progress=False)
    assert again.ran == 0 and again.skipped == 4


def test_a_garbled_file_with_only_some_tasks_broken_is_redone_alone(
    tmp_path: Path, finished: tuple[Path, Path], folder: Path, capsys
) -> None:
    out, path = finished
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    target = copy / "tasks" / "g01__PDU02.csv"
    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace("metric,value\n", "metric,value\nwmt_lp.cases,999\n", 1), encoding="utf-8")
    assert main(["sweep", str(folder), "--grid", str(path), "--out", str(copy), "--workers", "1", "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "1 task(s) run, 3 already done" in captured.out
    assert "note: 1 task file(s)" in captured.err and "were not whole" in captured.err
    assert (copy / "results.csv").read_bytes() == (out / "results.csv").read_bytes()


# ----------------------------------------------------------------------------------------------------------
# only regular files are read


def test_a_named_pipe_as_the_sweep_file_is_refused_without_hanging(tmp_path: Path, folder: Path) -> None:
    fifo = tmp_path / "sweep.toml"
    os.mkfifo(fifo)
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "workload.cli", "sweep", str(folder), "--grid", str(fifo), "--out", str(out)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 2, done.stderr
    assert "the sweep file is a named pipe, not a regular file" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


def test_a_folder_as_the_sweep_file_is_refused(tmp_path: Path, folder: Path, capsys) -> None:
    err = _cli_refuses(["sweep", str(folder), "--grid", str(tmp_path), "--out", str(tmp_path / "out")], capsys)
    assert "the sweep file is a folder, not a file" in err
