"""The needs model: practitioner hours a case needs a year, as a sum of named components.

Today's Workload Measurement Tool gives a case the hours of its risk tier. This module scores what a case
needs instead: risk-management time by protect level, plus time for every assessed need and every
experience the research shows matters (domestic abuse, sexual violence, sex work, children, pregnancy,
self-harm, suicide attempts, care experience, overdose), plus the extra cost of needs that come together,
front-loaded relationship building, and an uplift for crisis work. It answers recommendation 4 of Tibbetts
(2009): a model that gives time to build relationships, affords time to "low risk but complex needs" women
and looks at needs as a whole; and the trauma-informed, relationship-first practice of Gomm (2015).

Every component is a column of the output, so anyone can see why a case needs what it needs::

    required_hours = hours_risk + hours_needs + hours_complexity + hours_relationship + hours_responsive

The model scores needs and experiences, never sex itself (a man with the same needs gets the same hours) and
never a diagnosis. The ``sex`` column is read in one place only: to derive an untiered case's tier letter as
HMPPS tiering would (its additional factors for women count for recorded women only), the same rule that is
already inside every recorded tier. Every number comes from ``workload/params/needs.yaml``
with its unit and source or the reasoning behind it; docs/model.md states each formula and default.

Hours are practitioner hours per case per year. Relationship time, given only in the first months of an
order or licence, is counted at its annual-equivalent rate while it lasts: what the practitioner's weeks
must hold now.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workload.params import ParameterError, Parameters
from workload.scenario import OASYS_NEEDS, RESEARCH_FLAGS, CaseType, Flag, NeedArea, Rosh, Severity, Tier
from workload.tier import MAPPA_KEYS, PROTECT_LEVELS, case_protect_points, protect_code, protect_thresholds

COMPONENTS: tuple[str, ...] = (
    "hours_risk",
    "hours_needs",
    "hours_complexity",
    "hours_relationship",
    "hours_responsive",
)
"""The five component columns, in order; ``required_hours`` is their sum."""

NEED_AREAS: tuple[str, ...] = tuple(area.value for area in NeedArea)
"""The 19 need areas: the ten OASys sections (scored 0/1/2), then the nine research flags (0/1)."""

AREA_COLUMNS: tuple[str, ...] = tuple(f"hours_need_{area}" for area in NEED_AREAS)
"""One column per need area (``hours_need_<area>``); they add up to ``hours_needs``."""

MODES: tuple[str, ...] = ("full", "budget-neutral")
"""Scoring modes: the hours that meet assessed need, or those hours scaled to the WMT baseline's total."""


CASE_TYPES: tuple[str, ...] = tuple(case_type.value for case_type in CaseType)
"""Case types in the order of the per-type parameter tables."""

ROSH_LEVELS: tuple[str, ...] = tuple(level.value for level in Rosh)
"""RoSH levels in the order of ``tier.protect.rosh_points``."""

MONTHS_PER_YEAR = 12
"""Unit conversion: hours given over some months become an annual rate by x 12 / months."""

REQUIRED_COLUMNS: tuple[str, ...] = ("case_type", "tier", "rosh", "mappa_level", "months_on_order", *NEED_AREAS)
"""Case columns the model needs. ``sex`` is not among them: it is read only when present, for an untiered case's
protect level (:func:`workload.tier.case_protect_points`), like the other columns of the tier's protect points."""

_OASYS_MAX = int(max(Severity))
_FLAG_MAX = int(max(Flag))
_COMMUNITY = CASE_TYPES.index(CaseType.community.value)


# ----------------------------------------------------------------------------------------------------------
# inputs as arrays


@dataclass(frozen=True)
class _Weights:
    """The needs parameters as numpy arrays, checked once per call."""

    risk_hours: np.ndarray  # (case type, protect level)
    no_mandate_hours: np.ndarray  # (protect level,)
    unsupervised_risk: float
    rosh_points: np.ndarray  # (rosh level,)
    mappa_points: np.ndarray  # (mappa level,)
    thresholds: np.ndarray  # points for A, B, C
    area_hours: np.ndarray  # (need area,) hours per unit
    case_type_factor: np.ndarray  # (case type,)
    unsupervised_needs: float
    uplift_per_area: float
    areas_before_uplift: float
    complexity_cap: float
    front_load_months: float
    engagement_hours: float
    trust_hours: np.ndarray  # (need area,) hours over the front-load months per unit
    responsive_share: np.ndarray  # (need area,) share per unit
    responsive_cap: float


@dataclass(frozen=True)
class _Cases:
    """The case columns the model reads, as arrays aligned with ``index``."""

    index: pd.Index
    case_type: np.ndarray  # int code into CASE_TYPES
    letter: np.ndarray  # int code into PROTECT_LEVELS (derived for untiered cases)
    no_mandate: np.ndarray  # bool: community case at change level 0
    unsupervised: np.ndarray  # bool: S-suffix tier
    months: np.ndarray  # months since the order or licence started
    units: np.ndarray  # (case, need area): severity 0/1/2 or flag 0/1

    @property
    def areas_present(self) -> np.ndarray:
        """Number of need areas with a severity or flag of 1 or more, per case."""
        return np.count_nonzero(self.units > 0, axis=1)


def _number(params: Parameters, path: str, *, positive: bool = False) -> float:
    value = params[path]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise ParameterError(f"parameter {path} must be a finite number; found {value!r}")
    if value < 0 or (positive and value == 0):
        bound = "more than 0" if positive else "0 or more"
        raise ParameterError(f"parameter {path} must be {bound} (hours and shares are never negative); found {value}")
    return float(value)


def _table(params: Parameters, path: str, keys: tuple[str, ...], *, complete: bool) -> np.ndarray:
    """A table leaf as an array in the order of ``keys``; missing keys are 0 unless ``complete``."""
    table = params.table(path)
    unknown = sorted(set(table) - set(keys))
    if unknown:
        raise ParameterError(f"parameter {path} has unknown entries {unknown}; allowed: {', '.join(keys)}")
    missing = [k for k in keys if k not in table]
    if complete and missing:
        raise ParameterError(f"parameter {path} lacks entries {missing}; it needs one for each of {', '.join(keys)}")
    for key in table:
        _number(params, f"{path}.{key}")
    return np.array([float(table.get(k, 0.0)) for k in keys])


def _weights(params: Parameters) -> _Weights:
    """Read and check the needs parameters: every number finite and non-negative, every table complete."""
    risk_hours = np.vstack([_table(params, f"needs.risk.hours.{t}", PROTECT_LEVELS, complete=True) for t in CASE_TYPES])
    _table(params, "tier.protect.thresholds", PROTECT_LEVELS[:3], complete=True)
    thresholds = protect_thresholds(params)
    area_hours = np.concatenate(
        [
            _table(params, "needs.hours_per_severity", OASYS_NEEDS, complete=True),
            _table(params, "needs.hours_per_flag", RESEARCH_FLAGS, complete=True),
        ]
    )
    return _Weights(
        risk_hours=risk_hours,
        no_mandate_hours=_table(params, "needs.risk.hours.no_mandate", PROTECT_LEVELS, complete=True),
        unsupervised_risk=_number(params, "needs.risk.unsupervised_factor"),
        rosh_points=_table(params, "tier.protect.rosh_points", ROSH_LEVELS, complete=True),
        mappa_points=_table(params, "tier.protect.mappa_points", MAPPA_KEYS, complete=True),
        thresholds=thresholds,
        area_hours=area_hours,
        case_type_factor=_table(params, "needs.case_type_factor", CASE_TYPES, complete=True),
        unsupervised_needs=_number(params, "needs.unsupervised_needs_factor"),
        uplift_per_area=_number(params, "needs.complexity.uplift_per_area"),
        areas_before_uplift=_number(params, "needs.complexity.areas_before_uplift"),
        complexity_cap=_number(params, "needs.complexity.cap"),
        front_load_months=_number(params, "needs.relationship.front_load_months", positive=True),
        engagement_hours=_number(params, "needs.relationship.engagement_hours"),
        trust_hours=_table(params, "needs.relationship.trust_hours", NEED_AREAS, complete=False),
        responsive_share=_table(params, "needs.responsive.share_per_area", NEED_AREAS, complete=False),
        responsive_cap=_number(params, "needs.responsive.cap"),
    )


def _codes(column: pd.Series, allowed: tuple[str, ...], name: str) -> np.ndarray:
    """Integer codes of a text column into ``allowed``, raising on any value outside it."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    lookup = np.full(len(uniques), -1, dtype=np.int64)
    bad: list[str] = []
    for i, value in enumerate(uniques):
        if value in allowed:
            lookup[i] = allowed.index(value)
        else:
            bad.append(repr(value))
    if bad or (codes < 0).any():
        found = ", ".join(bad) if bad else "blank"
        raise ValueError(f"cases column {name}: {found} is not allowed; expected one of {', '.join(allowed)}")
    return lookup[codes]


def _cases(cases: pd.DataFrame, weights: _Weights, params: Parameters) -> _Cases:
    """Check the case columns the model reads and turn them into arrays."""
    missing = [c for c in REQUIRED_COLUMNS if c not in cases.columns]
    if missing:
        raise ValueError(f"cases lack columns the needs model reads: {', '.join(missing)}")
    n = len(cases)

    tiers = tuple(t.value for t in Tier)
    tier_code = _codes(cases["tier"], tiers, "tier")
    tier_letter = np.array([PROTECT_LEVELS.index(t[0]) if t != Tier.untiered.value else -1 for t in tiers])
    tier_level = np.array([int(t[1]) if t != Tier.untiered.value else -1 for t in tiers])
    tier_unsupervised = np.array([t.endswith("S") for t in tiers])
    letter = tier_letter[tier_code]
    untiered = letter < 0
    if untiered.any():
        rows = cases[untiered]
        _codes(rows["rosh"], ROSH_LEVELS, "rosh")
        _levels(rows["mappa_level"], len(MAPPA_KEYS) - 1, "mappa_level")
        letter = letter.copy()
        letter[untiered] = protect_code(case_protect_points(rows, params), weights.thresholds)
    case_type = _codes(cases["case_type"], CASE_TYPES, "case_type")

    months = cases["months_on_order"].to_numpy(dtype=np.float64, na_value=np.nan)
    if not (np.isfinite(months) & (months >= 0)).all():
        raise ValueError("cases column months_on_order must be a number of months, 0 or more, in every row")
    units = cases[list(NEED_AREAS)].to_numpy(dtype=np.float64, na_value=np.nan).reshape(n, len(NEED_AREAS))
    upper = np.array([_OASYS_MAX] * len(OASYS_NEEDS) + [_FLAG_MAX] * len(RESEARCH_FLAGS))
    ok = np.isfinite(units) & (units >= 0) & (units <= upper) & (units == np.round(units))
    if not ok.all():
        bad = [NEED_AREAS[j] for j in np.flatnonzero(~ok.all(axis=0))]
        raise ValueError(
            f"cases columns {', '.join(bad)}: OASys needs must be 0, 1 or 2 and research flags 0 or 1 in every row"
        )
    return _Cases(
        index=cases.index,
        case_type=case_type,
        letter=letter,
        no_mandate=(tier_level[tier_code] == 0) & (case_type == _COMMUNITY),
        unsupervised=tier_unsupervised[tier_code],
        months=months,
        units=units,
    )


def _levels(column: pd.Series, top: int, name: str) -> np.ndarray:
    values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    if not (np.isfinite(values) & (values >= 0) & (values <= top) & (values == np.round(values))).all():
        raise ValueError(f"cases column {name} must be a whole number from 0 to {top} in every row")
    return values.astype(np.int64)


def _prepare(cases: pd.DataFrame, params: Parameters) -> tuple[_Cases, _Weights]:
    weights = _weights(params)
    return _cases(cases, weights, params), weights


def _needs_factor(c: _Cases, w: _Weights) -> np.ndarray:
    """Per-case multiplier on needs-driven time: case type factor x (unsupervised factor if an S tier)."""
    return w.case_type_factor[c.case_type] * np.where(c.unsupervised, w.unsupervised_needs, 1.0)


# ----------------------------------------------------------------------------------------------------------
# components on arrays


def _risk(c: _Cases, w: _Weights) -> np.ndarray:
    hours = np.where(c.no_mandate, w.no_mandate_hours[c.letter], w.risk_hours[c.case_type, c.letter])
    return hours * np.where(c.unsupervised, w.unsupervised_risk, 1.0)


def _by_area(c: _Cases, w: _Weights) -> np.ndarray:
    return c.units * w.area_hours * _needs_factor(c, w)[:, None]


def _complexity(c: _Cases, w: _Weights, needs: np.ndarray) -> np.ndarray:
    extra_areas = np.maximum(c.areas_present - w.areas_before_uplift, 0.0)
    return np.minimum(w.complexity_cap, w.uplift_per_area * extra_areas) * needs


def _relationship(c: _Cases, w: _Weights) -> np.ndarray:
    over_window = w.engagement_hours * (c.areas_present > 0) + c.units @ w.trust_hours
    annual_rate = over_window * (MONTHS_PER_YEAR / w.front_load_months)
    return np.where(c.months < w.front_load_months, annual_rate, 0.0) * _needs_factor(c, w)


def _responsive_share(c: _Cases, w: _Weights) -> np.ndarray:
    return np.minimum(w.responsive_cap, c.units @ w.responsive_share)


# ----------------------------------------------------------------------------------------------------------
# public components, one function per quantity


def protect_level(cases: pd.DataFrame, params: Parameters) -> pd.Series:
    """Protect level (risk of serious harm) A-D of each case: the letter of its 2021 tier.

    An untiered case's level is derived as HMPPS tiering derives it, from every factor of its protect points
    that a case table holds (:func:`workload.tier.case_protect_points`; docs/sources.md#hmpps-tier)::

        points = max(rsr_points[rsr_pct], rosh_points[rosh]) + mappa_points[mappa_level]
                 + 2 x complexity_registrations
                 + 2 x (breach_recall_12m + valid_assessment x (dependent_children + impulsivity_or_temper))
                   for a recorded woman only
        level  = A if points >= thresholds.A, B if >= thresholds.B, C if >= thresholds.C, else D

    with RSR 7.00-99.99% / 3.00-6.99% = 20/10 points, RoSH low/medium/high/very high = 0/10/20/150, MAPPA
    none/1/2/3 = 0/5/150/150 and thresholds 150/20/10 (``tier.protect.*``). This is today's tier rule, and the
    one place the needs model reads ``sex``: the additional factors for women count only for a recorded woman,
    as they do in the tier a tiered case already carries. ``dependent_children`` stands in for OASys 6.9
    parenting responsibilities.

    Parameters
    ----------
    cases : pandas.DataFrame
        Case table (as :func:`workload.load.load_scenario` returns it).
    params : Parameters
        Model parameters.

    Returns
    -------
    pandas.Series
        "A", "B", "C" or "D" per case, indexed like ``cases``.
    """
    c, _ = _prepare(cases, params)
    return pd.Series(np.array(PROTECT_LEVELS)[c.letter], index=c.index, name="protect_level")


def hours_risk(cases: pd.DataFrame, params: Parameters) -> pd.Series:
    """Risk-management time: the hours a case's risk of serious harm needs, whatever its needs.

    ::

        hours_risk = risk_hours[case_type][protect level]          (change level 1, 2 or 3)
                   = no_mandate[protect level]                     (community case at change level 0)
                   x unsupervised_factor                           (S-suffix tiers only)

    ``needs.risk.hours.*`` are the 2021 unified tiering timings at change level 1, the level a case with no
    scored OASys need gets; at change level 0 (no mandate for change, community only) they are the level-0
    timings (docs/sources.md#hmpps-tier-ui, the UTM timings). The change number's extra time is not
    counted here: the needs components price the needs themselves. Unsupervised (S) cases get
    ``needs.risk.unsupervised_factor`` (0.25, judgement) of the supervised time where today's model gives
    0. Untiered cases take the protect level :func:`protect_level` derives as HMPPS tiering would (RSR, RoSH,
    MAPPA, complexity registrations and the additional factors for women), and the hours of change level 1.

    Returns
    -------
    pandas.Series
        Hours per case per year, indexed like ``cases``.
    """
    c, w = _prepare(cases, params)
    return pd.Series(_risk(c, w), index=c.index, name="hours_risk")


def hours_by_need_area(cases: pd.DataFrame, params: Parameters) -> pd.DataFrame:
    """Needs time split by need area: one column ``hours_need_<area>`` for each of the 19 need areas.

    ::

        hours_need_<need> = hours_per_severity[need] x severity x factor     (OASys need, severity 0/1/2)
        hours_need_<flag> = hours_per_flag[flag] x flag x factor             (research flag, 0/1)
        factor            = case_type_factor[case_type] x (unsupervised_needs_factor if an S tier)

    Per-point hours for OASys needs follow the 2021 timings' price of change work (1.25 h per point, 2.5 for
    thinking and behaviour and attitudes, which tiering weights 2); finance and emotional wellbeing count,
    though tiering weights them 0. Flag hours are judgement (``needs.hours_per_flag``). The case type
    factor (licence 0.95, custody 0.25) is derived from the timings (docs/sources.md#hmpps-tier-ui). The split
    lets an allocator hand a partner agency only the areas it delivers.

    Returns
    -------
    pandas.DataFrame
        Hours per case per year, columns :data:`AREA_COLUMNS`, indexed like ``cases``.
    """
    c, w = _prepare(cases, params)
    return pd.DataFrame(_by_area(c, w), index=c.index, columns=list(AREA_COLUMNS))


def hours_needs(cases: pd.DataFrame, params: Parameters) -> pd.Series:
    """Needs time: the sum over the 19 need areas of :func:`hours_by_need_area`.

    ::

        hours_needs = sum over areas of hours_need_<area>

    Every OASys section at 0/1/2 and every research flag (domestic abuse or sexual violence experienced,
    sex work, dependent children, pregnancy, self-harm or suicide attempt history, care experience,
    overdose history) adds time. Experiences and needs, never a diagnosis, never sex.

    Returns
    -------
    pandas.Series
        Hours per case per year, indexed like ``cases``.
    """
    c, w = _prepare(cases, params)
    return pd.Series(_by_area(c, w).sum(axis=1), index=c.index, name="hours_needs")


def hours_complexity(cases: pd.DataFrame, params: Parameters) -> pd.Series:
    """Holistic complexity: co-occurring needs cost more than their sum (multi-agency coordination).

    ::

        areas            = number of need areas present (severity or flag 1 or more)
        uplift           = min(cap, uplift_per_area x max(areas - areas_before_uplift, 0))
        hours_complexity = uplift x hours_needs

    With the defaults (4% per area beyond the first, capped at 40%, all judgement) a case with four need
    areas needs 12% more than the sum of its needs. The uplift never falls as an area is added and
    ``hours_needs`` never falls as a severity rises, so the product never falls as need rises, cap included.

    Returns
    -------
    pandas.Series
        Hours per case per year, indexed like ``cases``.
    """
    c, w = _prepare(cases, params)
    needs = _by_area(c, w).sum(axis=1)
    return pd.Series(_complexity(c, w, needs), index=c.index, name="hours_complexity")


def hours_relationship(cases: pd.DataFrame, params: Parameters) -> pd.Series:
    """Relationship building: front-loaded engagement time while an order or licence is new.

    ::

        over_window        = engagement_hours x (1 if any need area present)
                             + sum over areas of trust_hours[area] x severity-or-flag
        hours_relationship = over_window x 12 / front_load_months x factor   if months_on_order < front_load_months
                           = 0                                              otherwise

    (``factor`` as in :func:`hours_by_need_area`.) The hours given over the first ``front_load_months``
    (6) are counted at their annual-equivalent rate while they last. Every case with a need gets
    ``engagement_hours`` (3) to build the working relationship needs work rests on; trust hours are added
    where abuse or trauma make trust hard (domestic abuse 3, sexual violence 3, care experience 2, sex work
    2): Tibbetts (2009) recommendation 4 and Gomm (2015). A case with no needs gets none, so it keeps its
    tier's timing. All judgement.

    Returns
    -------
    pandas.Series
        Annual-equivalent hours per case, indexed like ``cases``.
    """
    c, w = _prepare(cases, params)
    return pd.Series(_relationship(c, w), index=c.index, name="hours_relationship")


def restart_hours(cases: pd.DataFrame, params: Parameters) -> pd.Series:
    """Relationship-building hours a change of practitioner costs: the work a new practitioner must redo.

    ::

        restart_hours = over_window x min(months_on_order, front_load_months) / front_load_months x factor

    (``over_window`` and ``factor`` as in :func:`hours_relationship`.) A case moved after its window has
    closed restarts the whole window's relationship work; a case moved inside it redoes the part already
    done. These are hours on top of the year's required hours, so a move is priced with them
    (docs/model.md, "Continuity").
    """
    c, w = _prepare(cases, params)
    over_window = w.engagement_hours * (c.areas_present > 0) + c.units @ w.trust_hours
    done = np.minimum(c.months, w.front_load_months) / w.front_load_months
    return pd.Series(over_window * done * _needs_factor(c, w), index=c.index, name="restart_hours")


def early_trust(cases: pd.DataFrame, params: Parameters) -> pd.Series:
    """Cases inside their relationship-building window with an abuse or trauma history: ``months_on_order <
    needs.relationship.front_load_months`` and a need area with trust hours present (the priority rule
    ``allocation.priority.trust_uplift``)."""
    c, w = _prepare(cases, params)
    history = (c.units * (w.trust_hours > 0)[None, :]).sum(axis=1) > 0
    return pd.Series((c.months < w.front_load_months) & history, index=c.index, name="early_trust")


def move_protected(cases: pd.DataFrame, params: Parameters) -> pd.Series:
    """Cases a rebalance may not move: inside their relationship-building window, or with an abuse or trauma
    history.

    A case is protected when ``months_on_order < needs.relationship.front_load_months`` or when any need area
    with trust hours (``needs.relationship.trust_hours``: domestic abuse, sexual violence, care experience, sex
    work) is present: the research's reasons a change of practitioner costs most (docs/sources.md#gomm-2015-part-1,
    docs/sources.md#tibbetts-2009).
    """
    c, w = _prepare(cases, params)
    history = (c.units * (w.trust_hours > 0)[None, :]).sum(axis=1) > 0
    return pd.Series((c.months < w.front_load_months) | history, index=c.index, name="move_protected")


def responsive_share(cases: pd.DataFrame, params: Parameters) -> pd.Series:
    """Share of planned time added for crisis work: the responsive uplift before it is applied.

    ::

        share = min(cap, sum over areas of share_per_area[area] x severity-or-flag)

    Defaults: 10% per near-miss history (overdose, suicide attempt, self-harm) and 2.5% per severity point
    of drug, alcohol and emotional-wellbeing need (judgement), capped at the refreshed WMT's 30% allowance
    for responsive work (docs/sources.md#wmt-refresh-2022).

    Returns
    -------
    pandas.Series
        Share of planned hours (0 to the cap), indexed like ``cases``.
    """
    c, w = _prepare(cases, params)
    return pd.Series(_responsive_share(c, w), index=c.index, name="responsive_share")


def hours_responsive(cases: pd.DataFrame, params: Parameters) -> pd.Series:
    """Responsive and crisis work for those at risk of the "near misses" (overdose, suicide, self-harm).

    ::

        hours_responsive = responsive_share x (hours_risk + hours_needs + hours_complexity + hours_relationship)

    with ``responsive_share`` from :func:`responsive_share` (at most 30%, the refreshed WMT's allowance for
    responsive activity). Gomm (2015, part 2) finds near-fatal overdoses and suicide attempts are where
    disengagement costs most.

    Returns
    -------
    pandas.Series
        Hours per case per year, indexed like ``cases``.
    """
    c, w = _prepare(cases, params)
    needs = _by_area(c, w).sum(axis=1)
    planned = _risk(c, w) + needs + _complexity(c, w, needs) + _relationship(c, w)
    return pd.Series(_responsive_share(c, w) * planned, index=c.index, name="hours_responsive")


# ----------------------------------------------------------------------------------------------------------
# the score


def score_needs(
    cases: pd.DataFrame,
    params: Parameters,
    mode: str = "full",
    baseline_total_hours: float | None = None,
) -> pd.DataFrame:
    """Required hours per case and their components: what the needs model says each case needs.

    ::

        required_hours = hours_risk + hours_needs + hours_complexity + hours_relationship + hours_responsive
        hours_needs    = sum over the 19 need areas of hours_need_<area>

    Two modes:

    - ``"full"``: the hours that meet assessed need.
    - ``"budget-neutral"``: every column (components, need areas and total) multiplied by the same factor
      ``baseline_total_hours / sum(required_hours in full mode)``, so that ``required_hours`` sums to the
      WMT baseline's total hours over the same cases: the redistribution the model asks for at today's cost.
      A case's hours then depend on the rest of the caseload, so in this mode raising one case's need can
      lower another's.

    Parameters
    ----------
    cases : pandas.DataFrame
        Case table indexed by ``case_id`` (as :func:`workload.load.load_scenario` returns it). The columns
        read are :data:`REQUIRED_COLUMNS`, and for untiered cases the other columns of the tier's protect points
        (:data:`workload.tier.PROTECT_COLUMNS`, ``sex`` among them; the optional ones default when absent).
    params : Parameters
        Model parameters (``needs.*`` from workload/params/needs.yaml, with any scenario overrides).
    mode : {"full", "budget-neutral"}
        Scoring mode (a scenario's ``policy.scoring_mode``).
    baseline_total_hours : float, optional
        The WMT baseline's total hours over the same cases (the sum of
        ``workload.scoring.wmt.case_hours(cases, params)``). Required in budget-neutral mode; ignored in
        full mode.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``cases``; columns :data:`COMPONENTS`, ``required_hours``, then :data:`AREA_COLUMNS`,
        all in practitioner hours per case per year. ``attrs`` records ``mode`` and ``scale_factor``
        (1 in full mode).

    Raises
    ------
    ValueError
        Unknown mode; budget-neutral without a finite, non-negative ``baseline_total_hours``, or with a
        positive baseline and no required hours to scale; a missing or out-of-range case column; a needs
        parameter that is negative, not a number, or a table missing entries (``ParameterError``).
    """
    if mode not in MODES:
        raise ValueError(f"scoring mode {mode!r} is not known; expected one of {', '.join(MODES)}")
    c, w = _prepare(cases, params)

    by_area = _by_area(c, w)
    risk = _risk(c, w)
    needs = by_area.sum(axis=1)
    complexity = _complexity(c, w, needs)
    relationship = _relationship(c, w)
    responsive = _responsive_share(c, w) * (risk + needs + complexity + relationship)
    components = np.column_stack([risk, needs, complexity, relationship, responsive])

    factor = 1.0
    if mode == "budget-neutral":
        factor = _budget_neutral_factor(float(components.sum()), baseline_total_hours)
        components = components * factor
        by_area = by_area * factor

    data = {name: components[:, i] for i, name in enumerate(COMPONENTS)}
    data["required_hours"] = components.sum(axis=1)
    data.update({name: by_area[:, j] for j, name in enumerate(AREA_COLUMNS)})
    result = pd.DataFrame(data, index=c.index)
    result.attrs.update({"mode": mode, "scale_factor": factor})
    return result


def _budget_neutral_factor(full_total: float, baseline_total_hours: float | None) -> float:
    """The factor that scales full-mode hours to the WMT baseline's total."""
    if baseline_total_hours is None:
        raise ValueError(
            "budget-neutral scoring needs baseline_total_hours: the WMT baseline's total hours over the same "
            "cases (workload.scoring.wmt.case_hours(cases, params).sum())"
        )
    baseline = float(baseline_total_hours)
    if not np.isfinite(baseline) or baseline < 0:
        raise ValueError(
            f"baseline_total_hours must be a finite number of hours, 0 or more; found {baseline_total_hours!r}"
        )
    if full_total > 0:
        return baseline / full_total
    if baseline == 0:
        return 1.0
    raise ValueError(f"budget-neutral scoring cannot scale zero required hours up to the baseline's {baseline:g} hours")
