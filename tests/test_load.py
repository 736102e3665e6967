"""Validation: every rule gives its exact message, naming file, row (as a spreadsheet shows it) and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import read_raw, write_raw
from workload.load import ScenarioError, load_scenario


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(folder)
    return [str(p) for p in info.value.problems]


def test_valid_fixture_loads_with_typed_columns(tiny: Path) -> None:
    s = load_scenario(tiny / "scenario.toml")
    assert list(s.cases.index) == ["C001", "C002", "C003"]
    assert s.cases.loc["C001", "drugs"] == 2
    assert s.cases.loc["C002", "current_practitioner_id"] is None or s.cases["current_practitioner_id"].isna()["C002"]
    assert s.practitioners.loc["P01", "specialisms"] == ("women", "substance_misuse")
    assert s.practitioners.loc["P02", "reduction_hours_per_week"] == pytest.approx(1.8)
    assert s.partners.loc["WC1", "need_areas"][0] == "domestic_abuse_victim"
    assert s.pdus == ["PDU1"]


def test_folder_or_toml_path_both_work(tiny: Path) -> None:
    assert len(load_scenario(tiny).cases) == len(load_scenario(tiny / "scenario.toml").cases) == 3


@pytest.mark.parametrize(
    "table, row, column, value, message",
    [
        (
            "cases.csv",
            1,
            "tier",
            "E9",
            'cases.csv, row 3, column tier: "E9" is not a valid tier; expected one of A3, A2',
        ),
        (
            "cases.csv",
            0,
            "sex",
            "F",
            'cases.csv, row 2, column sex: "F" is not a valid sex; expected one of female, male, other, unknown',
        ),
        (
            "cases.csv",
            2,
            "case_type",
            "prison",
            'cases.csv, row 4, column case_type: "prison" is not a valid case type; expected one of community, licence, custody',
        ),
        ("cases.csv", 0, "drugs", "3", 'cases.csv, row 2, column drugs: "3" is not allowed; expected one of 0, 1, 2'),
        (
            "cases.csv",
            0,
            "pregnant",
            "maybe",
            'cases.csv, row 2, column pregnant: "maybe" is not allowed; expected one of 0, 1 (true/false and yes/no also accepted)',
        ),
        (
            "cases.csv",
            1,
            "mappa_level",
            "4",
            'cases.csv, row 3, column mappa_level: "4" is not allowed; expected a whole number at least 0 and at most 3',
        ),
        (
            "cases.csv",
            1,
            "mappa_level",
            "1.5",
            'cases.csv, row 3, column mappa_level: "1.5" is not allowed; expected a whole number at least 0 and at most 3',
        ),
        (
            "cases.csv",
            0,
            "months_on_order",
            "-2",
            'cases.csv, row 2, column months_on_order: "-2" is not allowed; expected a number at least 0 and at most 600',
        ),
        (
            "cases.csv",
            0,
            "months_on_order",
            "soon",
            'cases.csv, row 2, column months_on_order: "soon" is not allowed; expected a number at least 0 and at most 600',
        ),
        (
            "cases.csv",
            0,
            "case_id",
            "C 001",
            'cases.csv, row 2, column case_id: "C 001" is not allowed; expected an identifier',
        ),
        (
            "cases.csv",
            2,
            "rosh",
            "",
            'cases.csv, row 4, column rosh: "" is blank; expected one of low, medium, high, very_high',
        ),
        (
            "practitioners.csv",
            0,
            "grade",
            "Manager",
            'practitioners.csv, row 2, column grade: "Manager" is not a valid grade; expected one of PO, PSO, PQiP, SPO',
        ),
        (
            "practitioners.csv",
            1,
            "contracted_hours_per_week",
            "400",
            'practitioners.csv, row 3, column contracted_hours_per_week: "400" is not allowed; expected a number more than 0 and at most 60',
        ),
        (
            "practitioners.csv",
            1,
            "specialisms",
            "women;knitting",
            "practitioners.csv, row 3, column specialisms: \"women;knitting\" is not allowed; expected a ';'-separated list, each one of women, substance_misuse",
        ),
        (
            "practitioners.csv",
            0,
            "standard_reports_30d",
            "-1",
            'practitioners.csv, row 2, column standard_reports_30d: "-1" is not allowed; expected a whole number at least 0 and at most 100',
        ),
        (
            "partners.csv",
            0,
            "need_areas",
            "",
            "partners.csv, row 2, column need_areas: \"\" is blank; expected a ';'-separated list",
        ),
        (
            "partners.csv",
            0,
            "women_only",
            "2",
            'partners.csv, row 2, column women_only: "2" is not allowed; expected one of 0, 1',
        ),
    ],
)
def test_each_cell_rule_names_file_row_column_value_and_allowed(tiny: Path, table, row, column, value, message) -> None:
    frame = read_raw(tiny, table)
    frame.loc[row, column] = value
    write_raw(frame, tiny, table)
    found = problems_of(tiny)
    assert any(p.startswith(message) for p in found), found


def test_every_planted_error_is_reported_in_one_pass(tiny: Path) -> None:
    cases = read_raw(tiny, "cases.csv")
    cases.loc[0, "tier"] = "Z1"
    cases.loc[1, "sex"] = "woman"
    cases.loc[2, "drugs"] = "7"
    write_raw(cases, tiny, "cases.csv")
    staff = read_raw(tiny, "practitioners.csv")
    staff.loc[1, "grade"] = "Boss"
    write_raw(staff, tiny, "practitioners.csv")
    found = problems_of(tiny)
    assert len(found) == 4
    assert {p.split(":")[0] for p in found} == {
        "cases.csv, row 2, column tier",
        "cases.csv, row 3, column sex",
        "cases.csv, row 4, column drugs",
        "practitioners.csv, row 3, column grade",
    }


def test_flags_accept_words(tiny: Path) -> None:
    cases = read_raw(tiny, "cases.csv")
    cases.loc[0, "pregnant"] = "Yes"
    cases.loc[1, "sex_work"] = "false"
    cases.loc[2, "tier"] = "d1"  # case is normalised
    write_raw(cases, tiny, "cases.csv")
    s = load_scenario(tiny)
    assert s.cases.loc["C001", "pregnant"] == 1 and s.cases.loc["C002", "sex_work"] == 0
    assert s.cases.loc["C003", "tier"] == "D1"


def test_missing_required_column(tiny: Path) -> None:
    cases = read_raw(tiny, "cases.csv").drop(columns=["rosh"])
    write_raw(cases, tiny, "cases.csv")
    assert "cases.csv, column rosh: is a required column and is missing from the header" in problems_of(tiny)


def test_unknown_column_suggests_nearest(tiny: Path) -> None:
    cases = read_raw(tiny, "cases.csv").rename(columns={"alcohol": "alcohl"})
    write_raw(cases, tiny, "cases.csv")
    found = problems_of(tiny)
    assert "cases.csv, column alcohl: is not a column of this table; did you mean alcohol?" in found


def test_personal_data_columns_are_refused(tiny: Path) -> None:
    cases = read_raw(tiny, "cases.csv")
    cases["Date of Birth"] = "1990-01-01"
    cases["surname"] = "x"
    write_raw(cases, tiny, "cases.csv")
    found = problems_of(tiny)
    assert sum("looks like personal data" in p and "pseudonymised" in p for p in found) == 2


def test_duplicate_ids(tiny: Path) -> None:
    cases = read_raw(tiny, "cases.csv")
    cases.loc[2, "case_id"] = "C001"
    write_raw(cases, tiny, "cases.csv")
    assert (
        'cases.csv, row 4, column case_id: "C001" is a duplicate id; it first appears on row 2. Each case_id must be unique'
        in problems_of(tiny)
    )


def test_current_practitioner_must_exist(tiny: Path) -> None:
    cases = read_raw(tiny, "cases.csv")
    cases.loc[0, "current_practitioner_id"] = "P99"
    write_raw(cases, tiny, "cases.csv")
    assert (
        'cases.csv, row 2, column current_practitioner_id: "P99" is not a practitioner_id in practitioners.csv; '
        "leave it blank for an unallocated case" in problems_of(tiny)
    )


def test_current_practitioner_in_another_pdu(tiny: Path) -> None:
    staff = read_raw(tiny, "practitioners.csv")
    staff.loc[1, "pdu"] = "PDU2"
    write_raw(staff, tiny, "practitioners.csv")
    assert (
        'cases.csv, row 4, column current_practitioner_id: "P02" works in PDU "PDU2" but the case is in PDU "PDU1"; '
        "a case is held within its own PDU" in problems_of(tiny)
    )


def test_pdu_with_cases_but_no_practitioners(tiny: Path) -> None:
    cases = read_raw(tiny, "cases.csv")
    cases.loc[1, "pdu"] = "PDU9"
    write_raw(cases, tiny, "cases.csv")
    found = problems_of(tiny)
    assert (
        'cases.csv, column pdu: PDU "PDU9" has 1 cases but no practitioner who can hold cases (PO, PSO or PQiP) in practitioners.csv'
        in found
    )


def test_partner_serving_unknown_pdu(tiny: Path) -> None:
    partners = read_raw(tiny, "partners.csv")
    partners.loc[0, "pdus"] = "PDU1;Atlantis"
    write_raw(partners, tiny, "partners.csv")
    assert any(p.startswith("partners.csv, row 2, column pdus: serves PDU 'Atlantis'") for p in problems_of(tiny))


def test_bom_and_semicolon_csv_from_european_excel(tiny: Path) -> None:
    text = (tiny / "practitioners.csv").read_text()
    text = text.replace(",", ";").replace("women;substance_misuse", "women|substance_misuse").replace("1.8", "1,8")
    (tiny / "practitioners.csv").write_bytes(b"\xef\xbb\xbf" + text.encode())
    s = load_scenario(tiny)
    assert s.practitioners.loc["P02", "reduction_hours_per_week"] == pytest.approx(1.8)
    assert s.practitioners.loc["P01", "specialisms"] == ("women", "substance_misuse")


def test_non_utf8_csv(tiny: Path) -> None:
    (tiny / "cases.csv").write_bytes((tiny / "cases.csv").read_bytes().replace(b"White", b"Wh\xe9te"))
    found = problems_of(tiny)
    assert found == [
        "cases.csv, row 2: is not UTF-8 text (byte 0xe9 on line 2); save it from Excel as 'CSV UTF-8 (Comma delimited)'"
    ]


def test_empty_and_header_only_tables(tiny: Path) -> None:
    (tiny / "partners.csv").write_text("")
    header = (tiny / "cases.csv").read_text().splitlines()[0]
    (tiny / "cases.csv").write_text(header + "\n")
    found = problems_of(tiny)
    assert "partners.csv: is empty: it needs a header row and at least one data row" in found
    assert "cases.csv: has a header but no data rows" in found


def test_toml_syntax_error_has_line(tiny: Path) -> None:
    (tiny / "scenario.toml").write_text('name = "x"\n[tables\ncases = "cases.csv"\n')
    (found,) = problems_of(tiny)
    assert found.startswith("scenario.toml, row 2: is not valid TOML")


def test_unknown_setting_suggests_nearest(tiny: Path) -> None:
    text = (tiny / "scenario.toml").read_text() + "\n[policy]\ncontinuity_penality = 3\n"
    (tiny / "scenario.toml").write_text(text)
    assert problems_of(tiny) == [
        "scenario.toml: policy.continuity_penality is not a setting; did you mean continuity_penalty?"
    ]


def test_unknown_parameter_override_names_nearest(tiny: Path) -> None:
    text = (tiny / "scenario.toml").read_text() + '\n[parameters]\n"wmt.red_pc" = 120\n'
    (tiny / "scenario.toml").write_text(text)
    assert problems_of(tiny) == [
        "scenario.toml: [parameters]: wmt.red_pc is not a parameter; did you mean wmt.red_pct? (docs/parameters.md lists them all)"
    ]


def test_parameter_override_must_keep_type(tiny: Path) -> None:
    text = (tiny / "scenario.toml").read_text() + '\n[parameters]\n"wmt.red_pct" = "high"\n'
    (tiny / "scenario.toml").write_text(text)
    assert problems_of(tiny) == [
        "scenario.toml: [parameters]: parameter wmt.red_pct must be a number (the default is 110); found 'high'"
    ]


def test_parameter_override_applies(tiny: Path) -> None:
    text = (tiny / "scenario.toml").read_text() + "\n[parameters.wmt.weights.community]\nD1 = 40\n"
    (tiny / "scenario.toml").write_text(text)
    s = load_scenario(tiny)
    assert s.params["wmt.weights.community.D1"] == 40
    assert s.params.overridden == ("wmt.weights.community.D1",)


def test_table_path_escaping_folder(tiny: Path) -> None:
    text = (tiny / "scenario.toml").read_text().replace('cases = "cases.csv"', 'cases = "../../etc/cases.csv"')
    (tiny / "scenario.toml").write_text(text)
    assert problems_of(tiny) == [
        "scenario.toml: tables path '../../etc/cases.csv' leads outside the scenario folder; keep tables beside scenario.toml"
    ]


def test_missing_table_file(tiny: Path) -> None:
    (tiny / "partners.csv").unlink()
    (found,) = problems_of(tiny)
    assert found.startswith("partners.csv: file not found")


def test_xlsx_tables_load(tiny: Path) -> None:
    frame = read_raw(tiny, "practitioners.csv")
    frame.to_excel(tiny / "practitioners.xlsx", index=False)
    text = (tiny / "scenario.toml").read_text().replace("practitioners.csv", "practitioners.xlsx")
    (tiny / "scenario.toml").write_text(text)
    s = load_scenario(tiny)
    assert s.practitioners.loc["P01", "contracted_hours_per_week"] == 37


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        (
            "rsr_pct",
            "101",
            'cases.csv, row 2, column rsr_pct: "101" is not allowed; expected a number at least 0 and at most 100',
        ),
        (
            "complexity_registrations",
            "2.5",
            (
                'cases.csv, row 2, column complexity_registrations: "2.5" is not allowed; expected a whole number at '
                "least 0 and at most 10"
            ),
        ),
        (
            "impulsivity_or_temper",
            "some",
            'cases.csv, row 2, column impulsivity_or_temper: "some" is not allowed; expected one of 0, 1',
        ),
        (
            "valid_assessment",
            "maybe",
            'cases.csv, row 2, column valid_assessment: "maybe" is not allowed; expected one of 0, 1',
        ),
    ],
)
def test_the_protect_level_columns_are_checked(tiny: Path, column: str, value: str, message: str) -> None:
    cases = read_raw(tiny, "cases.csv")
    cases[column] = ""
    cases.loc[0, column] = value
    write_raw(cases, tiny, "cases.csv")
    found = problems_of(tiny)
    assert any(p.startswith(message) for p in found), found


def test_the_protect_level_columns_are_optional_with_their_defaults(tiny: Path) -> None:
    s = load_scenario(tiny)
    assert s.cases["rsr_pct"].tolist() == [0.0] * len(s.cases)
    assert s.cases["complexity_registrations"].tolist() == [0] * len(s.cases)
    assert s.cases["impulsivity_or_temper"].tolist() == [0] * len(s.cases)
    assert s.cases["valid_assessment"].tolist() == [1] * len(s.cases)
    cases = read_raw(tiny, "cases.csv")
    cases["rsr_pct"] = ["7.5", "", "99.99"]
    cases["complexity_registrations"] = ["3", "", "0"]
    cases["valid_assessment"] = ["0", "", "no"]
    write_raw(cases, tiny, "cases.csv")
    s = load_scenario(tiny)
    assert s.cases["rsr_pct"].tolist() == [7.5, 0.0, 99.99]
    assert s.cases["complexity_registrations"].tolist() == [3, 0, 0]
    assert s.cases["valid_assessment"].tolist() == [0, 1, 0]
