"""Output safety, round two: --force replaces only this tool's own output folders, racing runs never
overwrite each other, a replacement that dies part-way loses nothing, write failures are bad input (exit 2)
found before computing, stale temporaries are cleaned, and `workload docs` writes only into a checkout."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from workload import cli, output
from workload.output import (
    OutputError,
    OutputExistsError,
    atomic_folder,
    check_output,
    remove_stale_temporaries,
    rename_noreplace,
)
from workload.synth import synth_scenario, write_scenario

REPO = Path(__file__).resolve().parents[2]


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (hidden ones too) with its bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def dead_pid() -> int:
    """The process id of a process that has ended."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture(scope="module")
def scenario_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project folder holding a small scenario and a sibling project; tests copy it."""
    root = tmp_path_factory.mktemp("tree")
    write_scenario(root / "project" / "scenario", synth_scenario(120, 6, 1, seed=3), name="round two")
    (root / "project" / "notes.txt").write_text("the user's own notes\n")
    (root / "project" / "sibling").mkdir()
    (root / "project" / "sibling" / "thesis.docx").write_bytes(b"years of work")
    return root


@pytest.fixture
def tree(scenario_tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(scenario_tree, tmp_path / "t")
    monkeypatch.chdir(tmp_path / "t")
    return tmp_path / "t"


def run(*args: str) -> int:
    return cli.main(["run", "project/scenario", *args])


# ---------------------------------------------------------------------------------------------------------
# 1. --force replaces only a run folder this tool wrote


@pytest.mark.parametrize(
    "out",
    ["project", "project/scenario", ".", "..", "mine", "project/notes.txt", "link", "fifo"],
    ids=[
        "scenario-parent",
        "scenario-folder",
        "working-folder",
        "above-working-folder",
        "users-folder",
        "regular-file",
        "symlink-to-folder",
        "named-pipe",
    ],
)
def test_force_never_replaces_what_is_not_this_tools_run(
    tree: Path, out: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tree / "mine").mkdir()
    (tree / "mine" / "data.csv").write_text("a,b\n1,2\n")
    (tree / "link").symlink_to(tree / "mine")
    os.mkfifo(tree / "fifo")
    before = snapshot(tree)
    assert run("--out", out, "--force") == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err
    assert "--out" in err or "not a folder name" in err
    assert snapshot(tree) == before
    assert (tree / "fifo").is_fifo() and (tree / "link").is_symlink()


def test_force_replaces_a_run_folder_but_not_one_with_the_users_files_added(tree: Path) -> None:
    assert run("--out", "runs/a") == 0
    manifest = json.loads((tree / "runs/a/manifest.json").read_text())
    assert manifest["written_by"] == "workload" and manifest["kind"] == "run"
    assert set(manifest["files"]) == {p.name for p in (tree / "runs/a").iterdir()} - {"manifest.json"}
    assert run("--out", "runs/a", "--force") == 0  # its own run: replaced
    (tree / "runs/a/my-analysis.xlsx").write_bytes(b"mine")
    before = snapshot(tree)
    assert run("--out", "runs/a", "--force") == 2
    assert snapshot(tree) == before


def test_compare_never_writes_over_the_runs_it_compares(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("--out", "runs/a") == 0
    assert run("--out", "runs/b") == 0
    before = snapshot(tree)
    for out in ("runs/a", "runs/b", "runs"):
        assert cli.main(["compare", "runs/a", "runs/b", "--out", out, "--force"]) == 2
    assert snapshot(tree) == before
    assert cli.main(["compare", "runs/a", "runs/b", "--out", "runs/c"]) == 0
    assert cli.main(["compare", "runs/a", "runs/b", "--out", "runs/c", "--force"]) == 0  # its own comparison
    assert cli.main(["compare", "runs/a", "runs/b", "--out", "runs/a", "--force"]) == 2  # a run is not a comparison
    capsys.readouterr()


def test_synth_force_replaces_only_a_synthetic_scenario(tree: Path) -> None:
    args = ["synth", "--cases", "40", "--practitioners", "4", "--pdus", "1", "--seed", "1"]
    assert cli.main([*args, "--out", "synthetic"]) == 0
    assert cli.main([*args, "--out", "synthetic", "--force"]) == 0
    before = snapshot(tree)
    assert cli.main([*args, "--out", "project", "--force"]) == 2
    (tree / "synthetic" / "my-edit.csv").write_text("x\n")
    assert cli.main([*args, "--out", "synthetic", "--force"]) == 2
    assert {k: v for k, v in snapshot(tree).items() if "my-edit" not in k} == before


def test_an_empty_folder_is_used_without_force(tree: Path) -> None:
    (tree / "empty").mkdir()
    assert run("--out", "empty") == 0
    assert (tree / "empty" / "summary.json").exists()


# ---------------------------------------------------------------------------------------------------------
# 2. racing runs: the final rename never replaces anything


def test_a_folder_that_appears_while_computing_is_never_replaced(tmp_path: Path) -> None:
    target = tmp_path / "run"
    with pytest.raises(OutputExistsError, match="appeared while this run was computing"), atomic_folder(target) as tmp:
        (tmp / "mine.csv").write_text("loser\n")
        target.mkdir()  # the other run lands first
        (target / "summary.json").write_text("winner\n")
    assert (target / "summary.json").read_text() == "winner\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_two_runs_racing_to_one_new_folder_one_wins_the_other_exits_2(tree: Path) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "workload.cli", "run", "project/scenario", "--out", "race", "--workers", "1"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    codes = sorted(p.wait(timeout=300) for p in procs)
    # both may have checked before either finished; whatever the timing, at most one succeeds overall
    # and the folder is one whole run
    assert codes in ([0, 2],), codes
    assert (tree / "race" / "summary.json").exists()
    assert not [p for p in tree.iterdir() if ".workload-tmp-" in p.name]


def test_rename_noreplace_refuses_a_full_folder_and_takes_an_empty_one(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(FileExistsError):
        rename_noreplace(tmp_path / "src", tmp_path / "full")
    assert (tmp_path / "full" / "x").read_text() == "x" and (tmp_path / "src").is_dir()
    (tmp_path / "empty").mkdir()
    rename_noreplace(tmp_path / "src", tmp_path / "empty")
    assert not (tmp_path / "src").exists()


def test_rename_noreplace_without_renameat2_still_never_replaces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(output, "_renameat2", lambda *a: False)
    (tmp_path / "src").mkdir()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(FileExistsError):
        rename_noreplace(tmp_path / "src", tmp_path / "full")
    rename_noreplace(tmp_path / "src", tmp_path / "new")
    assert (tmp_path / "new").is_dir() and (tmp_path / "full" / "x").exists()


# ---------------------------------------------------------------------------------------------------------
# 3. a --force replacement that dies part-way loses neither run


def _old_run(folder: Path, text: str) -> None:
    with atomic_folder(folder) as tmp:
        (tmp / "summary.json").write_text(text)


def test_a_failed_replacement_puts_the_old_run_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "run"
    _old_run(target, "old")
    monkeypatch.setattr(output, "_renameat2", lambda *a: False)  # no atomic exchange: the two-rename path

    def fail(source: Path, destination: Path) -> None:
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(output, "rename_noreplace", fail)
    with pytest.raises(OSError), atomic_folder(target, force=True) as tmp:
        (tmp / "summary.json").write_text("new")
    assert (target / "summary.json").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_the_replacement_is_one_exchange_and_keeps_no_old_copy(tmp_path: Path) -> None:
    target = tmp_path / "run"
    _old_run(target, "old")
    with atomic_folder(target, force=True) as tmp:
        (tmp / "summary.json").write_text("new")
    assert (target / "summary.json").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_a_stranded_old_run_is_restored_not_deleted(tmp_path: Path) -> None:
    pid = dead_pid()
    _old_run(tmp_path / "made", "the only copy")
    stranded = tmp_path / f".run.workload-old-{pid}"
    (tmp_path / "made").rename(stranded)  # as a replacement that died between its two renames leaves it
    with atomic_folder(tmp_path / "third") as tmp:
        (tmp / "summary.json").write_text("x")
    assert (tmp_path / "run" / "summary.json").read_text() == "the only copy"
    assert not stranded.exists()


def test_hidden_folders_of_other_programs_are_never_touched(tmp_path: Path) -> None:
    # names like the ones this tool uses, or used, but not provably its own: left exactly as they are
    pid = dead_pid()
    for name in (
        f".vim.old-{pid}",
        ".photos.old-20240101",
        f".notes.workload-tmp-{pid}",
        f".x.workload-tmp-{pid}-abcd1234",
        f".mine.workload-old-{pid}",
    ):
        (tmp_path / name).mkdir()
        (tmp_path / name / "precious.txt").write_text("years of work")
    (tmp_path / "vim").mkdir()  # the folder a stranded copy would be "restored" over
    before = snapshot(tmp_path)
    assert remove_stale_temporaries(tmp_path / "run") == []
    with atomic_folder(tmp_path / "run") as tmp:
        (tmp / "summary.json").write_text("x")
    after = {k: v for k, v in snapshot(tmp_path).items() if not k.startswith("run/")}
    assert after == before


# ---------------------------------------------------------------------------------------------------------
# 17. stale temporaries of dead processes are removed beside any target; live ones are kept


def test_stale_temporaries_beside_any_target_are_removed(tmp_path: Path) -> None:
    pid = dead_pid()
    stale = tmp_path / f".someone-else.workload-tmp-{pid}-abcd1234"
    stale.mkdir()
    (stale / "cases.csv").write_text("case data\n")
    (stale / output.TMP_MARKER).write_text("")  # written first by every temporary folder of this tool
    live = tmp_path / f".busy.workload-tmp-{os.getpid()}-abcd1234"
    live.mkdir()
    user = tmp_path / ".my-hidden-folder"
    user.mkdir()
    removed = remove_stale_temporaries(tmp_path / "run")
    assert removed == [stale]
    assert not stale.exists() and live.exists() and user.exists()


def test_temporaries_are_named_for_their_owner(tmp_path: Path) -> None:
    with atomic_folder(tmp_path / "run") as tmp:
        assert tmp.name.startswith(".run.workload-tmp-") and f"-{os.getpid()}-" in tmp.name
        assert tmp.parent == tmp_path


# ---------------------------------------------------------------------------------------------------------
# 16. exit codes: output problems are bad input, found before computing; bad options exit 2


@pytest.mark.parametrize("workers", ["0", "-4", "two"])
def test_bad_workers_exit_2(tree: Path, workers: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        run("--out", "runs/w", "--workers", workers)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "at least 1" in err
    assert not (tree / "runs").exists()


def test_an_over_long_out_is_refused_before_computing(
    tree: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import workload.pipeline

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("computed before checking the output location")

    monkeypatch.setattr(workload.pipeline, "run_scenario", never)
    assert run("--out", "x" * 300) == 2
    err = capsys.readouterr().err
    assert "too long" in err and "internal error" not in err
    assert not [p for p in tree.iterdir() if "workload-tmp" in p.name]


def test_an_unwritable_location_is_refused_before_computing(
    tree: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import workload.pipeline

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("computed before checking the output location")

    def read_only(self: Path, *args: object, **kwargs: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(workload.pipeline, "run_scenario", never)
    monkeypatch.setattr(Path, "mkdir", read_only)
    assert run("--out", "runs/ro") == 2
    assert "read-only" in capsys.readouterr().err


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EROFS])
def test_a_disk_failing_while_writing_is_exit_2_and_leaves_nothing(
    tree: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], code: int
) -> None:
    import workload.pipeline

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(code, os.strerror(code), "report.html")

    monkeypatch.setattr(workload.pipeline, "write_report", full)
    before = snapshot(tree)
    assert run("--out", "runs/full") == 2
    err = capsys.readouterr().err
    assert "internal error" not in err and "Nothing was written" in err
    assert snapshot(tree) == before
    assert not (tree / "runs" / "full").exists()


def test_check_output_leaves_nothing_behind(tmp_path: Path) -> None:
    check_output(tmp_path / "deep" / "new" / "run")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(OutputError):
        check_output(tmp_path / "x", protected=[tmp_path / "x" / "scenario"])


# ---------------------------------------------------------------------------------------------------------
# 15. `workload docs` regenerates only a checkout's docs


def test_docs_refuses_a_folder_that_is_not_a_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import workload

    # as installed from a wheel: the package is not inside a checkout
    monkeypatch.setattr(workload, "__file__", str(tmp_path / "site-packages" / "workload" / "__init__.py"))
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert cli.main(["docs"]) == 2
    assert cli.main(["docs", "--root", str(tmp_path)]) == 2
    assert "not a checkout" in capsys.readouterr().err
    assert list((tmp_path / "elsewhere").iterdir()) == [] and not (tmp_path / "docs").exists()


def test_docs_finds_the_checkout_from_the_package_or_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import workload

    assert cli.is_checkout(REPO) and not cli.is_checkout(tmp_path)
    monkeypatch.setattr(workload, "__file__", str(REPO / "workload" / "__init__.py"))  # an editable install
    monkeypatch.chdir(tmp_path)
    assert cli.docs_root(None) == REPO
    monkeypatch.setattr(workload, "__file__", str(tmp_path / "site-packages" / "workload" / "__init__.py"))
    monkeypatch.chdir(REPO)  # installed from a wheel, run in the checkout
    assert cli.docs_root(None) == REPO


# ---------------------------------------------------------------------------------------------------------
# the same rules for a sweep's folder


@pytest.fixture
def sweep_file(tree: Path) -> Path:
    path = tree / "project" / "sweep.toml"
    path.write_text('name = "one"\n[grid]\n"policy.women_specialist_pool" = ["soft"]\n')
    return path


@pytest.mark.parametrize("out", ["project", "project/scenario", ".", "link"])
def test_a_sweep_never_writes_over_protected_folders(
    tree: Path, sweep_file: Path, out: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tree / "link").symlink_to(tree / "project")
    before = snapshot(tree)
    assert (
        cli.main(
            [
                "sweep",
                "project/scenario",
                "--grid",
                str(sweep_file),
                "--out",
                out,
                "--force",
                "--workers",
                "1",
                "--no-progress",
            ]
        )
        == 2
    )
    assert "must never be replaced" in capsys.readouterr().err or (tree / "link").is_symlink()
    assert snapshot(tree) == before


def test_sweep_force_keeps_a_sweep_folder_with_the_users_files(
    tree: Path, sweep_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["sweep", "project/scenario", "--grid", str(sweep_file), "--out", "sw", "--workers", "1", "--no-progress"]
    assert cli.main(args) == 0
    stale = tree / "sw" / "tasks" / f".x.csv.workload-tmp-{dead_pid()}-abcd"
    stale.write_text("half a task")
    sweep_file.write_text('name = "two"\n[grid]\n"policy.women_specialist_pool" = ["hard"]\n')
    assert cli.main([*args, "--force"]) == 0  # a sweep folder of its own: started again
    assert not stale.exists()
    (tree / "sw" / "my-notes.txt").write_text("mine")
    sweep_file.write_text('name = "three"\n[grid]\n"policy.women_specialist_pool" = ["soft"]\n')
    assert cli.main([*args, "--force"]) == 2
    assert (tree / "sw" / "my-notes.txt").read_text() == "mine"
    capsys.readouterr()


@pytest.mark.parametrize("option", [["--workers", "0"], ["--draws", "-4"]])
def test_sweep_options_must_be_positive(tree: Path, sweep_file: Path, option: list[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        cli.main(["sweep", "project/scenario", "--grid", str(sweep_file), "--out", "sw", *option])
    assert stop.value.code == 2
    assert not (tree / "sw").exists()


# ---------------------------------------------------------------------------------------------------------
# round three: what the red team found after the first fixes


def _fake_checkout(root: Path) -> Path:
    (root / "workload").mkdir(parents=True)
    (root / "workload" / "__init__.py").write_text("")
    (root / "pyproject.toml").write_text('[project]\nname = "workload"\n')
    return root


@pytest.mark.parametrize("how", ["page-symlink", "docs-symlink", "page-fifo", "docs-file"])
def test_docs_writes_nothing_outside_the_checkout_and_never_hangs(
    tmp_path: Path, how: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _fake_checkout(tmp_path / "fake")
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "parameters.md").write_text("the user's file")
    if how == "page-symlink":
        (root / "docs").mkdir()
        (root / "docs" / "parameters.md").symlink_to(victim / "parameters.md")
    elif how == "docs-symlink":
        (root / "docs").symlink_to(victim)
    elif how == "page-fifo":
        (root / "docs").mkdir()
        os.mkfifo(root / "docs" / "parameters.md")
    else:
        (root / "docs").write_text("a file")
    before = snapshot(tmp_path)
    assert cli.main(["docs", "--root", str(root)]) == 2
    assert cli.main(["docs", "--root", str(root), "--check"]) == 2
    assert "internal error" not in capsys.readouterr().err
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    "option",
    [
        ["--seed", "-1"],
        ["--partners", "-1"],
        ["--partners", "100000000"],
        ["--cases", "100000000000"],
        ["--name", "a\x1bb"],
        ["--name", "two\nlines"],
    ],
)
def test_synth_refuses_bad_options_before_drawing(
    tmp_path: Path, option: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["synth", "--cases", "10", "--practitioners", "4", "--pdus", "1", "--out", str(tmp_path / "s")]
    for i in range(0, len(option), 2):
        if option[i] in args:
            args[args.index(option[i]) + 1] = option[i + 1]
        else:
            args += option[i : i + 2]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert "internal error" not in err and option[0] in err
    assert not (tmp_path / "s").exists()


def test_a_blank_out_is_refused(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("--out", "") == 2
    assert "--out is blank" in capsys.readouterr().err
    assert not (tree / "runs").exists()


def test_compare_writes_before_it_prints(
    tree: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import workload.compare

    assert run("--out", "runs/a") == 0 and run("--out", "runs/b") == 0
    capsys.readouterr()

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", "compare.csv")

    monkeypatch.setattr(workload.compare, "write_csv", full)
    assert cli.main(["compare", "runs/a", "runs/b", "--out", "runs/c"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "disk is full" in captured.err
    assert not (tree / "runs" / "c").exists()
