"""The 2021 unified tier: protect level, change level, and how HMPPS tiering derives them from points.

One definition, used by the needs model (an untiered case's protect level), the baseline and the allocator
(which grades may hold a case), the outcome tables (the protect-level groups) and the synthetic generator
(drawing tiers). Parameters: ``tier.protect.*`` and ``tier.change.*`` (workload/params/tier.yaml); the rules
are hmpps-tier v2's (docs/sources.md#hmpps-tier: ProtectLevelCalculator, ChangeLevelCalculator,
AdditionalFactorsForWomen).

A tier is a protect letter (A highest risk of serious harm ... D) and a change level (3 most change work ... 0
no mandate for change), e.g. ``B2``; ``S`` marks an unsupervised case and ``untiered`` a case with no tier::

    protect points = max(RSR points, RoSH points) + MAPPA points + min(each x registrations, max)
                     + women's factor points x factors (women only)
    women's factors = breach or recall + (parenting + impulsivity or temper, with a valid assessment only)
    protect level  = A if points >= thresholds.A, B if >= thresholds.B, C if >= thresholds.C, else D
    change points  = sum(need weight x severity) + floor(OGRS / 10) + IOM points
    change level   = 0 with no mandate; 2 with no valid assessment; else 3 at thresholds.level_3 or more,
                     2 at thresholds.level_2 or more, 1 below
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

import numpy as np
import pandas as pd

from workload.params import ParameterError, Parameters

PROTECT_LEVELS: tuple[str, ...] = ("A", "B", "C", "D")
"""Protect levels (risk of serious harm), highest first: the letter of the 2021 tier."""

UNTIERED = "untiered"
"""The tier (and the protect-level group) of a case with no tier."""

MAPPA_KEYS: tuple[str, ...] = ("M0", "M1", "M2", "M3")
"""Keys of ``tier.protect.mappa_points`` for MAPPA levels 0 (none) to 3."""

RSR_BANDS: tuple[str, ...] = ("below_3", "from_3_to_7", "from_7")
"""Keys of ``tier.protect.rsr_points``: no points (below 3%, or outside both bands), the C band, the B band."""

PROTECT_COLUMNS: tuple[str, ...] = (
    "rosh",
    "mappa_level",
    "rsr_pct",
    "complexity_registrations",
    "sex",
    "dependent_children",
    "impulsivity_or_temper",
    "breach_recall_12m",
    "valid_assessment",
)
"""Case-table columns :func:`case_protect_points` reads (the optional ones take their documented defaults when
absent; without ``sex`` nobody is recorded female)."""


# ----------------------------------------------------------------------------------------------------------
# the protect level of a recorded tier


def protect_letter(tier: pd.Series) -> pd.Series:
    """The recorded tier's protect letter A-D, or ``untiered`` (the outcome tables' protect-level groups)."""
    letter = tier.astype(str).str[0]
    return letter.where(tier != UNTIERED, UNTIERED).rename("protect_level")


def protect_rank(tier: pd.Series) -> pd.Series:
    """The recorded tier's protect level as a position in :data:`PROTECT_LEVELS` (0 = A, highest risk).

    ``B2`` and ``B2S`` are both B. An untiered case gets ``len(PROTECT_LEVELS)``, below D, so that any grade
    may hold it (the eligibility rule of the baseline and the allocator).
    """
    level = tier.str[0].map({letter: i for i, letter in enumerate(PROTECT_LEVELS)})
    return level.fillna(len(PROTECT_LEVELS)).astype(np.int64).rename("protect_level")


# ----------------------------------------------------------------------------------------------------------
# deriving levels from points, as HMPPS tiering does


def protect_thresholds(params: Parameters) -> np.ndarray:
    """``tier.protect.thresholds`` as an array (A, B, C), checked not to rise from A to C."""
    table = params.table("tier.protect.thresholds")
    thresholds = np.array([float(table[level]) for level in PROTECT_LEVELS[:3]])
    if not (thresholds[0] >= thresholds[1] >= thresholds[2]):
        raise ParameterError(
            "parameter tier.protect.thresholds must not rise from A to C (A >= B >= C); "
            f"found {dict(zip(PROTECT_LEVELS, thresholds.tolist()))}"
        )
    return thresholds


def protect_code(points: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Protect level code (0 = A ... 3 = D) for protect points against the A, B, C ``thresholds``."""
    return np.select([points >= thresholds[0], points >= thresholds[1], points >= thresholds[2]], [0, 1, 2], 3)


def protect_points(
    rosh: np.ndarray,
    rsr_band: np.ndarray,
    mappa_level: np.ndarray,
    registrations: np.ndarray,
    womens_factors: np.ndarray,
    female: np.ndarray,
    params: Parameters,
) -> np.ndarray:
    """Protect (risk of serious harm) points of the 2021 unified tier (formula in the module docstring).

    Parameters
    ----------
    rosh
        RoSH level per case (low, medium, high, very_high).
    rsr_band
        RSR band per case (below_3, from_3_to_7, from_7; :func:`rsr_band` bands a percentage).
    mappa_level
        MAPPA level 0-3.
    registrations
        Number of distinct complexity registrations (mental health, self-harm, vulnerability, child concerns...).
    womens_factors
        Number of women's additional factors present (parenting, self-control, breach or recall), 0-3.
    female
        True where the recorded sex is female; others get no women's factor points.
    params
        Parameters; reads ``tier.protect.*``.
    """
    rosh_pts = pd.Series(rosh).map(params.table("tier.protect.rosh_points")).to_numpy(dtype=float)
    if np.isnan(rosh_pts).any():
        raise ValueError(f"cases column rosh must be one of {', '.join(params.table('tier.protect.rosh_points'))}")
    rsr_pts = pd.Series(rsr_band).map(params.table("tier.protect.rsr_points")).to_numpy(dtype=float)
    mappa_table = params.table("tier.protect.mappa_points")
    by_level = np.array([mappa_table[key] for key in MAPPA_KEYS], dtype=float)
    mappa_pts = by_level[np.asarray(mappa_level, dtype=int)]
    complexity = params.table("tier.protect.complexity_points")
    reg_pts = np.minimum(complexity["each"] * np.asarray(registrations, dtype=float), complexity["max"])
    per_factor = float(params["tier.protect.womens_factor_points"])
    women_pts = np.where(female, per_factor * np.asarray(womens_factors, dtype=float), 0.0)
    return np.maximum(rosh_pts, rsr_pts) + mappa_pts + reg_pts + women_pts


def _exact_decimal(value: float) -> Fraction:
    """A percentage as the decimal it was written as (its shortest text: 99.99, not the double below it)."""
    return Fraction(repr(float(value)))


def rsr_band(rsr_pct: np.ndarray, params: Parameters) -> np.ndarray:
    """RSR band of each percentage, as hmpps-tier's ``getRsrPoints`` bands it (:data:`RSR_BANDS`).

    ``from_7`` when ``b_lower <= rsr <= b_upper``, ``from_3_to_7`` when ``c_lower <= rsr <= c_upper``, else
    ``below_3`` (``tier.protect.rsr_bounds``). Each RSR is taken as the decimal it was written as and each bound as
    the exact value of its double, since the tool builds its bounds with ``BigDecimal(double)``: 99.99 scores 0
    (the bound is 99.98999999999999488...), 6.99 scores 10 (the bound is 6.99000000000000021...), 6.995 scores
    0. Computed once per distinct value.
    """
    bounds = params.table("tier.protect.rsr_bounds")
    b_lo, b_hi, c_lo, c_hi = (Fraction(float(bounds[k])) for k in ("b_lower", "b_upper", "c_lower", "c_upper"))
    codes, uniques = pd.factorize(pd.Series(np.asarray(rsr_pct, dtype=float)), use_na_sentinel=False)
    exact = [_exact_decimal(v) for v in uniques]
    band = [2 if b_lo <= r <= b_hi else 1 if c_lo <= r <= c_hi else 0 for r in exact]
    return np.array(RSR_BANDS, dtype=object)[np.asarray(band, dtype=np.int64)[codes]]


def _column(cases: pd.DataFrame, name: str) -> np.ndarray:
    """A case column the protect level reads, or its documented default (CaseRecord) when the table lacks it."""
    if name in cases.columns:
        return cases[name].to_numpy()
    from workload.scenario import CaseRecord

    default = CaseRecord.model_fields[name].default
    return np.full(len(cases), getattr(default, "value", default))


def case_protect_points(cases: pd.DataFrame, params: Parameters) -> np.ndarray:
    """Protect points of each case from what a case table holds, as hmpps-tier's ``ProtectLevelCalculator`` sums
    them (formula in the module docstring; docs/sources.md#hmpps-tier).

    RSR from ``rsr_pct`` (:func:`rsr_band`), RoSH from ``rosh``, MAPPA from ``mappa_level``, complexity from
    ``complexity_registrations`` (distinct codes), and for a recorded woman (``sex`` = female) the additional
    factors for women: ``breach_recall_12m`` always, ``dependent_children`` (standing in for OASys 6.9 parenting
    responsibilities) and ``impulsivity_or_temper`` only when ``valid_assessment`` is 1.

    Raises ValueError naming a column whose values are outside what the case table allows.
    """
    n = len(cases)

    def whole(name: str, top: int) -> np.ndarray:
        values = pd.to_numeric(pd.Series(_column(cases, name)), errors="coerce").to_numpy(dtype=float)
        if not (np.isfinite(values) & (values >= 0) & (values <= top) & (values == np.round(values))).all():
            raise ValueError(f"cases column {name} must be a whole number from 0 to {top} in every row")
        return values.astype(np.int64)

    rsr = pd.to_numeric(pd.Series(_column(cases, "rsr_pct")), errors="coerce").to_numpy(dtype=float)
    if not (np.isfinite(rsr) & (rsr >= 0) & (rsr <= 100)).all():
        raise ValueError("cases column rsr_pct must be a percentage from 0 to 100 in every row")
    female = (_column(cases, "sex") == "female") if "sex" in cases.columns else np.zeros(n, dtype=bool)
    assessed = whole("valid_assessment", 1)
    factors = whole("breach_recall_12m", 1) + assessed * (
        whole("dependent_children", 1) + whole("impulsivity_or_temper", 1)
    )
    return protect_points(
        _column(cases, "rosh"),
        rsr_band(rsr, params),
        whole("mappa_level", len(MAPPA_KEYS) - 1),
        whole("complexity_registrations", 10),
        factors,
        np.asarray(female, dtype=bool),
        params,
    )


def protect_level(points: np.ndarray, params: Parameters) -> np.ndarray:
    """Protect letter A-D from protect points (``tier.protect.thresholds``)."""
    t = params.table("tier.protect.thresholds")
    points = np.asarray(points, dtype=float)
    return np.select([points >= t["A"], points >= t["B"], points >= t["C"]], ["A", "B", "C"], default="D")


def change_points(
    needs: Mapping[str, np.ndarray], ogrs_pct: np.ndarray, iom: np.ndarray, params: Parameters
) -> np.ndarray:
    """Change points of the 2021 unified tier: weighted OASys need severities + floor(OGRS / 10) + IOM points.

    Accommodation, ETE, relationships, lifestyle, drugs and alcohol weigh 1 per severity step, thinking and
    behaviour and attitudes 2, finance and emotional wellbeing 0 (``tier.change.need_weights``).
    """
    weights = params.table("tier.change.need_weights")
    total = np.floor(np.asarray(ogrs_pct, dtype=float) / 10.0)
    for need, weight in weights.items():
        if weight:
            total = total + float(weight) * np.asarray(needs[need], dtype=float)
    return total + params["tier.change.iom_points"] * np.asarray(iom, dtype=float)


def change_level(points: np.ndarray, mandate: np.ndarray, assessed: np.ndarray, params: Parameters) -> np.ndarray:
    """Change level 0-3: 0 with no mandate for change, 2 with no valid assessment, else by
    ``tier.change.thresholds`` (3 at 20 points or more, 2 at 10-19, 1 below)."""
    t = params.table("tier.change.thresholds")
    points = np.asarray(points, dtype=float)
    scored = np.select([points >= t["level_3"], points >= t["level_2"]], [3, 2], default=1)
    with_assessment = np.where(np.asarray(assessed, dtype=bool), scored, 2)
    return np.where(np.asarray(mandate, dtype=bool), with_assessment, 0).astype(np.int64)
