"""Tables from named sheets of a workbook: ``cases = "extract.xlsx#Cases"``, several tables from one workbook,
problems naming the sheet, a sheet that is not there, and a workbook whose first sheet is not the table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import read_raw
from workload.cli import main
from workload.load import Problem, ScenarioError, load_scenario, split_sheet


def _workbook(tiny: Path, sheets: dict[str, pd.DataFrame], name: str = "extract.xlsx") -> None:
    with pd.ExcelWriter(tiny / name) as writer:
        for title, frame in sheets.items():
            frame.to_excel(writer, sheet_name=title, index=False)


def _tables(tiny: Path, cases: str, practitioners: str) -> None:
    text = (tiny / "scenario.toml").read_text()
    text = text.replace('cases = "cases.csv"', f'cases = "{cases}"')
    text = text.replace('practitioners = "practitioners.csv"', f'practitioners = "{practitioners}"')
    (tiny / "scenario.toml").write_text(text)


def _problems(tiny: Path) -> list[Problem]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(tiny)
    return info.value.problems


def _cover() -> pd.DataFrame:
    return pd.DataFrame({"About": ["Extract of cases and staff, taken on 1 April"]})


def test_split_sheet() -> None:
    assert split_sheet("extract.xlsx#Cases") == ("extract.xlsx", "Cases")
    assert split_sheet("data/Extract.XLSX#Staff #2") == ("data/Extract.XLSX", "Staff #2")
    assert split_sheet("extract.xlsx") == ("extract.xlsx", None)
    assert split_sheet("cases#1.csv") == ("cases#1.csv", None)


def test_two_tables_from_sheets_of_one_workbook(tiny: Path) -> None:
    cases, staff = read_raw(tiny, "cases.csv"), read_raw(tiny, "practitioners.csv")
    _workbook(tiny, {"Cover": _cover(), "Staff": staff, "Cases": cases})
    _tables(tiny, "extract.xlsx#Cases", "extract.xlsx#Staff")
    s = load_scenario(tiny)
    assert len(s.cases) == len(cases)
    assert s.practitioners.loc["P01", "contracted_hours_per_week"] == 37


def test_same_sheet_twice_is_refused(tiny: Path) -> None:
    cases = read_raw(tiny, "cases.csv")
    _workbook(tiny, {"Cases": cases})
    _tables(tiny, "extract.xlsx#Cases", "extract.xlsx#Cases")
    codes = [p.code for p in _problems(tiny)]
    assert "settings.same_file" in codes


def test_a_problem_names_its_sheet(tiny: Path) -> None:
    cases, staff = read_raw(tiny, "cases.csv"), read_raw(tiny, "practitioners.csv")
    cases.loc[0, "rsr_pct"] = "101"
    _workbook(tiny, {"Cover": _cover(), "Staff": staff, "Cases": cases})
    _tables(tiny, "extract.xlsx#Cases", "extract.xlsx#Staff")
    (found,) = _problems(tiny)
    assert (found.file, found.sheet, found.row, found.column) == ("extract.xlsx", "Cases", 2, "rsr_pct")
    assert str(found).startswith('extract.xlsx, sheet Cases, row 2, column rsr_pct: "101" is not allowed')


def test_a_cross_check_names_the_sheet(tiny: Path) -> None:
    cases, staff = read_raw(tiny, "cases.csv"), read_raw(tiny, "practitioners.csv")
    cases.loc[0, "current_practitioner_id"] = "P99"
    _workbook(tiny, {"Staff": staff, "Cases": cases})
    _tables(tiny, "extract.xlsx#Cases", "extract.xlsx#Staff")
    found = _problems(tiny)
    assert any(p.code == "cross.unknown_practitioner" and (p.file, p.sheet) == ("extract.xlsx", "Cases") for p in found)


def test_a_sheet_that_is_not_there(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases, staff = read_raw(tiny, "cases.csv"), read_raw(tiny, "practitioners.csv")
    _workbook(tiny, {"Cover": _cover(), "Staff": staff, "Cases": cases})
    _tables(tiny, "extract.xlsx#cases", "extract.xlsx#Staff")
    (found,) = _problems(tiny)
    assert found.code == "xlsx.no_such_sheet"
    assert 'has no sheet "cases"' in found.message
    assert '"Cover", "Staff" and "Cases"' in found.message
    assert 'did you mean "Cases"' in found.message
    assert main(["validate", str(tiny)]) == 2
    assert "has no sheet" in capsys.readouterr().err


def test_a_cover_sheet_read_first_is_named(tiny: Path) -> None:
    cases, staff = read_raw(tiny, "cases.csv"), read_raw(tiny, "practitioners.csv")
    _workbook(tiny, {"Cover": _cover(), "Cases": cases})
    staff.to_csv(tiny / "practitioners.csv", index=False)
    _tables(tiny, "extract.xlsx", "practitioners.csv")
    found = _problems(tiny)
    missing = [p for p in found if p.code == "header.missing_column"]
    assert missing and all(p.sheet == "Cover" for p in missing)
    (wrong,) = [p for p in found if p.code == "xlsx.wrong_sheet"]
    assert '"Cover"' in wrong.message and '"extract.xlsx#Cases"' in wrong.message


def test_caps_hold_for_a_named_sheet(tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from workload.load import limits

    cases, staff = read_raw(tiny, "cases.csv"), read_raw(tiny, "practitioners.csv")
    _workbook(tiny, {"Staff": staff, "Cases": cases})
    _tables(tiny, "extract.xlsx#Cases", "extract.xlsx#Staff")
    monkeypatch.setattr(limits, "MAX_ROWS", 2)
    found = _problems(tiny)
    assert any(p.code == "table.too_many_rows" and p.sheet == "Cases" for p in found), found


def test_a_sheet_of_a_csv_is_refused(tiny: Path) -> None:
    _tables(tiny, "cases.csv", "practitioners.csv")
    text = (tiny / "scenario.toml").read_text().replace('cases = "cases.csv"', 'cases = "extract.xlsx#"')
    (tiny / "scenario.toml").write_text(text)
    (found,) = _problems(tiny)
    assert found.code == "settings.table_path"
