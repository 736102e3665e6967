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


def python_blocks(page: Path) -> list[str]:
    import re

    return re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_the_code_in_docs_python_md_runs(tmp_path: Path) -> None:
    """Each python block of docs/python.md runs as a script from the repository root, without a traceback
    (the first writes runs/women-pdu-from-python: it runs with its --out redirected to a temporary folder)."""
    blocks = python_blocks(REPO / "docs" / "python.md")
    assert len(blocks) >= 2
    for i, block in enumerate(blocks):
        code = block.replace('"runs/women-pdu-from-python"', repr(str(tmp_path / f"run{i}")))
        script = tmp_path / f"block{i}.py"
        script.write_text(code, encoding="utf-8")
        proc = subprocess.run([sys.executable, str(script)], cwd=REPO, capture_output=True, text=True, check=False)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, (i, proc.stdout, proc.stderr)
    assert "reform: policy.continuity: Input should be 'keep', 'rebalance' or 'free'" in proc.stdout


def test_a_script_without_a_main_guard_runs_quietly_in_one_process(tmp_path: Path) -> None:
    script = tmp_path / "unguarded.py"
    script.write_text(
        "import workload\n"
        "from workload.allocate.parallel import worker_count\n"
        f"scenario = workload.load_scenario({str(REPO / 'tests' / 'fixtures' / 'tiny')!r})\n"
        "result = workload.run(scenario, workers=2)\n"
        "print('workers', worker_count(2, 10))\n"
        "def later():\n"
        "    return worker_count(2, 10)\n"
        "if __name__ == '__main__':\n"
        "    print('guarded', later())\n",
        encoding="utf-8",
    )
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "parallel PDU solves failed" not in proc.stdout + proc.stderr
    assert "workers 1" in proc.stdout and "guarded 2" in proc.stdout
