"""The Workload Measurement Tool (WMT) as HMPPS code computes it today: the baseline every run carries.

A case scores the WMT weight of its case type and tier; a practitioner's workload is the sum over the cases
they hold plus points for court reports written in the last 30 days; capacity is the nominal target scaled by
available hours; workload % is the one against the other. The formulas follow the realtime calculator behind
Manage a Workforce (hmpps-workload ``WorkloadCalculator.kt`` and ``CapacityCalculator.kt``); the batch WMT
(wmt-worker) sums the same weights but neither rounds the percentage nor floors available points at 0;
docs/sources.md#hmpps-workload and docs/sources.md#wmt-worker describe both. Every number is a parameter in
``workload/params/wmt.yaml``; the weights, targets and default hours there are the public seed values,
which a scenario may override with live ones.

Not modelled: CMS contact adjustments (points moved between practitioners for contacts on each other's
cases, kept 7 days), T2A (young adult) weights (in effect unused in the realtime path), the inactive-case
weightings (warrants, unpaid work only, overdue terminations) and the PAROM and ARMS points dropped in 2023.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from workload.params import ParameterError, Parameters
from workload.scenario import CaseType
from workload.tier import UNTIERED

CASE_TYPES: tuple[str, ...] = tuple(t.value for t in CaseType)
"""The WMT's three weight columns, in the order the lookup matrices use."""

FLAG_OK, FLAG_OVER, FLAG_RED = "ok", "over", "red"
"""Values of ``wmt_flag``: at or under the allocation screen's threshold, over it, over the red threshold."""

RATIO_PLACES = 15
"""Decimal places of the hours ratio in ``calculateAvailablePoints`` (``divide(contractedHoursForGrade, 15,
HALF_UP)``): part of the tool's arithmetic, not a model number."""

NOMINAL_TARGET_KEY: dict[str, str] = {"SPO": "SPO"}
"""Which entry of ``wmt.nominal_target`` a grade reads: the tool's ``getDefaultPointsAvailable`` has two columns,
``nominal_target_spo`` for SPOs and ``nominal_target_po`` for every other grade (PO, PSO, PQiP)."""

DEFAULT_HOURS_KEY: dict[str, str] = {"PO": "PO", "PQiP": "PO", "PSO": "PSO"}
"""Which entry of ``wmt.default_hours`` a grade reads: the tool's ``getDefaultContractedHours`` gives PO and
PQiP the PO column, PSO the PSO column, and every other grade (SPO) the SPO column."""


def _whole_numbers(table: Mapping[str, object], path: str) -> dict[str, int]:
    """A parameter table whose entries must be whole numbers (WMT points are integers, 0-999 in the admin UI)."""
    out: dict[str, int] = {}
    for key, value in table.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
            raise ParameterError(f"parameter {path}.{key} must be a whole number of points; found {value!r}")
        out[key] = int(value)
    return out


def _by_type_and_tier(cases: pd.DataFrame, params: Parameters, group: str, whole: bool) -> np.ndarray:
    """Look up ``<group>.<case_type>[tier]`` for every case at once (a case type x tier matrix, indexed by codes).

    An untiered case is 0: neither the tool nor the timings have an untiered entry, so the tables hold none
    and a scenario cannot set one. Raises ValueError naming the first case whose case type or tier has no
    entry in the tables.
    """
    tables: dict[str, Mapping[str, Any]] = {t: params.table(f"{group}.{t}") for t in CASE_TYPES}
    if whole:
        tables = {t: _whole_numbers(table, f"{group}.{t}") for t, table in tables.items()}
    tiers = [*dict.fromkeys(tier for table in tables.values() for tier in table if tier != UNTIERED), UNTIERED]
    matrix = np.array([[tables[t].get(tier, np.nan) for tier in tiers[:-1]] + [0.0] for t in CASE_TYPES], dtype=float)
    type_code = pd.Index(CASE_TYPES).get_indexer(cases["case_type"])
    tier_code = pd.Index(tiers).get_indexer(cases["tier"])
    found = (type_code >= 0) & (tier_code >= 0)
    values = np.where(found, matrix[type_code, tier_code], np.nan)
    missing = np.isnan(values)
    if missing.any():
        first = int(np.flatnonzero(missing)[0])
        raise ValueError(
            f"case {cases.index[first]!r}: case type {cases['case_type'].iloc[first]!r} and tier "
            f"{cases['tier'].iloc[first]!r} have no entry in {group}; case types are {', '.join(CASE_TYPES)} "
            f"and tiers are {', '.join(tiers)} ({int(missing.sum())} case(s) affected)"
        )
    return values


def case_points(cases: pd.DataFrame, params: Parameters) -> pd.Series:
    """WMT points of each case: the weight of its case type and tier.

    ``wmt_points[c] = wmt.weights.<case_type[c]>[tier[c]]`` from the 16-tier seed table (community, licence,
    custody; hmpps-workload ``V1_1__SEED_REF_DATA.sql``). Unsupervised S-tier cases score 0 unless a scenario
    sets their weights; untiered cases always score 0, as in the tool, which has no weight for them (its case
    calculator looks up the tier's column; there is no untiered column to set). This is the realtime formula
    (``JpaBasedCaseCalculator.kt``); the batch WMT sums the same weights over tier counts.

    Parameters
    ----------
    cases
        Case table indexed by ``case_id`` with ``case_type`` and ``tier``.
    params
        Model parameters (``wmt.weights.*``, whole numbers).

    Returns
    -------
    pd.Series
        Integer points per case, indexed by ``case_id``, named ``wmt_points``.
    """
    values = _by_type_and_tier(cases, params, "wmt.weights", whole=True)
    return pd.Series(values.astype(np.int64), index=cases.index, name="wmt_points")


def case_hours(cases: pd.DataFrame, params: Parameters) -> pd.Series:
    """Practitioner hours a year that today's model budgets for each case.

    ``wmt_hours[c] = wmt.annual_hours.<case_type[c]>[tier[c]]``: the 2021 unified tiering timings (annual
    hours per case, signed off with the WMT weightings by the Design Authority Board on 17 March 2021;
    docs/sources.md#hmpps-tier-ui, the UTM timings). Tiers without a timing (licence and custody X0, S
    tiers, untiered) are 0.
    The WMT weights are these timings plus about 30% for responsive work; :func:`points_to_hours` gives the
    other reading, the hours the points stand for.

    Returns
    -------
    pd.Series
        Annual hours per case (float), indexed by ``case_id``, named ``wmt_hours``.
    """
    values = _by_type_and_tier(cases, params, "wmt.annual_hours", whole=False)
    return pd.Series(values, index=cases.index, name="wmt_hours")


def points_to_weekly_hours(points, params: Parameters):
    """Contracted hours a week that WMT points stand for (docs/model.md, "Hours: two readings").

    ``weekly_hours = points x wmt.default_hours.PO / wmt.nominal_target.PO``: a full-time practitioner
    (37 hours) at exactly the nominal target (2,176 points) is fully loaded, so one point is 1/58.8 of a
    contracted hour a week (206 community A3 points ~ 3.50 hours a week).

    Parameters
    ----------
    points
        A number, numpy array or pandas Series of points.

    Returns
    -------
    The same shape as ``points``, in hours per week (a Series is named ``weekly_hours_from_points``).
    """
    hours = points * params["wmt.default_hours.PO"] / params["wmt.nominal_target.PO"]
    return hours.rename("weekly_hours_from_points") if isinstance(hours, pd.Series) else hours


def points_to_hours(points, params: Parameters):
    """Practitioner hours a year that WMT points stand for, through the nominal target.

    ``hours = points_to_weekly_hours(points) x productive_hours_per_year / default_hours.PO``
    ``      = points x allocation.capacity.productive_hours_per_fte_year / wmt.nominal_target.PO``: a 37-hour practitioner at the
    nominal target (2,176 points) works ``allocation.capacity.productive_hours_per_fte_year`` (1,660) productive hours a year on
    cases, about 44.9 working weeks of 37 hours. With the seed values the result is within 5% of the 2021
    tiering timings of :func:`case_hours` for every tier that has a timing, since the weights are those
    timings x ~1.31.

    Parameters
    ----------
    points
        A number, numpy array or pandas Series of points.

    Returns
    -------
    The same shape as ``points``, in hours per year (a Series is named ``hours_from_points``).
    """
    productive_weeks = params["allocation.capacity.productive_hours_per_fte_year"] / params["wmt.default_hours.PO"]
    hours = points_to_weekly_hours(points, params) * productive_weeks
    return hours.rename("hours_from_points") if isinstance(hours, pd.Series) else hours


def grade_parameter(practitioners: pd.DataFrame, params: Parameters, path: str) -> np.ndarray:
    """The grade-keyed parameter table ``path`` looked up for every practitioner, as floats.

    Raises ValueError naming the first practitioner whose grade has no entry in the table.
    """
    table = params.table(path)
    values = practitioners["grade"].map(table)
    if values.isna().any():
        bad = practitioners.index[values.isna().to_numpy()]
        raise ValueError(
            f"practitioner {bad[0]!r}: grade {practitioners.loc[bad[0], 'grade']!r} has no entry in {path} "
            f"(grades: {', '.join(table)})"
        )
    return values.to_numpy(dtype=float)


def available_hours_per_week(practitioners: pd.DataFrame) -> pd.Series:
    """Hours a week a practitioner has for cases in the WMT: contracted hours less reduction hours.

    Reductions (training, union duties, phased return, PQiP protected learning...) are entered by managers
    in the WMT (docs/sources.md#hmpps-workload, the seed reduction reasons). Nothing caps reductions at
    contracted hours, so this can be negative; :func:`available_points` then gives 0.
    """
    hours = practitioners["contracted_hours_per_week"] - practitioners["reduction_hours_per_week"]
    return hours.rename("available_hours_per_week")


def _decimal(value: object) -> Fraction:
    """A number as the exact decimal it was written as: a float by its shortest text (35.2, not the binary
    35.2000000000000028...), as the tool's BigDecimal columns hold the figures a manager typed."""
    if isinstance(value, (int, np.integer)):
        return Fraction(int(value))
    return Fraction(repr(float(value)))  # type: ignore[arg-type]


def _half_up(value: Fraction) -> int:
    """``value`` rounded to a whole number, halves away from zero (``RoundingMode.HALF_UP``)."""
    magnitude = int(abs(value) + Fraction(1, 2))
    return magnitude if value >= 0 else -magnitude


def exact_available_points(target: object, default_hours: object, hours: object) -> int:
    """hmpps-workload's ``calculateAvailablePoints`` for one practitioner, in exact decimal arithmetic.

    ``ratio = round_half_up(hours / default_hours, 15 places)``; ``points = trunc(target x ratio)`` (the
    exact product's ``toBigInteger()``); 0 unless ``hours > 0`` and ``default_hours != 0``. The rounding of
    the ratio matters when ``target x hours / default_hours`` is a whole number but ``hours / default_hours``
    has no finite decimal expansion: 2,100 points, 35 default hours and 30 hours give 1,799, not 1,800.
    ``hours`` may be a :class:`~fractions.Fraction` (contracted less reduction hours, exactly); other
    arguments are read as the decimals they were written as.
    """
    hours = hours if isinstance(hours, Fraction) else _decimal(hours)
    default = _decimal(default_hours)
    if not (hours > 0 and default != 0):
        return 0
    ratio = Fraction(_half_up(hours / default * 10**RATIO_PLACES), 10**RATIO_PLACES)
    return int(_decimal(target) * ratio)  # int() truncates toward zero, as toBigInteger() does


def grade_targets(practitioners: pd.DataFrame, params: Parameters) -> tuple[np.ndarray, np.ndarray]:
    """Each practitioner's nominal target and default hours, looked up as the tool looks them up.

    ``wmt.nominal_target.SPO`` for SPOs and ``wmt.nominal_target.PO`` for every other grade;
    ``wmt.default_hours.PO`` for PO and PQiP, ``.PSO`` for PSO and ``.SPO`` for every other grade
    (:data:`NOMINAL_TARGET_KEY`, :data:`DEFAULT_HOURS_KEY`; hmpps-workload ``WorkloadPointsEntity``).
    Returns object arrays of the parameter values as written (ints stay ints).
    """
    grade = practitioners["grade"].astype(str)
    targets = params.table("wmt.nominal_target")
    hours = params.table("wmt.default_hours")
    target_key = grade.map(NOMINAL_TARGET_KEY).fillna("PO")
    hours_key = grade.map(DEFAULT_HOURS_KEY).fillna("SPO")
    return target_key.map(targets).to_numpy(dtype=object), hours_key.map(hours).to_numpy(dtype=object)


def available_points(practitioners: pd.DataFrame, params: Parameters) -> pd.Series:
    """WMT capacity of each practitioner in points ("available points"), exactly as the tool computes it.

    ``available_points = trunc(nominal_target x round_half_up((contracted_hours - reduction_hours) /
    default_hours, 15 places))``, and 0 when the available hours are 0 or less or the default hours are 0
    (docs/sources.md#hmpps-workload, ``CapacityCalculator.kt``; :func:`exact_available_points`). The target
    and default hours are read per grade as the tool reads them (:func:`grade_targets`: PSO and PQiP take the
    PO nominal target). Seeds: nominal target 2,176 and default hours 37 for PO, PSO and PQiP; SPOs have
    default hours 0, so 0 points. A 37-hour PO with 1.8 reduction hours has 2,070 points; a 30-hour one with
    1.8 has 1,658.

    Computed in exact rational arithmetic once per distinct (target, default hours, contracted hours,
    reduction hours), so a region of 11,000 practitioners with a few hundred distinct hours costs a few
    hundred exact computations, none per case.

    Returns
    -------
    pd.Series
        Integer points per practitioner, indexed by ``practitioner_id``, named ``available_points``.
    """
    target, default_hours = grade_targets(practitioners, params)
    keys = pd.MultiIndex.from_arrays(
        [
            pd.Index(target, dtype=object),
            pd.Index(default_hours, dtype=object),
            pd.Index(practitioners["contracted_hours_per_week"].to_numpy(dtype=float)),
            pd.Index(practitioners["reduction_hours_per_week"].to_numpy(dtype=float)),
        ]
    )
    codes, uniques = pd.factorize(keys)
    distinct = np.array(
        [exact_available_points(t, d, _decimal(c) - _decimal(r)) for t, d, c, r in uniques], dtype=np.int64
    )
    points = distinct[codes] if len(codes) else np.zeros(0, dtype=np.int64)
    return pd.Series(points, index=practitioners.index, name="available_points")


def report_points(practitioners: pd.DataFrame, params: Parameters) -> pd.Series:
    """WMT points for court reports written in the last 30 days.

    ``report_points = standard_reports_30d x wmt.report_points.standard (138)
    + fast_reports_30d x wmt.report_points.fast (65)`` (the ``sdr`` and ``sdr_conversion`` seed columns;
    docs/sources.md#hmpps-workload). Oral reports, PAROMs and ARMS assessments score nothing.
    """
    weights = _whole_numbers(params.table("wmt.report_points"), "wmt.report_points")
    points = (
        practitioners["standard_reports_30d"].to_numpy(dtype=np.int64) * weights["standard"]
        + practitioners["fast_reports_30d"].to_numpy(dtype=np.int64) * weights["fast"]
    )
    return pd.Series(points, index=practitioners.index, name="report_points")


def practitioner_points(
    practitioners: pd.DataFrame, case_points: pd.Series, holder: pd.Series, params: Parameters
) -> pd.Series:
    """WMT points a practitioner carries ("points used"): their held cases' points plus report points.

    ``wmt_points[p] = sum of case_points[c] over cases c with holder[c] = p + report_points[p]``
    (hmpps-workload ``WorkloadCalculator.kt``, less the CMS adjustments, which are not modelled).

    Parameters
    ----------
    practitioners
        Practitioner table indexed by ``practitioner_id``.
    case_points
        Points per case (:func:`case_points`), indexed by ``case_id``.
    holder
        Practitioner holding each case, indexed by ``case_id``; None/NaN means unheld and is ignored.
        Cases missing from ``holder`` are unheld.

    Returns
    -------
    pd.Series
        Integer points per practitioner, indexed by ``practitioner_id``, named ``wmt_points``.

    Raises
    ------
    ValueError
        When a held case has no points, or its holder is not in ``practitioners``.
    """
    held_elsewhere = holder.index[holder.notna().to_numpy()].difference(case_points.index)
    if len(held_elsewhere):
        raise ValueError(f"{len(held_elsewhere)} held case(s) have no points, e.g. {held_elsewhere[0]!r}")
    aligned = holder.reindex(case_points.index)
    held = aligned.notna().to_numpy()
    position = practitioners.index.get_indexer(aligned)
    unknown = held & (position < 0)
    if unknown.any():
        first = int(np.flatnonzero(unknown)[0])
        raise ValueError(
            f"case {case_points.index[first]!r} is held by {aligned.iloc[first]!r}, who is not in the "
            f"practitioner table ({int(unknown.sum())} case(s) affected)"
        )
    held_points = np.bincount(
        position[held], weights=case_points.to_numpy(dtype=float)[held], minlength=len(practitioners)
    )
    total = np.rint(held_points).astype(np.int64) + report_points(practitioners, params).to_numpy()
    return pd.Series(total, index=practitioners.index, name="wmt_points")


def workload_pct_units(points, available, decimals: int):
    """Workload % as an exact integer count of 10**-decimals percent, rounded half-up like the tool.

    ``round_half_up(points / available, decimals + 2) x 10**(decimals + 2)`` computed in integers as
    ``(2 x points x 10**(decimals+2) + available) // (2 x available)``, so 2,053 / 2,176 gives 943 (94.3%)
    with no float error. Works on Python ints (the baseline allocator's hot loop) and integer arrays alike.
    ``available`` must be positive.
    """
    scale = 10 ** (decimals + 2)
    return (2 * points * scale + available) // (2 * available)


def workload_pct(points, available, params: Parameters) -> np.ndarray:
    """The WMT's workload % ("capacity %"): points used over available points x 100.

    ``workload_pct = round_half_up(points / available, 3) x 100``, 0 when either is 0 or less
    (hmpps-workload ``CapacityCalculator.kt``; the decimals are ``wmt.workload_pct_decimals``, 1 by default,
    so 2,053 points of 2,176 read 94.3%).

    Parameters
    ----------
    points, available
        Integer arrays (or Series) of points used and available points, aligned.

    Returns
    -------
    np.ndarray
        Workload % per practitioner (float).
    """
    decimals = int(params["wmt.workload_pct_decimals"])
    points = np.asarray(points, dtype=np.int64)
    available = np.asarray(available, dtype=np.int64)
    both_positive = (points > 0) & (available > 0)
    units = workload_pct_units(points, np.where(both_positive, available, 1), decimals)
    return np.where(both_positive, units, 0) / 10**decimals


def capacity_pct_unrounded(points, available) -> np.ndarray:
    """Workload % as wmt-web computes it for its screens: ``(points / available) x 100`` in floating point,
    unrounded, and 0 when available points are 0 (``percentage-calculator.js``, ``calculatePercentage``).

    The same double-precision operations in the same order as the JavaScript, so the value is the one the
    page tests: 1,100 points of 1,000 give 110.00000000000001, not 110.
    """
    points = np.asarray(points, dtype=float)
    available = np.asarray(available, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = points / available * 100
    return np.where(available != 0, pct, 0.0)


def wmt_flag(points, available, params: Parameters) -> pd.Series:
    """What the WMT screens say about a practitioner: ``ok``, ``over`` or ``red``.

    ``red`` when the unrounded percentage (:func:`capacity_pct_unrounded`) is above ``wmt.red_pct``: wmt-web's
    test ``capacityPercentage > 110`` on the float it computes, so 110.04% (shown as 110.0%) is red while
    hmpps-workload's rounded capacity reads 110.0; above 110% for 4 consecutive weeks is "excessive workload".
    Otherwise ``over`` when the workload % as hmpps-workload returns it (:func:`workload_pct`, rounded half-up
    to 0.1) is above ``wmt.allocation_flag_pct``: Manage a Workforce's officer-overview card tests
    ``capacity > 99`` on that number (its choose-practitioner list flags above 100). Otherwise ``ok``. A
    practitioner with no available points reads 0% and ``ok`` whatever they hold, as in both tools.

    Parameters
    ----------
    points, available
        Points used and available points per practitioner (integer arrays or Series, aligned); the index of
        ``points`` is kept when it is a Series.
    """
    rounded = workload_pct(points, available, params)
    unrounded = capacity_pct_unrounded(points, available)
    flags = np.select(
        [unrounded > params["wmt.red_pct"], rounded > params["wmt.allocation_flag_pct"]],
        [FLAG_RED, FLAG_OVER],
        FLAG_OK,
    )
    index = points.index if isinstance(points, pd.Series) else None
    return pd.Series(flags, index=index, name="wmt_flag", dtype="str")


def practitioner_workload(
    practitioners: pd.DataFrame, case_points: pd.Series, holder: pd.Series, params: Parameters
) -> pd.DataFrame:
    """Each practitioner's WMT position: points used, available points, workload % and flag.

    Combines :func:`practitioner_points`, :func:`available_points`, :func:`workload_pct` and
    :func:`wmt_flag`. A 37-hour PO holding 10 community B2, 5 licence C3 and 3 custody A1 cases with 2
    standard and 1 fast report in the last 30 days has 2,053 of 2,176 points, 94.3%, ``ok``
    (arithmetic on the seed values of docs/sources.md#hmpps-workload).

    Parameters
    ----------
    practitioners
        Practitioner table indexed by ``practitioner_id``.
    case_points
        Points per case, indexed by ``case_id``.
    holder
        Practitioner holding each case (``case_id`` -> ``practitioner_id``; None/NaN = unheld).

    Returns
    -------
    pd.DataFrame
        Indexed by ``practitioner_id``, columns ``wmt_points`` (int), ``available_points`` (int),
        ``workload_pct`` (float) and ``wmt_flag`` (``ok``/``over``/``red``).
    """
    points = practitioner_points(practitioners, case_points, holder, params)
    available = available_points(practitioners, params)
    pct = pd.Series(workload_pct(points, available, params), index=practitioners.index, name="workload_pct")
    return pd.DataFrame(
        {
            "wmt_points": points,
            "available_points": available,
            "workload_pct": pct,
            "wmt_flag": wmt_flag(points, available, params),
        }
    )
