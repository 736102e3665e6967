"""The workbooks: report.xlsx (published: headline, settings, warnings and the published tables, formatted for an
Excel user) and caseload.xlsx (practitioners and the allocation, case-level, kept in the run folder), byte-identical
between identical runs."""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workload.outcomes import CELL_LABELS
from workload.output import FLOAT_FORMAT
from workload.report.formats import with_units
from workload.report.xlsx import WORKBOOK_TIME, Sheet, Styles, write_workbook_xml
from workload.safety import escape_formulas

PUBLISHED_TABLES = (
    "totals",
    "outcomes_by_group",
    "equity",
    "sensitivity",
    "baseline_rules",
    "grade_utilisation",
    "pdus",
    "partner_contracts",
)
"""Tables that go into report.xlsx (aggregates only; case-level tables stay in the CSVs)."""


def workbook_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A published table as the workbook shows it: units in the headers, numbers at the CSVs' precision
    (10 significant figures, so the workbook is byte-identical whenever the CSVs are, whatever the order
    sums were taken in), and no text cell that a spreadsheet would run as a formula."""
    frame = frame.copy()
    for name in [c for c, dtype in frame.dtypes.items() if dtype.kind == "f"]:
        values = frame[name].to_numpy(dtype=float)
        frame[name] = np.array([float(FLOAT_FORMAT % v) for v in values.tolist()], dtype=float)
    return escape_formulas(with_units(frame))


def number_format(header: str) -> str | None:
    """The Excel number format of a column, by its header as :func:`~workload.report.formats.with_units` writes
    it (or a practitioners' or allocation sheet's column name): money to the pound with a minus sign, shares as
    percentages, ratios to two decimals, hours whole, workload % to one decimal."""
    if "(GBP/yr)" in header:
        return '"£"#,##0;-"£"#,##0'
    if "(share)" in header:
        return "0.0%"
    if "(ratio)" in header:
        return "0.00"
    if "pct" in header:
        return "0.0"
    if "hours" in header or "(h/yr)" in header or "(h/case/yr)" in header:
        return "#,##0"
    if "(FTE)" in header:
        return "0.0"
    if "(cases)" in header or "(people)" in header:
        return "#,##0"
    return None


def formatted_workbook(path: Path, sheets: dict[str, pd.DataFrame], notes: list[str], index: bool = True) -> None:
    """A workbook an Excel user can send on: a notes sheet first, then one sheet per table with a bold, frozen,
    wrapped header, filters, column widths and number formats (:func:`number_format`; by row in a table indexed by
    "figure"). Written a column at a time (:mod:`workload.report.xlsx`) with fixed dates, so the bytes depend only
    on the tables."""
    styles = Styles()
    note = Sheet("notes", ["note"], [escape_formulas(pd.DataFrame({"note": notes}))["note"].to_numpy()])
    note.widths = [120.0]
    book = [note]
    for name, frame in sheets.items():
        frame = escape_formulas(frame)
        header = ([str(frame.index.name or "")] if index else []) + [str(c) for c in frame.columns]
        columns = ([frame.index.to_numpy()] if index else []) + [
            frame.iloc[:, j].to_numpy() for j in range(frame.shape[1])
        ]
        sheet = Sheet(name[:31], header, columns)
        for j, (title, values) in enumerate(zip(header, columns, strict=True)):
            widest = max([min(len(title), 24)] + [len(str(v)) for v in values[:200].tolist()])
            sheet.widths[j] = float(min(max(10, widest + 2), 70))
            sheet.styles[j] = styles.of(number_format(title))
        if index and frame.index.name == "figure":  # one figure a row, each in its own unit
            by_row = np.array([styles.of(number_format(str(key))) for key in frame.index], dtype=int)
            sheet.styles[1:] = [by_row] * (len(header) - 1)
        sheet.freeze = "B2" if index else "A2"
        sheet.filter = True
        book.append(sheet)
    write_workbook_xml(path, book, styles)


def _headline(summary: dict[str, Any]) -> pd.DataFrame:
    """The headline as figure, today, reform and unit (numbers, not words, so a spreadsheet can use them)."""
    base, reform = summary["baseline"], summary["reform"]
    cells = summary["cells"]

    rows = [
        {"figure": "Assessed need met (share)", "today": cells[base]["coverage"], "reform": cells[reform]["coverage"]},
        {"figure": "Unmet need (h/yr)", "today": cells[base]["unmet_hours"], "reform": cells[reform]["unmet_hours"]},
        {
            "figure": "Women: assessed need met (share)",
            "today": summary["coverage_women"].get(base),
            "reform": summary["coverage_women"].get(reform),
        },
        {
            "figure": "Low risk, complex needs: need met (share)",
            "today": summary["coverage_low_risk_complex"].get(base),
            "reform": summary["coverage_low_risk_complex"].get(reform),
        },
        {
            "figure": "Whole-life cost (GBP/yr)",
            "today": cells[base]["whole_life_cost"],
            "reform": cells[reform]["whole_life_cost"],
        },
        {"figure": "Cases moved (cases)", "today": 0, "reform": cells[reform].get("moved")},
        {
            "figure": "Practitioners in the red band (people)",
            "today": summary.get("practitioners_red_baseline"),
            "reform": summary.get("practitioners_red_reform"),
        },
        {
            "figure": "Public-protection minimums short (h/yr)",
            "today": None,
            "reform": summary.get("statutory_shortfall_hours"),
        },
        {"figure": "Hours planned above capacity (h/yr)", "today": None, "reform": summary.get("overflow_hours")},
    ]
    frame = pd.DataFrame(rows).set_index("figure")
    frame["reform minus today"] = pd.to_numeric(frame["reform"], errors="coerce") - pd.to_numeric(
        frame["today"], errors="coerce"
    )
    return frame


def _settings(resolved: dict[str, Any]) -> pd.DataFrame:
    rows = [
        {"setting": f"{section}.{name}", "value": "" if value is None else str(value)}
        for section in ("policy", "output")
        for name, value in resolved.get(section, {}).items()
    ]
    rows += [
        {"setting": f"parameter {path}", "value": str(value)}
        for path, value in sorted(resolved.get("parameters_overridden", {}).items())
    ]
    return pd.DataFrame(rows).set_index("setting")


def _rounded(frame: pd.DataFrame) -> pd.DataFrame:
    """Floats at the CSVs' precision, so the workbook is byte-identical whenever the CSVs are."""
    frame = frame.copy()
    for name in [c for c, dtype in frame.dtypes.items() if dtype.kind == "f"]:
        values = frame[name].to_numpy(dtype=float)
        frame[name] = np.array([float(FLOAT_FORMAT % v) for v in values.tolist()], dtype=float)
    return frame


def write_workbook(result: Any, xlsx_path: Path, resolved: dict[str, Any]) -> None:
    """report.xlsx, published like report.html (aggregates only, under the disclosure rule): notes, the headline,
    settings, warnings and one sheet per published table; stamped so identical runs give identical bytes."""
    summary = result.summary
    threshold = summary["suppression_threshold"]
    notes = [
        f"Scenario: {summary['scenario']}",
        (
            f"Groups counting fewer than {threshold} cases are never shown alone: they are pooled into '(small groups)' "
            "('(small PDUs)'), or, if the pool is still too small, into the largest group, so no small group can be "
            "worked out from any total. A figure that comes from fewer cases than that (partner hours, the children's "
            "cost, excess hours, moves, public-protection shortfall), and the figures it could be worked out from, are "
            "left blank."
        ),
        (
            "Hours are practitioner hours per case per year; coverage is the share of assessed need met; money is GBP a "
            "year; a disparity ratio is a group's coverage over the whole caseload's."
        ),
        "Cells: " + "; ".join(f"{k} = {v}" for k, v in CELL_LABELS.items()),
        (
            "Practitioners and the allocation of each case are in caseload.xlsx in the run folder: case-level, "
            "pseudonymous, not for publication."
        ),
    ]
    sheets = {
        "headline": _rounded(_headline(summary)),
        "settings": _settings(resolved),
        "warnings": pd.DataFrame({"warning": list(result.warnings) or ["none"]}).rename_axis("n"),
    }
    for name in PUBLISHED_TABLES:
        if name in result.tables:
            sheets[name] = workbook_table(result.tables[name])
    formatted_workbook(xlsx_path, sheets, notes)


PRACTITIONER_COLUMNS = [
    "pdu",
    "grade",
    "workload_pct",
    "wmt_flag",
    "workload_pct_baseline",
    "wmt_flag_baseline",
    "workload_pct_reform",
    "wmt_flag_reform",
    "capacity_hours",
    "allocated_hours",
    "overflow_hours",
    "utilisation_baseline",
    "utilisation",
]
"""The practitioners sheet: workload % and flag today, after today's allocation and under the reform, and hours."""


CASELOAD_NOTES = [
    (
        "Case-level and practitioner-level data (pseudonymous ids), like cases.csv, allocations.csv and "
        "practitioners.csv: keep it in the run folder and do not publish it. report.xlsx holds the published tables."
    ),
    (
        "practitioners: WMT workload % (points over available points) today on the screen, after today's way of "
        "allocating the new cases (baseline) and under the reform; hours a year and the share of capacity used."
    ),
    (
        "allocation: each case's practitioner and partner under the reform, hours a year, public-protection minimum "
        "and shortfall, whether it moved (1) and why."
    ),
]
"""The notes sheet of caseload.xlsx."""


def write_caseload_workbook(result: Any, xlsx_path: Path) -> None:
    """caseload.xlsx: practitioners (today and reform) and the reform's allocation of every case, with moves and
    their reasons. Case-level like cases.csv and allocations.csv: pseudonymous ids, kept in the run folder, not
    published (docs/model.md, 'Small cells')."""
    write_caseload_sheets(caseload_sheets(result), xlsx_path)


def caseload_sheets(result: Any) -> dict[str, pd.DataFrame]:
    """The sheets of caseload.xlsx (practitioners, allocation), as :func:`write_caseload_sheets` writes them."""
    practitioners = result.practitioners[[c for c in PRACTITIONER_COLUMNS if c in result.practitioners.columns]]
    practitioners = practitioners.rename(
        columns={"utilisation": "utilisation (share)", "utilisation_baseline": "utilisation_baseline (share)"}
    )
    return {"practitioners": _rounded(practitioners), "allocation": _rounded(result.tables["allocations"])}


def write_caseload_sheets(sheets: dict[str, pd.DataFrame], xlsx_path: Path) -> None:
    """Write caseload.xlsx from :func:`caseload_sheets` (a plain function of frames, so a worker process can)."""
    formatted_workbook(xlsx_path, sheets, CASELOAD_NOTES)


def _stamp_workbook(path: Path) -> None:
    """Rewrite a workbook written by another writer so that it depends only on its contents: every zip entry dated 1980-01-01 (the
    zip format's earliest date) and the document's created and modified times set to :data:`WORKBOOK_TIME`."""
    with zipfile.ZipFile(path) as book:
        entries = [(info.filename, book.read(info)) for info in book.infolist()]
    stamped = path.with_name(path.name + ".stamped")
    with zipfile.ZipFile(stamped, "w") as book:
        for name, data in entries:
            if name == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:(created|modified)\b[^>]*>)[^<]*(</dcterms:\2>)",
                    rb"\g<1>" + WORKBOOK_TIME.encode() + rb"\g<3>",
                    data,
                )
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # as written on Unix, whatever the platform (the bytes also need the same zlib)
            book.writestr(info, data)
    os.replace(stamped, path)
