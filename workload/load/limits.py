"""The loader's limits: how large a scenario's files may be before they are refused, and how many bad cells
are listed.

The loader's modules read these as ``limits.NAME`` when they run, so a test may lower one with
``monkeypatch.setattr(workload.load.limits, "MAX_ROWS", 2)``.
"""

from __future__ import annotations

MAX_ROWS = 2_000_000
"""A table longer than this is refused as too large to be real (England and Wales supervise ~240,000)."""

MAX_FILE_BYTES = 1_000_000_000
"""A table file larger than this (1 GB) is refused before it is read."""

MAX_COLUMNS = 1_000
"""A table with a value further right than this many columns is refused (the widest table has 30 columns): in
a workbook such a value is a stray cell, and padding every row out to it would fill memory."""

EXCEL_MAX_ROWS = 1_048_576
"""Excel's last row: a workbook with rows past it is not one Excel wrote (and would be read without end)."""

MAX_XLSX_UNZIPPED_BYTES = 2_000_000_000
"""A workbook whose parts would unzip to more than this (2 GB) is refused before it is opened: 250,000 cases
unzip to about 300 MB, a sheet full to Excel's last row (1,048,576) of cases to about 1.3 GB, and a zip bomb to
far more."""

MAX_XLSX_PART_BYTES = 200_000_000
"""A workbook part other than a sheet or an image (shared strings, styles...) that would unzip to more than this
(200 MB) is refused: openpyxl reads such parts whole into memory, where sheets are streamed row by row."""

MAX_XLSX_STYLES_BYTES = 10_000_000
"""A workbook whose styles part (xl/styles.xml) would unzip to more than this (10 MB) is refused before openpyxl
reads it whole: real workbooks' styles are well under 1 MB, and millions of formats take minutes and gigabytes."""

MAX_XLSX_SHARED_STRINGS_BYTES = 64_000_000
"""A workbook whose shared strings part would unzip to more than this (64 MB) is refused before openpyxl reads it
whole (into a list of Python strings): a synthetic 250,000-case workbook's distinct strings come to about 6 MB."""

MAX_SPEC_BYTES = 10_000_000
"""A scenario.toml larger than this (10 MB; a real one is a few KB) is refused before it is read."""

MAX_PROBLEMS_PER_COLUMN = 20
"""Past this many bad cells in one column, the rest are counted, not listed."""

MAX_PARQUET_UNCOMPRESSED_BYTES = 4_000_000_000
"""A Parquet table whose row groups would decompress to more than this (4 GB, by its footer) is refused before
its data is read: 250,000 cases take about 100 MB uncompressed."""
