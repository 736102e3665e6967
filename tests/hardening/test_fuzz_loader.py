"""Hypothesis-generated inputs never crash the loader: valid tables load with the values written, invalid
ones give a ScenarioError pointing at the bad cell, and nothing ever raises any other exception."""

from __future__ import annotations

import csv
import io
import math
import shutil
import string
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import FIXTURES
from workload.load import (
    _PERSONAL_VALUE,
    FORMULA_START,
    ColumnRule,
    ScenarioError,
    check_table,
    column_rules,
    load_scenario,
)
from workload.scenario import TABLE_MODELS, CaseRecord, PractitionerRecord, reserved_label_problem

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ_TABLES = settings(FUZZ, max_examples=60)
"""Fewer examples where each one builds and loads a whole generated table."""
CASE_RULES = {r.name: r for r in column_rules(CaseRecord)}
STAFF_RULES = {r.name: r for r in column_rules(PractitionerRecord)}


@contextmanager
def tiny_copy() -> Iterator[Path]:
    """A fresh writable copy of the tiny fixture for one generated example."""
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "tiny"
        shutil.copytree(FIXTURES / "tiny", target)
        yield target


def load_or_problems(folder: Path) -> list[str] | None:
    """None when the scenario loads; its problems when it is refused; any other exception propagates."""
    try:
        load_scenario(folder)
    except ScenarioError as exc:
        assert exc.problems, "a ScenarioError must say what is wrong"
        lines = [str(p) for p in exc.problems]
        assert all(line and "\n" not in line for line in lines), lines
        return lines
    return None


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\n").writerows([header, *rows])
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")


# ------------------------------------------------------------------------------------------------------
# anything at all: bytes, CSV-ish text, TOML-ish text, odd frames


CSV_PIECES = [
    ",",
    ";",
    "\t",
    '"',
    '""',
    "\n",
    "\r\n",
    "\r",
    " ",
    "",
    "\ufeff",
    "\x00",
    "é",
    "£",
    "\xa0",
    "=1+1",
    "case_id",
    "pdu",
    "tier",
    "sex",
    "C001",
    "PDU1",
    "D1",
    "female",
    "0",
    "1",
    "2",
    "1.5",
    "1,5",
    "-1",
    "nan",
    "inf",
    "1e400",
    "X123456",
    "1990-01-01",
    "P01",
    "yes",
    "true",
    "community",
    "low",
]


@FUZZ
@given(data=st.binary(max_size=2000))
def test_any_bytes_as_a_table_never_crash(data: bytes) -> None:
    with tiny_copy() as folder:
        (folder / "cases.csv").write_bytes(data)
        assert load_or_problems(folder) is not None


@FUZZ
@given(
    pieces=st.lists(st.one_of(st.sampled_from(CSV_PIECES), st.text(max_size=5)), max_size=200),
    which=st.sampled_from(["cases.csv", "practitioners.csv", "partners.csv"]),
)
def test_csv_like_text_never_crashes(pieces: list[str], which: str) -> None:
    with tiny_copy() as folder:
        header = (folder / which).read_text().splitlines()[0]
        (folder / which).write_text(header + "\n" + "".join(pieces), encoding="utf-8")
        load_or_problems(folder)


@FUZZ
@given(
    which=st.sampled_from(["cases.csv", "practitioners.csv", "partners.csv"]),
    n_rows=st.integers(1, 5),
    data=st.data(),
)
def test_well_shaped_rows_of_any_cells_never_crash(which: str, n_rows: int, data: st.DataObject) -> None:
    with tiny_copy() as folder:
        header = (folder / which).read_text().splitlines()[0].split(",")
        good = list(csv.reader(io.StringIO((folder / which).read_text())))[1]
        rows = [
            [data.draw(st.one_of(st.just(g), st.sampled_from(CSV_PIECES), st.text(max_size=8))) for g in good]
            for _ in range(n_rows)
        ]
        write_csv(folder / which, header, rows)
        load_or_problems(folder)


@FUZZ
@given(text=st.text(max_size=400))
def test_any_text_as_scenario_toml_never_crashes(text: str) -> None:
    with tiny_copy() as folder:
        (folder / "scenario.toml").write_text(text, encoding="utf-8")
        assert load_or_problems(folder) is not None


TOML_VALUES = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(
        lambda x: (
            "nan" if math.isnan(x) else ("inf" if x == float("inf") else ("-inf" if x == float("-inf") else repr(x)))
        )
    ),
    st.booleans().map(lambda b: "true" if b else "false"),
    st.text(alphabet=string.ascii_letters + string.digits + " ._-/", max_size=20).map(lambda s: f'"{s}"'),
    st.just("[1, 2]"),
    st.just("{ a = 1 }"),
    st.just("1979-05-27"),
)
SETTING_NAMES = st.sampled_from(
    [
        "policy.scoring_mode",
        "policy.women_specialist_pool",
        "policy.specialist_pool_penalty",
        "policy.caseload_cap",
        "policy.continuity_penalty",
        "policy.budget_cap_gbp",
        "policy.use_partners",
        "policy.exact",
        "policy.solver",
        "policy.time_limit_seconds",
        "policy.workers",
        "output.suppression_threshold",
        "policy.nonsense",
        "parameters.wmt.red_pct",
        "parameters.wmt.nominal_target.PO",
        "parameters.wmt.weights.community.D1",
        "parameters.needs",
        "parameters.nope.x",
        "tables.partners",
    ]
)


@FUZZ
@given(
    settings_=st.lists(st.tuples(SETTING_NAMES, TOML_VALUES), max_size=6, unique_by=lambda t: t[0]),
    top=st.tuples(st.sampled_from(["seed", "description", "name"]), TOML_VALUES),
)
def test_any_setting_values_never_crash(settings_: list[tuple[str, str]], top: tuple[str, str]) -> None:
    sections: dict[str, list[str]] = {"tables": ['cases = "cases.csv"', 'practitioners = "practitioners.csv"']}
    for dotted, value in settings_:
        section, _, key = dotted.rpartition(".")
        sections.setdefault(section, []).append(f"{key} = {value}")
    if not any(line.startswith("partners") for line in sections["tables"]):
        sections["tables"].append('partners = "partners.csv"')
    lines = [f"{top[0]} = {top[1]}"] + (['name = "tiny"'] if top[0] != "name" else [])
    for section, entries in sections.items():
        lines += ["", f"[{section}]", *entries]
    with tiny_copy() as folder:
        (folder / "scenario.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        load_or_problems(folder)


CELL = st.one_of(
    st.text(max_size=12),
    st.none(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(CSV_PIECES),
)


@FUZZ
@given(
    columns=st.lists(st.one_of(st.sampled_from(list(CASE_RULES)), st.text(max_size=12)), min_size=0, max_size=35),
    n_rows=st.integers(0, 6),
    data=st.data(),
)
def test_check_table_on_any_frame_never_crashes(columns: list[str], n_rows: int, data: st.DataObject) -> None:
    cells = [[data.draw(CELL) for _ in columns] for _ in range(n_rows)]
    frame = pd.DataFrame(cells, columns=columns, dtype=object) if columns else pd.DataFrame(index=range(n_rows))
    for model in TABLE_MODELS.values():
        typed, problems = check_table(frame, model, "t.csv")
        if not problems:
            assert len(typed) == n_rows


# ------------------------------------------------------------------------------------------------------
# valid tables, generated from the column rules


SAFE_TEXT = st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs"))


def _id() -> st.SearchStrategy[str]:
    return st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,15}", fullmatch=True).filter(
        lambda s: _PERSONAL_VALUE.fullmatch(s) is None and reserved_label_problem(s) is None
    )


def valid_cell(rule: ColumnRule) -> st.SearchStrategy[tuple[str, Any]]:
    """A cell text a planner might write that obeys ``rule``, with the typed value it must load as."""
    if rule.kind == "enum":
        values = [str(e.value) for e in rule.enum]  # type: ignore[union-attr]
        return st.sampled_from(values).flatmap(
            lambda v: st.sampled_from([v, v.lower(), v.upper(), f" {v} "]).map(lambda t: (t, v))
        )
    if rule.kind == "intenum":
        values = [int(e.value) for e in rule.enum]  # type: ignore[union-attr]
        words = (
            {1: ["1", "yes", "TRUE", "Y", "1.0"], 0: ["0", "no", "false", "N", "0.0"]}
            if values == [0, 1]
            else {v: [str(v), f"{v}.0"] for v in values}
        )
        return st.sampled_from(values).flatmap(lambda v: st.sampled_from(words[v]).map(lambda t: (t, v)))
    if rule.kind == "int":
        lo = int(rule.ge if rule.ge is not None else 0)
        hi = int(rule.le if rule.le is not None else 10_000)
        return st.integers(lo, hi).map(lambda v: (str(v), v))
    if rule.kind == "float":
        lo = rule.ge if rule.ge is not None else (rule.gt if rule.gt is not None else 0.0)
        hi = rule.le if rule.le is not None else 1e6
        return (
            st.floats(lo, hi, allow_nan=False, exclude_min=rule.gt is not None)
            .map(lambda v: round(v, 3))
            .filter(lambda v: (rule.gt is None or v > rule.gt) and (rule.ge is None or v >= rule.ge) and v <= hi)
            .map(lambda v: (repr(v), v))
        )
    if rule.kind == "list":
        assert rule.item_rule is not None
        items = [str(e.value) for e in rule.item_rule.enum]  # type: ignore[union-attr]
        lo = rule.min_len or 0
        return st.lists(st.sampled_from(items), min_size=lo, max_size=4, unique=True).map(
            lambda xs: (";".join(xs), tuple(xs))
        )
    if rule.pattern:
        return _id().map(lambda s: (s, s))
    text = (
        st.text(SAFE_TEXT, max_size=rule.max_len or 40)
        .map(str.strip)
        .filter(
            lambda s: (
                not (len(s) > 1 and s.startswith(FORMULA_START))
                and _PERSONAL_VALUE.fullmatch(s) is None
                and reserved_label_problem(s) is None
            )  # "Total", "x small groups"...: refused, by design
        )
    )
    return text.map(lambda s: (s, s if s else rule.default))


@st.composite
def case_tables(
    draw: st.DrawFn, min_rows: int = 1, max_rows: int = 8
) -> tuple[list[str], list[list[str]], list[dict[str, Any]]]:
    """A valid case table for the tiny fixture's staff (PDU1: P01, P02): header, cell texts, typed values."""
    n = draw(st.integers(min_rows, max_rows))
    ids = draw(st.lists(_id(), min_size=n, max_size=n, unique_by=str.lower))
    optional = [name for name, r in CASE_RULES.items() if not r.required]
    kept_optional = draw(st.lists(st.sampled_from(optional), unique=True))
    header = [name for name in CASE_RULES if CASE_RULES[name].required or name in kept_optional]
    header = draw(st.permutations(header))
    cells, typed = [], []
    for i in range(n):
        row_cells, row_typed = [], {}
        for name in header:
            if name == "case_id":
                text, value = ids[i], ids[i]
            elif name == "pdu":
                text, value = "PDU1", "PDU1"
            elif name == "current_practitioner_id":
                text = draw(st.sampled_from(["", "P01", "P02", " P02 "]))
                value = text.strip() or None
            else:
                text, value = draw(valid_cell(CASE_RULES[name]))
            row_cells.append(text)
            row_typed[name] = value
        cells.append(row_cells)
        typed.append(row_typed)
    return header, cells, typed


def _same(a: Any, b: Any) -> bool:
    if isinstance(b, float):
        return bool(np.isclose(float(a), b))
    if b is None:
        return a is None or (isinstance(a, float) and np.isnan(a))
    return a == b


@FUZZ_TABLES
@given(table=case_tables())
def test_valid_case_tables_load_with_the_values_written(
    table: tuple[list[str], list[list[str]], list[dict[str, Any]]],
) -> None:
    header, cells, typed = table
    with tiny_copy() as folder:
        write_csv(folder / "cases.csv", header, cells)
        problems = load_or_problems(folder)
        assert problems is None, problems
        cases = load_scenario(folder).cases
    assert list(cases.index) == [row["case_id"] for row in typed]
    for row in typed:
        for name, value in row.items():
            if name != "case_id":
                assert _same(cases.loc[row["case_id"], name], value), (name, cases.loc[row["case_id"], name], value)


@st.composite
def staff_tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    """A valid practitioner table in PDU1 with at least one PO."""
    n = draw(st.integers(1, 6))
    ids = draw(st.lists(_id(), min_size=n, max_size=n, unique_by=str.lower))
    header = list(STAFF_RULES)
    rows = []
    for i in range(n):
        row = []
        contracted = draw(st.floats(1, 60).map(lambda v: round(v, 1)))
        for name in header:
            if name == "practitioner_id":
                row.append(ids[i])
            elif name == "pdu":
                row.append("PDU1")
            elif name == "grade":
                row.append("PO" if i == 0 else draw(st.sampled_from(["PO", "PSO", "PQiP", "SPO"])))
            elif name == "contracted_hours_per_week":
                row.append(repr(contracted))
            elif name == "reduction_hours_per_week":
                row.append(repr(draw(st.floats(0, contracted).map(lambda v, top=contracted: min(round(v, 1), top)))))
            else:
                row.append(draw(valid_cell(STAFF_RULES[name]))[0])
        rows.append(row)
    return header, rows


@FUZZ_TABLES
@given(table=staff_tables())
def test_valid_practitioner_tables_load(table: tuple[list[str], list[list[str]]]) -> None:
    header, rows = table
    with tiny_copy() as folder:
        write_csv(folder / "practitioners.csv", header, rows)
        text = (folder / "cases.csv").read_text().replace(",P01\n", ",\n").replace(",P02\n", ",\n")
        (folder / "cases.csv").write_text(text)
        problems = load_or_problems(folder)
        assert problems is None, problems
        assert list(load_scenario(folder).practitioners.index) == [r[0] for r in rows]


# ------------------------------------------------------------------------------------------------------
# invalid cells are found where they are


def invalid_cell(rule: ColumnRule) -> st.SearchStrategy[str]:
    """A cell text that breaks ``rule`` (never blank-but-optional, which is allowed)."""
    if rule.kind in ("int", "float"):
        above = [str(rule.le + 1)] if rule.le is not None else []
        below = [str(rule.ge - 1)] if rule.ge is not None else ([str(rule.gt)] if rule.gt is not None else [])
        return st.sampled_from(
            ["many", "1,5", "nan", "inf", "--1", *above, *below] + (["0.5"] if rule.kind == "int" else [])
        )
    if rule.kind in ("enum", "intenum"):
        return st.sampled_from(["?", "unknown value", "3", "-1", "E9", "maybe"]).filter(
            lambda s: (
                s.lower() not in {str(e.value).lower() for e in rule.enum}  # type: ignore[union-attr]
                and not (rule.kind == "intenum" and s in ("yes", "no"))
            )
        )
    if rule.kind == "list":
        return st.sampled_from(["knitting", "women;knitting", "?"])
    if rule.pattern:
        return st.sampled_from(["has space", "a/b", "-lead", "x" * 65, "X123456", "1990-01-01"])
    return st.sampled_from(["x" * 41, "=cmd", "a\tb"])


@FUZZ_TABLES
@given(table=case_tables(min_rows=1, max_rows=5), data=st.data())
def test_one_bad_cell_is_reported_at_its_row_and_column(
    table: tuple[list[str], list[list[str]], list[dict[str, Any]]], data: st.DataObject
) -> None:
    header, cells, _ = table
    column = data.draw(st.sampled_from([h for h in header if h not in ("pdu", "current_practitioner_id")]))
    row = data.draw(st.integers(0, len(cells) - 1))
    cells[row][header.index(column)] = data.draw(invalid_cell(CASE_RULES[column]))
    with tiny_copy() as folder:
        write_csv(folder / "cases.csv", header, cells)
        problems = load_or_problems(folder)
    assert problems is not None
    assert any(p.startswith(f"cases.csv, row {row + 2}, column {column}: ") for p in problems), problems


@FUZZ_TABLES
@given(table=case_tables(min_rows=2, max_rows=5), data=st.data())
def test_a_blank_line_anywhere_keeps_row_numbers_true(
    table: tuple[list[str], list[list[str]], list[dict[str, Any]]], data: st.DataObject
) -> None:
    header, cells, _ = table
    bad_row = data.draw(st.integers(0, len(cells) - 1))
    cells[bad_row][header.index("tier")] = "Z9"
    blank_before = data.draw(st.integers(1, len(cells) + 1))  # 1 = before the first data row
    with tiny_copy() as folder:
        write_csv(folder / "cases.csv", header, cells)
        lines = (folder / "cases.csv").read_text().split("\n")
        lines.insert(blank_before, "")
        (folder / "cases.csv").write_text("\n".join(lines))
        problems = load_or_problems(folder)
    expected_row = bad_row + 2 + (1 if blank_before <= bad_row + 1 else 0)
    assert problems is not None
    assert next(p for p in problems if "column tier" in p).startswith(
        f'cases.csv, row {expected_row}, column tier: "Z9"'
    )


@pytest.mark.parametrize("size", [1, 2_000])
def test_ragged_rows_are_found_whatever_the_quoting(size: int) -> None:
    """The field counter agrees with the csv module, with quotes, separators and line breaks in cells."""
    from workload.load import _records, _records_by_csv

    rng = np.random.default_rng(size)
    pieces = ["a", "b", '"x,y"', '"line\nbreak"', '"say ""hi"""', "", "é"]
    lines = []
    for _ in range(size):
        k = int(rng.integers(1, 5))
        lines.append(",".join(pieces[int(i)] for i in rng.integers(0, len(pieces), k)))
    text = "\n".join(lines) + "\n"
    fast_counts, fast_blank = _records(text.encode(), ",", quoted=True)
    slow_counts, slow_blank = _records_by_csv(text, ",")
    assert np.array_equal(fast_counts[~fast_blank], slow_counts[~slow_blank])
