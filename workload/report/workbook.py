"""report.xlsx: the published tables as a workbook an Excel user can send on, byte-identical between identical runs."""

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
from workload.safety import escape_formulas

PUBLISHED_TABLES = (
    "totals",
    "outcomes_by_group",
    "equity",
    "sensitivity",
    "baseline_rules",
    "grade_utilisation",
    "pdus",
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


def write_workbook(result: Any, xlsx_path: Path) -> None:
    """report.xlsx: a notes sheet and one sheet per published table, stamped so identical runs give identical bytes."""
    with pd.ExcelWriter(xlsx_path, engine="openpyxl") as writer:
        notes = pd.DataFrame(
            {
                "note": [
                    f"Scenario: {result.summary['scenario']}",
                    f"Groups counting fewer than {result.summary['suppression_threshold']} cases are never shown alone: they are pooled into '(small groups)' ('(small PDUs)'), or, if the pool is still too small, into the largest group, so no small group can be worked out from any total. A figure that comes from fewer cases than that (partner hours, the children's cost, excess hours, moves, public-protection shortfall), and the figures it could be worked out from, are left blank.",
                    "Hours are practitioner hours per case per year; coverage is the share of assessed need met.",
                    "Cells: " + "; ".join(f"{k} = {v}" for k, v in CELL_LABELS.items()),
                ]
            }
        )
        escape_formulas(notes).to_excel(writer, sheet_name="notes", index=False)
        for name in PUBLISHED_TABLES:
            if name in result.tables:
                workbook_table(result.tables[name]).to_excel(writer, sheet_name=name[:31])
    _stamp_workbook(xlsx_path)


WORKBOOK_TIME = "2000-01-01T00:00:00Z"
"""The created/modified time written into report.xlsx: a fixed one, so identical runs give identical
bytes (the run's real time is in manifest.json)."""


def _stamp_workbook(path: Path) -> None:
    """Rewrite a workbook so that it depends only on its contents: every zip entry dated 1980-01-01 (the
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
