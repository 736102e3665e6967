"""The sweep folder: what it holds, creating or resuming it, and writing its files atomically."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import stat
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
                if not all(
                    t.is_file(follow_symlinks=False) and (t.name.endswith(".csv") or TMP_MARK in t.name)
                    for t in os.scandir(entry.path)
                ):
                    return False
            elif not (entry.is_file(follow_symlinks=False) and (entry.name in SWEEP_FILES or TMP_MARK in entry.name)):
                return False
    except OSError:
        return False
    return True


def _read_manifest(path: Path) -> dict[str, Any] | None:
    """``sweep.json`` as a JSON object, or None when it cannot be read whole (cut short, garbled, not an object)."""
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return old if isinstance(old, dict) else None


def _is_empty(out: Path) -> bool:
    """Whether ``out`` holds nothing, or nothing but an empty tasks/ folder (what a sweep cut short while it
    prepared the folder may leave behind)."""
    entries = list(os.scandir(out))
    if not entries:
        return True
    if len(entries) == 1 and entries[0].name == "tasks" and entries[0].is_dir(follow_symlinks=False):
        return not any(os.scandir(entries[0].path))
    return False


def _tasks_problem(out: Path) -> SweepProblem | None:
    """Why ``out/tasks`` cannot hold this sweep's task files (a symbolic link, not a folder), or None."""
    tasks = out / "tasks"
    try:
        mode = tasks.lstat().st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        return SweepProblem(
            str(tasks),
            f"cannot be used ({exc.strerror or type(exc).__name__}); nothing was changed",
            code="sweep.folder",
        )
    if stat.S_ISLNK(mode):
        what = "is a symbolic link"
    elif not stat.S_ISDIR(mode):
        what = "is not a folder"
    else:
        return None
    return SweepProblem(
        str(tasks),
        f"{what}; a sweep writes its task files only in a real tasks folder of its own. "
        "Nothing was changed; choose another --out",
        code="sweep.folder",
        joiner=" ",
    )


def _missing_folders(out: Path) -> list[Path]:
    """``out`` and the folders above it that do not exist yet, innermost first."""
    missing: list[Path] = []
    path = Path(os.path.abspath(out))
    while not os.path.lexists(path) and path != path.parent:
        missing.append(path)
        path = path.parent
    return missing


def prepare_folder(out: Path, plan: SweepPlan, force: bool = False) -> None:
    """Create ``out`` for this sweep, or check that it already holds this sweep (then it is resumed).

    A folder holding a sweep of a different scenario or sweep plan is refused (``--force`` starts it again);
    a folder that is not a sweep folder and not empty is always refused, and so is ``--force`` on a sweep folder
    holding anything the sweep did not write, so nothing else is ever deleted. A folder whose sweep.json cannot
    be read whole (cut short, garbled, not a JSON object) is refused too (``--force`` starts it again when it
    holds only the sweep's files), and so is a tasks/ that is a symbolic link or not a folder. The scenario's
    folder, the sweep file's folder, the working folder and any folder above them are never an ``--out``.
    Temporaries left by a killed sweep are removed. A folder holding nothing, or only an empty tasks/, counts
    as empty. If preparing a new sweep fails (a full disk...) before it is done, what it created is removed, so
    that the same command can be run again.
    """
    manifest_path = out / "sweep.json"
    try:
        guard_location(out, [plan.scenario.folder, plan.spec.path.parent])
    except OutputError as exc:
        text = str(exc)
        subject = "--out" if text.startswith("--out ") else str(out)
        raise SweepFolderError([SweepProblem.of_line(text, subject, "sweep.folder")]) from None
    if out.exists() and not _is_empty(out):
        if regular_file_problem(manifest_path) is not None:
            raise SweepFolderError(
                [
                    SweepProblem(
                        str(out),
                        "exists, is not empty and holds no sweep (no sweep.json); choose another --out",
                        code="sweep.folder",
                        joiner=" ",
                    )
                ]
            )
        if force and not sweep_folder_is_ours(out):
            raise SweepFolderError(
                [
                    SweepProblem(
                        "--force",
                        f"deletes only a sweep folder holding nothing but what workload sweep wrote; {out} has other "
                        "files in it. Nothing was changed; choose another --out",
                        code="sweep.folder",
                        joiner=" ",
                    )
                ]
            )
        old = _read_manifest(manifest_path)
        if old is None and not force:
            raise SweepFolderError(
                [
                    SweepProblem(
                        str(out),
                        "holds a sweep whose sweep.json cannot be read (it is not whole: cut short, garbled or not a "
                        "JSON object); choose another --out, or add --force to delete the folder and start again (only when "
                        "it holds nothing but the sweep's own files). Nothing was changed",
                        code="sweep.folder",
                        joiner=" ",
                    )
                ]
            )
        if old is None or old.get("fingerprint") != plan.fingerprint:
            if force:
                shutil.rmtree(out)
            else:
                assert old is not None
                what = []
                if old.get("scenario_fingerprint") != plan.scenario_fingerprint:
                    what.append(f"a different scenario ({old.get('scenario')}, or its files have changed)")
                if old.get("sweep_fingerprint") != plan.sweep_fingerprint:
                    what.append(f"a different sweep ({old.get('sweep_file')}, its grid, draws, --draws or seed)")
                if old.get("version") != __version__:
                    what.append(f"another version of workload ({old.get('version')})")
                raise SweepFolderError(
                    [
                        SweepProblem(
                            str(out),
                            f"holds a sweep of {' and '.join(what) or 'other inputs'}; choose another --out, "
                            "or add --force to delete it and start again",
                            code="sweep.folder",
                            joiner=" ",
                        )
                    ]
                )
        elif force:
            shutil.rmtree(out)
        else:
            problem = _tasks_problem(out)
            if problem is not None:
                raise SweepFolderError([problem])
    problem = _tasks_problem(out) if out.exists() else None
    if problem is not None:  # an empty folder (or one just deleted by --force) holds no tasks; checked all the same
        raise SweepFolderError([problem])
    created = _missing_folders(out)
    tasks_created = created != [] or not (out / "tasks").exists()
    new_sweep = not manifest_path.exists()
    try:
        (out / "tasks").mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(out / "sweep.json", files=True)
        remove_stale_temporaries(out / "tasks" / "task.csv", files=True)
        if new_sweep:
            write_atomic(
                manifest_path, json.dumps(sweep_manifest(plan, plan.spec.path), indent=2, sort_keys=True) + "\n"
            )
            shutil.copyfile(plan.spec.path, out / "sweep.toml")
        write_atomic(out / "variants.csv", csv_text(plan.variants_table()))
    except BaseException:
        if new_sweep:
            _undo_new_sweep(out, tasks_created, created)
        raise


def _undo_new_sweep(out: Path, tasks_created: bool, created: list[Path]) -> None:
    """Remove what preparing a new sweep in ``out`` wrote (its files, and tasks/ and the folders it made, when
    empty), so that a folder left half-prepared does not block the next attempt. Nothing else is touched."""
    for name in ("variants.csv", "sweep.toml", "sweep.json"):
        try:
            (out / name).unlink(missing_ok=True)
        except OSError:
            pass
    for folder in ([out / "tasks"] if tasks_created else []) + created:
        try:
            folder.rmdir()  # only when empty: never anything that is not the sweep's own
        except OSError:
            break
