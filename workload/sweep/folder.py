"""The sweep folder: what it holds, creating or resuming it, and writing its files atomically."""

from __future__ import annotations

import json
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from workload import __version__
from workload.output import TMP_MARK, OutputError, guard_location, remove_stale_temporaries
from workload.safety import escape_formulas, regular_file_problem
from workload.sweep.plan import SweepPlan
from workload.sweep.problems import SweepFolderError, SweepProblem


def write_atomic(path: Path, text: str) -> None:
    """Write text through a temp file and ``os.replace``: readers see the old file or the whole new one."""
    tmp = path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}-{secrets.token_hex(4)}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def csv_text(frame: pd.DataFrame, index: bool = True, float_format: str = "%.10g") -> str:
    """A sweep CSV's text. Text cells that a spreadsheet would run as a formula (starting with = + - @) get a
    leading quote (:func:`workload.safety.escape_formulas`); numbers, negative ones too, stay numbers."""
    text: str = escape_formulas(frame).to_csv(index=index, float_format=float_format, lineterminator="\n")
    return text


def sweep_manifest(plan: SweepPlan, sweep_path: Path) -> dict[str, Any]:
    """``sweep.json``: what the folder holds, with the fingerprint a restart checks."""
    return {
        "fingerprint": plan.fingerprint,
        "scenario_fingerprint": plan.scenario_fingerprint,
        "sweep_fingerprint": plan.sweep_fingerprint,
        "version": __version__,
        "scenario": str(plan.scenario.path),
        "scenario_name": plan.scenario.spec.name,
        "sweep_file": str(sweep_path),
        "sweep_name": plan.spec.name,
        "seed": plan.seed,
        "draws": plan.n_draws,
        "grid_points": len({v.grid_point for v in plan.variants}),
        "variants": len(plan.variants),
        "pdus": plan.pdus,
        "tasks": len(plan.variants) * len(plan.pdus),
    }


SWEEP_FILES = frozenset({"sweep.json", "sweep.toml", "variants.csv", "results.csv", "ranking.csv", "sweep.html"})
"""The files a sweep folder holds besides tasks/ (which holds task files only)."""


def sweep_folder_is_ours(out: Path) -> bool:
    """Whether ``out`` holds only what ``workload sweep`` writes: :data:`SWEEP_FILES`, and task files in tasks/
    (temporaries of a write that was cut short included), no links, no other folders."""
    try:
        for entry in os.scandir(out):
            if entry.name == "tasks" and entry.is_dir(follow_symlinks=False):
                if not all(t.is_file(follow_symlinks=False) and (t.name.endswith(".csv") or TMP_MARK in t.name)
                           for t in os.scandir(entry.path)):
                    return False
            elif not (entry.is_file(follow_symlinks=False) and (entry.name in SWEEP_FILES or TMP_MARK in entry.name)):
                return False
    except OSError:
        return False
    return True


def prepare_folder(out: Path, plan: SweepPlan, force: bool = False) -> None:
    """Create ``out`` for this sweep, or check that it already holds this sweep (then it is resumed).

    A folder holding a sweep of a different scenario or sweep plan is refused (``--force`` starts it again);
    a folder that is not a sweep folder and not empty is always refused, and so is ``--force`` on a sweep folder
    holding anything the sweep did not write, so nothing else is ever deleted. The scenario's folder, the sweep
    file's folder, the working folder and any folder above them are never an ``--out``. Temporaries left by a
    killed sweep are removed.
    """
    manifest_path = out / "sweep.json"
    try:
        guard_location(out, [plan.scenario.folder, plan.spec.path.parent])
    except OutputError as exc:
        text = str(exc)
        subject = "--out" if text.startswith("--out ") else str(out)
        raise SweepFolderError([SweepProblem.of_line(text, subject, "sweep.folder")]) from None
    if out.exists() and any(out.iterdir()):
        if regular_file_problem(manifest_path) is not None:
            raise SweepFolderError([SweepProblem(str(out), "exists, is not empty and holds no sweep (no sweep.json); choose "
                                                 "another --out", code="sweep.folder", joiner=" ")])
        if force and not sweep_folder_is_ours(out):
            raise SweepFolderError([SweepProblem(
                "--force", f"deletes only a sweep folder holding nothing but what workload sweep wrote; {out} has other "
                "files in it. Nothing was changed; choose another --out", code="sweep.folder", joiner=" ",
            )])
        try:
            old = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = {}
        if old.get("fingerprint") != plan.fingerprint:
            if force:
                shutil.rmtree(out)
            else:
                what = []
                if old.get("scenario_fingerprint") != plan.scenario_fingerprint:
                    what.append(f"a different scenario ({old.get('scenario')}, or its files have changed)")
                if old.get("sweep_fingerprint") != plan.sweep_fingerprint:
                    what.append(f"a different sweep ({old.get('sweep_file')}, its grid, draws, --draws or seed)")
                if old.get("version") != __version__:
                    what.append(f"another version of workload ({old.get('version')})")
                raise SweepFolderError([SweepProblem(
                    str(out), f"holds a sweep of {' and '.join(what) or 'other inputs'}; choose another --out, "
                    "or add --force to delete it and start again", code="sweep.folder", joiner=" ",
                )])
        elif force:
            shutil.rmtree(out)
    (out / "tasks").mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out / "sweep.json", files=True)
    remove_stale_temporaries(out / "tasks" / "task.csv", files=True)
    if not manifest_path.exists():
        write_atomic(manifest_path, json.dumps(sweep_manifest(plan, plan.spec.path), indent=2, sort_keys=True) + "\n")
        shutil.copyfile(plan.spec.path, out / "sweep.toml")
    write_atomic(out / "variants.csv", csv_text(plan.variants_table()))
