"""Writing tables: the fast float formatting must give exactly the bytes pandas' own float_format gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from workload.output import FLOAT_FORMAT, write_csv


@settings(max_examples=20, deadline=None)
@given(
    st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=1, max_size=40),
    st.integers(0, 2**32 - 1),
)
def test_write_csv_bytes_equal_pandas_float_format(tmp_path_factory, values: list[float], seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 1500  # above the size where the fast path starts
    column = np.resize(np.array(values, dtype=float), n)
    scale = rng.choice([1e-9, 1.0, 1e12], size=n)
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = column * scale
    frame = pd.DataFrame(
        {
            "hours": column,
            "scaled": scaled,
            "count": rng.integers(0, 100, size=n),
            "id": [f"C{i:05d}" for i in range(n)],
            "small": rng.random(n).astype(np.float32),
        },
        index=pd.Index([f"X{i}" for i in range(n)], name="case_id"),
    )
    path = tmp_path_factory.mktemp("csv") / "table.csv"
    write_csv(frame, path)
    expected = frame.to_csv(float_format=FLOAT_FORMAT, lineterminator="\n")
    assert path.read_text(encoding="utf-8") == expected
    assert frame["hours"].dtype == float, "the caller's frame must not be changed"


def test_write_csv_keeps_duplicate_column_names(tmp_path: Path) -> None:
    frame = pd.DataFrame(np.arange(3000.0).reshape(1500, 2) / 7, columns=["a", "a"])
    write_csv(frame, tmp_path / "dup.csv", index=False)
    assert (tmp_path / "dup.csv").read_text(encoding="utf-8") == frame.to_csv(
        index=False, float_format=FLOAT_FORMAT, lineterminator="\n"
    )


def test_text_that_would_run_as_a_formula_is_quoted_in_every_csv(tmp_path) -> None:
    import pandas as pd

    from workload.output import write_csv
    from workload.safety import escape_formulas

    frame = pd.DataFrame(
        {
            "text": ["=HYPERLINK(1)", "+x", "plain", None, "@a", "-b"],
            "number": [-1.5, 2.0, 3.0, 4.0, 5.0, 6.0],
            "mixed": [("=t",), 3, True, "=y", None, "z"],
        },
        index=pd.Index(["-id", "c2", "c3", "c4", "c5", "c6"], name="case_id"),
    )
    out = escape_formulas(frame)
    text = out["text"].tolist()
    assert pd.isna(text[3])  # a missing cell stays missing (None or NaN, as pandas holds it)
    assert text[:3] + text[4:] == ["'=HYPERLINK(1)", "'+x", "plain", "'@a", "'-b"]
    assert out["mixed"].tolist() == [("=t",), 3, True, "'=y", None, "z"]  # only text cells change
    assert out["number"].tolist() == frame["number"].tolist() and out.index[0] == "'-id"
    assert frame["text"].iloc[0] == "=HYPERLINK(1)"  # the caller's frame is not changed
    write_csv(frame, tmp_path / "t.csv")
    text = (tmp_path / "t.csv").read_text()
    assert "'=HYPERLINK(1)" in text and ",-1.5," in text


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=0, max_size=60),
    st.integers(0, 2**32 - 1),
    st.booleans(),
)
def test_float_text_is_the_float_format_of_each_value(values: list[float], seed: int, repeat: bool) -> None:
    from workload.output import float_text

    rng = np.random.default_rng(seed)
    edges = [0.0, -0.0, 1.0, -1.0, 1e10, 1e10 - 1, -(1e10 - 1), 1e10 - 0.5, 2.0**53, 5e-324]
    column = np.array(values + edges, dtype=float)
    # repeated values take the formatted-once path, distinct ones the formatted-each path
    with np.errstate(over="ignore"):  # a float near the largest may become inf: float_text must write that too
        column = np.resize(column, 400) if repeat else column * rng.uniform(0.5, 2.0, size=len(column))
    expected = ["" if np.isnan(v) else FLOAT_FORMAT % v for v in column.tolist()]
    assert float_text(column).tolist() == expected
