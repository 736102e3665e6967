"""One converter per column kind: each turns a column's distinct (stripped) text values into typed values,
and says which are blank, which are bad, why, and with what problem code.

Converters run once per distinct value, never per row: :func:`factorize` splits a column into codes and its
distinct values, and :func:`workload.load.checks.check_table` spreads the results back over the rows with one
vectorised index. :data:`CONVERTERS` maps each kind of :class:`~workload.load.schema.ColumnRule` to its
converter.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np
import pandas as pd

from workload.errors import quote
from workload.load.personal import PERSONAL_VALUE_CODE, personal_value_reasons
from workload.load.schema import ColumnRule, is_flag, normal_name
from workload.scenario import CONTROL_CHARACTERS, RESERVED_LABEL_MESSAGE, reserved_label_problem

FORMULA_START = ("=", "+", "-", "@")
"""Free text starting with one of these (and more after it) is refused: a spreadsheet would run it as a formula
when the report is opened."""

# CONTROL_CHARACTERS (tabs, line breaks and other control characters, refused in free text, table paths and the
# scenario's name) is defined in workload.scenario, beside the settings that use it, and imported above.

TRUE_WORDS = {"1", "true", "yes", "y", "t"}
FALSE_WORDS = {"0", "false", "no", "n", "f"}

RESERVED_LABEL_CODE = "cell.reserved_label"


@dataclass
class Converted:
    """A column rule applied to each distinct value: typed value, bad or blank, why it is bad (``reasons``,
    ``codes``) and whether it may not be shown (``hidden``: it looks like personal data)."""

    values: np.ndarray
    bad: np.ndarray
    blank: np.ndarray
    reasons: np.ndarray
    codes: np.ndarray
    hidden: np.ndarray


def not_allowed(rule: ColumnRule) -> str:
    """The reason a value breaks ``rule``, when there is no more particular one."""
    noun = f"is not a valid {rule.name.replace('_', ' ')}" if rule.kind == "enum" else "is not allowed"
    return f"{noun}; expected {rule.allowed()}"


def _filled(n: int, text: str) -> np.ndarray:
    """An object array of ``n`` times ``text`` (as np.full, which is some 50 times slower for objects)."""
    out = np.empty(n, dtype=object)
    out[:] = text
    return out


def _start(uniques: np.ndarray, rule: ColumnRule, code: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Blank values, and each value's reason, code and hidden flag before the converter refines them."""
    n = len(uniques)
    blank = np.array([u == "" for u in uniques], dtype=bool)
    return blank, _filled(n, not_allowed(rule)), _filled(n, code), np.zeros(n, dtype=bool)


# ----------------------------------------------------------------------------------------------------------
# numbers

_NUMBERISH = re.compile(r"[+-]?[0-9][0-9.,]*")
"""A number that may have separators in it (digits, points and commas): the cells given the separator message."""


_AMBIGUOUS_COMMA = r"[+-]?[1-9][0-9]{0,2},[0-9]{3}"
"""In a ';'-separated file, a number such as 6,601: a UK thousands separator (6601) or a decimal comma (6.601)."""


def _separator_refusals(
    uniques: np.ndarray, rule: ColumnRule, convention: str
) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """Under a file's number convention (:data:`workload.load.readers.NUMBER_CONVENTIONS`): which values have a
    decimal comma to read as a point, which are refused for their separators, and why (by position, for
    number-like values; with both readings spelled out when the value has one separator)."""
    comma = np.array([("," in u) for u in uniques], dtype=bool)
    point = np.array([("." in u) for u in uniques], dtype=bool)
    decimal = np.zeros(len(uniques), dtype=bool)
    expected = f"expected {rule.allowed()}"
    reasons: dict[int, str] = {}
    if convention == "comma":
        decimal = comma & ~point & np.array([u.count(",") == 1 for u in uniques], dtype=bool)
        ambiguous = decimal & pd.Series(uniques, dtype=object).str.fullmatch(_AMBIGUOUS_COMMA).to_numpy(dtype=bool)
        decimal &= ~ambiguous
        refused = (comma & ~decimal) | point
        for i in np.flatnonzero(ambiguous):
            u = uniques[i]
            whole, _, places = u.partition(",")
            reasons[int(i)] = (
                f"could be {whole}{places} (a comma as thousands separator, as a UK export saved with ';' writes it) or "
                f"{whole}.{places} (a decimal comma), and the file does not say which; write {whole}{places} if it is the whole "
                f"number, or {whole},{places}0 if it is the decimal (a decimal comma with one, two, or four or more decimal "
                f"places is unambiguous), or save the file as 'CSV UTF-8 (Comma delimited)' with decimal points; {expected}"
            )
        for i in np.flatnonzero(refused & ~ambiguous):
            u = uniques[i]
            why = "is not a number written with a decimal comma and no thousands separators"
            if not comma[i]:
                why += ": in a ';'-separated file a point is a thousands separator; write numbers without thousands separators"
                if u.count(".") == 1:
                    why += f" ({u.replace('.', '')}), and decimals with a comma ({u.replace('.', ',')})"
            reasons[int(i)] = f"{why}; {expected}"
    elif convention == "tab":
        refused = comma
        for i in np.flatnonzero(refused):
            u = uniques[i]
            if point[i]:
                why = "is not a number written with a decimal point and no thousands separators"
            else:
                readings = f" ({u.replace(',', '')})", f" ({u.replace(',', '.')})"
                if u.count(",") != 1:
                    readings = "", ""
                why = (
                    f"has a comma, which in a tab-separated file could be a thousands separator{readings[0]} or a decimal "
                    f"comma{readings[1]}; write numbers with a decimal point and no thousands separators"
                )
            reasons[int(i)] = f"{why}; {expected}"
    else:
        refused = comma
        for i in np.flatnonzero(refused):
            reasons[int(i)] = f"is not a number written with a decimal point and no thousands separators; {expected}"
    reasons = {i: why for i, why in reasons.items() if _NUMBERISH.fullmatch(uniques[i])}
    return decimal, refused, reasons


def convert_number(uniques: np.ndarray, rule: ColumnRule, convention: str) -> Converted:
    """``int`` and ``float`` columns: numbers in the file's convention, finite, whole for ``int``, in bounds."""
    blank, reasons, codes, hidden = _start(uniques, rule, "cell.not_a_number")
    text = pd.Series(uniques, dtype=object)
    decimal, refused, separator_reasons = _separator_refusals(uniques, rule, convention)
    text = text.where(~decimal, text.str.replace(",", ".", regex=False))
    numbers = pd.to_numeric(text.where(~refused, "x"), errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(numbers)
    if rule.kind == "int":
        fraction = np.isfinite(numbers) & ((np.floor(numbers) != numbers) | (np.abs(numbers) > 2**53))
        codes[fraction] = "cell.not_a_whole_number"
        bad |= fraction
    outside = np.zeros(len(uniques), dtype=bool)
    with np.errstate(invalid="ignore"):
        if rule.ge is not None:
            outside |= numbers < rule.ge
        if rule.gt is not None:
            outside |= numbers <= rule.gt
        if rule.le is not None:
            outside |= numbers > rule.le
        if rule.lt is not None:
            outside |= numbers >= rule.lt
    codes[outside & ~bad] = "cell.out_of_range"
    bad |= outside
    for i, why in separator_reasons.items():
        reasons[i] = why
        codes[i] = "cell.number_format"
    if rule.default is not None:
        default = float(rule.default)
    else:  # an optional number without a default (reoffending_likelihood_pct) stays blank, as NaN
        default = np.nan if rule.kind == "float" and not rule.required else 0.0
    numbers = np.where(blank | bad, default, numbers)
    values = numbers.astype(np.int64) if rule.kind == "int" else numbers
    return Converted(values, bad, blank, reasons, codes, hidden)


# ----------------------------------------------------------------------------------------------------------
# categories


def convert_intenum(uniques: np.ndarray, rule: ColumnRule, convention: str) -> Converted:
    """``intenum`` columns (0/1/2 scores and 0/1 flags): the enum's numbers, "1.0" for 1, and for a flag the
    words true/false, yes/no."""
    assert rule.enum is not None
    blank, reasons, codes, hidden = _start(uniques, rule, "cell.not_allowed")
    mapping = {str(e.value): int(e.value) for e in rule.enum}
    if is_flag(rule.enum):
        mapping.update({w: 1 for w in TRUE_WORDS})
        mapping.update({w: 0 for w in FALSE_WORDS})
    mapping.update({f"{int(e.value)}.0": int(e.value) for e in rule.enum})
    mapped = [mapping.get(u.lower()) for u in uniques]
    bad = np.array([m is None for m in mapped], dtype=bool)
    default = int(rule.default) if rule.default is not None else 0
    values = np.array([default if m is None else m for m in mapped], dtype=np.int64)
    return Converted(values, bad, blank, reasons, codes, hidden)


def convert_enum(uniques: np.ndarray, rule: ColumnRule, convention: str) -> Converted:
    """``enum`` columns: one of the enum's values in any case, with a "did you mean" for a near miss."""
    assert rule.enum is not None
    blank, reasons, codes, hidden = _start(uniques, rule, "cell.unknown_category")
    canonical = {str(e.value).lower(): str(e.value) for e in rule.enum}
    loose = {normal_name(k): v for k, v in canonical.items()}
    mapped = [canonical.get(u.lower()) for u in uniques]
    bad = np.array([m is None for m in mapped], dtype=bool)
    names = list(canonical.values())
    for i in np.flatnonzero(bad & ~blank):
        close = difflib.get_close_matches(uniques[i], names, n=1, cutoff=0.6)
        guess = loose.get(normal_name(uniques[i])) or (close[0] if close else None)
        if guess:
            reasons[i] = f"{not_allowed(rule)} (did you mean {guess}?)"
    default = rule.default.value if isinstance(rule.default, Enum) else rule.default
    values = np.array([default if m is None else m for m in mapped], dtype=object)
    return Converted(values, bad, blank, reasons, codes, hidden)


# ----------------------------------------------------------------------------------------------------------
# lists


def convert_list(uniques: np.ndarray, rule: ColumnRule, convention: str) -> Converted:
    """``list`` columns: values separated by ';' (or '|'), each checked by the item rule once per distinct
    item. A list holding personal data is hidden as its item is; one holding a reserved label says so."""
    assert rule.item_rule is not None
    blank, reasons, codes, hidden = _start(uniques, rule, "cell.not_allowed")
    n = len(uniques)
    split = [[p for p in re.split(r"\s*[;|]\s*", u) if p != ""] for u in uniques]
    items = np.array(sorted({p for parts in split for p in parts}), dtype=object)
    item_conv = convert_uniques(items, rule.item_rule, convention) if len(items) else None
    position = {v: i for i, v in enumerate(items.tolist())}
    bad = np.zeros(n, dtype=bool)
    values = np.empty(n, dtype=object)
    for i, parts in enumerate(split):
        idx = [position[p] for p in parts]
        if item_conv is not None and idx:
            bad_items = [j for j in idx if item_conv.bad[j]]
            bad[i] = bool(bad_items)
            personal = [j for j in bad_items if item_conv.hidden[j]]
            reserved = [j for j in bad_items if item_conv.codes[j] == RESERVED_LABEL_CODE]
            if personal:
                reasons[i], codes[i], hidden[i] = item_conv.reasons[personal[0]], PERSONAL_VALUE_CODE, True
            elif reserved:
                single = len(parts) == 1
                reasons[i] = (
                    RESERVED_LABEL_MESSAGE
                    if single
                    else f"has {quote(items[reserved[0]])} in it, which {RESERVED_LABEL_MESSAGE}"
                )
                codes[i] = RESERVED_LABEL_CODE
            values[i] = tuple(dict.fromkeys(item_conv.values[j] for j in idx if not item_conv.bad[j]))
        else:
            values[i] = ()
    if rule.min_len:
        counts = np.array([len(v) for v in values])
        bad |= (counts < rule.min_len) & ~blank
    return Converted(values, bad, blank, reasons, codes, hidden)


# ----------------------------------------------------------------------------------------------------------
# text and identifiers


def convert_text(uniques: np.ndarray, rule: ColumnRule, convention: str) -> Converted:
    """``text`` columns: identifiers (a pattern) or free text (no control characters, nothing a spreadsheet
    would run as a formula), a reserved label refused where values label published rows, and anything that
    looks like personal data refused without being shown."""
    blank, reasons, codes, hidden = _start(uniques, rule, "cell.not_allowed")
    bad = np.zeros(len(uniques), dtype=bool)
    if rule.max_len is not None:
        too_long = np.array([len(u) > rule.max_len for u in uniques], dtype=bool)
        codes[too_long] = "cell.too_long"
        bad |= too_long
    if rule.pattern is not None:
        pattern = re.compile(rule.pattern)
        mismatch = np.array([pattern.fullmatch(u) is None for u in uniques], dtype=bool)
        codes[mismatch] = "cell.not_an_identifier"
        bad |= mismatch
    else:
        control = np.array([CONTROL_CHARACTERS.search(u) is not None for u in uniques], dtype=bool)
        formula = np.array([len(u) > 1 and u.startswith(FORMULA_START) for u in uniques], dtype=bool)
        reasons[control & ~blank] = (
            f"has a control character (a tab, line break or similar) in it; expected {rule.allowed()}"
        )
        codes[control & ~blank] = "cell.control_character"
        for i in np.flatnonzero(formula):
            reasons[i] = (
                f"starts with {uniques[i][0]!r}, so a spreadsheet would run it as a formula when the results are "
                "opened; remove that first character"
            )
            codes[i] = "cell.formula"
        bad |= control | formula
    if rule.row_label:
        reserved = ~bad & ~blank & np.array([reserved_label_problem(u) is not None for u in uniques], dtype=bool)
        reasons[reserved] = RESERVED_LABEL_MESSAGE
        codes[reserved] = RESERVED_LABEL_CODE
        bad |= reserved
    personal = personal_value_reasons(uniques)
    is_personal = personal.astype(bool)  # None where the value looks like nothing personal
    reasons[is_personal] = personal[is_personal]
    codes[is_personal] = PERSONAL_VALUE_CODE
    hidden |= is_personal
    bad |= is_personal
    bad &= ~blank
    default = rule.default.value if isinstance(rule.default, Enum) else rule.default
    values = uniques.astype(object)  # a copy
    values[blank | bad] = None
    if default is not None:
        values[blank] = default
    return Converted(values, bad, blank, reasons, codes, hidden)


Converter = Callable[[np.ndarray, ColumnRule, str], Converted]

CONVERTERS: dict[str, Converter] = {
    "int": convert_number,
    "float": convert_number,
    "intenum": convert_intenum,
    "enum": convert_enum,
    "list": convert_list,
    "text": convert_text,
}
"""The converter of each column kind (:data:`workload.load.schema.KINDS`)."""


def convert_uniques(uniques: np.ndarray, rule: ColumnRule, convention: str = "point") -> Converted:
    """Apply a column's rule to its distinct (stripped) values: typed values, bad and blank masks, reasons.

    ``convention`` is how the file writes numbers: "point", "comma" or "tab" (see
    :data:`workload.load.readers.NUMBER_CONVENTIONS`).
    """
    return CONVERTERS[rule.kind](uniques, rule, convention)


def factorize(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes and distinct values of a column of text cells, the values stripped (missing cells as "")."""
    codes, uniques = pd.factorize(column.to_numpy(dtype=object), use_na_sentinel=True)
    uniques = np.asarray(uniques, dtype=object)
    stripped = np.array([u.strip() if isinstance(u, str) else str(u).strip() for u in uniques] + [""], dtype=object)
    codes = np.where(codes < 0, len(stripped) - 1, codes)
    return codes, stripped


def default_column(rule: ColumnRule, n: int) -> Any:
    """A column left out of the file: its default on every row, typed as a converted column would be."""
    if rule.kind == "list":
        return pd.Series([tuple(rule.default or ())] * n, dtype=object).to_numpy()
    if rule.kind in ("int", "intenum"):
        return np.full(n, int(rule.default or 0), dtype=np.int64)
    if rule.kind == "float":
        return np.full(n, np.nan if rule.default is None else float(rule.default))
    default = rule.default.value if isinstance(rule.default, Enum) else rule.default
    return pd.Series([default] * n, dtype=object).to_numpy()
