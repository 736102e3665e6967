"""Personal data is refused, with a message that explains pseudonymisation and never repeats the data.

Column names that look like names, dates of birth, addresses or CRN/PNC numbers are refused; so are values
in identifier columns that look like CRNs, PNC or prison numbers, National Insurance numbers or dates.
Pseudonymous identifiers (including every one `workload synth` makes) pass.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import FIXTURES
from tests.hardening.catalogue import PSEUDO, add, apply, set_cell
from workload.cli import main
from workload.load import PERSONAL_DATA_COLUMNS, ScenarioError, check_table, load_scenario
from workload.scenario import TABLE_MODELS, CaseRecord


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(folder)
    return [str(p) for p in info.value.problems]


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    target = tmp_path / "scenario"
    shutil.copytree(FIXTURES / "tiny", target)
    return target


PERSONAL_COLUMNS = [
    "name",
    "Name",
    "full name",
    "First Name",
    "firstname",
    "forename",
    "Forenames",
    "surname",
    "Last_Name",
    "family-name",
    "middle name",
    "maiden name",
    "alias",
    "initials",
    "offender_name",
    "client name",
    "Name of person",
    "dob",
    "DOB",
    "D.O.B.",
    "Date of Birth",
    "date_of_birth",
    "birth date",
    "birthdate",
    "Birthday",
    "DOB (dd/mm/yyyy)",
    "address",
    "Home Address",
    "address line 1",
    "Address_Line2",
    "street",
    "postcode",
    "Post Code",
    "zip",
    "crn",
    "CRN",
    "CRN Number",
    "case reference number",
    "pnc",
    "PNC No",
    "pnc_id",
    "PNC Number",
    "cro number",
    "nomis id",
    "NOMS number",
    "prison number",
    "booking no",
    "NI number",
    "nino",
    "National Insurance Number",
    "NHS number",
    "passport",
    "phone",
    "Telephone",
    "mobile",
    "email",
    "E-mail address",
]
"""Column names of direct identifiers, as exports spell them."""

NOT_PERSONAL_COLUMNS = [
    "notes",
    "region",
    "age_band",
    "team",
    "order_type",
    "risk_level",
    "nationality_group",
    "surnamed_x",
]
"""Unknown columns that are not personal data: refused as unknown, without the personal-data message."""


@pytest.mark.parametrize("column", PERSONAL_COLUMNS)
def test_personal_data_column_names_are_refused_with_pseudonymisation_advice(scenario: Path, column: str) -> None:
    apply((add("cases.csv", column, "x"),), scenario, None)
    assert problems_of(scenario) == [f"cases.csv, column {column}: looks like personal data ({column!r}). {PSEUDO}"]


@pytest.mark.parametrize("column", ["Officer Name", "staff_name", "email", "Phone", "Home Address"])
def test_staff_personal_data_is_refused_too(scenario: Path, column: str) -> None:
    apply((add("practitioners.csv", column, "x"),), scenario, None)
    assert problems_of(scenario) == [
        f"practitioners.csv, column {column}: looks like personal data ({column!r}). {PSEUDO}"
    ]


@pytest.mark.parametrize("column", NOT_PERSONAL_COLUMNS)
def test_other_unknown_columns_are_not_called_personal(scenario: Path, column: str) -> None:
    apply((add("cases.csv", column, "x"),), scenario, None)
    (found,) = problems_of(scenario)
    assert found.startswith(f"cases.csv, column {column}: is not a column of this table;")


def test_no_real_column_looks_personal() -> None:
    for model in TABLE_MODELS.values():
        for name in model.model_fields:
            assert not PERSONAL_DATA_COLUMNS.search(name), name


def test_a_partner_agency_name_is_not_personal_data(scenario: Path) -> None:
    apply((add("partners.csv", "name", "Women's Centre"),), scenario, None)
    assert problems_of(scenario) == [
        (
            "partners.csv, column name: is not a column of this table; allowed columns are partner_id, pdus, kind, "
            "contract_hours_per_year, price_per_hour, need_areas, women_only"
        )
    ]


PERSONAL_VALUES = [
    ("X123456", "a CRN (a letter and six digits)"),
    ("x123456", "a CRN (a letter and six digits)"),
    ("2004/0123456A", "a PNC number (year/number and a check letter)"),
    ("04/123456Z", "a PNC number (year/number and a check letter)"),
    ("97/1X", "a PNC number (year/number and a check letter)"),
    ("A1234BC", "a prison (NOMIS) number"),
    ("AB123456C", "a National Insurance number"),
    ("AB 12 34 56 C", "a National Insurance number"),
    ("1990-01-31", "a date (of birth?)"),
    ("31/01/1990", "a date (of birth?)"),
    ("1/2/85", "a date (of birth?)"),
    ("31.01.1990", "a date (of birth?)"),
    ("31-Jan-1990", "a date (of birth?)"),
    ("31 January 1990", "a date (of birth?)"),
    ("1990-01-31 00:00:00", "a date (of birth?)"),
]


@pytest.mark.parametrize("value, what", PERSONAL_VALUES)
@pytest.mark.parametrize(
    "table, row, column",
    [
        ("cases.csv", 2, "case_id"),
        ("cases.csv", 3, "current_practitioner_id"),
        ("cases.csv", 4, "pdu"),
        ("practitioners.csv", 2, "practitioner_id"),
        ("partners.csv", 2, "partner_id"),
        ("partners.csv", 2, "pdus"),
    ],
)
def test_identifying_values_in_id_columns_are_refused_and_not_repeated(
    scenario: Path, value: str, what: str, table: str, row: int, column: str, capsys: pytest.CaptureFixture[str]
) -> None:
    apply((set_cell(table, row, column, value),), scenario, None)
    expected = (
        f"{table}, row {row}, column {column}: looks like {what}, which is personal data (value not shown). {PSEUDO}"
    )
    found = problems_of(scenario)
    assert expected in found
    assert main(["validate", str(scenario)]) == 2
    err = capsys.readouterr().err
    assert expected in err
    assert value not in err, "personal data must not be echoed to the terminal or logs"


@pytest.mark.parametrize(
    "value",
    [
        "C001",
        "C0000001",
        "P00001",
        "PDU1",
        "N07",
        "WC1",
        "X12345",
        "X1234567",
        "AB1234",
        "CASE-2024-000123",
        "2024",
        "case.42",
        "1990",
        "13-13-1990",
        "A1234B",
        "PDU_2023_01",
    ],
)
def test_pseudonymous_ids_pass(scenario: Path, value: str) -> None:
    apply((set_cell("cases.csv", 2, "case_id", value),), scenario, None)
    assert load_scenario(scenario).cases.index[0] == value


def test_dates_excel_stores_in_an_id_column_are_refused(scenario: Path) -> None:
    """Excel turns a typed date into a date cell; read back, it is '1990-01-31 00:00:00'."""
    frame = pd.read_csv(scenario / "cases.csv", dtype=str, keep_default_na=False).astype(object)
    frame.loc[1, "case_id"] = pd.Timestamp("1990-01-31")
    frame.to_excel(scenario / "cases.xlsx", index=False)
    text = (scenario / "scenario.toml").read_text().replace('"cases.csv"', '"cases.xlsx"')
    (scenario / "scenario.toml").write_text(text)
    assert problems_of(scenario) == [
        f"cases.xlsx, row 3, column case_id: looks like a date (of birth?), which is personal data (value not shown). {PSEUDO}"
    ]


def test_value_check_is_vectorised_over_a_large_table() -> None:
    """250,000 pseudonymous ids with three CRNs planted: exactly those rows are refused."""
    n = 250_000
    base = pd.read_csv(FIXTURES / "tiny" / "cases.csv", dtype=str, keep_default_na=False)
    frame = base.iloc[np.zeros(n, dtype=int)].reset_index(drop=True)
    frame["case_id"] = [f"C{i:07d}" for i in range(n)]
    planted = [10, 123_456, n - 1]
    for i in planted:
        frame.loc[i, "case_id"] = f"Z{i % 1_000_000:06d}"
    typed, problems = check_table(frame, CaseRecord, "cases.csv")
    assert [p.row for p in problems] == [i + 2 for i in planted]
    assert all(p.column == "case_id" and "looks like a CRN" in p.message for p in problems)
    assert len(typed) == n
