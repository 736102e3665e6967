"""Load and validate a scenario: every problem found in one pass, each pointing at file, row and column.

Tables are checked column by column against the pydantic row models in :mod:`workload.scenario` (their types,
enums and bounds are read from the models, so the models stay the single definition of the format), with
vectorised pandas checks: a 250,000-row case table validates in about a second, where validating row by row
through pydantic would take many. Rows are numbered as a spreadsheet shows them: the header is row 1, so the
first case is row 2.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from enum import Enum, IntEnum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import BaseModel, ValidationError

from workload.params import ParameterError, Parameters, load_parameters
from workload.scenario import TABLE_KEYS, TABLE_MODELS, ScenarioFile

MAX_ROWS = 2_000_000
"""A table longer than this is refused as too large to be real (England and Wales supervise ~240,000)."""

MAX_FILE_BYTES = 1_000_000_000
"""A table file larger than this (1 GB) is refused before it is read."""

MAX_PROBLEMS_PER_COLUMN = 20
"""Past this many bad cells in one column, the rest are counted, not listed."""

PERSONAL_DATA_COLUMNS = re.compile(
    r"^(name|names|first_?name|forename|given_?name|surname|last_?name|family_?name|full_?name|"
    r"dob|date_?of_?birth|birth_?date|birthday|address|address_?line_?\d*|street|postcode|post_?code|zip|"
    r"crn|pnc|pnc_?number|pnc_?id|nomis_?id|prison_?number|noms_?number|ni_?number|nino|"
    r"national_?insurance(_?number)?|nhs_?number|phone|telephone|mobile|email|e_?mail)$",
    re.IGNORECASE,
)
"""Column names that look like direct identifiers: refused, because scenarios must be pseudonymised."""

TRUE_WORDS = {"1", "true", "yes", "y", "t"}
FALSE_WORDS = {"0", "false", "no", "n", "f"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, pointing at where it is."""

    file: str
    message: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}"


class ScenarioError(Exception):
    """The scenario cannot be used; ``problems`` lists everything found wrong."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class Scenario:
    """A validated scenario: its settings, typed tables indexed by id, and resolved parameters."""

    path: Path
    spec: ScenarioFile
    cases: pd.DataFrame
    practitioners: pd.DataFrame
    partners: pd.DataFrame
    params: Parameters
    warnings: list[Problem] = field(default_factory=list)

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def pdus(self) -> list[str]:
        """PDUs with at least one case, sorted (the unit the allocator solves)."""
        return sorted(self.cases["pdu"].unique().tolist())


# ----------------------------------------------------------------------------------------------------------
# column kinds, read off the pydantic models


@dataclass(frozen=True)
class ColumnRule:
    """What one column may hold, derived from a model field."""

    name: str
    kind: str  # "text", "int", "float", "enum", "intenum", "list"
    required: bool
    default: Any
    enum: type[Enum] | None = None
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    min_len: int | None = None
    max_len: int | None = None
    pattern: str | None = None
    item_rule: "ColumnRule | None" = None
    description: str = ""

    def allowed(self) -> str:
        """Plain-words description of what the column allows, for error messages and docs."""
        if self.kind in ("enum", "intenum"):
            values = ", ".join(str(e.value) for e in self.enum)  # type: ignore[union-attr]
            extra = " (true/false and yes/no also accepted)" if _is_flag(self.enum) else ""
            return f"one of {values}{extra}"
        if self.kind in ("int", "float"):
            noun = "a whole number" if self.kind == "int" else "a number"
            bounds = []
            if self.ge is not None:
                bounds.append(f"at least {_fmt(self.ge)}")
            if self.gt is not None:
                bounds.append(f"more than {_fmt(self.gt)}")
            if self.le is not None:
                bounds.append(f"at most {_fmt(self.le)}")
            if self.lt is not None:
                bounds.append(f"less than {_fmt(self.lt)}")
            return noun + (" " + " and ".join(bounds) if bounds else "")
        if self.kind == "list":
            assert self.item_rule is not None
            return f"a ';'-separated list, each {self.item_rule.allowed()}"
        if self.pattern:
            return "an identifier of letters, digits, '_', '.' or '-' (no spaces), at most 64 characters"
        if self.max_len:
            return f"text of at most {self.max_len} characters"
        return "text"


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _is_flag(enum: type[Enum] | None) -> bool:
    return enum is not None and issubclass(enum, IntEnum) and {e.value for e in enum} == {0, 1}


def _rule_from(name: str, annotation: Any, metadata: list[Any], required: bool, default: Any, description: str) -> ColumnRule:
    origin = typing.get_origin(annotation)
    # Optional[X] / X | None
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _rule_from(name, args[0], metadata, required, default, description)
    if origin is typing.Annotated:
        base, *extras = typing.get_args(annotation)
        more = [m for e in extras for m in getattr(e, "metadata", [e])]
        return _rule_from(name, base, [*metadata, *more], required, default, description)
    if origin is list:
        (item,) = typing.get_args(annotation)
        item_rule = _rule_from(name, item, [], True, None, "")
        kw = _bounds(metadata)
        return ColumnRule(name, "list", required, default, item_rule=item_rule, min_len=kw.get("min_len"), description=description)
    kw = _bounds(metadata)
    if isinstance(annotation, type) and issubclass(annotation, IntEnum):
        return ColumnRule(name, "intenum", required, default, enum=annotation, description=description, **kw)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return ColumnRule(name, "enum", required, default, enum=annotation, description=description, **kw)
    if annotation is int:
        return ColumnRule(name, "int", required, default, description=description, **kw)
    if annotation is float:
        return ColumnRule(name, "float", required, default, description=description, **kw)
    return ColumnRule(name, "text", required, default, description=description, **kw)


def _bounds(metadata: list[Any]) -> dict[str, Any]:
    kw: dict[str, Any] = {}
    for m in metadata:
        if isinstance(m, Ge):
            kw["ge"] = m.ge
        elif isinstance(m, Gt):
            kw["gt"] = m.gt
        elif isinstance(m, Le):
            kw["le"] = m.le
        elif isinstance(m, Lt):
            kw["lt"] = m.lt
        elif isinstance(m, MinLen):
            kw["min_len"] = m.min_length
        elif isinstance(m, MaxLen):
            kw["max_len"] = m.max_length
        elif getattr(m, "pattern", None):
            kw["pattern"] = m.pattern
    return kw


def column_rules(model: type[BaseModel]) -> list[ColumnRule]:
    """The rule for every column of a table, in the model's field order."""
    rules = []
    for name, info in model.model_fields.items():
        default = None
        if not info.is_required():
            default = info.get_default(call_default_factory=True)
        rules.append(_rule_from(name, info.annotation, list(info.metadata), info.is_required(), default, info.description or ""))
    return rules


# ----------------------------------------------------------------------------------------------------------
# reading files


def read_table(path: Path, label: str) -> pd.DataFrame:
    """Read a CSV or XLSX table as text cells (nothing guessed), or raise ScenarioError naming the file.

    CSVs may carry a UTF-8 byte-order mark (Excel's "CSV UTF-8") and may be separated by ';' (Excel in
    much of Europe); other encodings are refused with a message that says how to re-save the file.
    """
    if not path.exists():
        raise ScenarioError([Problem(label, f"file not found (looked for {path})")])
    if path.is_dir():
        raise ScenarioError([Problem(label, "is a folder, not a table file")])
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ScenarioError([Problem(label, f"is {size / 1e9:.1f} GB, larger than any real caseload table (limit 1 GB)")])
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        try:
            frame = pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl")
        except Exception as exc:  # openpyxl raises many types for a corrupt workbook
            raise ScenarioError([Problem(label, f"could not be read as an Excel workbook ({type(exc).__name__}: {exc})")]) from None
        frame.columns = [str(c) for c in frame.columns]
        return frame.fillna("").astype(str)
    if suffix not in (".csv", ".txt"):
        raise ScenarioError([Problem(label, f"has extension {path.suffix!r}; tables must be .csv or .xlsx")])
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ScenarioError(
            [
                Problem(
                    label,
                    f"is not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line}); save it from Excel as "
                    "'CSV UTF-8 (Comma delimited)'",
                    row=line,
                )
            ]
        ) from None
    if not text.strip():
        raise ScenarioError([Problem(label, "is empty: it needs a header row and at least one data row")])
    header = text.splitlines()[0]
    delimiter = ";" if header.count(";") > header.count(",") else ","
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False, na_filter=False,
            quoting=csv.QUOTE_MINIMAL, skipinitialspace=False, engine="c",
        )
    except pd.errors.ParserError as exc:
        match = re.search(r"line (\d+)", str(exc))
        row = int(match.group(1)) if match else None
        raise ScenarioError([Problem(label, f"is not a well-formed CSV ({exc})", row=row)]) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


# ----------------------------------------------------------------------------------------------------------
# checking one table


def _cell_problems(label: str, column: str, rows: np.ndarray, values: np.ndarray, reason: str) -> list[Problem]:
    """Problems for the bad cells of a column, listing at most MAX_PROBLEMS_PER_COLUMN of them."""
    out = [
        Problem(label, f"{_quote(v)} {reason}", row=int(r), column=column)
        for r, v in zip(rows[:MAX_PROBLEMS_PER_COLUMN], values[:MAX_PROBLEMS_PER_COLUMN])
    ]
    if len(rows) > MAX_PROBLEMS_PER_COLUMN:
        out.append(Problem(label, f"and {len(rows) - MAX_PROBLEMS_PER_COLUMN} more rows with the same problem", column=column))
    return out


def _quote(value: Any) -> str:
    text = str(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return '""' if text == "" else f'"{text}"'


def check_table(frame: pd.DataFrame, model: type[BaseModel], label: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Check every cell of a table against its row model; return the typed table and every problem.

    The typed table has one column per model field: enums as strings (or small ints for 0/1/2 scores),
    numbers as floats or ints, lists as tuples, blanks of optional columns as their default.
    """
    problems: list[Problem] = []
    rules = column_rules(model)
    known = [r.name for r in rules]
    columns = list(frame.columns)
    for col in columns:
        if col in known:
            continue
        if PERSONAL_DATA_COLUMNS.match(col.strip().replace(" ", "_").replace("-", "_")):
            problems.append(
                Problem(
                    label,
                    f"looks like personal data ({col!r}). Scenarios must be pseudonymised: remove names, dates of "
                    "birth, addresses and CRN/PNC numbers, and use an opaque case_id (a lookup to the real record "
                    "stays with you, outside this tool)",
                    column=col,
                )
            )
            continue
        close = difflib.get_close_matches(col, known, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}?" if close else f"allowed columns are {', '.join(known)}"
        problems.append(Problem(label, f"is not a column of this table; {hint}", column=col))
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    for col in dupes:
        problems.append(Problem(label, "appears more than once in the header", column=col))
    missing = [r.name for r in rules if r.required and r.name not in columns]
    for name in missing:
        problems.append(Problem(label, "is a required column and is missing from the header", column=name))
    if len(frame) == 0:
        problems.append(Problem(label, "has a header but no data rows"))
    if len(frame) > MAX_ROWS:
        problems.append(Problem(label, f"has {len(frame):,} rows, more than any real caseload (limit {MAX_ROWS:,})"))
    if problems and (missing or len(frame) == 0 or len(frame) > MAX_ROWS or dupes):
        return pd.DataFrame(), problems

    n = len(frame)
    spreadsheet_rows = np.arange(2, n + 2)
    typed: dict[str, Any] = {}
    for rule in rules:
        if rule.name not in frame.columns:
            typed[rule.name] = _default_column(rule, n)
            continue
        raw = frame[rule.name].astype(str).str.strip()
        values, bad = _convert(raw, rule)
        bad = np.array(bad, dtype=bool)  # a writable copy
        blank = (raw == "").to_numpy()
        if rule.required:
            if blank.any():
                problems += _cell_problems(label, rule.name, spreadsheet_rows[blank], raw.to_numpy()[blank], f"is blank; expected {rule.allowed()}")
            bad &= ~blank
        else:
            bad &= ~blank
        if bad.any():
            problems += _cell_problems(label, rule.name, spreadsheet_rows[bad], raw.to_numpy()[bad], _reason(rule))
        typed[rule.name] = values
    return pd.DataFrame(typed, index=pd.RangeIndex(n)), problems


def _reason(rule: ColumnRule) -> str:
    noun = {"enum": f"is not a valid {rule.name.replace('_', ' ')}", "intenum": "is not allowed"}.get(rule.kind, "is not allowed")
    return f"{noun}; expected {rule.allowed()}"


def _default_column(rule: ColumnRule, n: int) -> Any:
    if rule.kind == "list":
        return pd.Series([tuple(rule.default or ())] * n, dtype=object)
    if rule.kind in ("int", "intenum"):
        return np.full(n, int(rule.default or 0), dtype=np.int64)
    if rule.kind == "float":
        return np.full(n, float(rule.default or 0.0))
    return pd.Series([rule.default] * n, dtype=object)


def _convert(raw: pd.Series, rule: ColumnRule) -> tuple[Any, np.ndarray]:
    """Typed values for a column, and a mask of cells that break the rule (blanks handled by the caller)."""
    blank = (raw == "").to_numpy()
    if rule.kind in ("int", "float"):
        # Excel sometimes writes a decimal comma in ';'-separated files
        numbers = pd.to_numeric(raw.str.replace(",", ".", regex=False), errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(numbers)
        if rule.kind == "int":
            bad |= np.isfinite(numbers) & (np.floor(numbers) != numbers)
        with np.errstate(invalid="ignore"):
            if rule.ge is not None:
                bad |= numbers < rule.ge
            if rule.gt is not None:
                bad |= numbers <= rule.gt
            if rule.le is not None:
                bad |= numbers > rule.le
            if rule.lt is not None:
                bad |= numbers >= rule.lt
        default = float(rule.default) if rule.default is not None else 0.0
        numbers = np.where(blank | bad, default, numbers)
        return (numbers.astype(np.int64) if rule.kind == "int" else numbers), bad
    if rule.kind == "intenum":
        assert rule.enum is not None
        lowered = raw.str.lower()
        mapping = {str(e.value): int(e.value) for e in rule.enum}
        if _is_flag(rule.enum):
            mapping.update({w: 1 for w in TRUE_WORDS})
            mapping.update({w: 0 for w in FALSE_WORDS})
        mapping.update({f"{int(e.value)}.0": int(e.value) for e in rule.enum})
        mapped = lowered.map(mapping)
        bad = mapped.isna().to_numpy()
        default = int(rule.default) if rule.default is not None else 0
        return mapped.fillna(default).astype(np.int64).to_numpy(), bad
    if rule.kind == "enum":
        assert rule.enum is not None
        canonical = {str(e.value).lower(): str(e.value) for e in rule.enum}
        mapped = raw.str.lower().map(canonical)
        bad = mapped.isna().to_numpy()
        default = rule.default.value if isinstance(rule.default, Enum) else rule.default
        return mapped.where(~bad, default).astype(object).to_numpy(), bad
    if rule.kind == "list":
        assert rule.item_rule is not None
        parts = raw.str.split(r"\s*[;|]\s*", regex=True)
        flat = parts.explode()
        flat = flat[flat.astype(str) != ""]
        if len(flat):
            item_values, item_bad = _convert(flat.astype(str), rule.item_rule)
        else:
            item_values, item_bad = np.array([], dtype=object), np.array([], dtype=bool)
        bad_rows = np.zeros(len(raw), dtype=bool)
        positions = flat.index.to_numpy()
        if item_bad.any():
            bad_rows[np.unique(positions[item_bad])] = True
        good = pd.Series(item_values, index=positions)
        grouped = good.groupby(level=0).agg(lambda s: tuple(dict.fromkeys(s)))
        values = pd.Series([()] * len(raw), index=raw.index, dtype=object)
        values.loc[grouped.index] = grouped
        if rule.min_len:
            counts = values.map(len).to_numpy()
            bad_rows |= (counts < rule.min_len) & ~blank
        return values.to_numpy(), bad_rows
    # text
    bad = np.zeros(len(raw), dtype=bool)
    if rule.max_len is not None:
        bad |= (raw.str.len() > rule.max_len).to_numpy()
    if rule.pattern is not None:
        bad |= ~raw.str.fullmatch(rule.pattern).fillna(False).to_numpy(dtype=bool)
    values = raw.where(raw != "", None) if rule.default is None else raw.where(raw != "", rule.default)
    return values.astype(object).to_numpy(), bad


# ----------------------------------------------------------------------------------------------------------
# the scenario as a whole


def _toml_problem(path: Path, exc: tomllib.TOMLDecodeError) -> Problem:
    match = re.search(r"line (\d+)", str(exc))
    return Problem(path.name, f"is not valid TOML: {exc}", row=int(match.group(1)) if match else None)


def read_spec(path: Path) -> ScenarioFile:
    """Read and check scenario.toml (or raise ScenarioError naming every problem)."""
    label = path.name
    if not path.exists():
        raise ScenarioError([Problem(str(path), "scenario file not found")])
    if path.is_dir():
        if (path / "scenario.toml").exists():
            return read_spec(path / "scenario.toml")
        raise ScenarioError([Problem(str(path), "is a folder with no scenario.toml in it")])
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([_toml_problem(path, exc)]) from None
    except UnicodeDecodeError:
        raise ScenarioError([Problem(label, "is not UTF-8 text")]) from None
    try:
        return ScenarioFile.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            if err["type"] == "extra_forbidden":
                section = ScenarioFile
                for part in err["loc"][:-1]:
                    section = section.model_fields[str(part)].annotation  # type: ignore[assignment]
                close = difflib.get_close_matches(str(err["loc"][-1]), list(section.model_fields), n=1)
                hint = f"; did you mean {close[0]}?" if close else f"; allowed: {', '.join(section.model_fields)}"
                problems.append(Problem(label, f"{loc} is not a setting{hint}"))
            else:
                found = f" (found {err['input']!r})" if err["type"] != "missing" else ""
                problems.append(Problem(label, f"{loc}: {err['msg']}{found}"))
        raise ScenarioError(problems) from None


def resolve_table_path(folder: Path, relative: str, label: str) -> Path:
    """A table path inside the scenario folder, refusing absolute paths and '..' escapes."""
    candidate = Path(relative)
    if candidate.is_absolute():
        raise ScenarioError([Problem(label, f"tables path {relative!r} is absolute; give a path relative to scenario.toml, inside its folder")])
    resolved = (folder / candidate).resolve()
    if not resolved.is_relative_to(folder.resolve()):
        raise ScenarioError([Problem(label, f"tables path {relative!r} leads outside the scenario folder; keep tables beside scenario.toml")])
    return resolved


def load_scenario(path: str | Path) -> Scenario:
    """Read scenario.toml and its tables, check everything, and return a typed Scenario.

    Raises ScenarioError listing every problem found (file, row, column, value, what is allowed).
    """
    path = Path(path)
    if path.is_dir():
        path = path / "scenario.toml"
    spec = read_spec(path)
    label = path.name
    folder = path.parent
    problems: list[Problem] = []

    try:
        params = load_parameters(spec.parameters)
    except ParameterError as exc:
        problems.append(Problem(label, f"[parameters]: {exc}"))
        params = load_parameters()

    frames: dict[str, pd.DataFrame] = {}
    labels: dict[str, str] = {}
    for key in ("cases", "practitioners", "partners"):
        relative = getattr(spec.tables, key)
        if relative is None:
            continue
        try:
            table_path = resolve_table_path(folder, relative, label)
            labels[key] = table_path.name
            raw = read_table(table_path, table_path.name)
        except ScenarioError as exc:
            problems += exc.problems
            continue
        typed, table_problems = check_table(raw, TABLE_MODELS[key], table_path.name)
        problems += table_problems
        frames[key] = typed

    if "cases" in frames and "practitioners" in frames and not frames["cases"].empty and not frames["practitioners"].empty:
        problems += cross_checks(frames, labels)
    if problems:
        raise ScenarioError(problems)

    cases = frames["cases"].set_index("case_id")
    practitioners = frames["practitioners"].set_index("practitioner_id")
    partners = frames.get("partners")
    if partners is None or partners.empty:
        partners = pd.DataFrame({name: pd.Series(dtype=object) for name in TABLE_MODELS["partners"].model_fields})
    partners = partners.set_index("partner_id")
    return Scenario(path=path.resolve(), spec=spec, cases=cases, practitioners=practitioners, partners=partners, params=params)


def _duplicate_problems(frame: pd.DataFrame, key: str, label: str) -> list[Problem]:
    dup = frame[key].duplicated(keep="first").to_numpy() & frame[key].notna().to_numpy()
    if not dup.any():
        return []
    rows = np.arange(2, len(frame) + 2)
    first = {v: r for v, r in zip(frame[key].to_numpy()[::-1], rows[::-1])}
    return [
        Problem(label, f"{_quote(v)} is a duplicate id; it first appears on row {first[v]}. Each {key} must be unique", row=int(r), column=key)
        for v, r in zip(frame[key].to_numpy()[dup][:MAX_PROBLEMS_PER_COLUMN], rows[dup][:MAX_PROBLEMS_PER_COLUMN])
    ]


def cross_checks(frames: dict[str, pd.DataFrame], labels: dict[str, str]) -> list[Problem]:
    """Checks across tables: duplicate ids, current practitioners that do not exist or sit in another PDU,
    PDUs with cases but nobody to hold them, partners serving PDUs that do not exist."""
    problems: list[Problem] = []
    cases, staff = frames["cases"], frames["practitioners"]
    for key, frame in frames.items():
        if not frame.empty:
            problems += _duplicate_problems(frame, TABLE_KEYS[key], labels[key])

    staff_pdu = dict(zip(staff["practitioner_id"], staff["pdu"]))
    current = cases["current_practitioner_id"]
    held = current.notna().to_numpy()
    rows = np.arange(2, len(cases) + 2)
    known = current.map(lambda p: p in staff_pdu if p is not None else True).to_numpy(dtype=bool)
    unknown = held & ~known
    if unknown.any():
        problems += _cell_problems(
            labels["cases"], "current_practitioner_id", rows[unknown], current.to_numpy()[unknown],
            f"is not a practitioner_id in {labels['practitioners']}; leave it blank for an unallocated case",
        )
    their_pdu = current.map(staff_pdu).to_numpy()
    elsewhere = held & known & (their_pdu != cases["pdu"].to_numpy())
    if elsewhere.any():
        for r, p, own, theirs in zip(rows[elsewhere][:MAX_PROBLEMS_PER_COLUMN], current.to_numpy()[elsewhere],
                                     cases["pdu"].to_numpy()[elsewhere], their_pdu[elsewhere]):
            problems.append(
                Problem(labels["cases"], f'"{p}" works in PDU "{theirs}" but the case is in PDU "{own}"; a case is held within its own PDU',
                        row=int(r), column="current_practitioner_id")
            )

    case_pdus = set(cases["pdu"].dropna())
    can_hold = staff[staff["grade"] != "SPO"]
    staff_pdus = set(can_hold["pdu"])
    for pdu in sorted(case_pdus - staff_pdus):
        n = int((cases["pdu"] == pdu).sum())
        problems.append(
            Problem(labels["cases"], f'PDU "{pdu}" has {n} cases but no practitioner who can hold cases (PO, PSO or PQiP) in {labels["practitioners"]}',
                    column="pdu")
        )
    partners = frames.get("partners")
    if partners is not None and not partners.empty:
        all_pdus = case_pdus | set(staff["pdu"])
        for r, served in zip(np.arange(2, len(partners) + 2), partners["pdus"]):
            strange = [p for p in served if p not in all_pdus]
            if strange:
                problems.append(
                    Problem(labels["partners"], f"serves PDU {', '.join(repr(s) for s in strange)}, which has no cases or practitioners; known PDUs are {', '.join(sorted(all_pdus)[:12])}",
                            row=int(r), column="pdus")
                )
    return problems
