"""The column-at-a-time workbook writer (workload.report.xlsx): what openpyxl and pandas read back is what was
written, whatever the values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from workload.report.workbook import formatted_workbook
from workload.report.xlsx import column_letter


def test_column_letters_follow_the_spreadsheet() -> None:
    assert [column_letter(j) for j in (1, 26, 27, 52, 53, 702, 703)] == ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]


def test_cells_read_back_with_types_formats_and_layout(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "hours (h/yr)": [1.5, np.nan, 2e-7, np.inf],
            "cases (cases)": [1, 2, 3, 4],
            "moved": [True, False, True, False],
            "reason": ["a & b <c>", "", None, "  spaced "],
            "mixed": [1, "x", None, 2.5],
        },
        index=pd.Index(["c1", "c2", "c3", "c4"], name="case_id"),
    )
    path = tmp_path / "t.xlsx"
    formatted_workbook(path, {"allocation": frame}, ["first note"])
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["notes", "allocation"]
    assert book["notes"]["A2"].value == "first note" and book["notes"].column_dimensions["A"].width == 120
    sheet = book["allocation"]
    assert [c.value for c in sheet[1]] == ["case_id", *frame.columns]
    assert sheet["A1"].font.bold and sheet.freeze_panes == "B2" and sheet.auto_filter.ref == "A1:F5"
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert rows[0] == ["c1", 1.5, 1, True, "a & b <c>", 1]
    assert rows[1][1] is None and rows[1][4] is None and rows[1][5] == "x"
    assert rows[2][1] == 2e-7 and rows[2][4] is None and rows[2][5] is None
    assert rows[3][1] == "inf" and rows[3][4] == "  spaced " and rows[3][5] == 2.5
    assert sheet["B2"].number_format == "#,##0" and sheet["C2"].number_format == "#,##0"


def test_identical_tables_give_identical_bytes(tmp_path: Path) -> None:
    frame = pd.DataFrame({"x": np.arange(30_000) / 7}, index=pd.Index(np.arange(30_000).astype(str), name="case_id"))
    for name in ("a.xlsx", "b.xlsx"):
        formatted_workbook(tmp_path / name, {"t": frame}, ["n"])
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    back = pd.read_excel(tmp_path / "a.xlsx", sheet_name="t", index_col=0, dtype={"case_id": str})
    np.testing.assert_array_equal(back["x"].to_numpy(), frame["x"].to_numpy())


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.text(st.characters(blacklist_categories=("Cs",)), max_size=12), min_size=1, max_size=20),
    st.lists(st.floats(allow_nan=True, allow_infinity=False), min_size=1, max_size=20),
)
def test_text_and_numbers_round_trip(tmp_path_factory, texts: list[str], numbers: list[float]) -> None:
    """Any text (XML-illegal control characters dropped, formula starts quoted) and any finite number come back."""
    n = min(len(texts), len(numbers))
    frame = pd.DataFrame({"text": texts[:n], "number": numbers[:n]})
    path = tmp_path_factory.mktemp("x") / "t.xlsx"
    formatted_workbook(path, {"t": frame}, ["n"], index=False)
    rows = [[c.value for c in row] for row in openpyxl.load_workbook(path)["t"].iter_rows(min_row=2, max_col=2)]
    for (text, number), (want_text, want_number) in zip(rows, zip(frame["text"], frame["number"], strict=True)):
        quoted = "'" + want_text if want_text.startswith(("=", "+", "-", "@", "\t", "\r")) else want_text
        expected = "".join(ch for ch in quoted if ch in "\t\n\r" or ord(ch) >= 32)
        expected = expected.replace("\ufffe", "").replace("\uffff", "")
        assert (text or "") == expected.replace("\r", "\n") or (text or "") == expected
        assert (number is None and np.isnan(want_number)) or number == want_number
