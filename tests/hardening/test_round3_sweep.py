"""Sweeps (red-team round 3): a sweep.json that is not a JSON object or not whole is refused clearly (findings 1
and 2), a sweep cut short while preparing its folder leaves nothing behind (3), no control characters in the
sweep's name or description (4), and resume never follows a tasks/ that is a symbolic link (5)."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

import workload.sweep.folder as sweep_folder
from workload.cli import main
from workload.sweep import SweepError, read_sweep_file

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"
SWEEP = 'name = "round3"\n[grid]\n"policy.continuity_penalty" = [5.0, 40.0]\n'


@pytest.fixture
def sweep_file(tmp_path: Path) -> Path:
    path = tmp_path / "grid" / "sweep.toml"
    path.parent.mkdir()
    path.write_text(SWEEP, encoding="utf-8")
    return path


def _sweep(sweep_file: Path, out: Path, *extra: str) -> int:
    return main(
        ["sweep", str(TINY), "--grid", str(sweep_file), "--out", str(out), "--workers", "1", "--no-progress", *extra]
    )


def _refused(capsys: pytest.CaptureFixture[str], code: int) -> str:
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and "internal error" not in err, err
    return err


def _tree(folder: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(folder)): (None if p.is_dir() or p.is_symlink() else p.read_bytes())
        for p in sorted(folder.rglob("*"))
    }


# ----------------------------------------------------------------------------------------------------------
# findings 1 and 2: a sweep.json that is not a JSON object, or not whole


@pytest.mark.parametrize("text", ["[]", "null", '"x"', "1e999999", "{", "", "\xff", "[" * 100000])
@pytest.mark.parametrize("force", [False, True])
def test_a_sweep_json_that_is_no_json_object_is_refused_clearly(
    tmp_path: Path, sweep_file: Path, capsys, text: str, force: bool
) -> None:
    out = tmp_path / "out"
    (out / "tasks").mkdir(parents=True)
    (out / "sweep.json").write_bytes(text.encode("latin-1"))
    (out / "notes.txt").write_text("mine", encoding="utf-8")  # not the sweep's: --force must not delete it
    before = _tree(out)
    err = _refused(capsys, _sweep(sweep_file, out, *(["--force"] if force else [])))
    assert _tree(out) == before
    if force:
        assert "has other files in it" in err, err
    else:
        assert "sweep.json cannot be read" in err and "different scenario" not in err, err
        assert "another --out" in err and "--force" in err, err


@pytest.mark.parametrize("text", ["[]", "null", "1e999999", "{"])
def test_force_starts_again_over_an_unreadable_sweep_json_when_the_folder_is_the_sweeps(
    tmp_path: Path, sweep_file: Path, capsys, text: str
) -> None:
    out = tmp_path / "out"
    (out / "tasks").mkdir(parents=True)
    (out / "sweep.json").write_text(text, encoding="utf-8")
    (out / "tasks" / "old.csv").write_text("x", encoding="utf-8")
    assert _sweep(sweep_file, out, "--force") == 0, capsys.readouterr().err
    assert json.loads((out / "sweep.json").read_text(encoding="utf-8"))["sweep_name"] == "round3"
    assert not (out / "tasks" / "old.csv").exists()


# ----------------------------------------------------------------------------------------------------------
# finding 3: a failure while preparing the folder leaves nothing behind


@pytest.mark.parametrize("failing", ["sweep.json", "variants.csv"])
@pytest.mark.parametrize("exists", [False, True])
def test_a_full_disk_while_preparing_the_folder_leaves_nothing_and_a_retry_works(
    tmp_path: Path, sweep_file: Path, monkeypatch: pytest.MonkeyPatch, capsys, failing: str, exists: bool
) -> None:
    out = tmp_path / "deep" / "out"
    if exists:
        out.mkdir(parents=True)
    real = sweep_folder.write_atomic

    def full(path: Path, text: str) -> None:
        if path.name == failing:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real(path, text)

    monkeypatch.setattr(sweep_folder, "write_atomic", full)
    assert _sweep(sweep_file, out) != 0
    capsys.readouterr()
    if exists:
        assert list(out.iterdir()) == []
    else:
        assert not (tmp_path / "deep").exists()
    monkeypatch.setattr(sweep_folder, "write_atomic", real)
    assert _sweep(sweep_file, out) == 0, capsys.readouterr().err
    assert (out / "sweep.html").is_file()


def test_a_folder_holding_only_an_empty_tasks_folder_counts_as_empty(tmp_path: Path, sweep_file: Path, capsys) -> None:
    out = tmp_path / "out"
    (out / "tasks").mkdir(parents=True)
    assert _sweep(sweep_file, out) == 0, capsys.readouterr().err
    assert (out / "sweep.json").is_file()


def test_a_folder_holding_a_tasks_folder_with_files_and_no_sweep_json_is_still_refused(
    tmp_path: Path, sweep_file: Path, capsys
) -> None:
    out = tmp_path / "out"
    (out / "tasks").mkdir(parents=True)
    (out / "tasks" / "someone.csv").write_text("x", encoding="utf-8")
    err = _refused(capsys, _sweep(sweep_file, out))
    assert "holds no sweep" in err
    assert (out / "tasks" / "someone.csv").read_text(encoding="utf-8") == "x"


def test_a_failure_on_resume_removes_nothing_of_the_sweep(
    tmp_path: Path, sweep_file: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    out = tmp_path / "out"
    assert _sweep(sweep_file, out) == 0
    capsys.readouterr()
    before = {k for k in _tree(out) if not k.endswith(".html")}

    def full(path: Path, text: str) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(sweep_folder, "write_atomic", full)
    assert _sweep(sweep_file, out) != 0
    capsys.readouterr()
    assert before <= set(_tree(out))


# ----------------------------------------------------------------------------------------------------------
# finding 4: control characters in the name and description


@pytest.mark.parametrize(
    "setting, value",
    [
        ("name", "a\u001b[2Jb"),
        ("name", "x\ny"),
        ("name", "tab\there"),
        ("name", "a\u202eb"),
        ("name", "a\u200bb"),
        ("name", "a\x85b"),
        ("description", "a\u001b[2Jb"),
        ("description", "a\u202eb"),
        ("description", "a\x7fb"),
        ("description", "a\u2028b"),
    ],
)
def test_control_characters_in_the_name_or_description_are_refused(tmp_path: Path, setting: str, value: str) -> None:
    path = tmp_path / "sweep.toml"
    path.write_text(f"{setting} = {json.dumps(value)}\n" + SWEEP.split("\n", 1)[1], encoding="utf-8")
    with pytest.raises(SweepError) as caught:
        read_sweep_file(path)
    [problem] = caught.value.problems
    assert problem.code == "sweep.setting" and problem.key == setting
    assert setting in str(problem) and "\u001b" not in str(problem), str(problem)


def test_control_characters_in_the_name_exit_2_and_write_nothing(tmp_path: Path, capsys) -> None:
    path = tmp_path / "sweep.toml"
    path.write_text('name = "a\\u001b[2Jb"\n' + SWEEP.split("\n", 1)[1], encoding="utf-8")
    err = _refused(capsys, _sweep(path, tmp_path / "out"))
    assert "name" in err and "\u001b" not in err
    assert not (tmp_path / "out").exists()


def test_a_description_may_run_over_lines_and_hold_tabs(tmp_path: Path) -> None:
    path = tmp_path / "sweep.toml"
    path.write_text('description = "one\\n\\ttwo\\r\\nthree"\n' + SWEEP, encoding="utf-8")
    assert read_sweep_file(path).description == "one\n\ttwo\r\nthree"


# ----------------------------------------------------------------------------------------------------------
# finding 5: a tasks/ that is a symbolic link or not a folder


@pytest.mark.parametrize("kind", ["symlink", "file", "dangling"])
@pytest.mark.parametrize("force", [False, True])
def test_resume_refuses_a_tasks_that_is_no_real_folder(
    tmp_path: Path, sweep_file: Path, capsys, kind: str, force: bool
) -> None:
    out = tmp_path / "out"
    assert _sweep(sweep_file, out) == 0
    capsys.readouterr()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil_tasks = out / "tasks"
    for task in shutil_tasks.iterdir():
        (elsewhere / task.name).write_bytes(b"someone else's")
        task.unlink()
    shutil_tasks.rmdir()
    if kind == "symlink":
        shutil_tasks.symlink_to(elsewhere, target_is_directory=True)
    elif kind == "dangling":
        shutil_tasks.symlink_to(tmp_path / "nowhere")
    else:
        shutil_tasks.write_text("not a folder", encoding="utf-8")
    before, theirs = _tree(out), _tree(elsewhere)
    err = _refused(capsys, _sweep(sweep_file, out, *(["--force"] if force else [])))
    assert "tasks" in err
    assert _tree(out) == before and _tree(elsewhere) == theirs
    assert not (tmp_path / "nowhere").exists()
