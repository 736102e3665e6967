"""Every catalogued bad input, through the CLI as a planner would meet it: `workload validate` and
`workload run` both exit 2, list exactly the catalogued problems (file, row, column, message), show no
traceback, and write nothing. Awkward-but-valid inputs (Excel's habits) load."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.hardening.catalogue import AWKWARD, CATALOGUE, REQUIRED_KINDS, AwkwardInput, BadInput, apply, matches
from workload.cli import main
from workload.load import load_scenario


def _snapshot(root: Path) -> dict[str, bytes | str]:
    """Every file, folder and link under ``root`` with its content, to prove nothing was written."""
    out: dict[str, bytes | str] = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        if p.is_symlink():
            out[rel] = f"link -> {p.readlink()}"
        elif p.is_dir():
            out[rel] = "dir"
        else:
            out[rel] = p.read_bytes()
    return out


def _problem_lines(stderr: str) -> list[str]:
    lines = stderr.splitlines()
    assert lines, "nothing on stderr"
    assert lines[0].endswith("found:"), lines[0]
    return [line.removeprefix("  - ") for line in lines[1:]]


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    target = tmp_path / "work" / "scenario"
    shutil.copytree(FIXTURES / "tiny", target)
    return target


def test_catalogue_is_big_enough_and_covers_every_kind() -> None:
    assert len(CATALOGUE) >= 40
    ids = [entry.id for entry in CATALOGUE]
    assert len(set(ids)) == len(ids), [i for i, n in Counter(ids).items() if n > 1]
    assert REQUIRED_KINDS <= {entry.kind for entry in CATALOGUE}
    assert all(entry.problems for entry in CATALOGUE)


@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda e: e.id)
def test_bad_input_exits_2_with_its_message_and_writes_nothing(
    entry: BadInput, scenario: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    apply(entry.edits, scenario, monkeypatch)
    out = tmp_path / "work" / "run"
    before = _snapshot(tmp_path)
    capsys.readouterr()

    for argv in (["validate", str(scenario)], ["run", str(scenario), "--out", str(out)]):
        code = main(argv)
        captured = capsys.readouterr()
        assert code == 2, (argv[0], code, captured.err)
        assert "Traceback" not in captured.err and "internal error" not in captured.err, captured.err
        assert captured.out == ""
        found = _problem_lines(captured.err)
        assert captured.err.splitlines()[0] == f"{len(found)} problem{'s' if len(found) != 1 else ''} found:"
        assert len(found) == len(entry.problems), (argv[0], found)
        for expected, line in zip(entry.problems, found):
            assert matches(expected, line), f"\nexpected: {expected}\n   found: {line}"
        assert not out.exists()
        assert _snapshot(tmp_path) == before, "something was written"


@pytest.mark.parametrize("entry", AWKWARD, ids=lambda e: e.id)
def test_awkward_but_valid_input_loads(
    entry: AwkwardInput, scenario: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    apply(entry.edits, scenario, monkeypatch)
    assert main(["validate", str(scenario)]) == 0, capsys.readouterr().err
    loaded = load_scenario(scenario)
    assert len(loaded.cases) == 3 and len(loaded.practitioners) == 2 and len(loaded.partners) == 1
    for table, key, column, value in entry.check:
        assert getattr(loaded, table).loc[key, column] == value, (table, key, column)


def test_catalogue_matcher_can_fail() -> None:
    assert matches("a, row 2: x … y", "a, row 2: x and y")
    assert not matches("a, row 2: x … y", "a, row 3: x and y")
    assert not matches("a, row 2: x", "a, row 2: x and more")
    assert not matches("a…b…c", "a c b")


def test_many_bad_cells_are_counted_not_listed(scenario: Path, capsys: pytest.CaptureFixture[str]) -> None:
    header, *rows = (scenario / "cases.csv").read_text().splitlines()
    template = rows[1]
    lines = [header] + [template.replace("C002", f"C{i:04d}").replace(",B2,", ",Z9,") for i in range(1000, 1030)]
    (scenario / "cases.csv").write_text("\n".join(lines) + "\n")
    assert main(["validate", str(scenario)]) == 2
    found = _problem_lines(capsys.readouterr().err)
    assert len(found) == 21
    assert found[0].startswith('cases.csv, row 2, column tier: "Z9" is not a valid tier')
    assert found[19].startswith('cases.csv, row 21, column tier: "Z9"')
    assert found[20] == "cases.csv, column tier: and 10 more rows with the same problem"


def test_a_scenario_path_that_cannot_be_opened_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    too_long = str(tmp_path / ("x" * 5000))
    assert main(["validate", too_long]) == 2
    err = capsys.readouterr().err
    assert err.startswith("1 problem found:\n") and "cannot be opened (File name too long)" in err
    assert "internal error" not in err
