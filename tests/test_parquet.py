"""Tables as Parquet: read as the same text cells a CSV of them would give, typed columns turned into text,
problems naming the file, record and column, sizes refused from the footer, and a clear message without pyarrow."""

from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import read_raw
from workload.cli import main
from workload.load import Problem, ScenarioError, limits, load_scenario
from workload.load.parquet import read_parquet


def _to_parquet(tiny: Path, *names: str) -> None:
    """Turn the named CSV tables into Parquet, with the types pandas infers (ints, floats, text), and point
    scenario.toml at them."""
    text = (tiny / "scenario.toml").read_text()
    for name in names:
        frame = pd.read_csv(tiny / f"{name}.csv")
        frame.to_parquet(tiny / f"{name}.parquet", index=False)
        (tiny / f"{name}.csv").unlink()
        text = text.replace(f'"{name}.csv"', f'"{name}.parquet"')
    (tiny / "scenario.toml").write_text(text)


def _problems(tiny: Path) -> list[Problem]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(tiny)
    return info.value.problems


def test_parquet_tables_load_like_their_csvs(tiny: Path, tmp_path: Path) -> None:
    expected = load_scenario(tiny)
    _to_parquet(tiny, "cases", "practitioners", "partners")
    got = load_scenario(tiny)
    pd.testing.assert_frame_equal(got.cases, expected.cases, check_like=True)
    pd.testing.assert_frame_equal(got.practitioners, expected.practitioners, check_like=True)
    pd.testing.assert_frame_equal(got.partners, expected.partners, check_like=True)


def test_typed_columns_become_the_text_a_csv_holds(tmp_path: Path) -> None:
    table = pa.table(
        {
            "whole": pa.array([37.0, 22.5, None]),
            "nan": pa.array([float("nan"), 1.25, None]),
            "count": pa.array([1, None, 3], type=pa.int32()),
            "flag": pa.array([True, False, None]),
            "start": pa.array([dt.date(2026, 4, 1), None, dt.date(2025, 12, 31)]),
            "stamp": pa.array([dt.datetime(2026, 4, 1, 9, 30), None, None]),
            "grade": pa.array(["PO", "PSO", None]).dictionary_encode(),
            "money": pa.array([Decimal("1.00"), Decimal("2.50"), Decimal(3)], type=pa.decimal128(10, 2)),
        }
    )
    pq.write_table(table, tmp_path / "t.parquet")
    frame = read_parquet(tmp_path / "t.parquet", "t.parquet")
    assert frame["whole"].tolist() == ["37", "22.5", ""]
    assert frame["nan"].tolist() == ["", "1.25", ""]
    assert frame["count"].tolist() == ["1", "", "3"]
    assert frame["flag"].tolist() == ["true", "false", ""]
    assert frame["start"].tolist() == ["2026-04-01", "", "2025-12-31"]
    assert frame["stamp"].tolist() == ["2026-04-01", "", ""]
    assert frame["grade"].tolist() == ["PO", "PSO", ""]
    assert frame["money"].tolist() == ["1", "2.5", "3"]
    assert frame.index.tolist() == [1, 2, 3]
    assert frame.attrs["numbers"] == "point"


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False, width=64), st.integers(-(2**40), 2**40)),
        min_size=1,
        max_size=30,
    )
)
def test_numbers_read_back_exactly(tmp_path_factory: pytest.TempPathFactory, values: list[float | int | None]) -> None:
    folder = tmp_path_factory.mktemp("numbers")
    floats = [None if v is None else float(v) for v in values]
    pq.write_table(pa.table({"x": pa.array(floats, type=pa.float64())}), folder / "n.parquet")
    cells = read_parquet(folder / "n.parquet", "n.parquet")["x"].tolist()
    for value, cell in zip(floats, cells, strict=True):
        if value is None:
            assert cell == ""
        else:
            assert float(cell) == value
            assert not cell.endswith(".0")


def test_a_bad_cell_names_file_record_and_column(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = read_raw(tiny, "cases.csv")
    cases.loc[1, "rsr_pct"] = "101"
    cases.to_parquet(tiny / "cases.parquet", index=False)
    text = (tiny / "scenario.toml").read_text().replace('"cases.csv"', '"cases.parquet"')
    (tiny / "scenario.toml").write_text(text)
    (found,) = _problems(tiny)
    assert (found.file, found.row, found.column) == ("cases.parquet", 2, "rsr_pct")
    assert str(found).startswith('cases.parquet, row 2, column rsr_pct: "101" is not allowed')
    assert main(["validate", str(tiny)]) == 2
    err = capsys.readouterr().err
    assert "cases.parquet, row 2, column rsr_pct" in err and "Traceback" not in err


def test_a_file_that_is_not_parquet(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tiny / "cases.parquet").write_bytes((tiny / "cases.csv").read_bytes())
    text = (tiny / "scenario.toml").read_text().replace('"cases.csv"', '"cases.parquet"')
    (tiny / "scenario.toml").write_text(text)
    (found,) = _problems(tiny)
    assert found.code == "parquet.unreadable" and found.file == "cases.parquet"
    assert main(["validate", str(tiny)]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_without_pyarrow_the_message_says_how_to_install_it(
    tiny: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _to_parquet(tiny, "cases")
    real = importlib.import_module

    def no_pyarrow(name: str, package: str | None = None) -> object:
        if name.startswith("pyarrow"):
            raise ImportError(f"No module named {name!r}")
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", no_pyarrow)
    (found,) = _problems(tiny)
    assert found.code == "parquet.unavailable"
    assert 'pip install "workload[parquet]"' in found.message
    assert main(["validate", str(tiny)]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_sizes_are_refused_from_the_footer(tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _to_parquet(tiny, "cases")
    monkeypatch.setattr(limits, "MAX_ROWS", 2)
    monkeypatch.setattr(limits, "MAX_COLUMNS", 5)
    monkeypatch.setattr(limits, "MAX_PARQUET_UNCOMPRESSED_BYTES", 10)
    codes = sorted(p.code for p in _problems(tiny) if p.file == "cases.parquet")
    assert codes == ["file.too_large", "table.too_many_rows", "table.too_wide"]


def test_a_column_of_lists_is_refused_by_name(tmp_path: Path) -> None:
    table = pa.table({"case_id": ["C1", "C2"], "needs": pa.array([[1, 2], [3]]), "blob": pa.array([b"a", b"b"])})
    pq.write_table(table, tmp_path / "t.parquet")
    with pytest.raises(ScenarioError) as info:
        read_parquet(tmp_path / "t.parquet", "t.parquet")
    found = {p.column: p.code for p in info.value.problems}
    assert found == {"needs": "parquet.column_type", "blob": "parquet.column_type"}


def test_an_empty_parquet_table_is_refused(tmp_path: Path) -> None:
    pq.write_table(pa.table({"case_id": pa.array([], type=pa.string())}), tmp_path / "t.parquet")
    with pytest.raises(ScenarioError) as info:
        read_parquet(tmp_path / "t.parquet", "t.parquet")
    assert [p.code for p in info.value.problems] == ["file.empty"]


def test_a_sheet_of_a_parquet_table_is_refused(tiny: Path) -> None:
    _to_parquet(tiny, "cases")
    text = (tiny / "scenario.toml").read_text().replace('"cases.parquet"', '"cases.parquet#Cases"')
    (tiny / "scenario.toml").write_text(text)
    assert "file.no_sheets" in [p.code for p in _problems(tiny)]


def test_a_run_from_parquet_matches_the_run_from_csv(tiny: Path, tmp_path: Path) -> None:
    assert main(["run", str(tiny), "--out", str(tmp_path / "csv"), "--workers", "1"]) == 0
    _to_parquet(tiny, "cases", "practitioners", "partners")
    assert main(["run", str(tiny), "--out", str(tmp_path / "pq"), "--workers", "1"]) == 0
    a = pd.read_csv(tmp_path / "csv" / "allocations.csv")
    b = pd.read_csv(tmp_path / "pq" / "allocations.csv")
    pd.testing.assert_frame_equal(a, b)
    assert np.isclose(
        pd.read_csv(tmp_path / "csv" / "practitioners.csv").select_dtypes("number").to_numpy().sum(),
        pd.read_csv(tmp_path / "pq" / "practitioners.csv").select_dtypes("number").to_numpy().sum(),
    )
