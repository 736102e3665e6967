"""Red team, round 3: small hostile workbooks that took openpyxl minutes and gigabytes, an ambiguous decimal
comma, invisible characters around reserved labels, and a parameter given twice.

Each is refused with a Problem naming where and what is allowed, exit 2, no traceback.
"""

from __future__ import annotations

import io
import shutil
import unicodedata
import zipfile
from pathlib import Path

import numpy as np
import pytest
from openpyxl import Workbook

from tests.conftest import FIXTURES
from tests.hardening.test_round2_inputs import _rows, _use, child_cli, problem_lines, refused
from workload.load import ScenarioError, _convert_uniques, load_scenario, readers
from workload.load import limits as load_limits
from workload.params import ParameterError, flatten_overrides
from workload.scenario import (
    CONTROL_CHARACTERS,
    CONTROL_CHARACTERS_BUT_LAYOUT,
    reserved_label_problem,
)


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    target = tmp_path / "work" / "scenario"
    shutil.copytree(FIXTURES / "tiny", target)
    return target


def _codes(scenario: Path) -> list[tuple[str, str]]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(scenario)
    return [(p.code, str(p)) for p in info.value.problems]


def _patched_workbook(
    path: Path,
    rows: list[list[object]],
    parts: dict[str, bytes] | None = None,
    sheet_end: bytes = b"",
    content_types: bytes = b"",
) -> Path:
    """A workbook of ``rows`` written by openpyxl, then with ``sheet_end`` added to the end of its sheet's data,
    ``parts`` added or replaced, and ``content_types`` added to its manifest."""
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    parts = dict(parts or {})
    with zipfile.ZipFile(buf) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", sheet_end + b"</sheetData>")
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", content_types + b"</Types>")
            out.writestr(item.filename, parts.pop(item.filename, data))
        for name, data in parts.items():
            out.writestr(name, data)
    return path


# ------------------------------------------------------------------------------------------------------
# 1a. empty formatted cells far right, one a row, are refused before openpyxl pads every row out to them

FAR = (
    "practitioners.xlsx: has formatting or a value in cell XFD5, far outside any table (tables here have at most "
    "1,000 columns); clear those cells, or copy just the table into a new workbook"
)


def test_empty_formatted_cells_far_right_are_refused_quickly_in_little_memory(scenario: Path) -> None:
    far = b"".join(b'<row r="%d"><c r="XFD%d" s="0"/></row>' % (n, n) for n in range(5, 20_005))
    _patched_workbook(scenario / "practitioners.xlsx", _rows(scenario, "practitioners.csv"), sheet_end=far)
    _use(scenario, "practitioners", "practitioners.xlsx")
    report, stderr = child_cli("validate", str(scenario), timeout=60)
    assert report["code"] == 2, stderr
    assert problem_lines(stderr) == [FAR]
    assert report["maxrss_mb"] < 500, report
    assert _codes(scenario) == [("xlsx.stray_cell", FAR)]


def test_far_cells_without_references_are_placed_as_openpyxl_places_them(scenario: Path) -> None:
    rows = _rows(scenario, "practitioners.csv")
    _patched_workbook(scenario / "practitioners.xlsx", rows, sheet_end=b'<row r="5">' + b"<c/>" * 1_200 + b"</row>")
    _use(scenario, "practitioners", "practitioners.xlsx")
    assert _codes(scenario) == [("xlsx.stray_cell", FAR.replace("XFD5", "ALM5"))]


def test_cells_within_the_column_limit_are_read(scenario: Path) -> None:
    rows = _rows(scenario, "practitioners.csv")
    _patched_workbook(scenario / "practitioners.xlsx", rows, sheet_end=b'<row r="9"><c r="ALL9" s="0"/></row>')
    _use(scenario, "practitioners", "practitioners.xlsx")
    assert len(load_scenario(scenario).practitioners) == len(rows) - 1


def test_rows_past_excel_last_row_and_the_row_limit_are_refused_before_openpyxl_reads_them(
    scenario: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = _rows(scenario, "practitioners.csv")
    _patched_workbook(scenario / "practitioners.xlsx", rows, sheet_end=b'<row r="1048577"><c r="A1048577"/></row>')
    _use(scenario, "practitioners", "practitioners.xlsx")
    [(code, text)] = _codes(scenario)
    assert code == "xlsx.past_last_row" and "past Excel's last row (1,048,576)" in text
    _patched_workbook(scenario / "practitioners.xlsx", rows, sheet_end=b"<row/>" * 10)
    monkeypatch.setattr(load_limits, "MAX_ROWS", 5)
    scanned = []
    monkeypatch.setattr(readers, "_scan_sheet", lambda *a, _scan=readers._scan_sheet: (scanned.append(1), _scan(*a)))
    [(code, text)] = _codes(scenario)
    assert code == "table.too_many_rows" and "more than 5 rows" in text and scanned


# ------------------------------------------------------------------------------------------------------
# 1b, 1c. styles and shared strings are capped before openpyxl reads them whole


def test_a_styles_part_with_millions_of_formats_is_refused(scenario: Path) -> None:
    xfs = b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>' * (
        load_limits.MAX_XLSX_STYLES_BYTES // 60 + 1
    )
    styles = (
        b'<?xml version="1.0"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<cellXfs>" + xfs + b"</cellXfs></styleSheet>"
    )
    path = _patched_workbook(
        scenario / "practitioners.xlsx", _rows(scenario, "practitioners.csv"), {"xl/styles.xml": styles}
    )
    assert path.stat().st_size < 200_000
    _use(scenario, "practitioners", "practitioners.xlsx")
    [(code, text)] = _codes(scenario)
    assert code == "xlsx.too_many_styles"
    assert text.startswith("practitioners.xlsx: its styles part xl/styles.xml would unzip to 10.")
    assert "(limit 10.0 MB; real ones are well under 1 MB)" in text and "'CSV UTF-8 (Comma delimited)'" in text


@pytest.mark.parametrize("part", ["xl/sharedStrings.xml", "xl/worksheets/strings.xml"])
def test_a_shared_strings_part_past_its_limit_is_refused_wherever_it_is(
    scenario: Path, monkeypatch: pytest.MonkeyPatch, part: str
) -> None:
    monkeypatch.setattr(load_limits, "MAX_XLSX_SHARED_STRINGS_BYTES", 1_000_000)
    strings = (
        b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + b"<si><t>x</t></si>" * 70_000
        + b"</sst>"
    )
    override = (
        f'<Override PartName="/{part}" ContentType="application/vnd.openxmlformats-officedocument.'
        f'spreadsheetml.sharedStrings+xml"/>'
    ).encode()
    _patched_workbook(
        scenario / "practitioners.xlsx", _rows(scenario, "practitioners.csv"), {part: strings}, content_types=override
    )
    _use(scenario, "practitioners", "practitioners.xlsx")
    [(code, text)] = _codes(scenario)
    assert code == "xlsx.too_many_strings"
    assert text.startswith(f"practitioners.xlsx: its shared strings part {part} would unzip to 1.")
    assert "(limit 1.0 MB; 250,000 cases need under 20 MB)" in text


def test_the_styles_limit_is_refused_through_the_cli(
    scenario: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(load_limits, "MAX_XLSX_STYLES_BYTES", 1_000)
    _patched_workbook(
        scenario / "practitioners.xlsx",
        _rows(scenario, "practitioners.csv"),
        {"xl/styles.xml": b'<?xml version="1.0"?><styleSheet>' + b" " * 2_000 + b"</styleSheet>"},
    )
    _use(scenario, "practitioners", "practitioners.xlsx")
    [line] = refused(scenario, capsys)
    assert line.startswith("practitioners.xlsx: its styles part xl/styles.xml would unzip to")


# ------------------------------------------------------------------------------------------------------
# 2. "6,601" in a ';'-separated file: 6601 or 6.601?


def _float() -> object:
    from workload.load import ColumnRule

    return ColumnRule("x", "float", True, None, ge=0)


def test_a_comma_before_three_digits_is_ambiguous_in_a_semicolon_file() -> None:
    cells = ["6,601", "-6,601", "123,456", "6,6", "6,60", "6,6010", "0,500", "1234,567", "6601"]
    conv = _convert_uniques(np.array(cells, dtype=object), _float(), "comma")
    assert conv.bad.tolist() == [True, True, True, False, False, False, False, False, False]
    assert conv.values[3:].tolist() == [6.6, 6.6, 6.601, 0.5, 1234.567, 6601.0]
    assert conv.codes[0] == "cell.number_format"
    assert conv.reasons[0].startswith(
        "could be 6601 (a comma as thousands separator, as a UK export saved with ';' writes it) or 6.601 (a decimal "
        "comma), and the file does not say which; write 6601 if it is the whole number, or 6,6010 if it is the decimal"
    )


@pytest.mark.parametrize(("convention", "bad", "value"), [("point", True, None), ("tab", True, None)])
def test_other_separators_keep_their_rules(convention: str, bad: bool, value: float | None) -> None:
    conv = _convert_uniques(np.array(["6,601"], dtype=object), _float(), convention)
    assert conv.bad.tolist() == [bad]


def test_an_ambiguous_number_in_a_semicolon_file_is_refused_with_both_readings(
    scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = scenario / "practitioners.csv"
    text = path.read_text().replace(";", "|").replace(",", ";").replace("P02;PDU1;PSO;30;1.8", "P02;PDU1;PSO;30;1,8")
    path.write_text(text.replace("P01;PDU1;PO;37;0", "P01;PDU1;PO;1,037;0"))
    [line] = refused(scenario, capsys)
    assert line.startswith('practitioners.csv, row 2, column contracted_hours_per_week: "1,037" could be 1037 ')
    assert "or 1.037 (a decimal comma)" in line


# ------------------------------------------------------------------------------------------------------
# 3. invisible format characters are control characters


def test_every_format_character_is_a_control_character() -> None:
    format_characters = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf"]
    assert all(CONTROL_CHARACTERS.search(c) for c in format_characters)
    assert all(CONTROL_CHARACTERS_BUT_LAYOUT.search(c) for c in format_characters)
    assert not CONTROL_CHARACTERS.search("White British\u00a0")  # a no-break space from Excel is fine
    assert reserved_label_problem("Total\u200b") is not None
    assert reserved_label_problem("\ufeff(blank)") is not None


@pytest.mark.parametrize("invisible", ["\u200b", "\u202e", "\ufeff", "\u2060"])
def test_a_reserved_label_with_an_invisible_character_is_refused(
    scenario: Path, capsys: pytest.CaptureFixture[str], invisible: str
) -> None:
    path = scenario / "cases.csv"
    path.write_text(path.read_text().replace("C002,PDU1,male,Black", f"C002,PDU1,male,Total{invisible}"))
    [line] = refused(scenario, capsys)
    escaped = repr(invisible)[1:-1]
    assert line == (
        f'cases.csv, row 3, column ethnicity: "Total{escaped}" has a control character (a tab, line break or '
        "similar) in it; expected text of at most 40 characters"
    )


@pytest.mark.parametrize(
    ("key", "value"), [("name", "tiny\u202etxt.exe"), ("description", "\ufeffThree cases"), ("name", "ti\u200bny")]
)
def test_invisible_characters_in_the_name_and_description_are_refused(
    scenario: Path, capsys: pytest.CaptureFixture[str], key: str, value: str
) -> None:
    path = scenario / "scenario.toml"
    lines = [
        f"{key} = {value!r}".replace("'", '"') if line.startswith(f"{key} =") else line
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    [line] = refused(scenario, capsys)
    assert line.startswith("scenario.toml") and "control character" in line


# ------------------------------------------------------------------------------------------------------
# 4. a parameter given twice


def test_a_parameter_given_twice_is_refused_naming_both_values(
    scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = scenario / "scenario.toml"
    path.write_text(
        path.read_text() + '[parameters]\n"costs.staff_cost_per_hour.PO" = 30\n'
        "[parameters.costs.staff_cost_per_hour]\nPO = 40\n"
    )
    [line] = refused(scenario, capsys)
    assert line == (
        "scenario.toml: [parameters]: parameter costs.staff_cost_per_hour.PO is given twice, as 30 and as 40 "
        "(a dotted key and a table naming the same parameter?); give it once"
    )
    [(code, _)] = _codes(scenario)
    assert code == "parameter.duplicate"


def test_flatten_overrides_refuses_every_path_given_twice() -> None:
    with pytest.raises(ParameterError) as info:
        flatten_overrides({"a.b": 1, "a": {"b": 2, "c": {"d": 3}}, "a.c.d": 4})
    assert [(p.code, p.key) for p in info.value.problems] == [
        ("parameter.duplicate", "a.b"),
        ("parameter.duplicate", "a.c.d"),
    ]
    assert flatten_overrides({"a": {"b": 1}, "a.c": 2}) == {"a.b": 1, "a.c": 2}
