"""Personal data: column names and values that look like direct identifiers, and what the user is told.

Case data is sensitive personal data. Columns whose names look like direct identifiers (in tables whose rows
are people), and identifiers whose values look like CRNs, PNC or prison numbers, National Insurance numbers
or dates (of birth), are refused with a message that explains pseudonymisation; such values are never echoed
back in messages, nor kept in the problems that report them.
"""

from __future__ import annotations

import re

import numpy as np
from pydantic import BaseModel

from workload.scenario import CaseRecord, PractitionerRecord

PEOPLE_MODELS: tuple[type[BaseModel], ...] = (CaseRecord, PractitionerRecord)
"""Tables whose rows are people, where personal-data column names are refused as such."""

PERSONAL_DATA_COLUMNS = re.compile(
    r"(^|_)("
    r"names?|(first|fore|given|sur|last|family|full|middle|maiden|birth|christian|offender|client|person|"
    r"staff|officer|practitioner)_?names?|aliase?s?|initials|"
    r"dob|d_o_b|date_?of_?birth|birth_?date|birth_?day|"
    r"(home_?|postal_?|street_?)?address(es)?|address_?line_?\d*|street|house_?(number|no)|post_?code|postal_?code|"
    r"zip(_?code)?|"
    r"crns?|case_?reference_?(number|no)|pnc|pnc_?(number|no|id)|cro|cro_?(number|no)|nomis(_?(id|number|no))?|"
    r"noms(_?(id|number|no))?|prison_?(number|no)|booking_?(number|no)|"
    r"ni_?(number|no)|nino|national_?insurance(_?(number|no))?|nhs_?(number|no)|passport(_?(number|no))?|"
    r"driving_?licen[cs]e|phone|telephone|tel|mobile|e_?mail(_?address)?"
    r")(_|$)"
)
"""Column names that look like direct identifiers (searched in the name lower-cased, with '_' between words):
refused, because scenarios must be pseudonymised."""

PSEUDONYMISATION = (
    "Scenarios must be pseudonymised: remove names, dates of birth, addresses and CRN/PNC numbers, and use "
    "an opaque case_id (a lookup to the real record stays with you, outside this tool)"
)
"""What every personal-data message tells the user to do."""

_D = r"(?:0?[1-9]|[12]\d|3[01])"
_M = r"(?:0?[1-9]|1[0-2])"
_Y = r"(?:19|20)\d{2}"
_MON = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]{0,6}"
_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
PERSONAL_DATA_VALUES: dict[str, str] = {
    "a CRN (a letter and six digits)": r"[A-Za-z]\d{6}",
    "a PNC number (year/number and a check letter)": r"(?:\d{2}|\d{4})/\d{1,7}[A-Za-z]",
    "a prison (NOMIS) number": r"[A-Za-z]\d{4}[A-Za-z]{2}",
    "a National Insurance number": r"[A-Za-z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-Da-d]",
    "a date (of birth?)": (
        rf"(?:{_Y}[-/.]{_M}[-/.]{_D}|{_D}[-/.]{_M}[-/.](?:{_Y}|\d{{2}})|{_M}[-/.]{_D}[-/.]{_Y}|"
        rf"{_D}[-/. ]?{_MON}[-/. ]?(?:{_Y}|\d{{2}})){_TIME}"
    ),
}
"""Shapes of identifying values, by what they look like. Identifier columns holding them are refused."""

_PERSONAL_VALUE = re.compile(
    "|".join(f"(?P<g{i}>{p})" for i, p in enumerate(PERSONAL_DATA_VALUES.values())), re.IGNORECASE
)
_PERSONAL_WHAT = dict(zip((f"g{i}" for i in range(len(PERSONAL_DATA_VALUES))), PERSONAL_DATA_VALUES))

PERSONAL_VALUE_CODE = "cell.personal_data"
PERSONAL_COLUMN_CODE = "header.personal_data"


def looks_like_personal_column(normal: str) -> bool:
    """Whether a column name (lower-cased, '_' between words) looks like a direct identifier."""
    return PERSONAL_DATA_COLUMNS.search(normal) is not None


def personal_column_message(column: str) -> str:
    """What a personal-data column is told (its name is the user's own header, so it is shown)."""
    return f"looks like personal data ({column!r}). {PSEUDONYMISATION}"


def personal_value_reasons(values: np.ndarray) -> np.ndarray:
    """For each value, the personal-data message when it looks like a CRN, PNC number, date... else None.

    The message never holds the value; the problem reporting it does not either (``show_value`` False).
    """
    out = np.empty(len(values), dtype=object)  # all None (and far faster than np.full for objects)
    # every shape starts with a digit (PNC numbers, dates) or is 7 or 9-13 characters (CRN, NOMIS, NI number):
    # a cheap first pass keeps the regex off most pseudonymous ids
    candidates = [
        i for i, v in enumerate(values) if 5 <= len(v) <= 32 and (v[0].isdigit() or len(v) == 7 or 9 <= len(v) <= 13)
    ]
    for i in candidates:
        match = _PERSONAL_VALUE.fullmatch(values[i])
        if match is not None:
            what = _PERSONAL_WHAT[str(match.lastgroup)]
            out[i] = f"looks like {what}, which is personal data (value not shown). {PSEUDONYMISATION}"
    return out
