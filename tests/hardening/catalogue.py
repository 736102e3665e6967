"""A catalogue of bad inputs, as data: each entry breaks the tiny fixture in one small way and names the
problems the loader must report, in order, each as the CLI prints it (``file, row N, column C: message``).

An expected problem is exact unless it contains "…", which stands for any text (used to elide long lists
of allowed values). Rows are numbered as a spreadsheet shows them: the header is row 1.

The edits are a small language over the fixture's files (see :class:`Edit` and :func:`apply`), so a new bad
input is one more line of data, not one more test function.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PSEUDO = (
    "Scenarios must be pseudonymised: remove names, dates of birth, addresses and CRN/PNC numbers, and use an "
    "opaque case_id (a lookup to the real record stays with you, outside this tool)"
)
"""The pseudonymisation advice every personal-data message ends with."""


@dataclass(frozen=True)
class Edit:
    """One small change to a scenario folder.

    ops: ``set`` a cell (``row`` as a spreadsheet numbers it, ``column`` by name); ``drop``, ``rename`` or
    ``add`` a column; ``append`` a row (``value`` a list of cells); ``line`` replaces spreadsheet row ``row``
    with the raw text ``value``; ``insert`` puts raw text ``value`` before row ``row``; ``replace`` bytes
    ``old`` by ``value``; ``write`` the whole file (bytes or text); ``european`` re-saves a CSV as Excel does
    in much of Europe (';', decimal commas, BOM, CRLF); ``tabs`` re-saves it tab-separated; ``xlsx`` saves it
    as a workbook beside it (same name, .xlsx); ``toml`` replaces ``old`` by ``value`` in
    scenario.toml (or appends ``value`` when ``old`` is None); ``mkdir``; ``symlink`` makes ``file`` point
    at ``value``; ``copy`` copies ``old`` to ``file``; ``limit`` sets ``workload.load.limits.<column>`` to ``value``.
    """

    op: str
    file: str = ""
    row: int | None = None
    column: str | None = None
    value: Any = None
    old: Any = None


def set_cell(file: str, row: int, column: str, value: str) -> Edit:
    return Edit("set", file, row=row, column=column, value=value)


def drop(file: str, column: str) -> Edit:
    return Edit("drop", file, column=column)


def rename(file: str, column: str, new: str) -> Edit:
    return Edit("rename", file, column=column, value=new)


def add(file: str, column: str, value: str) -> Edit:
    return Edit("add", file, column=column, value=value)


def toml(old: str | None, new: str) -> Edit:
    return Edit("toml", "scenario.toml", old=old, value=new)


def limit(name: str, value: int) -> Edit:
    return Edit("limit", column=name, value=value)


@dataclass(frozen=True)
class BadInput:
    """One catalogue entry: what it breaks, how, and every problem it must give (in order)."""

    id: str
    kind: str
    edits: tuple[Edit, ...]
    problems: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class AwkwardInput:
    """A file that looks odd but is fine (Excel quirks and the like): it must load, and ``check`` holds."""

    id: str
    edits: tuple[Edit, ...]
    check: tuple[tuple[str, str, str, Any], ...] = field(default=())
    """(table, id, column, expected value) read from the loaded scenario."""


def B(id: str, kind: str, edits: Edit | tuple[Edit, ...], *problems: str, note: str = "") -> BadInput:
    return BadInput(id, kind, edits if isinstance(edits, tuple) else (edits,), tuple(problems), note)


TIERS = "one of A3, A2, A1, A0, B3, B2, B1, B0, C3, C2, C1, C0, D3, D2, D1, D0, A3S, …, D0S, untiered"
ID = "an identifier of letters, digits, '_', '.' or '-' (no spaces), at most 64 characters"
SPECIALISMS = (
    "a ';'-separated list, each one of women, substance_misuse, sex_work, domestic_abuse, mental_health, young_adults"
)
CASE_COLUMNS = (
    "case_id, pdu, sex, ethnicity, case_type, tier, rosh, mappa_level, months_on_order, accommodation, ete, finance, "
    "relationships, lifestyle, drugs, alcohol, emotional_wellbeing, thinking_behaviour, attitudes, domestic_abuse_victim, "
    "sexual_violence_victim, sex_work, dependent_children, pregnant, self_harm_history, suicide_attempt_history, "
    "care_experienced, overdose_history, breach_recall_12m, rsr_pct, reoffending_likelihood_pct, complexity_registrations, impulsivity_or_temper, valid_assessment, current_practitioner_id"
)

CATALOGUE: tuple[BadInput, ...] = (
    # --- wrong types ----------------------------------------------------------------------------------
    B(
        "months-as-words",
        "wrong type",
        set_cell("cases.csv", 2, "months_on_order", "soon"),
        'cases.csv, row 2, column months_on_order: "soon" is not allowed; expected a number at least 0 and at most 600',
    ),
    B(
        "hours-as-words",
        "wrong type",
        set_cell("practitioners.csv", 3, "contracted_hours_per_week", "full time"),
        'practitioners.csv, row 3, column contracted_hours_per_week: "full time" is not allowed; expected a number more than 0 and at most 60',
    ),
    B(
        "mappa-fraction",
        "wrong type",
        set_cell("cases.csv", 3, "mappa_level", "1.5"),
        'cases.csv, row 3, column mappa_level: "1.5" is not allowed; expected a whole number at least 0 and at most 3',
    ),
    B(
        "reports-as-word",
        "wrong type",
        set_cell("practitioners.csv", 2, "standard_reports_30d", "two"),
        'practitioners.csv, row 2, column standard_reports_30d: "two" is not allowed; expected a whole number at least 0 and at most 100',
    ),
    B(
        "price-with-pound-sign",
        "wrong type",
        set_cell("partners.csv", 2, "price_per_hour", "£25"),
        'partners.csv, row 2, column price_per_hour: "£25" is not allowed; expected a number at least 0 and at most 1000',
    ),
    B(
        "severity-as-word",
        "wrong type",
        set_cell("cases.csv", 2, "drugs", "high"),
        'cases.csv, row 2, column drugs: "high" is not allowed; expected one of 0, 1, 2',
    ),
    B(
        "flag-maybe",
        "wrong type",
        set_cell("cases.csv", 2, "pregnant", "maybe"),
        'cases.csv, row 2, column pregnant: "maybe" is not allowed; expected one of 0, 1 (true/false and yes/no also accepted)',
    ),
    B(
        "flag-two",
        "wrong type",
        set_cell("partners.csv", 2, "women_only", "2"),
        'partners.csv, row 2, column women_only: "2" is not allowed; expected one of 0, 1 (true/false and yes/no also accepted)',
    ),
    B(
        "thousands-separator",
        "wrong type",
        set_cell("partners.csv", 2, "contract_hours_per_year", "1,500"),
        'partners.csv, row 2, column contract_hours_per_year: "1,500" is not a number written with a decimal point and no '
        "thousands separators; expected a number at least 0 and at most 1000000",
        note="was read as 1.5 hours: a ',' CSV never has decimal commas",
    ),
    B(
        "infinite-months",
        "wrong type",
        set_cell("cases.csv", 4, "months_on_order", "inf"),
        'cases.csv, row 4, column months_on_order: "inf" is not allowed; expected a number at least 0 and at most 600',
    ),
    B(
        "blank-required-enum",
        "wrong type",
        set_cell("cases.csv", 4, "rosh", ""),
        'cases.csv, row 4, column rosh: "" is blank; expected one of low, medium, high, very_high',
    ),
    B(
        "blank-required-list",
        "wrong type",
        set_cell("partners.csv", 2, "need_areas", " "),
        "partners.csv, row 2, column need_areas: \"\" is blank; expected a ';'-separated list, each one of accommodation, …",
    ),
    B(
        "formula-in-free-text",
        "wrong type",
        set_cell("cases.csv", 3, "ethnicity", '=HYPERLINK("http://x","y")'),
        'cases.csv, row 3, column ethnicity: "=HYPERLINK("http://x","y")" starts with \'=\', so a spreadsheet would run it '
        "as a formula when the results are opened; remove that first character",
        note="new check: free text is copied into report.xlsx and CSVs",
    ),
    B(
        "formula-plus",
        "wrong type",
        set_cell("cases.csv", 2, "ethnicity", "+44 20 7946 0000"),
        "cases.csv, row 2, column ethnicity: \"+44 20 7946 0000\" starts with '+', so a spreadsheet would run it as a formula "
        "when the results are opened; remove that first character",
    ),
    B(
        "control-character-in-free-text",
        "wrong type",
        set_cell("cases.csv", 2, "ethnicity", "White\tBritish"),
        'cases.csv, row 2, column ethnicity: "White\\tBritish" has a control character (a tab, line break or similar) in it; '
        "expected text of at most 40 characters",
    ),
    # --- unknown tiers, grades and other categories ---------------------------------------------------
    B(
        "tier-unknown",
        "unknown category",
        set_cell("cases.csv", 3, "tier", "E9"),
        f'cases.csv, row 3, column tier: "E9" is not a valid tier; expected {TIERS}',
    ),
    B(
        "tier-with-space",
        "unknown category",
        set_cell("cases.csv", 2, "tier", "C 2"),
        f'cases.csv, row 2, column tier: "C 2" is not a valid tier; expected {TIERS} (did you mean C2?)',
    ),
    B(
        "grade-unknown",
        "unknown category",
        set_cell("practitioners.csv", 2, "grade", "Manager"),
        'practitioners.csv, row 2, column grade: "Manager" is not a valid grade; expected one of PO, PSO, PQiP, SPO',
    ),
    B(
        "grade-with-dots",
        "unknown category",
        set_cell("practitioners.csv", 2, "grade", "P.O."),
        'practitioners.csv, row 2, column grade: "P.O." is not a valid grade; expected one of PO, PSO, PQiP, SPO (did you mean PO?)',
    ),
    B(
        "sex-initial",
        "unknown category",
        set_cell("cases.csv", 2, "sex", "F"),
        'cases.csv, row 2, column sex: "F" is not a valid sex; expected one of female, male, other, unknown',
    ),
    B(
        "case-type-unknown",
        "unknown category",
        set_cell("cases.csv", 4, "case_type", "prison"),
        'cases.csv, row 4, column case_type: "prison" is not a valid case type; expected one of community, licence, custody',
    ),
    B(
        "rosh-with-space",
        "unknown category",
        set_cell("cases.csv", 3, "rosh", "Very High"),
        'cases.csv, row 3, column rosh: "Very High" is not a valid rosh; expected one of low, medium, high, very_high (did you mean very_high?)',
    ),
    B(
        "specialism-unknown",
        "unknown category",
        set_cell("practitioners.csv", 3, "specialisms", "women;knitting"),
        f'practitioners.csv, row 3, column specialisms: "women;knitting" is not allowed; expected {SPECIALISMS}',
    ),
    B(
        "partner-kind-unknown",
        "unknown category",
        set_cell("partners.csv", 2, "kind", "charity"),
        'partners.csv, row 2, column kind: "charity" is not a valid kind; expected one of womens_centre, …, other',
    ),
    B(
        "need-area-unknown",
        "unknown category",
        set_cell("partners.csv", 2, "need_areas", "housing;drugs"),
        "partners.csv, row 2, column need_areas: \"housing;drugs\" is not allowed; expected a ';'-separated list, each one of accommodation, …",
    ),
    # --- negative or absurd hours ---------------------------------------------------------------------
    B(
        "hours-400-a-week",
        "hours",
        set_cell("practitioners.csv", 3, "contracted_hours_per_week", "400"),
        'practitioners.csv, row 3, column contracted_hours_per_week: "400" is not allowed; expected a number more than 0 and at most 60',
    ),
    B(
        "hours-zero",
        "hours",
        set_cell("practitioners.csv", 2, "contracted_hours_per_week", "0"),
        'practitioners.csv, row 2, column contracted_hours_per_week: "0" is not allowed; expected a number more than 0 and at most 60',
    ),
    B(
        "hours-negative",
        "hours",
        set_cell("practitioners.csv", 2, "contracted_hours_per_week", "-37"),
        'practitioners.csv, row 2, column contracted_hours_per_week: "-37" is not allowed; expected a number more than 0 and at most 60',
    ),
    B(
        "reduction-negative",
        "hours",
        set_cell("practitioners.csv", 3, "reduction_hours_per_week", "-2"),
        'practitioners.csv, row 3, column reduction_hours_per_week: "-2" is not allowed; expected a number at least 0 and at most 60',
    ),
    B(
        "reduction-over-contract",
        "hours",
        set_cell("practitioners.csv", 2, "reduction_hours_per_week", "40"),
        "practitioners.csv, row 2, column reduction_hours_per_week: 40 is more than contracted_hours_per_week (37); "
        "reductions come out of contracted hours",
        note="new check: gave negative available hours",
    ),
    B(
        "months-absurd",
        "hours",
        set_cell("cases.csv", 2, "months_on_order", "1200"),
        'cases.csv, row 2, column months_on_order: "1200" is not allowed; expected a number at least 0 and at most 600',
    ),
    B(
        "partner-hours-absurd",
        "hours",
        set_cell("partners.csv", 2, "contract_hours_per_year", "2000000"),
        'partners.csv, row 2, column contract_hours_per_year: "2000000" is not allowed; expected a number at least 0 and at most 1000000',
    ),
    B(
        "price-negative",
        "hours",
        set_cell("partners.csv", 2, "price_per_hour", "-5"),
        'partners.csv, row 2, column price_per_hour: "-5" is not allowed; expected a number at least 0 and at most 1000',
    ),
    B(
        "reports-absurd",
        "hours",
        set_cell("practitioners.csv", 3, "fast_reports_30d", "500"),
        'practitioners.csv, row 3, column fast_reports_30d: "500" is not allowed; expected a whole number at least 0 and at most 200',
    ),
    # --- identifiers ----------------------------------------------------------------------------------
    B(
        "duplicate-case-id",
        "duplicate id",
        set_cell("cases.csv", 4, "case_id", "C001"),
        'cases.csv, row 4, column case_id: "C001" is a duplicate id; it first appears on row 2. Each case_id must be unique',
    ),
    B(
        "duplicate-practitioner-id",
        "duplicate id",
        set_cell("practitioners.csv", 3, "practitioner_id", "P01"),
        'practitioners.csv, row 3, column practitioner_id: "P01" is a duplicate id; it first appears on row 2. Each practitioner_id must be unique',
        'cases.csv, row 4, column current_practitioner_id: "P02" is not a practitioner_id in practitioners.csv; leave it blank for an unallocated case',
    ),
    B(
        "duplicate-partner-id",
        "duplicate id",
        Edit("append", "partners.csv", value=["WC1", "PDU1", "housing", "100", "20", "accommodation", "0"]),
        'partners.csv, row 3, column partner_id: "WC1" is a duplicate id; it first appears on row 2. Each partner_id must be unique',
    ),
    B(
        "id-with-space",
        "identifier",
        set_cell("cases.csv", 2, "case_id", "C 001"),
        f'cases.csv, row 2, column case_id: "C 001" is not allowed; expected {ID}',
    ),
    B(
        "id-blank",
        "identifier",
        set_cell("cases.csv", 3, "case_id", ""),
        f'cases.csv, row 3, column case_id: "" is blank; expected {ID}',
    ),
    B(
        "id-too-long",
        "identifier",
        set_cell("cases.csv", 2, "case_id", "C" * 70),
        f'cases.csv, row 2, column case_id: "{"C" * 37}..." is not allowed; expected {ID}',
    ),
    # --- columns --------------------------------------------------------------------------------------
    B(
        "missing-rosh",
        "missing column",
        drop("cases.csv", "rosh"),
        "cases.csv, column rosh: is a required column and is missing from the header",
    ),
    B(
        "missing-grade",
        "missing column",
        drop("practitioners.csv", "grade"),
        "practitioners.csv, column grade: is a required column and is missing from the header",
    ),
    B(
        "missing-two",
        "missing column",
        (drop("cases.csv", "case_id"), drop("cases.csv", "pdu")),
        "cases.csv, column case_id: is a required column and is missing from the header",
        "cases.csv, column pdu: is a required column and is missing from the header",
    ),
    B(
        "column-typo",
        "unknown column",
        rename("cases.csv", "alcohol", "alcohl"),
        "cases.csv, column alcohl: is not a column of this table; did you mean alcohol?",
        "cases.csv, column alcohol: is a required column and is missing from the header",
    ),
    B(
        "column-capitalised",
        "unknown column",
        rename("cases.csv", "tier", "Tier"),
        "cases.csv, column Tier: is not a column of this table; did you mean tier?",
        "cases.csv, column tier: is a required column and is missing from the header",
    ),
    B(
        "column-with-spaces",
        "unknown column",
        rename("practitioners.csv", "contracted_hours_per_week", "Contracted Hours Per Week"),
        "practitioners.csv, column Contracted Hours Per Week: is not a column of this table; did you mean contracted_hours_per_week?",
        "practitioners.csv, column contracted_hours_per_week: is a required column and is missing from the header",
    ),
    B(
        "column-unknown",
        "unknown column",
        add("cases.csv", "notes", "x"),
        f"cases.csv, column notes: is not a column of this table; allowed columns are {CASE_COLUMNS}",
    ),
    B(
        "column-twice",
        "duplicate column",
        add("cases.csv", "tier", "D2"),
        "cases.csv, column tier: appears more than once in the header",
        note="pandas renamed the second to 'tier.1', giving a misleading 'did you mean tier?'",
    ),
    B(
        "column-unnamed-with-values",
        "unknown column",
        add("cases.csv", "", "x"),
        "cases.csv, column AE (unnamed): has no name in the header but holds values (first on row 2); name the column or delete it",
        note="was 'Unnamed: 31 is not a column'",
    ),
    # --- encodings and separators ---------------------------------------------------------------------
    B(
        "bom-with-blank-id",
        "BOM",
        (
            set_cell("cases.csv", 2, "case_id", ""),
            Edit("replace", "cases.csv", old=b"case_id", value=b"\xef\xbb\xbfcase_id"),
        ),
        f'cases.csv, row 2, column case_id: "" is blank; expected {ID}',
    ),
    B(
        "windows-1252-accent",
        "non-UTF-8",
        Edit("replace", "cases.csv", old=b"White", value=b"Wh\xe9te"),
        "cases.csv, row 2: is not UTF-8 text (byte 0xe9 on line 2); save it from Excel as 'CSV UTF-8 (Comma delimited)'",
    ),
    B(
        "windows-1252-pound",
        "non-UTF-8",
        Edit("replace", "partners.csv", old=b",25,", value=b",\xa325,"),
        "partners.csv, row 2: is not UTF-8 text (byte 0xa3 on line 2); save it from Excel as 'CSV UTF-8 (Comma delimited)'",
    ),
    B(
        "utf16-unicode-text",
        "non-UTF-8",
        Edit("write", "practitioners.csv", value="practitioner_id,pdu\r\nP01,PDU1\r\n".encode("utf-16")),
        "practitioners.csv: is UTF-16 text (Excel's 'Unicode Text'); save it from Excel as 'CSV UTF-8 (Comma delimited)'",
    ),
    B(
        "utf16-without-bom",
        "non-UTF-8",
        Edit("write", "practitioners.csv", value="practitioner_id,pdu\nP01,PDU1\n".encode("utf-16-le")),
        "practitioners.csv, row 1: contains NUL bytes, so it is not a text CSV (UTF-16, or a binary file?); save it from Excel "
        "as 'CSV UTF-8 (Comma delimited)'",
    ),
    B(
        "workbook-named-csv",
        "file format",
        Edit("write", "cases.csv", value=b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256))),
        "cases.csv: is a zip file (an Excel workbook?), not a CSV; give it the extension .xlsx, or save it as 'CSV UTF-8 (Comma delimited)'",
    ),
    B(
        "csv-named-xlsx",
        "file format",
        (Edit("copy", "cases.xlsx", old="cases.csv"), toml('cases = "cases.csv"', 'cases = "cases.xlsx"')),
        "cases.xlsx: could not be read as an Excel workbook (BadZipFile: File is not a zip file); is it really .xlsx?",
    ),
    B(
        "excel-workbook-bad-grade",
        "file format",
        (
            set_cell("practitioners.csv", 3, "grade", "Boss"),
            Edit("xlsx", "practitioners.csv"),
            toml('practitioners = "practitioners.csv"', 'practitioners = "practitioners.xlsx"'),
        ),
        'practitioners.xlsx, row 3, column grade: "Boss" is not a valid grade; expected one of PO, PSO, PQiP, SPO',
    ),
    B(
        "old-xls",
        "file format",
        (Edit("copy", "cases.xls", old="cases.csv"), toml('cases = "cases.csv"', 'cases = "cases.xls"')),
        "cases.xls: has extension '.xls'; tables must be .csv, .xlsx or .parquet",
    ),
    B(
        "semicolon-bad-grade",
        "semicolon CSV",
        (set_cell("practitioners.csv", 3, "grade", "Boss"), Edit("european", "practitioners.csv")),
        'practitioners.csv, row 3, column grade: "Boss" is not a valid grade; expected one of PO, PSO, PQiP, SPO',
    ),
    B(
        "semicolon-absurd-decimal",
        "semicolon CSV",
        (set_cell("practitioners.csv", 2, "contracted_hours_per_week", "400.5"), Edit("european", "practitioners.csv")),
        'practitioners.csv, row 2, column contracted_hours_per_week: "400,5" is not allowed; expected a number more than 0 and at most 60',
    ),
    B(
        "semicolon-thousands",
        "semicolon CSV",
        (set_cell("partners.csv", 2, "contract_hours_per_year", "1.000,5"), Edit("european", "partners.csv")),
        'partners.csv, row 2, column contract_hours_per_year: "1.000,5" is not a number written with a decimal comma and no '
        "thousands separators; expected a number at least 0 and at most 1000000",
    ),
    # --- malformed CSV ----------------------------------------------------------------------------------
    B(
        "row-too-long",
        "malformed CSV",
        Edit(
            "line",
            "cases.csv",
            row=3,
            value="C002,PDU1,male,Black,licence,B2,high,1,8,0,1,0,0,1,0,1,0,1,1,0,0,0,0,0,0,0,0,0,1,,extra",
        ),
        "cases.csv, row 3: has 31 cells but the header has 30: more cells than columns (a stray separator, or a cell with a "
        "separator in it that is not in quotes?)",
    ),
    B(
        "first-row-too-long",
        "malformed CSV",
        Edit("line", "practitioners.csv", row=2, value="P01,PDU1,PO,37,0,women,substance_misuse,1,0"),
        "practitioners.csv, row 2: has 9 cells but the header has 8: more cells than columns (a stray separator, or a cell "
        "with a separator in it that is not in quotes?)",
        note="pandas took the first column as the index and shifted every value one column left",
    ),
    B(
        "row-too-short",
        "malformed CSV",
        Edit("line", "practitioners.csv", row=3, value="P02,PDU1,PSO,30,1.8,0,1"),
        "practitioners.csv, row 3: has 7 cells but the header has 8: fewer cells than columns (a missing cell or separator?)",
        note="pandas padded the row, shifting the reports counts into the wrong columns",
    ),
    B(
        "quote-left-open",
        "malformed CSV",
        Edit("replace", "partners.csv", old=b"WC1,", value=b'"WC1,'),
        'partners.csv, row 2: has a quote (") that is never closed, so the rest of the file would be one cell; close the quote or remove it',
    ),
    B(
        "blank-lines-keep-row-numbers",
        "malformed CSV",
        (Edit("insert", "cases.csv", row=2, value=""), set_cell("cases.csv", 4, "tier", "E9")),
        f'cases.csv, row 4, column tier: "E9" is not a valid tier; expected {TIERS}',
        note="pandas skipped blank lines, so every later row number was one too small",
    ),
    # --- empty tables ---------------------------------------------------------------------------------
    B(
        "empty-file",
        "empty table",
        Edit("write", "cases.csv", value=b""),
        "cases.csv: is empty: it needs a header row and at least one data row",
    ),
    B(
        "only-blank-lines",
        "empty table",
        Edit("write", "partners.csv", value=b"\r\n\r\n  \r\n"),
        "partners.csv: is empty: it needs a header row and at least one data row",
    ),
    B(
        "header-only",
        "empty table",
        Edit("write", "practitioners.csv", value=b"practitioner_id,pdu,grade,contracted_hours_per_week\n"),
        "practitioners.csv: has a header but no data rows",
    ),
    B(
        "header-and-excel-blank-rows",
        "empty table",
        Edit("write", "practitioners.csv", value=b"practitioner_id,pdu,grade,contracted_hours_per_week\n,,,\n,,,\n"),
        "practitioners.csv: has a header but no data rows",
    ),
    # --- across tables --------------------------------------------------------------------------------
    B(
        "pdu-without-practitioners",
        "PDU without practitioners",
        set_cell("cases.csv", 3, "pdu", "PDU9"),
        'cases.csv, column pdu: PDU "PDU9" has 1 cases but no practitioner who can hold cases (PO, PSO or PQiP) in practitioners.csv',
    ),
    B(
        "pdu-with-only-seniors",
        "PDU without practitioners",
        (set_cell("practitioners.csv", 2, "grade", "SPO"), set_cell("practitioners.csv", 3, "grade", "SPO")),
        'cases.csv, column pdu: PDU "PDU1" has 3 cases but no practitioner who can hold cases (PO, PSO or PQiP) in practitioners.csv',
    ),
    B(
        "current-practitioner-elsewhere",
        "practitioner in another PDU",
        set_cell("practitioners.csv", 3, "pdu", "PDU2"),
        'cases.csv, row 4, column current_practitioner_id: "P02" works in PDU "PDU2" but the case is in PDU "PDU1"; a case is held within its own PDU',
    ),
    B(
        "current-practitioner-unknown",
        "cross-table",
        set_cell("cases.csv", 2, "current_practitioner_id", "P99"),
        'cases.csv, row 2, column current_practitioner_id: "P99" is not a practitioner_id in practitioners.csv; leave it blank for an unallocated case',
    ),
    B(
        "partner-serves-unknown-pdu",
        "cross-table",
        set_cell("partners.csv", 2, "pdus", "PDU1;Atlantis"),
        "partners.csv, row 2, column pdus: serves PDU 'Atlantis', which has no cases or practitioners; known PDUs are PDU1",
    ),
    # --- parameter overrides --------------------------------------------------------------------------
    B(
        "parameter-unknown",
        "unknown parameter",
        toml(None, '\n[parameters]\n"wmt.red_pc" = 120\n'),
        "scenario.toml: [parameters]: wmt.red_pc is not a parameter; did you mean wmt.red_pct? (docs/parameters.md lists them all)",
    ),
    B(
        "parameter-unknown-nested",
        "unknown parameter",
        toml(None, "\n[parameters.wmt]\nnominal_targt = 2000\n"),
        "scenario.toml: [parameters]: wmt.nominal_targt is not a parameter; did you mean wmt.nominal_target? (docs/parameters.md lists them all)",
    ),
    B(
        "parameter-wrong-type",
        "unknown parameter",
        toml(None, '\n[parameters]\n"wmt.red_pct" = "high"\n'),
        "scenario.toml: [parameters]: parameter wmt.red_pct must be a number (the default is 110); found 'high'",
    ),
    B(
        "parameter-nan",
        "unknown parameter",
        toml(None, '\n[parameters]\n"wmt.red_pct" = nan\n'),
        "scenario.toml: [parameters]: parameter wmt.red_pct must be a finite number; found nan",
    ),
    # --- scenario.toml --------------------------------------------------------------------------------
    B(
        "toml-unclosed-table",
        "TOML syntax",
        Edit("write", "scenario.toml", value='name = "x"\n[tables\ncases = "cases.csv"\n'),
        "scenario.toml, row 2: is not valid TOML: Expected ']' at the end of a table declaration (at line 2, column 8)",
    ),
    B(
        "toml-late-error",
        "TOML syntax",
        toml(None, "\n[policy]\nexact = yes\n"),
        "scenario.toml, row 9: is not valid TOML: Invalid value (at line 9, column 9)",
    ),
    B(
        "toml-not-utf8",
        "TOML syntax",
        Edit("write", "scenario.toml", value=b'name = "caf\xe9"\n'),
        "scenario.toml: is not UTF-8 text; save it as UTF-8",
    ),
    B(
        "toml-empty",
        "scenario settings",
        Edit("write", "scenario.toml", value=b""),
        "scenario.toml: name: Field required",
        "scenario.toml: tables: Field required",
    ),
    B(
        "setting-typo",
        "scenario settings",
        toml('name = "tiny"', 'name = "tiny"\nseeed = 3'),
        "scenario.toml: seeed is not a setting; did you mean seed?",
    ),
    B(
        "policy-setting-typo",
        "scenario settings",
        toml(None, "\n[policy]\ncontinuity_penality = 3\n"),
        "scenario.toml: policy.continuity_penality is not a setting; did you mean continuity_penalty?",
    ),
    B(
        "policy-bad-choice",
        "scenario settings",
        toml(None, '\n[policy]\nsolver = "gurobi"\n'),
        "scenario.toml: policy.solver: Input should be 'highs', 'pulp-highs' or 'pulp-cbc' (found 'gurobi')",
    ),
    B(
        "policy-infinite-penalty",
        "scenario settings",
        toml(None, "\n[policy]\ncontinuity_penalty = inf\n"),
        "scenario.toml: policy.continuity_penalty: Input should be a finite number (found inf)",
        note="scenario.py accepted inf, which would make the allocator's objective infinite",
    ),
    B(
        "seed-as-word",
        "scenario settings",
        toml('name = "tiny"', 'name = "tiny"\nseed = "one"'),
        "scenario.toml: seed: Input should be a valid integer, unable to parse string as an integer (found 'one')",
    ),
    # --- table paths ----------------------------------------------------------------------------------
    B(
        "path-dotdot",
        "path escape",
        toml('cases = "cases.csv"', 'cases = "../cases.csv"'),
        "scenario.toml: tables path '../cases.csv' leads outside the scenario folder; keep tables beside scenario.toml",
    ),
    B(
        "path-deep-dotdot",
        "path escape",
        toml('cases = "cases.csv"', 'cases = "sub/../../../etc/passwd"'),
        "scenario.toml: tables path 'sub/../../../etc/passwd' leads outside the scenario folder; keep tables beside scenario.toml",
    ),
    B(
        "path-absolute",
        "path escape",
        toml('cases = "cases.csv"', 'cases = "/etc/passwd"'),
        "scenario.toml: tables path '/etc/passwd' is absolute; give a path relative to scenario.toml, inside its folder",
    ),
    B(
        "path-symlink-out",
        "path escape",
        (Edit("symlink", "linked.csv", value="../../outside.csv"), toml('cases = "cases.csv"', 'cases = "linked.csv"')),
        "scenario.toml: tables path 'linked.csv' leads outside the scenario folder; keep tables beside scenario.toml",
    ),
    B(
        "path-nul",
        "path escape",
        toml('cases = "cases.csv"', 'cases = "cases.csv\\u0000.txt"'),
        "scenario.toml: tables path 'cases.csv\\x00.txt' has a control character in it",
        note="crashed with ValueError: embedded null byte",
    ),
    B(
        "path-missing-file",
        "table path",
        toml('partners = "partners.csv"', 'partners = "agencies.csv"'),
        "agencies.csv: file not found (looked for …/agencies.csv)",
    ),
    B(
        "path-blank",
        "table path",
        toml('cases = "cases.csv"', 'cases = ""'),
        'scenario.toml: a tables path is blank; give the table\'s file name, e.g. "cases.csv"',
        note="was reported against the scenario folder's own name",
    ),
    B(
        "path-is-folder",
        "table path",
        (Edit("mkdir", "data"), toml('cases = "cases.csv"', 'cases = "data"')),
        "data: is a folder, not a table file",
    ),
    B(
        "path-same-file-twice",
        "table path",
        toml('practitioners = "practitioners.csv"', 'practitioners = "cases.csv"'),
        "scenario.toml: tables.practitioners names the same file as tables.cases ('cases.csv'); each table needs its own file",
    ),
    # --- too large ------------------------------------------------------------------------------------
    B(
        "too-many-rows",
        "too large",
        limit("MAX_ROWS", 2),
        "cases.csv: has 3 rows, more than any real caseload (limit 2; England and Wales supervise about 240,000 people)",
    ),
    B(
        "file-too-big",
        "too large",
        limit("MAX_FILE_BYTES", 500),
        "cases.csv: is 641 bytes, larger than any real caseload table (limit 500 bytes)",
        note="the message said '0.0 GB ... (limit 1 GB)' whatever the limit",
    ),
    # --- personal data: column names ------------------------------------------------------------------
    B(
        "column-surname",
        "personal data",
        add("cases.csv", "surname", "x"),
        f"cases.csv, column surname: looks like personal data ('surname'). {PSEUDO}",
    ),
    B(
        "column-date-of-birth",
        "personal data",
        add("cases.csv", "Date of Birth", "1990-01-01"),
        f"cases.csv, column Date of Birth: looks like personal data ('Date of Birth'). {PSEUDO}",
    ),
    B(
        "column-dob-with-format",
        "personal data",
        add("cases.csv", "DOB (dd/mm/yyyy)", "01/01/1990"),
        f"cases.csv, column DOB (dd/mm/yyyy): looks like personal data ('DOB (dd/mm/yyyy)'). {PSEUDO}",
    ),
    B(
        "column-crn",
        "personal data",
        add("cases.csv", "CRN", "X123456"),
        f"cases.csv, column CRN: looks like personal data ('CRN'). {PSEUDO}",
    ),
    B(
        "column-pnc-number",
        "personal data",
        add("cases.csv", "PNC Number", "2004/0123456A"),
        f"cases.csv, column PNC Number: looks like personal data ('PNC Number'). {PSEUDO}",
    ),
    B(
        "column-home-address",
        "personal data",
        add("cases.csv", "Home Address", "1 High St"),
        f"cases.csv, column Home Address: looks like personal data ('Home Address'). {PSEUDO}",
    ),
    B(
        "column-offender-name",
        "personal data",
        add("cases.csv", "offender_name", "x"),
        f"cases.csv, column offender_name: looks like personal data ('offender_name'). {PSEUDO}",
    ),
    B(
        "column-staff-name",
        "personal data",
        add("practitioners.csv", "Officer Name", "x"),
        f"practitioners.csv, column Officer Name: looks like personal data ('Officer Name'). {PSEUDO}",
    ),
    # --- personal data: values in id columns ----------------------------------------------------------
    B(
        "value-crn",
        "personal data",
        set_cell("cases.csv", 2, "case_id", "X123456"),
        f"cases.csv, row 2, column case_id: looks like a CRN (a letter and six digits), which is personal data (value not shown). {PSEUDO}",
    ),
    B(
        "value-pnc",
        "personal data",
        set_cell("cases.csv", 3, "case_id", "2004/0123456A"),
        f"cases.csv, row 3, column case_id: looks like a PNC number (year/number and a check letter), which is personal data (value not shown). {PSEUDO}",
    ),
    B(
        "value-date-of-birth",
        "personal data",
        set_cell("cases.csv", 4, "case_id", "1990-01-31"),
        f"cases.csv, row 4, column case_id: looks like a date (of birth?), which is personal data (value not shown). {PSEUDO}",
    ),
    B(
        "value-excel-date",
        "personal data",
        set_cell("cases.csv", 2, "case_id", "31-Jan-1990"),
        f"cases.csv, row 2, column case_id: looks like a date (of birth?), which is personal data (value not shown). {PSEUDO}",
    ),
    B(
        "value-nomis",
        "personal data",
        set_cell("cases.csv", 2, "case_id", "A1234BC"),
        f"cases.csv, row 2, column case_id: looks like a prison (NOMIS) number, which is personal data (value not shown). {PSEUDO}",
    ),
    B(
        "value-ni-number",
        "personal data",
        set_cell("cases.csv", 2, "case_id", "AB123456C"),
        f"cases.csv, row 2, column case_id: looks like a National Insurance number, which is personal data (value not shown). {PSEUDO}",
    ),
    B(
        "value-crn-as-current-practitioner",
        "personal data",
        set_cell("cases.csv", 2, "current_practitioner_id", "X654321"),
        f"cases.csv, row 2, column current_practitioner_id: looks like a CRN (a letter and six digits), which is personal data (value not shown). {PSEUDO}",
    ),
)
"""Every bad input: at least one of each kind the issue lists."""


REQUIRED_KINDS = frozenset(
    {
        "wrong type",
        "unknown category",
        "hours",
        "duplicate id",
        "missing column",
        "unknown column",
        "BOM",
        "non-UTF-8",
        "semicolon CSV",
        "empty table",
        "PDU without practitioners",
        "practitioner in another PDU",
        "unknown parameter",
        "TOML syntax",
        "path escape",
        "too large",
        "personal data",
    }
)
"""The kinds of bad input issue 9 names; the catalogue must hold each."""


AWKWARD: tuple[AwkwardInput, ...] = (
    AwkwardInput(
        "utf8-bom",
        (Edit("replace", "cases.csv", old=b"case_id,", value=b"\xef\xbb\xbfcase_id,"),),
        (("cases", "C001", "tier", "D1"),),
    ),
    AwkwardInput(
        "european-excel",
        (Edit("european", "practitioners.csv"),),
        (
            ("practitioners", "P02", "reduction_hours_per_week", 1.8),
            ("practitioners", "P01", "specialisms", ("women", "substance_misuse")),
        ),
    ),
    AwkwardInput("tab-separated", (Edit("tabs", "cases.csv"),), (("cases", "C002", "rosh", "high"),)),
    AwkwardInput(
        "crlf-line-ends",
        (Edit("replace", "cases.csv", old=b"\n", value=b"\r\n"),),
        (("cases", "C003", "months_on_order", 14.0),),
    ),
    AwkwardInput(
        "old-mac-line-ends",
        (Edit("replace", "partners.csv", old=b"\n", value=b"\r"),),
        (("partners", "WC1", "price_per_hour", 25.0),),
    ),
    AwkwardInput(
        "excel-trailing-blank-columns-and-rows",
        (add("practitioners.csv", "", ""), Edit("append", "practitioners.csv", value=[""] * 9)),
        (("practitioners", "P02", "grade", "PSO"),),
    ),
    AwkwardInput(
        "blank-lines-between-rows",
        (Edit("insert", "cases.csv", row=3, value=""), Edit("insert", "cases.csv", row=2, value="")),
        (("cases", "C003", "current_practitioner_id", "P02"),),
    ),
    AwkwardInput(
        "header-after-blank-lines",
        (Edit("insert", "partners.csv", row=1, value=""),),
        (("partners", "WC1", "kind", "womens_centre"),),
    ),
    AwkwardInput(
        "spaces-and-capitals",
        (
            set_cell("cases.csv", 2, "tier", " d1 "),
            set_cell("cases.csv", 2, "sex", "Female"),
            set_cell("cases.csv", 2, "pregnant", "YES"),
        ),
        (("cases", "C001", "tier", "D1"), ("cases", "C001", "sex", "female"), ("cases", "C001", "pregnant", 1)),
    ),
    AwkwardInput(
        "quoted-separator-in-text",
        (set_cell("cases.csv", 3, "ethnicity", 'White, "British"'),),
        (("cases", "C002", "ethnicity", 'White, "British"'),),
    ),
    AwkwardInput(
        "quote-inside-unquoted-cell",
        (Edit("replace", "cases.csv", old=b"Black", value=b'Bl"ack'),),
        (("cases", "C002", "ethnicity", 'Bl"ack'),),
    ),
    AwkwardInput(
        "excel-workbook",
        (
            Edit("xlsx", "practitioners.csv"),
            toml('practitioners = "practitioners.csv"', 'practitioners = "practitioners.xlsx"'),
        ),
        (("practitioners", "P02", "reduction_hours_per_week", 1.8),),
    ),
)
"""Inputs that look odd but must load: Excel's habits, other line ends, separators and encodings we accept."""


# ------------------------------------------------------------------------------------------------------
# applying edits


def _read_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def _write_rows(path: Path, rows: list[list[str]], delimiter: str = ",", lineterminator: str = "\n") -> None:
    buf = io.StringIO(newline="")
    csv.writer(buf, delimiter=delimiter, lineterminator=lineterminator).writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")


def _european(rows: list[list[str]]) -> list[list[str]]:
    def cell(text: str) -> str:
        if ";" in text:
            return text.replace(";", "|")  # lists: Excel users use '|' when ';' separates cells
        try:
            float(text)
        except ValueError:
            return text
        return text.replace(".", ",")

    return [rows[0]] + [[cell(c) for c in row] for row in rows[1:]]


def apply(edits: tuple[Edit, ...], folder: Path, monkeypatch: Any) -> None:
    """Carry out ``edits`` on the scenario folder (a writable copy of tests/fixtures/tiny)."""
    for e in edits:
        path = folder / e.file
        if e.op == "set":
            rows = _read_rows(path)
            rows[e.row - 1][rows[0].index(e.column)] = e.value
            _write_rows(path, rows)
        elif e.op == "drop":
            rows = _read_rows(path)
            i = rows[0].index(e.column)
            _write_rows(path, [r[:i] + r[i + 1 :] for r in rows])
        elif e.op == "rename":
            rows = _read_rows(path)
            rows[0][rows[0].index(e.column)] = e.value
            _write_rows(path, rows)
        elif e.op == "add":
            rows = _read_rows(path)
            _write_rows(path, [rows[0] + [e.column]] + [r + [e.value] for r in rows[1:]])
        elif e.op == "append":
            _write_rows(path, _read_rows(path) + [list(e.value)])
        elif e.op in ("line", "insert"):
            lines = path.read_text(encoding="utf-8").split("\n")
            if e.op == "line":
                lines[e.row - 1] = e.value
            else:
                lines.insert(e.row - 1, e.value)
            path.write_text("\n".join(lines), encoding="utf-8")
        elif e.op == "replace":
            data = path.read_bytes()
            assert e.old in data, f"{e.file} has no {e.old!r} to replace"
            path.write_bytes(data.replace(e.old, e.value))
        elif e.op == "write":
            path.write_bytes(e.value if isinstance(e.value, bytes) else e.value.encode("utf-8"))
        elif e.op == "european":
            _write_rows(path, _european(_read_rows(path)), delimiter=";", lineterminator="\r\n")
            path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
        elif e.op == "tabs":
            _write_rows(path, _read_rows(path), delimiter="\t")
        elif e.op == "xlsx":
            import pandas as pd

            rows = _read_rows(path)
            pd.DataFrame(rows[1:], columns=rows[0]).to_excel(path.with_suffix(".xlsx"), index=False)
        elif e.op == "toml":
            text = path.read_text(encoding="utf-8")
            if e.old is None:
                text += e.value
            else:
                assert e.old in text, f"scenario.toml has no {e.old!r}"
                text = text.replace(e.old, e.value)
            path.write_text(text, encoding="utf-8")
        elif e.op == "mkdir":
            path.mkdir()
        elif e.op == "symlink":
            os.symlink(e.value, path)
        elif e.op == "copy":
            path.write_bytes((folder / e.old).read_bytes())
        elif e.op == "limit":
            import workload.load.limits

            monkeypatch.setattr(workload.load.limits, e.column, e.value)
        else:
            raise ValueError(f"unknown edit {e.op!r}")


def matches(expected: str, line: str) -> bool:
    """Whether a problem line is the expected one; "…" in ``expected`` stands for any text."""
    parts = expected.split("…")
    if len(parts) == 1:
        return line == expected
    if not line.startswith(parts[0]):
        return False
    at = len(parts[0])
    for part in parts[1:-1]:
        found = line.find(part, at)
        if found < 0:
            return False
        at = found + len(part)
    return line.endswith(parts[-1]) and len(line) - len(parts[-1]) >= at
