"""Load and validate a scenario: every problem found in one pass, each pointing at file, row and column.

Tables are checked column by column against the pydantic row models in :mod:`workload.scenario` (their types,
enums and bounds are read from the models, so the models stay the single definition of the format), with
vectorised checks: each column is factorised and the rules run once per distinct value, so a 250,000-row
case table validates in under a second, where validating row by row through pydantic would take many.
Rows are numbered as a spreadsheet shows them: the header is row 1, so the first case is row 2, and blank
rows still count.

Case data is sensitive personal data. Columns whose names look like direct identifiers, and identifiers
whose values look like CRNs, PNC or prison numbers, National Insurance numbers or dates (of birth), are
refused with a message that explains pseudonymisation; such values are never echoed back in messages.

The package, by concept:

- :mod:`~workload.load.schema`: what each column may hold (:class:`ColumnRule`, read off the models);
- :mod:`~workload.load.readers`: reading CSV and XLSX files as text cells;
- :mod:`~workload.load.converters`: one converter per column kind, run once per distinct value;
- :mod:`~workload.load.personal`: personal-data column names and values;
- :mod:`~workload.load.checks`: checking one table, and the checks across tables;
- :mod:`~workload.load.problems`: :class:`ScenarioError` and how problems are worded;
- :mod:`~workload.load.limits`: the size limits (set them there, e.g. in a test);
- here: :func:`read_spec`, :func:`resolve_table_path` and :func:`load_scenario`, giving a :class:`Scenario`.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from pydantic import ValidationError

from workload.load import limits
from workload.load.checks import check_table, cross_checks
from workload.load.converters import (
    CONVERTERS,
    FALSE_WORDS,
    FORMULA_START,
    TRUE_WORDS,
    Converted,
    convert_uniques,
)
from workload.load.limits import (
    EXCEL_MAX_ROWS,
    MAX_COLUMNS,
    MAX_FILE_BYTES,
    MAX_PROBLEMS_PER_COLUMN,
    MAX_ROWS,
    MAX_SPEC_BYTES,
    MAX_XLSX_PART_BYTES,
    MAX_XLSX_UNZIPPED_BYTES,
)
from workload.load.personal import (
    _PERSONAL_VALUE,
    PEOPLE_MODELS,
    PERSONAL_DATA_COLUMNS,
    PERSONAL_DATA_VALUES,
    PSEUDONYMISATION,
)
from workload.load.plausibility import plausibility_warnings
from workload.load.problems import Problem, ScenarioError, file_problem_code, size_text
from workload.load.readers import (
    DELIMITERS,
    NUMBER_CONVENTIONS,
    RESAVE,
    _records,
    _records_by_csv,
    read_table,
)
from workload.load.schema import ROW_RULES, ColumnRule, NotMoreThan, column_rules
from workload.params import ParameterError, Parameters, load_parameters
from workload.safety import regular_file_problem
from workload.scenario import CONTROL_CHARACTERS, TABLE_MODELS, ScenarioFile

if TYPE_CHECKING:
    from workload.reform import Reform

_convert_uniques = convert_uniques
"""The name tests have always imported."""

__all__ = [
    "CONTROL_CHARACTERS",
    "CONVERTERS",
    "DELIMITERS",
    "EXCEL_MAX_ROWS",
    "FALSE_WORDS",
    "FORMULA_START",
    "MAX_COLUMNS",
    "MAX_FILE_BYTES",
    "MAX_PROBLEMS_PER_COLUMN",
    "MAX_ROWS",
    "MAX_SPEC_BYTES",
    "MAX_XLSX_PART_BYTES",
    "MAX_XLSX_UNZIPPED_BYTES",
    "NUMBER_CONVENTIONS",
    "PEOPLE_MODELS",
    "PERSONAL_DATA_COLUMNS",
    "PERSONAL_DATA_VALUES",
    "PSEUDONYMISATION",
    "RESAVE",
    "ROW_RULES",
    "TRUE_WORDS",
    "_PERSONAL_VALUE",
    "ColumnRule",
    "Converted",
    "NotMoreThan",
    "Problem",
    "Scenario",
    "ScenarioError",
    "_convert_uniques",
    "_records",
    "_records_by_csv",
    "apply_reform",
    "check_spec",
    "check_table",
    "column_rules",
    "convert_uniques",
    "cross_checks",
    "limits",
    "load_scenario",
    "read_spec",
    "read_spec_data",
    "read_table",
    "resolve_table_path",
    "split_sheet",
    "table_label",
]


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
# scenario.toml


def resolved_scenario(scenario: Scenario) -> dict[str, Any]:
    """The scenario as the run used it: settings, policy with defaults filled in, parameter overrides."""
    spec = scenario.spec.model_dump(mode="json")
    spec["parameters_overridden"] = {p: scenario.params[p] for p in scenario.params.overridden}
    return spec


def _toml_problem(path: Path, exc: tomllib.TOMLDecodeError) -> Problem:
    match = re.search(r"line (\d+)", str(exc))
    return Problem(
        path.name, f"is not valid TOML: {exc}", row=int(match.group(1)) if match else None, code="toml.syntax"
    )


def _found(value: Any) -> str:
    """A setting's value as a message quotes it: its repr (control characters escaped), cut short when long."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _settings_problems(label: str, exc: ValidationError, sources: Mapping[str, str] | None = None) -> list[Problem]:
    """One problem per setting pydantic refused: an unknown one (with the nearest real name), a missing one,
    or a value it may not take (quoted as :func:`_found` shows it). A setting a reform made (``sources``: its
    dotted location -> the reform's label, e.g. ``--set``) names the reform as its file."""
    problems = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        where = (sources or {}).get(loc, label)
        if err["type"] == "extra_forbidden":
            section: Any = ScenarioFile
            for part in err["loc"][:-1]:
                section = section.model_fields[str(part)].annotation
            close = difflib.get_close_matches(str(err["loc"][-1]), list(section.model_fields), n=1)
            hint = f"; did you mean {close[0]}?" if close else f"; allowed: {', '.join(section.model_fields)}"
            problems.append(Problem(where, f"{loc} is not a setting{hint}", code="settings.unknown"))
        elif err["type"] == "missing":
            problems.append(Problem(where, f"{loc}: {err['msg']}", code="settings.missing"))
        else:
            problems.append(
                Problem(where, f"{loc}: {err['msg']} (found {_found(err['input'])})", code="settings.invalid")
            )
    return problems


_FALLBACK: dict[str, Any] = {"name": "scenario"}
"""What a refused top-level setting is replaced by while the rest of a scenario is checked (absent: its
default), so one bad setting does not hide the problems in the others or in the tables."""


def check_spec(
    label: str, data: dict[str, Any], sources: Mapping[str, str] | None = None
) -> tuple[ScenarioFile | None, list[Problem]]:
    """Check scenario.toml's settings (as TOML read them): the settings and every problem with them. When some
    are refused, the settings returned have those sections at their defaults, so the tables and the other
    sections can still be checked; None when the tables' own settings are refused."""
    try:
        return ScenarioFile.model_validate(data), []
    except ValidationError as exc:
        problems = _settings_problems(label, exc, sources)
        refused = {str(err["loc"][0]) for err in exc.errors() if err["loc"]}
    if "tables" in refused or not isinstance(data, dict):
        return None, problems
    fallback = {k: v for k, v in data.items() if k not in refused}
    fallback.update({k: _FALLBACK[k] for k in refused if k in _FALLBACK})
    try:
        return ScenarioFile.model_validate(fallback), problems
    except ValidationError:
        return None, problems


def read_spec_data(path: Path) -> tuple[Path, dict[str, Any]]:
    """scenario.toml (or the one in the folder ``path``) as TOML reads it: its path and its settings, unchecked
    (or raise ScenarioError when it cannot be read as TOML).

    Only a regular file is read (a named pipe or a device is refused without being opened), and one larger
    than :data:`~workload.load.limits.MAX_SPEC_BYTES` is refused before it is read.
    """
    label = path.name
    try:
        if not path.exists():
            raise ScenarioError([Problem(str(path), "scenario file not found", code="file.not_found")])
        if path.is_dir():
            if (path / "scenario.toml").exists():
                return read_spec_data(path / "scenario.toml")
            raise ScenarioError(
                [Problem(str(path), "is a folder with no scenario.toml in it", code="file.no_scenario")]
            )
    except OSError as exc:
        message = f"could not be read ({exc.strerror or type(exc).__name__})"
        raise ScenarioError([Problem(label, message, code="file.unreadable")]) from None
    return path, read_toml(path, label)


def read_toml(path: Path, label: str) -> dict[str, Any]:
    """A settings file (scenario.toml, a prices file) as TOML reads it, or ScenarioError with problems naming
    ``label``: only a regular file is read (a named pipe or a device is refused without being opened), and one
    larger than :data:`~workload.load.limits.MAX_SPEC_BYTES` is refused before it is read."""
    try:
        problem = regular_file_problem(path)
        if problem is not None:
            raise ScenarioError([Problem(label, problem, code=file_problem_code(problem))])
        size = path.stat().st_size
        if size > limits.MAX_SPEC_BYTES:
            message = (
                f"is {size_text(size)}, far larger than any settings file (limit {size_text(limits.MAX_SPEC_BYTES)})"
            )
            raise ScenarioError([Problem(label, message, code="file.too_large")])
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([replace(_toml_problem(path, exc), file=label)]) from None
    except UnicodeDecodeError:
        raise ScenarioError([Problem(label, "is not UTF-8 text; save it as UTF-8", code="file.encoding")]) from None
    except OSError as exc:
        message = f"could not be read ({exc.strerror or type(exc).__name__})"
        raise ScenarioError([Problem(label, message, code="file.unreadable")]) from None


def read_spec(path: Path) -> ScenarioFile:
    """Read and check scenario.toml (or raise ScenarioError naming every problem); see :func:`read_spec_data`."""
    path, data = read_spec_data(path)
    spec, problems = check_spec(path.name, data)
    if problems or spec is None:
        raise ScenarioError(problems)
    return spec


_SHEET = re.compile(r"(.*?\.(?:xls[xm]|csv|txt|parquet|pq))#(.*)", re.IGNORECASE | re.DOTALL)
"""A table's path, then ``#`` and the name of one of its sheets (only a workbook has any: naming one of a CSV or
Parquet table is refused by the reader, saying so)."""


def split_sheet(relative: str) -> tuple[str, str | None]:
    """A tables entry as its file's path and the sheet it names: ``"extract.xlsx#Cases"`` gives
    ``("extract.xlsx", "Cases")``; a path naming no sheet (``"cases.csv"``, ``"extract.xlsx"``) gives it and None."""
    match = _SHEET.fullmatch(relative)
    return (match.group(1), match.group(2)) if match else (relative, None)


def table_label(relative: str) -> str:
    """How messages name a table: its file's name, then ``#`` and its sheet when it names one."""
    file, sheet = split_sheet(relative)
    return Path(file).name if sheet is None else f"{Path(file).name}#{sheet}"


def _sheet_read_problem(frame: pd.DataFrame, label: str, relative: str, problems: list[Problem]) -> Problem | None:
    """When a workbook of several sheets was read with no sheet named and its first sheet is not the table (a
    cover sheet? required columns are missing): which sheet was read, and how to name another."""
    names = list(frame.attrs.get("sheets") or [])
    if len(names) < 2 or not any(p.code == "header.missing_column" for p in problems):
        return None
    read = str(frame.attrs.get("sheet"))
    others = ", ".join(f'"{relative}#{n}"' for n in names if n != read)
    message = (
        f'was read from its first sheet, "{read}", which is not the table; to read another sheet, name it after '
        f"the file's name in [tables]: {others}"
    )
    return Problem(label, message, code="xlsx.wrong_sheet", sheet=read)


def resolve_table_path(folder: Path, relative: str, label: str) -> Path:
    """A table path inside the scenario folder, refusing absolute paths and '..' escapes (a workbook's
    ``#Sheet`` is left off: see :func:`split_sheet`)."""

    def refuse(message: str) -> ScenarioError:
        return ScenarioError([Problem(label, message, code="settings.table_path")])

    if not relative.strip():
        raise refuse('a tables path is blank; give the table\'s file name, e.g. "cases.csv"')
    if CONTROL_CHARACTERS.search(relative):
        raise refuse(f"tables path {relative!r} has a control character in it")
    relative, sheet = split_sheet(relative)
    if sheet is not None and not sheet.strip():
        raise refuse(f'tables path {relative + "#"!r} names no sheet after "#"; e.g. "{relative}#Cases"')
    candidate = Path(relative)
    if candidate.is_absolute() or candidate.drive:
        raise refuse(f"tables path {relative!r} is absolute; give a path relative to scenario.toml, inside its folder")
    try:
        resolved = (folder / candidate).resolve()
        inside = resolved.is_relative_to(folder.resolve())
    except (OSError, RuntimeError, ValueError) as exc:  # a symlink loop, a name too long...
        raise refuse(f"tables path {relative!r} cannot be followed ({exc})") from None
    if not inside:
        raise refuse(f"tables path {relative!r} leads outside the scenario folder; keep tables beside scenario.toml")
    return resolved


# ----------------------------------------------------------------------------------------------------------
# the scenario as a whole


def _parameter_problems(label: str, exc: ParameterError, sources: Mapping[str, str] | None = None) -> list[Problem]:
    """One problem per bad parameter override, each as ``scenario.toml: [parameters]: <what is wrong>`` (or
    ``--set: [parameters]: ...`` for one a reform made: ``sources`` maps its path to the reform's label)."""
    return [
        Problem((sources or {}).get(p.key or "", label), p.message, code=p.code, key="[parameters]")
        for p in exc.problems
    ]


def _checked_parameters(
    label: str, overrides: Mapping[str, Any], sources: Mapping[str, str] | None
) -> tuple[Parameters, list[Problem]]:
    try:
        return load_parameters(overrides), []
    except ParameterError as exc:
        return load_parameters(), _parameter_problems(label, exc, sources)


def _holding_grades(params: Parameters) -> tuple[str, ...]:
    share = params.table("allocation.capacity.grade_share")
    return tuple(grade for grade, value in share.items() if float(value) > 0)


def load_scenario(path: str | Path, reform: Reform | None = None) -> Scenario:
    """Read scenario.toml and its tables, check everything, and return a typed Scenario.

    ``reform`` (a :class:`workload.reform.Reform`, e.g. ``workload run --set``'s) is merged into the file's
    ``[policy]``, ``[output]`` and ``[parameters]`` before they are checked. Raises ScenarioError listing every
    problem found (file, row, column, value, what is allowed): the settings, the parameters and every table
    are all checked, whichever of them has problems.
    """
    path = Path(path)
    try:
        if path.is_dir():
            path = path / "scenario.toml"
    except OSError as exc:
        message = f"cannot be opened ({exc.strerror or type(exc).__name__})"
        raise ScenarioError([Problem(str(path)[:80], message, code="file.unreadable")]) from None
    path, data = read_spec_data(path)
    sources = reform.sources() if reform else {}
    if reform:
        data = reform.merge_into(data)
    label = path.name
    folder = path.parent
    spec, problems = check_spec(label, data, sources)
    if spec is None:
        raise ScenarioError(problems)

    params, parameter_problems = _checked_parameters(label, spec.parameters, sources)
    problems += parameter_problems

    frames: dict[str, pd.DataFrame] = {}
    labels: dict[str, str] = {}
    places: dict[str, tuple[str, str]] = {}  # a sheet's label -> its file and sheet, as problems name them
    used: dict[tuple[Path, str | None], str] = {}
    for key in ("cases", "practitioners", "partners"):
        relative = getattr(spec.tables, key)
        if relative is None:
            continue
        try:
            table_path = resolve_table_path(folder, relative, label)
            sheet = split_sheet(relative)[1]
            if (table_path, sheet) in used:
                same = "sheet" if sheet is not None else "file"
                message = (
                    f"tables.{key} names the same {same} as tables.{used[table_path, sheet]} ({relative!r}); "
                    f"each table needs its own {same}"
                )
                raise ScenarioError([Problem(label, message, code="settings.same_file")])
            used[table_path, sheet] = key
            labels[key] = table_label(relative)
            if sheet is not None:
                places[labels[key]] = (table_path.name, sheet)
            raw = read_table(table_path, table_path.name, sheet)
        except ScenarioError as exc:
            problems += exc.problems
            continue
        typed, table_problems = check_table(raw, TABLE_MODELS[key], labels[key])
        extra = _sheet_read_problem(raw, labels[key], relative, table_problems) if sheet is None else None
        if extra is not None:  # a workbook's first sheet read, and not the table: the problems name it
            table_problems = [
                replace(p, sheet=extra.sheet) if p.code == "header.missing_column" else p for p in table_problems
            ]
            table_problems.append(extra)
        problems += table_problems
        frames[key] = typed

    if (
        "cases" in frames
        and "practitioners" in frames
        and not frames["cases"].empty
        and not frames["practitioners"].empty
    ):
        problems += cross_checks(frames, labels, _holding_grades(params))
    if problems:
        raise ScenarioError(_placed(problems, places))

    warnings = _placed(plausibility_warnings(frames["cases"], frames["practitioners"], params, labels), places)
    cases = frames["cases"].set_index("case_id")
    practitioners = frames["practitioners"].set_index("practitioner_id")
    partners = frames.get("partners")
    if partners is None or partners.empty:
        partners = pd.DataFrame({name: pd.Series(dtype=object) for name in TABLE_MODELS["partners"].model_fields})
    partners = partners.set_index("partner_id")
    return Scenario(
        path=path.resolve(),
        spec=spec,
        cases=cases,
        practitioners=practitioners,
        partners=partners,
        params=params,
        warnings=warnings,
    )


def _placed(problems: list[Problem], places: Mapping[str, tuple[str, str]]) -> list[Problem]:
    """``problems`` with each one labelled ``file#Sheet`` pointing at its file and sheet instead."""
    return [replace(p, file=places[p.file][0], sheet=places[p.file][1]) if p.file in places else p for p in problems]


def _places(tables: Any) -> dict[str, tuple[str, str]]:
    """Each sheet-naming table's label (``extract.xlsx#Cases``) -> its file's name and its sheet."""
    places = {}
    for key in ("cases", "practitioners", "partners"):
        relative = getattr(tables, key)
        file, sheet = split_sheet(relative) if relative is not None else (None, None)
        if file is not None and sheet is not None:
            places[table_label(relative)] = (Path(file).name, sheet)
    return places


def apply_reform(scenario: Scenario, reform: Reform) -> Scenario:
    """``scenario`` with ``reform`` merged into its settings and parameters, checked as :func:`load_scenario`
    checks a file's (raises ScenarioError listing every problem); the tables are shared, not copied."""
    sources = reform.sources()
    data = reform.merge_into(scenario.spec.model_dump(mode="python"))
    places = _places(scenario.spec.tables)
    label = scenario.path.name
    spec, problems = check_spec(label, data, sources)
    if spec is None:
        raise ScenarioError(problems)
    params, parameter_problems = _checked_parameters(label, spec.parameters, sources)
    problems += parameter_problems
    if not problems and not scenario.cases.empty and not scenario.practitioners.empty:
        frames = {"cases": scenario.cases.reset_index(), "practitioners": scenario.practitioners.reset_index()}
        labels = {key: table_label(getattr(spec.tables, key)) for key in frames}
        problems += [
            p
            for p in cross_checks(frames, labels, _holding_grades(params))
            if p.code == "cross.pdu_without_practitioners"
        ]
    if problems:
        raise ScenarioError(_placed(problems, places))
    warnings = list(scenario.warnings)
    if reform.parameters:  # the warnings' rules are parameters: checked again, without row numbers
        labels = {key: table_label(getattr(spec.tables, key)) for key in ("cases", "practitioners")}
        warnings = plausibility_warnings(
            scenario.cases.reset_index(), scenario.practitioners.reset_index(), params, labels, rows=False
        )
        warnings = _placed(warnings, places)
    return replace(scenario, spec=spec, params=params, warnings=warnings)
