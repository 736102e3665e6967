"""The command line as a planner uses it: exit codes, messages, and run folders written whole or not at all."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import read_raw, write_raw
from workload.cli import main


def test_validate_ok(tiny: Path, capsys) -> None:
    assert main(["validate", str(tiny)]) == 0
    assert "valid. 3 cases, 2 practitioners, 1 partners in 1 PDUs." in capsys.readouterr().out


def test_validate_bad_exits_2_listing_every_problem_without_traceback(tiny: Path) -> None:
    cases = read_raw(tiny, "cases.csv")
    cases.loc[0, "tier"] = "E9"
    cases.loc[2, "sex"] = "?"
    write_raw(cases, tiny, "cases.csv")
    proc = subprocess.run(
        [sys.executable, "-m", "workload.cli", "validate", str(tiny)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    assert "2 problems found:" in proc.stderr
    assert 'cases.csv, row 2, column tier: "E9" is not a valid tier' in proc.stderr
    assert 'cases.csv, row 4, column sex: "?" is not a valid sex' in proc.stderr
    assert "Traceback" not in proc.stderr


def test_validate_missing_scenario(tmp_path: Path, capsys) -> None:
    assert main(["validate", str(tmp_path / "nope.toml")]) == 2
    assert "scenario file not found" in capsys.readouterr().err


def test_run_writes_folder_and_refuses_to_overwrite(tiny: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["run", str(tiny), "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"]["cases"] == 3 and summary["counts"]["pdus"] == 1
    assert {"cases.csv", "practitioners.csv", "summary.json", "scenario.resolved.json", "manifest.json"} <= {
        p.name for p in out.iterdir()
    }
    before = (out / "summary.json").read_bytes()
    assert main(["run", str(tiny), "--out", str(out)]) == 2
    assert "exists already" in capsys.readouterr().err
    assert main(["run", str(tiny), "--out", str(out), "--force"]) == 0
    assert (out / "summary.json").read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temporary folders left behind"


def test_run_on_bad_scenario_writes_nothing(tiny: Path, tmp_path: Path) -> None:
    cases = read_raw(tiny, "cases.csv")
    cases.loc[0, "grade" if "grade" in cases else "tier"] = "XX"
    write_raw(cases, tiny, "cases.csv")
    out = tmp_path / "run"
    assert main(["run", str(tiny), "--out", str(out)]) == 2
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [tiny]


def test_two_runs_are_byte_identical_except_manifest(tiny: Path, tmp_path: Path) -> None:
    """CSV, JSON and both reports are byte-identical; only manifest.json (timings, time of day) differs.
    The runs are two seconds apart, so a workbook that kept the time it was written would differ."""
    import time

    assert main(["run", str(tiny), "--out", str(tmp_path / "a")]) == 0
    time.sleep(2.1)
    assert main(["run", str(tiny), "--out", str(tmp_path / "b")]) == 0
    names = sorted(p.name for p in (tmp_path / "a").iterdir() if p.name != "manifest.json")
    assert {"cases.csv", "allocations.csv", "summary.json", "report.html", "report.xlsx"} <= set(names)
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir() if p.name != "manifest.json")
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_run_prints_only_its_own_lines(tiny: Path, tmp_path: Path) -> None:
    """HiGHS greets on stdout when a process first loads it; a run (and its worker processes) must not pass
    that on: what a planner sees, or pipes, is the run's own message."""
    proc = subprocess.run(
        [sys.executable, "-m", "workload.cli", "run", str(tiny), "--out", str(tmp_path / "run"), "--workers", "2"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [line for line in proc.stdout.splitlines() if line.startswith("Run written to")]
    assert "HiGHS" not in proc.stdout + proc.stderr
