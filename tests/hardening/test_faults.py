"""Faults and determinism: a killed run leaves no folder or a complete one; results never depend on
PYTHONHASHSEED or the number of workers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from workload.output import atomic_folder
from workload.synth import synth_scenario, write_scenario

EXPECTED = {
    "cases.csv",
    "allocations.csv",
    "practitioners.csv",
    "pdus.csv",
    "summary.json",
    "report.html",
    "report.xlsx",
    "manifest.json",
    "scenario.resolved.json",
    "totals.csv",
    "equity.csv",
}


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("faults")
    return write_scenario(
        root / "scenario", synth_scenario(n_cases=400, n_practitioners=16, n_pdus=2, seed=5), name="faults"
    )


def run_command(scenario: Path, out: Path, workers: int, hashseed: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONHASHSEED": hashseed}
    return subprocess.Popen(
        [sys.executable, "-m", "workload.cli", "run", str(scenario), "--out", str(out), "--workers", str(workers)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )


def test_a_run_killed_at_random_moments_leaves_no_folder_or_a_complete_one(scenario: Path, tmp_path: Path) -> None:
    start = time.perf_counter()
    proc = run_command(scenario, tmp_path / "timed", 1, "0")
    assert proc.wait(timeout=300) == 0
    duration = time.perf_counter() - start
    rng = np.random.default_rng(2026)
    outcomes = []
    for i, delay in enumerate(sorted(rng.uniform(0.05, duration * 1.1, size=6))):
        out = tmp_path / f"killed-{i}"
        proc = run_command(scenario, out, 1, "0")
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        if out.exists():
            assert EXPECTED <= {p.name for p in out.iterdir()}, f"killed after {delay:.2f}s: incomplete folder"
            json.loads((out / "summary.json").read_text())
            outcomes.append("complete")
        else:
            outcomes.append("absent")
        # the next run to the same place cleans what the killed one left and succeeds
        again = run_command(scenario, out, 1, "0")
        assert again.wait(timeout=300) in (0, 2)  # 2: the killed run had finished, the folder exists
        leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(f".killed-{i}.")]
        assert not leftovers, leftovers
    assert "absent" in outcomes, "no kill landed before the end: the test did not exercise a partial run"


def test_interrupted_writer_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "run"
    with pytest.raises(RuntimeError), atomic_folder(target) as tmp:
        (tmp / "half.csv").write_text("a,b\n")
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_outputs_do_not_depend_on_hash_seed_or_workers(scenario: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert run_command(scenario, a, 1, "1").wait(timeout=300) == 0
    assert run_command(scenario, b, 2, "2").wait(timeout=300) == 0
    # every file but the manifest (which holds timings and the time of day), the workbook included
    names = sorted(p.name for p in a.iterdir() if p.name != "manifest.json")
    assert {"cases.csv", "allocations.csv", "summary.json", "report.html", "report.xlsx"} <= set(names)
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
