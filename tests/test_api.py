"""The public Python API: the curated names, typed, importable without side effects."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import workload

REPO = Path(__file__).resolve().parents[1]


def test_every_public_name_resolves_and_is_listed() -> None:
    for name in workload.__all__:
        assert getattr(workload, name) is not None, name
    assert workload.run.__name__ == "run_scenario"
    assert sorted(dir(workload)) == sorted(workload.__all__)
    assert set(workload.__all__) == {"__version__", *workload._EXPORTS}


def test_the_package_is_typed() -> None:
    assert (Path(workload.__file__).parent / "py.typed").exists()


def test_importing_the_package_and_the_pipeline_changes_no_global_state() -> None:
    # (matplotlib.get_backend() would itself import pyplot: the raw setting is read instead)
    code = (
        "import sys, matplotlib\n"
        "def state(): return (dict.__getitem__(matplotlib.rcParams, 'backend'), matplotlib.rcParams['svg.hashsalt'])\n"
        "before = state()\n"
        "import workload, workload.pipeline, workload.report\n"
        "assert state() == before, (before, state())\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_import_workload_alone_is_light() -> None:
    code = "import sys, workload\nassert 'pandas' not in sys.modules and 'workload.pipeline' not in sys.modules\n"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_load_run_and_write_from_python(tmp_path: Path) -> None:
    scenario = workload.load_scenario(REPO / "tests" / "fixtures" / "tiny")
    result = workload.run(scenario, workers=1)
    assert isinstance(result, workload.RunResult)
    assert list(result.tables["totals"].index) == ["wmt_today", "needs_today", "wmt_lp", "needs_lp"]
    out = workload.write_run(result, tmp_path / "run")
    assert (out / "summary.json").exists()
