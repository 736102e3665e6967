"""Checking tables: one table's header and cells against its row model, and the checks across tables
(duplicate ids, current practitioners, PDUs with nobody to hold their cases, partners' PDUs).

Every check is vectorised over rows: a column is factorised and converted once per distinct value
(:mod:`workload.load.converters`), and only the bad cells, at most
:data:`workload.load.limits.MAX_PROBLEMS_PER_COLUMN` a column, are turned into problems one by one.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from workload.load import limits
from workload.load.converters import convert_uniques, default_column, factorize
from workload.load.personal import (
    PEOPLE_MODELS,
    PERSONAL_COLUMN_CODE,
    looks_like_personal_column,
    personal_column_message,
)
from workload.load.problems import Problem, cell_problems, column_letters
from workload.load.schema import ROW_RULES, ColumnRule, column_rules, normal_name, number_text
from workload.scenario import TABLE_KEYS

# ----------------------------------------------------------------------------------------------------------
# one table


def _suggest_column(col: str, known: list[str]) -> str:
    normal = normal_name(col)
    if normal in known:
        return f"did you mean {normal}?"
    close = difflib.get_close_matches(col, known, n=1, cutoff=0.6) or difflib.get_close_matches(
        normal, known, n=1, cutoff=0.6
    )
    return f"did you mean {close[0]}?" if close else f"allowed columns are {', '.join(known)}"


def _header_problems(
    frame: pd.DataFrame, rules: list[ColumnRule], label: str, people: bool
) -> tuple[list[Problem], bool]:
    """Problems with the header (unknown, personal, duplicate, unnamed and missing columns) and the table's
    size, and whether its cells can be checked (it has rows, and not more than any caseload). Columns with no
    name and no values (Excel leaves them) are ignored."""
    problems: list[Problem] = []
    known = [r.name for r in rules]
    columns = [str(c) for c in frame.columns]
    for i, col in enumerate(columns):
        if col in known:
            continue
        if col == "":
            cells = frame.iloc[:, i].astype(str).str.strip()
            filled = np.flatnonzero((cells != "").to_numpy())
            if len(filled):
                first = int(spreadsheet_rows(frame)[filled[0]])
                message = (
                    f"has no name in the header but holds values (first on row {first}); name the column or delete it"
                )
                problems.append(
                    Problem(label, message, column=f"{column_letters(i)} (unnamed)", code="header.unnamed_column")
                )
            continue
        if people and looks_like_personal_column(normal_name(col)):
            problems.append(Problem(label, personal_column_message(col), column=col, code=PERSONAL_COLUMN_CODE))
            continue
        problems.append(
            Problem(
                label,
                f"is not a column of this table; {_suggest_column(col, known)}",
                column=col,
                code="header.unknown_column",
            )
        )
    seen: set[str] = set()
    dupes: set[str] = set()
    for col in columns:
        if col != "" and col in seen:
            dupes.add(col)
        seen.add(col)
    for col in sorted(dupes):
        problems.append(
            Problem(label, "appears more than once in the header", column=col, code="header.duplicate_column")
        )
    missing = [r.name for r in rules if r.required and r.name not in columns]
    for name in missing:
        problems.append(
            Problem(
                label, "is a required column and is missing from the header", column=name, code="header.missing_column"
            )
        )
    if len(frame) == 0:
        problems.append(Problem(label, "has a header but no data rows", code="table.no_rows"))
    if len(frame) > limits.MAX_ROWS:
        problems.append(
            Problem(
                label,
                f"has {len(frame):,} rows, more than any real caseload (limit {limits.MAX_ROWS:,}; "
                "England and Wales supervise about 240,000 people)",
                code="table.too_many_rows",
            )
        )
    checkable = not (len(frame) == 0 or len(frame) > limits.MAX_ROWS)
    return problems, checkable


def spreadsheet_rows(frame: pd.DataFrame) -> np.ndarray:
    """Each row's number as a spreadsheet shows it: the frame's index when read from a file, else 2, 3, ..."""
    index = frame.index
    if isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1:
        return np.arange(2, len(frame) + 2)
    return np.asarray(index, dtype=np.int64)


def check_table(frame: pd.DataFrame, model: type[BaseModel], label: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Check every cell of a table against its row model; return the typed table and every problem.

    The typed table has one column per model field: enums as strings (or small ints for 0/1/2 scores),
    numbers as floats or ints, lists as tuples, blanks of optional columns as their default. Its index is
    each row's spreadsheet row number (as :func:`workload.load.readers.read_table` gives it, else 2, 3, ...).
    """
    rules = column_rules(model)
    problems, checkable = _header_problems(frame, rules, label, people=model in PEOPLE_MODELS)
    if not checkable:
        return pd.DataFrame(), problems
    columns = [str(c) for c in frame.columns]
    repeated = {c for c in columns if columns.count(c) > 1}
    whole = not any((r.required and r.name not in columns) or r.name in repeated for r in rules)

    n = len(frame)
    rows = spreadsheet_rows(frame)
    convention = str(frame.attrs.get("numbers", "point"))
    typed: dict[str, Any] = {}
    bad_cells: dict[str, np.ndarray] = {}
    for rule in rules:
        if rule.name not in frame.columns or rule.name in repeated:
            if not rule.required:
                typed[rule.name] = default_column(rule, n)
            bad_cells[rule.name] = np.zeros(n, dtype=bool)
            continue
        codes, uniques = factorize(frame[rule.name])
        conv = convert_uniques(uniques, rule, convention)
        bad = conv.bad[codes]
        blank = conv.blank[codes]
        if rule.required and blank.any():
            problems += cell_problems(
                label,
                rule.name,
                rows[blank],
                uniques[codes[blank]],
                f"is blank; expected {rule.allowed()}",
                "cell.blank",
            )
        bad &= ~blank
        if bad.any():
            which = codes[bad]
            problems += cell_problems(
                label, rule.name, rows[bad], uniques[which], conv.reasons[which], conv.codes[which], conv.hidden[which]
            )
        typed[rule.name] = conv.values[codes]
        bad_cells[rule.name] = bad | (blank & rule.required)
    result = pd.DataFrame(typed, index=pd.Index(rows))
    problems += _row_rule_problems(model, result, bad_cells, label)
    # a header with a required column missing or a column twice: the cells that could be read are checked
    # (every problem in one pass), but the table is not used further
    return (result if whole else pd.DataFrame()), problems


def _row_rule_problems(
    model: type[BaseModel], typed: pd.DataFrame, bad_cells: dict[str, np.ndarray], label: str
) -> list[Problem]:
    """Problems with rules across the columns of a row (:data:`workload.load.schema.ROW_RULES`)."""
    problems: list[Problem] = []
    rows = typed.index.to_numpy()
    cap = limits.MAX_PROBLEMS_PER_COLUMN
    for rule in ROW_RULES:
        if rule.model is not model or rule.column not in typed or rule.limit not in typed:
            continue
        value, limit = typed[rule.column].to_numpy(), typed[rule.limit].to_numpy()
        broken = (value > limit) & ~bad_cells[rule.column] & ~bad_cells[rule.limit]
        for r, v, lim in zip(rows[broken][:cap], value[broken], limit[broken]):
            message = f"{number_text(v)} is more than {rule.limit} ({number_text(lim)}); {rule.why}"
            problems.append(Problem(label, message, row=int(r), column=rule.column, code="row.over_limit"))
        more = int(broken.sum()) - cap
        if more > 0:
            problems.append(
                Problem(label, f"and {more} more rows with the same problem", column=rule.column, code="row.over_limit")
            )
    return problems


# ----------------------------------------------------------------------------------------------------------
# across tables


def _duplicate_problems(frame: pd.DataFrame, key: str, label: str) -> list[Problem]:
    ids = frame[key]
    dup = ids.duplicated(keep="first").to_numpy() & ids.notna().to_numpy()
    if not dup.any():
        return []
    cap = limits.MAX_PROBLEMS_PER_COLUMN
    rows = frame.index.to_numpy()
    first_row = pd.Series(rows, index=ids.to_numpy()).groupby(level=0).min()
    out = [
        Problem(
            label,
            f"is a duplicate id; it first appears on row {int(first_row[v])}. Each {key} must be unique",
            row=int(r),
            column=key,
            code="table.duplicate_id",
            value=str(v),
        )
        for v, r in zip(ids.to_numpy()[dup][:cap], rows[dup][:cap])
    ]
    if dup.sum() > cap:
        out.append(
            Problem(label, f"and {int(dup.sum()) - cap} more duplicate ids", column=key, code="table.duplicate_id")
        )
    return out


def cross_checks(
    frames: dict[str, pd.DataFrame], labels: dict[str, str], holding_grades: Sequence[str] = ("PO", "PSO", "PQiP")
) -> list[Problem]:
    """Checks across tables: duplicate ids, current practitioners that do not exist or sit in another PDU,
    PDUs with cases but nobody to hold them (``holding_grades``: the grades whose
    ``allocation.capacity.grade_share`` is above 0), partners serving PDUs that do not exist."""
    problems: list[Problem] = []
    cases, staff = frames["cases"], frames["practitioners"]
    cap = limits.MAX_PROBLEMS_PER_COLUMN
    for key, frame in frames.items():
        if not frame.empty:
            problems += _duplicate_problems(frame, TABLE_KEYS[key], labels[key])

    staff_pdu = dict(zip(staff["practitioner_id"], staff["pdu"]))
    current = cases["current_practitioner_id"]
    held = current.notna().to_numpy()
    rows = cases.index.to_numpy()
    known = current.isin(list(staff_pdu)).to_numpy(dtype=bool)
    unknown = held & ~known
    if unknown.any():
        problems += cell_problems(
            labels["cases"],
            "current_practitioner_id",
            rows[unknown],
            current.to_numpy()[unknown],
            f"is not a practitioner_id in {labels['practitioners']}; leave it blank for an unallocated case",
            "cross.unknown_practitioner",
        )
    their_pdu = current.map(staff_pdu).to_numpy(dtype=object)
    own_pdu = cases["pdu"].to_numpy(dtype=object)
    # a PDU cell already refused (blank in the typed table) is not compared again
    elsewhere = held & known & pd.notna(their_pdu) & pd.notna(own_pdu) & (their_pdu != own_pdu)
    if elsewhere.any():
        # the id is quoted in the message as it always was (whole, not cut at 40 characters): ids are short
        # and printable, so it needs no escaping
        for r, p, own, theirs in zip(
            rows[elsewhere][:cap],
            current.to_numpy()[elsewhere],
            cases["pdu"].to_numpy()[elsewhere],
            their_pdu[elsewhere],
        ):
            problems.append(
                Problem(
                    labels["cases"],
                    f'"{p}" works in PDU "{theirs}" but the case is in PDU "{own}"; a case is held within its own PDU',
                    row=int(r),
                    column="current_practitioner_id",
                    code="cross.practitioner_in_other_pdu",
                )
            )
        if elsewhere.sum() > cap:
            problems.append(
                Problem(
                    labels["cases"],
                    f"and {int(elsewhere.sum()) - cap} more rows with the same problem",
                    column="current_practitioner_id",
                    code="cross.practitioner_in_other_pdu",
                )
            )

    case_pdus = set(cases["pdu"].dropna())
    can_hold = staff[staff["grade"].astype(str).isin(list(holding_grades))]
    grades = list(holding_grades)
    who = (
        f"{', '.join(grades[:-1])} or {grades[-1]}"
        if len(grades) > 1
        else "".join(grades) or "none: no grade holds cases"
    )
    staff_pdus = set(can_hold["pdu"])
    counts = cases["pdu"].value_counts()
    for pdu in sorted(case_pdus - staff_pdus):
        n = int(counts[pdu])
        problems.append(
            Problem(
                labels["cases"],
                f'PDU "{pdu}" has {n} cases but no practitioner who can hold cases ({who}) in {labels["practitioners"]}',
                column="pdu",
                code="cross.pdu_without_practitioners",
            )
        )
    partners = frames.get("partners")
    if partners is not None and not partners.empty:
        all_pdus = case_pdus | set(staff["pdu"])
        for r, served in zip(partners.index.to_numpy(), partners["pdus"]):
            strange = [p for p in served if p not in all_pdus]
            if strange:
                problems.append(
                    Problem(
                        labels["partners"],
                        f"serves PDU {', '.join(repr(s) for s in strange)}, which has no cases or practitioners; known PDUs are {', '.join(sorted(all_pdus)[:12])}",
                        row=int(r),
                        column="pdus",
                        code="cross.unknown_pdu",
                    )
                )
    return problems
