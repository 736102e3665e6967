"""Red-team round 2: inputs that used to be misread, hang, exhaust memory or fail only after a whole run.

- numbers with thousands separators (``6,601`` in a tab file, ``6.601`` in a ';' file) were read as decimals;
- a workbook with one value in cell XFD1048576 grew ``validate`` to 24 GB; a zip bomb could do the same;
- a named pipe or a device as a table or as scenario.toml hung ``validate`` or read without end;
- a group value such as "Total" or "(small groups)" passed ``validate``, then broke or muddled the tables;
- control characters in the scenario's name passed ``validate``, then broke the workbook writer.

Each bad input goes through the CLI as a planner meets it: ``validate`` and ``run`` exit 2 with the exact
problem (file, row, column, value, what is allowed), no traceback, and nothing written. Inputs that could
hang or eat memory run in a child process with a timeout and a memory ceiling, so a regression fails the
test instead of the machine.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook
from pydantic import ValidationError

from tests.conftest import FIXTURES
from tests.hardening.catalogue import Edit, apply, set_cell, toml
from workload.cli import main
from workload.load import ColumnRule, _convert_uniques, load_scenario
from workload.scenario import CaseRecord, ScenarioFile

RESERVED = (
    "is a label the published tables keep for totals and pooled groups (Total, (blank), (small groups), "
    "(small PDUs), (all), '… + small groups', '… + small PDUs'); rename the group"
)
"""The end of every reserved-label message."""

CHILD = r"""
import json, resource, sys
from workload.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
"""A child process running the CLI that reports its exit code and peak memory (ru_maxrss is in KB on Linux)."""

CHILD_MEMORY_CEILING = 3 * 1024**3
"""Address-space ceiling for a child (3 GB): a regression that allocates without bound fails fast instead of
swapping the machine."""


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    target = tmp_path / "work" / "scenario"
    shutil.copytree(FIXTURES / "tiny", target)
    return target


def _snapshot(root: Path) -> dict[str, bytes | str]:
    """Every entry under ``root`` (pipes and devices by kind, never opened), to prove nothing was written."""
    out: dict[str, bytes | str] = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        mode = p.lstat().st_mode
        if stat.S_ISLNK(mode):
            out[rel] = f"link -> {p.readlink()}"
        elif stat.S_ISDIR(mode):
            out[rel] = "dir"
        elif stat.S_ISREG(mode):
            out[rel] = p.read_bytes()
        else:
            out[rel] = f"special {stat.S_IFMT(mode)}"
    return out


def refused(scenario: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """The problems ``validate`` and ``run`` both give (identically), having checked exit 2, no traceback,
    nothing on stdout and nothing written."""
    root = scenario.parent
    out = root / "run"
    before = _snapshot(root)
    capsys.readouterr()
    seen = []
    for argv in (["validate", str(scenario)], ["run", str(scenario), "--out", str(out)]):
        code = main(argv)
        captured = capsys.readouterr()
        assert code == 2, (argv[0], code, captured.err)
        assert "Traceback" not in captured.err and "internal error" not in captured.err, captured.err
        assert captured.out == ""
        lines = captured.err.splitlines()
        assert lines[0] == f"{len(lines) - 1} problem{'s' if len(lines) != 2 else ''} found:", lines
        seen.append([line.removeprefix("  - ") for line in lines[1:]])
        assert not out.exists()
        assert _snapshot(root) == before, "something was written"
    assert seen[0] == seen[1]
    return seen[0]


def child_cli(*argv: str, timeout: float = 120) -> tuple[dict, str]:
    """Run the CLI in a child process with a timeout and a memory ceiling: its report and its stderr."""

    def limit() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_CEILING, CHILD_MEMORY_CEILING))

    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, *argv],
            check=False,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            preexec_fn=limit,
            stdin=subprocess.DEVNULL,
            cwd=Path(__file__).resolve().parents[2],
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"workload {' '.join(argv)} did not finish in {timeout} s (reading a pipe or device without end?)")
    assert "Traceback" not in done.stderr, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return report, done.stderr


def problem_lines(stderr: str) -> list[str]:
    lines = stderr.splitlines()
    assert lines and lines[0].endswith("found:"), stderr
    return [line.removeprefix("  - ") for line in lines[1:]]


def european(file: str) -> Edit:
    return Edit("european", file)


def replace(file: str, old: bytes, new: bytes) -> Edit:
    return Edit("replace", file, old=old, value=new)


# ------------------------------------------------------------------------------------------------------
# 4. numbers are read as written, or refused: never a thousands separator read as a decimal point

HOURS_YEAR = "expected a number at least 0 and at most 1000000"
REDUCTION = "expected a number at least 0 and at most 60"


def tab_comma(thousands: str, decimal: str) -> str:
    return (
        f"has a comma, which in a tab-separated file could be a thousands separator ({thousands}) or a decimal comma "
        f"({decimal}); write numbers with a decimal point and no thousands separators"
    )


SEMI_POINT = (
    "is not a number written with a decimal comma and no thousands separators: in a ';'-separated file a point is "
    "a thousands separator; write numbers without thousands separators"
)


@pytest.mark.parametrize(
    ("edits", "expected"),
    [
        pytest.param(
            (set_cell("partners.csv", 2, "contract_hours_per_year", "6,601"), Edit("tabs", "partners.csv")),
            f'partners.csv, row 2, column contract_hours_per_year: "6,601" {tab_comma("6601", "6.601")}; {HOURS_YEAR}',
            id="tab-uk-thousands",
        ),
        pytest.param(
            (set_cell("practitioners.csv", 3, "reduction_hours_per_week", "1,8"), Edit("tabs", "practitioners.csv")),
            f'practitioners.csv, row 3, column reduction_hours_per_week: "1,8" {tab_comma("18", "1.8")}; {REDUCTION}',
            id="tab-decimal-comma",
        ),
        pytest.param(
            (set_cell("partners.csv", 2, "contract_hours_per_year", "1,234.5"), Edit("tabs", "partners.csv")),
            'partners.csv, row 2, column contract_hours_per_year: "1,234.5" is not a number written with a decimal '
            f"point and no thousands separators; {HOURS_YEAR}",
            id="tab-thousands-and-point",
        ),
        pytest.param(
            (set_cell("practitioners.csv", 2, "fast_reports_30d", "1,000"), Edit("tabs", "practitioners.csv")),
            f'practitioners.csv, row 2, column fast_reports_30d: "1,000" {tab_comma("1000", "1.000")}; '
            "expected a whole number at least 0 and at most 200",
            id="tab-int-thousands",
        ),
        pytest.param(
            (european("partners.csv"), replace("partners.csv", b";500;", b";6.601;")),
            f'partners.csv, row 2, column contract_hours_per_year: "6.601" {SEMI_POINT} (6601), and decimals with a comma '
            f"(6,601); {HOURS_YEAR}",
            id="semicolon-european-thousands",
        ),
        pytest.param(
            (european("practitioners.csv"), replace("practitioners.csv", b"PDU1;PSO;30;", b"PDU1;PSO;30.5;")),
            f'practitioners.csv, row 3, column contracted_hours_per_week: "30.5" {SEMI_POINT} (305), and decimals with a '
            "comma (30,5); "
            "expected a number more than 0 and at most 60",
            id="semicolon-decimal-point",
        ),
        pytest.param(
            (european("practitioners.csv"), replace("practitioners.csv", b";1;0\r\n", b";1.000;0\r\n")),
            f'practitioners.csv, row 2, column standard_reports_30d: "1.000" {SEMI_POINT} (1000), and decimals with a '
            "comma (1,000); "
            "expected a whole number at least 0 and at most 100",
            id="semicolon-int-thousands",
        ),
        pytest.param(
            (european("partners.csv"), replace("partners.csv", b";500;", b";1.234,5;")),
            'partners.csv, row 2, column contract_hours_per_year: "1.234,5" is not a number written with a decimal '
            f"comma and no thousands separators; {HOURS_YEAR}",
            id="semicolon-both",
        ),
        pytest.param(
            (european("partners.csv"), replace("partners.csv", b";500;", b";1,234,5;")),
            'partners.csv, row 2, column contract_hours_per_year: "1,234,5" is not a number written with a decimal '
            f"comma and no thousands separators; {HOURS_YEAR}",
            id="semicolon-two-commas",
        ),
        pytest.param(
            (set_cell("partners.csv", 2, "contract_hours_per_year", "6,601"),),
            'partners.csv, row 2, column contract_hours_per_year: "6,601" is not a number written with a decimal '
            f"point and no thousands separators; {HOURS_YEAR}",
            id="comma-file-quoted-thousands",
        ),
    ],
)
def test_a_thousands_separator_is_refused_never_read_as_a_decimal(
    edits: tuple[Edit, ...],
    expected: str,
    scenario: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    apply(edits, scenario, monkeypatch)
    assert refused(scenario, capsys) == [expected]


@pytest.mark.parametrize(
    ("edits", "table", "key", "column", "value"),
    [
        pytest.param(
            (set_cell("practitioners.csv", 3, "reduction_hours_per_week", "6.5"), Edit("tabs", "practitioners.csv")),
            "practitioners",
            "P02",
            "reduction_hours_per_week",
            6.5,
            id="tab-decimal-point",
        ),
        pytest.param(
            (set_cell("partners.csv", 2, "contract_hours_per_year", "6601"), Edit("tabs", "partners.csv")),
            "partners",
            "WC1",
            "contract_hours_per_year",
            6601.0,
            id="tab-plain",
        ),
        pytest.param(
            (set_cell("partners.csv", 2, "contract_hours_per_year", "6.601"),),
            "partners",
            "WC1",
            "contract_hours_per_year",
            6.601,
            id="comma-file-decimal-point",
        ),
        pytest.param(
            (european("partners.csv"), replace("partners.csv", b";500;", b";6,5;")),
            "partners",
            "WC1",
            "contract_hours_per_year",
            6.5,
            id="semicolon-decimal-comma",
        ),
        pytest.param(
            (european("practitioners.csv"),),
            "practitioners",
            "P02",
            "reduction_hours_per_week",
            1.8,
            id="semicolon-excel-europe",
        ),
    ],
)
def test_numbers_written_in_the_files_convention_load_as_written(
    edits: tuple[Edit, ...],
    table: str,
    key: str,
    column: str,
    value: float,
    scenario: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    apply(edits, scenario, monkeypatch)
    assert getattr(load_scenario(scenario), table).loc[key, column] == value


def test_a_text_cell_with_a_comma_in_a_workbook_is_refused(
    scenario: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    apply(
        (
            set_cell("partners.csv", 2, "contract_hours_per_year", "6,601"),
            Edit("xlsx", "partners.csv"),
            toml('partners = "partners.csv"', 'partners = "partners.xlsx"'),
        ),
        scenario,
        monkeypatch,
    )
    assert refused(scenario, capsys) == [
        'partners.xlsx, row 2, column contract_hours_per_year: "6,601" is not a number written with a decimal point and '
        + f"no thousands separators; {HOURS_YEAR}"
    ]


def _float_list() -> ColumnRule:
    return ColumnRule("x", "list", True, None, item_rule=ColumnRule("x", "float", True, None, ge=0))


@pytest.mark.parametrize(
    ("convention", "cells", "bad", "values"),
    [
        ("tab", ["6,601;2", "6.5|1"], [True, False], [(2.0,), (6.5, 1.0)]),
        ("comma", ["6.601|1", "6,5|1"], [True, False], [(1.0,), (6.5, 1.0)]),
        ("point", ["6,601;1", "6.601;1"], [True, False], [(1.0,), (6.601, 1.0)]),
    ],
)
def test_list_cells_follow_the_same_number_rules(
    convention: str, cells: list[str], bad: list[bool], values: list[tuple]
) -> None:
    conv = _convert_uniques(np.array(cells, dtype=object), _float_list(), convention)
    assert conv.bad.tolist() == bad
    assert [tuple(v) for v in conv.values] == values


# ------------------------------------------------------------------------------------------------------
# 5. workbooks are read within bounded memory


def _workbook(scenario: Path, name: str, rows: list[list[object]], extra: dict[str, object] | None = None) -> Path:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    for cell, value in (extra or {}).items():
        ws[cell] = value
    path = scenario / name
    wb.save(path)
    return path


def _rows(scenario: Path, name: str) -> list[list[object]]:
    frame = pd.read_csv(scenario / name, dtype=str, keep_default_na=False)
    return [list(frame.columns), *frame.to_numpy().tolist()]


def _use(scenario: Path, key: str, name: str) -> None:
    text = (scenario / "scenario.toml").read_text()
    (scenario / "scenario.toml").write_text(text.replace(f'{key} = "{key}.csv"', f'{key} = "{name}"'))


def test_a_value_in_the_last_cell_of_a_sheet_is_refused_in_little_memory(scenario: Path) -> None:
    path = _workbook(scenario, "practitioners.xlsx", _rows(scenario, "practitioners.csv"), {"XFD1048576": 1})
    assert path.stat().st_size < 200_000
    _use(scenario, "practitioners", "practitioners.xlsx")
    report, stderr = child_cli("validate", str(scenario))
    assert report["code"] == 2, stderr
    assert problem_lines(stderr) == [
        "practitioners.xlsx: has formatting or a value in cell XFD1048576, far outside any table (tables here have at most 1,000 "
        + "columns); clear those cells, or copy just the table into a new workbook"
    ]
    assert report["maxrss_mb"] < 500, report


def test_a_stray_value_far_down_a_column_is_reported_at_its_row(scenario: Path) -> None:
    _workbook(scenario, "practitioners.xlsx", _rows(scenario, "practitioners.csv"), {"A1048576": "P99"})
    _use(scenario, "practitioners", "practitioners.xlsx")
    report, stderr = child_cli("validate", str(scenario))
    assert report["code"] == 2, stderr
    found = problem_lines(stderr)
    assert found[0] == (
        'practitioners.xlsx, row 1048576, column pdu: "" is blank; expected an identifier of letters, digits, '
        "'_', '.' or '-' (no spaces), at most 64 characters"
    )
    assert report["maxrss_mb"] < 500, report


def test_a_sheet_with_more_rows_than_the_limit_is_refused_while_reading(
    scenario: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = _rows(scenario, "practitioners.csv")
    rows += [[f"P{i:02d}", *rows[2][1:]] for i in range(3, 9)]
    _workbook(scenario, "practitioners.xlsx", rows)
    _use(scenario, "practitioners", "practitioners.xlsx")
    import workload.load.limits

    monkeypatch.setattr(workload.load.limits, "MAX_ROWS", 5)
    assert refused(scenario, capsys) == [
        "practitioners.xlsx: has more than 5 rows, more than any real caseload (limit 5; England and Wales supervise "
        + "about 240,000 people)"
    ]


def test_a_zip_bomb_is_refused_before_it_is_unpacked(
    scenario: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _workbook(scenario, "practitioners.xlsx", _rows(scenario, "practitioners.csv"))
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/media/padding.bin", bytes(30_000_000))
    assert path.stat().st_size < 200_000
    _use(scenario, "practitioners", "practitioners.xlsx")
    import workload.load.limits

    monkeypatch.setattr(workload.load.limits, "MAX_XLSX_UNZIPPED_BYTES", 20_000_000)
    (found,) = refused(scenario, capsys)
    assert found.startswith("practitioners.xlsx: would unzip to 30.")
    assert found.endswith(
        " MB, more than any real caseload workbook (limit 20.0 MB; a zip bomb?); save the table as "
        "'CSV UTF-8 (Comma delimited)' or in a new workbook"
    )


def test_a_huge_shared_strings_part_is_refused(
    scenario: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _workbook(scenario, "practitioners.xlsx", _rows(scenario, "practitioners.csv"))
    import workload.load.limits

    monkeypatch.setattr(workload.load.limits, "MAX_XLSX_PART_BYTES", 100)
    _use(scenario, "practitioners", "practitioners.xlsx")
    with zipfile.ZipFile(path) as z:
        big = max((i for i in z.infolist() if not i.filename.startswith("xl/worksheets/")), key=lambda i: i.file_size)
    assert big.file_size > 100
    (found,) = refused(scenario, capsys)
    assert found.startswith(f"practitioners.xlsx: its part {big.filename} would unzip to ")
    assert found.endswith(
        "more than any real caseload workbook needs (limit 100 bytes; a zip bomb?); save the table as "
        "'CSV UTF-8 (Comma delimited)' or in a new workbook"
    )


def test_workbooks_keep_excel_row_numbers_and_read_the_first_sheet(
    scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = _rows(scenario, "practitioners.csv")
    wb = Workbook()
    ws = wb.active
    ws.append([])
    ws.append([None, None])
    for row in rows[:2]:
        ws.append(row)
    ws.append([])
    ws.append(["P02", "PDU1", "Boss", 30, 1.8, None, 0, 1])
    ws["K40"] = None  # a touched but empty cell
    other = wb.create_sheet("Notes")
    other.append(["not", "a", "table"])
    wb.save(scenario / "practitioners.xlsx")
    _use(scenario, "practitioners", "practitioners.xlsx")
    assert refused(scenario, capsys) == [
        'practitioners.xlsx, row 6, column grade: "Boss" is not a valid grade; expected one of PO, PSO, PQiP, SPO'
    ]


def test_workbook_cells_of_every_type_load_as_written(scenario: Path) -> None:
    rows = _rows(scenario, "practitioners.csv")
    rows[1][3] = 37.0  # a whole number stored as a float
    rows[1][4] = 0
    rows[2][3] = 30
    rows[2][4] = 1.8
    rows[2][6] = 0
    _workbook(scenario, "practitioners.xlsx", rows)
    _use(scenario, "practitioners", "practitioners.xlsx")
    partners = _rows(scenario, "partners.csv")
    partners[1][6] = True
    partners[1][3] = 500.25
    _workbook(scenario, "partners.xlsx", partners)
    _use(scenario, "partners", "partners.xlsx")
    loaded = load_scenario(scenario)
    assert loaded.practitioners.loc["P01", "contracted_hours_per_week"] == 37
    assert loaded.practitioners.loc["P02", "reduction_hours_per_week"] == 1.8
    assert loaded.practitioners.loc["P01", "specialisms"] == ("women", "substance_misuse")
    assert loaded.partners.loc["WC1", "women_only"] == 1
    assert loaded.partners.loc["WC1", "contract_hours_per_year"] == 500.25


# ------------------------------------------------------------------------------------------------------
# 6. only regular files are read: pipes and devices are refused without being opened


def _mkfifo(path: Path) -> None:
    if path.exists() or path.is_symlink():
        path.unlink()
    os.mkfifo(path)


@pytest.mark.parametrize("name", ["cases.csv", "cases.xlsx"])
def test_a_named_pipe_as_a_table_is_refused_without_hanging(name: str, scenario: Path) -> None:
    _mkfifo(scenario / name)
    _use(scenario, "cases", name)
    for command in ("validate", "run"):
        report, stderr = child_cli(
            command, str(scenario), *(["--out", str(scenario.parent / "run")] if command == "run" else []), timeout=60
        )
        assert report["code"] == 2, stderr
        assert problem_lines(stderr) == [f"{name}: is a named pipe, not a regular file; only regular files are read"]
    assert not (scenario.parent / "run").exists()


def test_a_named_pipe_as_scenario_toml_is_refused_without_hanging(scenario: Path) -> None:
    _mkfifo(scenario / "scenario.toml")
    for target in (scenario, scenario / "scenario.toml"):
        report, stderr = child_cli("validate", str(target), timeout=60)
        assert report["code"] == 2, stderr
        assert problem_lines(stderr) == [
            "scenario.toml: is a named pipe, not a regular file; only regular files are read"
        ]


def test_a_named_pipe_in_process_returns_promptly(scenario: Path) -> None:
    """The same through the Python API: load_scenario refuses before it opens anything (stat only). Should it
    ever open the pipe, a writer comes along after 20 s and closes it, so the test fails instead of hanging."""
    fifo = scenario / "partners.csv"
    _mkfifo(fifo)
    from workload.load import ScenarioError

    def unblock() -> None:
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:  # no reader: nobody opened the pipe, as it should be
            pass

    watchdog = threading.Timer(20, unblock)
    watchdog.start()
    try:
        with pytest.raises(ScenarioError) as exc:
            load_scenario(scenario)
    finally:
        watchdog.cancel()
    assert [str(p) for p in exc.value.problems] == [
        "partners.csv: is a named pipe, not a regular file; only regular files are read"
    ]


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_as_scenario_toml_is_refused_without_reading_it(device: str, scenario: Path) -> None:
    (scenario / "scenario.toml").unlink()
    os.symlink(device, scenario / "scenario.toml")
    for target in (scenario, scenario / "scenario.toml"):
        report, stderr = child_cli("validate", str(target), timeout=60)
        assert report["code"] == 2, stderr
        assert problem_lines(stderr) == ["scenario.toml: is a device, not a regular file; only regular files are read"]


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_link_to_a_device_as_a_table_is_refused(
    device: str, scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    os.symlink(device, scenario / "zero.csv")
    _use(scenario, "cases", "zero.csv")
    assert refused(scenario, capsys) == [
        "scenario.toml: tables path 'zero.csv' leads outside the scenario folder; keep tables beside scenario.toml"
    ]


def _device_inside(folder: Path, name: str) -> Path:
    """A character device node like /dev/zero inside the folder (tests and CI run as root, who may make one)."""
    path = folder / name
    os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 5))
    return path


@pytest.mark.parametrize("linked", [False, True], ids=["node", "link-to-node"])
def test_a_device_node_inside_the_folder_is_refused(linked: bool, scenario: Path) -> None:
    _device_inside(scenario, "node.csv")
    name = "node.csv"
    if linked:
        os.symlink("node.csv", scenario / "link.csv")
        name = "link.csv"
    _use(scenario, "cases", name)
    report, stderr = child_cli("validate", str(scenario), timeout=60)
    assert report["code"] == 2, stderr
    assert problem_lines(stderr) == ["node.csv: is a device, not a regular file; only regular files are read"]


# ------------------------------------------------------------------------------------------------------
# 8. labels the published tables keep for totals and pooled groups


def test_reserved_labels_are_defined_once_with_the_outputs_labels() -> None:
    from workload import outcomes, sweep
    from workload.scenario import RESERVED_LABELS, reserved_label_problem

    assert "Total" in RESERVED_LABELS and "(blank)" in RESERVED_LABELS
    assert outcomes.SMALL_GROUPS in RESERVED_LABELS and sweep.ALL_PDUS in RESERVED_LABELS
    from workload import disclosure

    assert disclosure.SMALL_PDUS in RESERVED_LABELS
    for label in (*RESERVED_LABELS, " total ", "TOTAL", "White + small groups", "PDU3 + small PDUs", "(Small Groups)"):
        assert reserved_label_problem(label) is not None, label
    # a value in brackets that is no label of ours is an ordinary group (extracts write "(Not stated)")
    for fine in (
        "White",
        "Totalled",
        "Mixed (other)",
        "Asian or Asian British",
        "Small",
        "PDU1",
        "(",
        "a)",
        "(Not stated)",
    ):
        assert reserved_label_problem(fine) is None, fine


@pytest.mark.parametrize(
    ("edits", "expected"),
    [
        pytest.param(
            set_cell("cases.csv", 2, "ethnicity", "Total"),
            [f'cases.csv, row 2, column ethnicity: "Total" {RESERVED}'],
            id="ethnicity-total",
        ),
        pytest.param(
            set_cell("cases.csv", 3, "ethnicity", " total "),
            [f'cases.csv, row 3, column ethnicity: "total" {RESERVED}'],
            id="ethnicity-total-lower-spaced",
        ),
        pytest.param(
            set_cell("cases.csv", 2, "ethnicity", "(blank)"),
            [f'cases.csv, row 2, column ethnicity: "(blank)" {RESERVED}'],
            id="ethnicity-blank-label",
        ),
        pytest.param(
            set_cell("cases.csv", 4, "ethnicity", "(small groups)"),
            [f'cases.csv, row 4, column ethnicity: "(small groups)" {RESERVED}'],
            id="ethnicity-small-groups",
        ),
        pytest.param(
            set_cell("cases.csv", 2, "ethnicity", "White + small groups"),
            [f'cases.csv, row 2, column ethnicity: "White + small groups" {RESERVED}'],
            id="ethnicity-merged-pool",
        ),
        pytest.param(
            set_cell("cases.csv", 2, "ethnicity", "(all)"),
            [f'cases.csv, row 2, column ethnicity: "(all)" {RESERVED}'],
            id="ethnicity-all",
        ),
        pytest.param(
            (
                set_cell("cases.csv", 2, "pdu", "Total"),
                set_cell("cases.csv", 3, "pdu", "Total"),
                set_cell("cases.csv", 4, "pdu", "Total"),
                set_cell("practitioners.csv", 2, "pdu", "Total"),
                set_cell("practitioners.csv", 3, "pdu", "Total"),
                set_cell("partners.csv", 2, "pdus", "Total"),
            ),
            [f'cases.csv, row {r}, column pdu: "Total" {RESERVED}' for r in (2, 3, 4)]
            + [f'practitioners.csv, row {r}, column pdu: "Total" {RESERVED}' for r in (2, 3)]
            + [f'partners.csv, row 2, column pdus: "Total" {RESERVED}'],
            id="pdu-total-everywhere",
        ),
        pytest.param(
            set_cell("partners.csv", 2, "pdus", "PDU1;TOTAL"),
            [f'partners.csv, row 2, column pdus: "PDU1;TOTAL" has "TOTAL" in it, which {RESERVED}'],
            id="partner-pdus-list",
        ),
        pytest.param(
            (
                set_cell("practitioners.csv", 2, "practitioner_id", "Total"),
                set_cell("cases.csv", 2, "current_practitioner_id", "Total"),
            ),
            [
                f'cases.csv, row 2, column current_practitioner_id: "Total" {RESERVED}',
                f'practitioners.csv, row 2, column practitioner_id: "Total" {RESERVED}',
            ],
            id="practitioner-total",
        ),
        pytest.param(
            set_cell("partners.csv", 2, "partner_id", "total"),
            [f'partners.csv, row 2, column partner_id: "total" {RESERVED}'],
            id="partner-total",
        ),
    ],
)
def test_a_reserved_label_as_a_group_is_refused_at_validation(
    edits: Edit | tuple[Edit, ...],
    expected: list[str],
    scenario: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    apply(edits if isinstance(edits, tuple) else (edits,), scenario, monkeypatch)
    assert refused(scenario, capsys) == expected


def test_reserved_labels_are_refused_by_the_row_model_too() -> None:
    row = {name: 0 for name in CaseRecord.model_fields}
    row.update(
        case_id="C1",
        pdu="PDU1",
        sex="female",
        case_type="community",
        tier="D1",
        rosh="low",
        ethnicity="White",
        current_practitioner_id=None,
    )
    CaseRecord.model_validate(row)
    with pytest.raises(ValidationError, match="keep for totals"):
        CaseRecord.model_validate({**row, "ethnicity": "(small groups)"})
    with pytest.raises(ValidationError, match="keep for totals"):
        CaseRecord.model_validate({**row, "pdu": "Total"})


def test_a_group_value_like_a_label_but_not_one_is_fine(scenario: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    apply(
        (
            set_cell("cases.csv", 2, "ethnicity", "Mixed (other)"),
            set_cell("cases.csv", 3, "ethnicity", "Totally unknown"),
        ),
        scenario,
        monkeypatch,
    )
    loaded = load_scenario(scenario)
    assert loaded.cases.loc["C001", "ethnicity"] == "Mixed (other)"


# ------------------------------------------------------------------------------------------------------
# 13. control characters in the scenario's settings

CONTROL = "has a control character (a tab, line break or similar) in it"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            'name = "tiny"',
            'name = "tiny\\u0007"',
            f"scenario.toml: name: {CONTROL}; write it on one line of plain text (found 'tiny\\x07')",
            id="name-bell",
        ),
        pytest.param(
            'name = "tiny"',
            'name = "ti\\tny"',
            f"scenario.toml: name: {CONTROL}; write it on one line of plain text (found 'ti\\tny')",
            id="name-tab",
        ),
        pytest.param(
            'name = "tiny"',
            'name = """tiny\nrun"""',
            f"scenario.toml: name: {CONTROL}; write it on one line of plain text (found 'tiny\\nrun')",
            id="name-newline",
        ),
        pytest.param(
            'name = "tiny"',
            'name = "tiny\\u2028"',
            f"scenario.toml: name: {CONTROL}; write it on one line of plain text (found 'tiny\\u2028')",
            id="name-line-separator",
        ),
        pytest.param(
            'name = "tiny"',
            'name = "tiny\\u0085"',
            f"scenario.toml: name: {CONTROL}; write it on one line of plain text (found 'tiny\\x85')",
            id="name-c1",
        ),
        pytest.param(
            'description = "Three cases and two practitioners in one PDU, for tests."',
            'description = "a\\u0000b"',
            "scenario.toml: description: has a control character in it (line breaks and tabs are fine); "
            "remove it (found 'a\\x00b')",
            id="description-nul",
        ),
    ],
)
def test_control_characters_in_settings_are_refused_naming_the_setting(
    old: str,
    new: str,
    expected: str,
    scenario: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    apply((toml(old, new),), scenario, monkeypatch)
    assert refused(scenario, capsys) == [expected]


def test_a_description_over_several_lines_is_fine(scenario: Path) -> None:
    text = (
        (scenario / "scenario.toml")
        .read_text()
        .replace(
            'description = "Three cases and two practitioners in one PDU, for tests."',
            'description = """Three cases\nand two practitioners,\tfor tests."""',
        )
    )
    (scenario / "scenario.toml").write_text(text)
    assert load_scenario(scenario).spec.description == "Three cases\nand two practitioners,\tfor tests."


def test_the_settings_model_refuses_control_characters_itself() -> None:
    with pytest.raises(ValidationError, match="control character"):
        ScenarioFile.model_validate({"name": "x\x1b[31m", "tables": {"cases": "c.csv", "practitioners": "p.csv"}})
