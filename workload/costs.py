"""The whole-life cost model: what a case's unmet need costs, and so what an hour of supervision is worth.

Per case, a year (docs/model.md, "Costs"):

- the **likelihood of reoffending** ``L_c``: the case table's optional ``reoffending_likelihood_pct`` (an
  OGRS/OGP-style one-year score) where given, otherwise derived from the case's OASys need severities and its
  protect level: ``logit L_c = logit(base_rate) + ln(odds_ratio_per_severity) x (points_c - reference_points) +
  ln(protect_odds[level])``;
- the **effect of supervision** on it: hours that meet assessed need cut it in proportion to the hours,
  ``fall_c = min(effect_of_full_coverage x met_c / reference_hours, max_relative_fall)``, so an hour is worth
  the same relative cut whoever gets it and a case with more need has more to gain;
- the **harm** of a reoffence: ``cost_per_reoffender`` (which holds the criminal justice response, prison
  places included) plus, for a primary carer, the children's care placements when the mother goes to custody;
- **near misses**: expected hospital episodes for self-harm (self-harm or suicide-attempt history) and
  overdose (overdose history), cut by the same kind of effect.

The £ value of a case's next hour (:func:`hour_value`) is therefore ``L_c x harm_c x effect / reference_hours``
plus the near-miss term: it grows with the likelihood and the harm, never falls as needs are added, and is
what ``[policy] objective = "whole_life_cost"`` gives the allocator as each case's weight
(:func:`objective_weight`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workload.params import ParameterError, Parameters
from workload.scenario import OASYS_NEEDS
from workload.tier import protect_letter

LIKELIHOOD_COLUMN = "reoffending_likelihood_pct"
"""Optional case column: the one-year likelihood of proven reoffending, percent (blank: derived)."""

LIKELIHOOD_LEVELS: tuple[str, ...] = ("A", "B", "C", "D", "untiered")
"""Entries of ``costs.likelihood.protect_odds`` (the tier's letter; untiered cases use ``untiered``)."""

SELF_HARM_FLAGS: tuple[str, ...] = ("self_harm_history", "suicide_attempt_history")
"""Histories after which a self-harm hospital episode is expected at ``costs.near_miss.self_harm_repeat_rate``."""

OVERDOSE_FLAGS: tuple[str, ...] = ("overdose_history",)
"""Histories after which an overdose hospital episode is expected at ``costs.near_miss.overdose_repeat_rate``."""

COST_VALUE_PATHS = {
    "base_rate": "outcomes.reoffending.base_rate",
    "cost_per_reoffender": "outcomes.reoffending.cost_per_reoffender",
    "effect_of_full_coverage": "outcomes.reoffending.effect_of_full_coverage",
    "custody_share_of_reoffenders": "outcomes.children.custody_share_of_reoffenders",
    "children_per_mother": "outcomes.children.children_per_mother",
    "care_share": "outcomes.children.care_share",
    "foster_cost_per_week": "outcomes.children.foster_cost_per_week",
    "weeks_in_care": "outcomes.children.weeks_in_care",
    "odds_ratio_per_severity": "costs.likelihood.odds_ratio_per_severity",
    "reference_points": "costs.likelihood.reference_points",
    "reference_hours": "costs.effect.reference_hours",
    "max_relative_fall": "costs.effect.max_relative_fall",
    "self_harm_repeat_rate": "costs.near_miss.self_harm_repeat_rate",
    "overdose_repeat_rate": "costs.near_miss.overdose_repeat_rate",
    "cost_per_episode": "costs.near_miss.cost_per_episode",
    "near_miss_effect": "costs.near_miss.effect_of_reference_hours",
}
"""The cost model's scalar numbers by short name (the names the sensitivity table uses), and their paths."""

PROTECT_ODDS_PATH = "costs.likelihood.protect_odds"


def cost_values(params: Parameters) -> dict[str, float]:
    """The cost model's numbers by short name, read from the parameters.

    Scalars under their :data:`COST_VALUE_PATHS` names; the protect-level odds multipliers as
    ``protect_odds_<level>`` (one per :data:`LIKELIHOOD_LEVELS`).
    """
    values = {name: float(params[path]) for name, path in COST_VALUE_PATHS.items()}
    odds = params.table(PROTECT_ODDS_PATH)
    for level in LIKELIHOOD_LEVELS:
        if level not in odds:
            raise ParameterError(f"{PROTECT_ODDS_PATH} has no entry for protect level {level!r}")
        values[f"protect_odds_{level}"] = float(odds[level])
    return values


# ----------------------------------------------------------------------------------------------------------
# what the cost model reads of each case


@dataclass(frozen=True)
class CaseTraits:
    """What the cost model reads of each case, as arrays: read once, priced many times (the sensitivity table)."""

    points: np.ndarray
    """OASys severity points, 0 to 20."""
    level: np.ndarray
    """Position of the case's protect level in :data:`LIKELIHOOD_LEVELS`."""
    given: np.ndarray
    """The case table's likelihood (0 to 1), NaN where blank or absent."""
    carer: np.ndarray
    """1.0 for a primary carer of dependent children."""
    self_harm: np.ndarray
    overdose: np.ndarray


def _any_flag(cases: pd.DataFrame, flags: tuple[str, ...]) -> np.ndarray:
    missing = [c for c in flags if c not in cases.columns]
    if missing:
        raise ValueError(f"cases frame lacks column(s) {', '.join(missing)} needed by the cost model")
    return cases[list(flags)].to_numpy(dtype=float).max(axis=1) > 0


def case_traits(cases: pd.DataFrame) -> CaseTraits:
    """The arrays :class:`CaseTraits` holds, from a case table (ValueError naming any column it lacks)."""
    points = severity_points(cases).to_numpy(dtype=float)
    letter = protect_letter(cases["tier"]).astype(str).to_numpy()
    level = np.full(len(cases), LIKELIHOOD_LEVELS.index("untiered"), dtype=np.int64)
    for i, name in enumerate(LIKELIHOOD_LEVELS):
        level[letter == name] = i
    if LIKELIHOOD_COLUMN in cases.columns:
        given = pd.to_numeric(cases[LIKELIHOOD_COLUMN], errors="coerce").to_numpy(dtype=float) / 100.0
    else:
        given = np.full(len(cases), np.nan)
    return CaseTraits(
        points=points,
        level=level,
        given=np.clip(given, 0.0, 1.0),
        carer=_any_flag(cases, ("dependent_children",)).astype(float),
        self_harm=_any_flag(cases, SELF_HARM_FLAGS),
        overdose=_any_flag(cases, OVERDOSE_FLAGS),
    )


# ----------------------------------------------------------------------------------------------------------
# likelihood of reoffending


def severity_points(cases: pd.DataFrame) -> pd.Series:
    """Sum of the ten OASys need severities (0 to 2 each, so 0 to 20)."""
    missing = [c for c in OASYS_NEEDS if c not in cases.columns]
    if missing:
        raise ValueError(f"cases frame lacks OASys need column(s) {', '.join(missing)} needed by the cost model")
    return cases[list(OASYS_NEEDS)].astype(float).sum(axis=1).rename("severity_points")


def _derived(traits: CaseTraits, values: dict[str, float]) -> np.ndarray:
    base = min(max(values["base_rate"], 1e-6), 1 - 1e-6)
    odds = np.array([values[f"protect_odds_{level}"] for level in LIKELIHOOD_LEVELS])[traits.level]
    with np.errstate(divide="ignore"):
        logit = (
            np.log(base / (1 - base))
            + np.log(values["odds_ratio_per_severity"]) * (traits.points - values["reference_points"])
            + np.log(odds)
        )
    return 1.0 / (1.0 + np.exp(-logit))


def _likelihood(traits: CaseTraits, values: dict[str, float]) -> np.ndarray:
    return np.where(np.isnan(traits.given), _derived(traits, values), traits.given)


def derived_likelihood(cases: pd.DataFrame, values: dict[str, float]) -> pd.Series:
    """The likelihood of proven reoffending in a year derived from needs and protect level (0 to 1).

    ``logit L = logit(base_rate) + ln(odds_ratio_per_severity) x (points - reference_points) +
    ln(protect_odds[level])``: a case with the reference points at an odds multiplier of 1 has the national
    rate; each severity point multiplies the odds by ``odds_ratio_per_severity``.
    """
    return pd.Series(_derived(case_traits(cases), values), index=cases.index, name="reoffending_likelihood")


def reoffending_likelihood(cases: pd.DataFrame, values: dict[str, float]) -> pd.Series:
    """Each case's likelihood of proven reoffending in a year with no supervision effect (0 to 1).

    The case table's ``reoffending_likelihood_pct`` / 100 where given (a planner's OGRS/OGP-style score),
    otherwise :func:`derived_likelihood`.
    """
    return pd.Series(_likelihood(case_traits(cases), values), index=cases.index, name="reoffending_likelihood")


def relative_fall(met_hours: pd.Series | np.ndarray, effect: float, values: dict[str, float]) -> np.ndarray:
    """The relative cut supervision makes: ``min(effect x met / reference_hours, max_relative_fall)``."""
    met = np.maximum(np.asarray(met_hours, dtype=float), 0.0)
    return np.minimum(effect * met / values["reference_hours"], values["max_relative_fall"])


def expected_reoffending_rate(
    coverage: pd.Series,
    values: dict[str, float],
    likelihood: pd.Series | None = None,
    required_hours: pd.Series | None = None,
) -> pd.Series:
    """Expected proven reoffending in a year: ``L x (1 - fall)`` with ``fall`` from :func:`relative_fall`.

    ``likelihood`` defaults to ``base_rate`` for every case; the hours that meet need are ``coverage x
    required_hours``, and ``required_hours`` defaults to ``reference_hours`` (so without either this is the
    reference case, ``base_rate x (1 - effect x coverage)``).
    """
    required = values["reference_hours"] if required_hours is None else required_hours.reindex(coverage.index)
    met = coverage.astype(float) * required
    fall = relative_fall(met, values["effect_of_full_coverage"], values)
    rate = values["base_rate"] if likelihood is None else likelihood.reindex(coverage.index).astype(float)
    return pd.Series(rate * (1.0 - fall), index=coverage.index, name="reoffending_rate")


# ----------------------------------------------------------------------------------------------------------
# harm


def _children_per_reoffence(traits: CaseTraits, values: dict[str, float]) -> np.ndarray:
    per_custody = (
        values["children_per_mother"] * values["care_share"] * values["foster_cost_per_week"] * values["weeks_in_care"]
    )
    return traits.carer * values["custody_share_of_reoffenders"] * per_custody


def _episodes(traits: CaseTraits, values: dict[str, float]) -> np.ndarray:
    return values["self_harm_repeat_rate"] * traits.self_harm + values["overdose_repeat_rate"] * traits.overdose


def children_cost_per_reoffence(cases: pd.DataFrame, values: dict[str, float]) -> pd.Series:
    """GBP per reoffence of a primary carer that falls on the children: their care placements while the
    mother is in custody, ``custody_share x children_per_mother x care_share x foster_cost_per_week x
    weeks_in_care``. The prison place is not here: it is inside ``cost_per_reoffender``."""
    out = _children_per_reoffence(case_traits(cases), values)
    return pd.Series(out, index=cases.index, name="children_cost_per_reoffence")


def near_miss_episodes(cases: pd.DataFrame, values: dict[str, float]) -> pd.Series:
    """Expected hospital episodes a year with no supervision effect: ``self_harm_repeat_rate`` for a case with
    a self-harm or suicide-attempt history, plus ``overdose_repeat_rate`` for one with an overdose history."""
    return pd.Series(_episodes(case_traits(cases), values), index=cases.index, name="near_miss_episodes")


# ----------------------------------------------------------------------------------------------------------
# costs and the value of an hour


def staff_cost(
    afforded: pd.Series, holder: pd.Series, grades: pd.Series, params: Parameters, multiplier: float = 1.0
) -> pd.Series:
    """Staff cost per case: afforded hours x cost per hour of the holder's grade (costs.staff_cost_per_hour)."""
    rate = holder.map(grades).map(params.table("costs.staff_cost_per_hour")).astype(float).fillna(0.0)
    return afforded * rate * multiplier


def met_hours(cases: pd.DataFrame, outcomes: pd.DataFrame, values: dict[str, float]) -> pd.Series:
    """Hours that meet each case's assessed need: ``afforded + partner - excess`` when the outcomes frame has
    them, else ``coverage x required_hours`` (the outcomes' or the cases'), else ``coverage x reference_hours``."""
    if {"afforded_hours", "partner_hours", "excess_hours"} <= set(outcomes.columns):
        met = outcomes["afforded_hours"] + outcomes["partner_hours"] - outcomes["excess_hours"]
    elif "required_hours" in outcomes.columns:
        met = outcomes["coverage"] * outcomes["required_hours"]
    elif "required_hours" in cases.columns:
        met = outcomes["coverage"] * cases["required_hours"].reindex(outcomes.index).astype(float)
    else:
        met = outcomes["coverage"] * values["reference_hours"]
    return met.astype(float).clip(lower=0.0).rename("met_hours")


def outcome_costs(
    traits: CaseTraits, met: np.ndarray, values: dict[str, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per case, GBP a year: expected reoffending, children's and near-miss costs given the hours that meet
    need (the formulas of :func:`whole_life_costs`, on arrays)."""
    rate = _likelihood(traits, values) * (1.0 - relative_fall(met, values["effect_of_full_coverage"], values))
    near_miss = (
        _episodes(traits, values)
        * (1.0 - relative_fall(met, values["near_miss_effect"], values))
        * values["cost_per_episode"]
    )
    return rate * values["cost_per_reoffender"], rate * _children_per_reoffence(traits, values), near_miss


def whole_life_costs(
    cases: pd.DataFrame, outcomes: pd.DataFrame, staff: pd.Series, partner_cost: pd.Series, values: dict[str, float]
) -> pd.DataFrame:
    """Per case, GBP a year: staff, partner, expected reoffending, the costs that fall on children and the
    near misses, and their sum ``whole_life_cost``.

    - reoffending = ``L x (1 - fall) x cost_per_reoffender`` (:func:`reoffending_likelihood`,
      :func:`relative_fall` of the hours that meet need);
    - children = ``L x (1 - fall) x`` :func:`children_cost_per_reoffence` (primary carers only: keyed on
      ``dependent_children``, not on sex);
    - near misses = :func:`near_miss_episodes` ``x (1 - fall_nm) x cost_per_episode``, ``fall_nm`` the
      relative fall at ``near_miss_effect``.
    """
    met = met_hours(cases, outcomes, values).reindex(cases.index).to_numpy(dtype=float)
    reoffending, children, near_miss = outcome_costs(case_traits(cases), met, values)
    frame = pd.DataFrame(
        {
            "staff_cost": staff,
            "partner_cost": partner_cost,
            "reoffending_cost": reoffending,
            "children_cost": children,
            "near_miss_cost": near_miss,
        },
        index=cases.index,
    )
    frame["whole_life_cost"] = frame.sum(axis=1)
    return frame


def hour_value(cases: pd.DataFrame, values: dict[str, float]) -> pd.Series:
    """GBP of whole-life cost a case's next hour of supervision saves, while its cut is below the cap.

    ``L x (cost_per_reoffender + children_per_reoffence) x effect_of_full_coverage / reference_hours +
    episodes x cost_per_episode x near_miss_effect / reference_hours``. It does not depend on the hours the
    case already has (below ``max_relative_fall``), and rises with every need and flag.
    """
    traits = case_traits(cases)
    harm = values["cost_per_reoffender"] + _children_per_reoffence(traits, values)
    reoffending = _likelihood(traits, values) * harm * values["effect_of_full_coverage"]
    near_miss = _episodes(traits, values) * values["cost_per_episode"] * values["near_miss_effect"]
    return pd.Series((reoffending + near_miss) / values["reference_hours"], index=cases.index, name="hour_value")


WEIGHT_FLOOR = 1e-3
"""Numerical guard, not a model number: the smallest objective weight a case gets (the allocator needs every
weight positive)."""


def reference_hour_value(values: dict[str, float]) -> float:
    """GBP an hour saves for the reference case: likelihood ``base_rate``, no children, no near-miss history
    (``base_rate x cost_per_reoffender x effect_of_full_coverage / reference_hours``)."""
    return (
        values["base_rate"]
        * values["cost_per_reoffender"]
        * values["effect_of_full_coverage"]
        / values["reference_hours"]
    )


def objective_weight(cases: pd.DataFrame, params: Parameters) -> pd.Series:
    """Each case's weight of an unmet hour under ``[policy] objective = "whole_life_cost"``.

    ``w_c = min(hour_value_c / reference_hour_value, costs.objective.max_weight)``: proportional to the GBP an
    hour saves, in units of the reference case's hour (weight 1, the unit of ``allocation.priority.base_weight``,
    so the objective's penalties keep their meaning), capped so that the public-protection minimums' penalty
    still dwarfs any weight. The unit is fixed by the parameters, not by the cases given, so a PDU solved alone
    (a sweep, allocation day) gets the weights it gets in a whole run. All 1 when the reference hour saves
    nothing (no effect on reoffending, or no cost of it).
    """
    values = cost_values(params)
    unit = reference_hour_value(values)
    if not np.isfinite(unit) or unit <= 0:
        return pd.Series(1.0, index=cases.index, name="unmet_need_weight")
    value = hour_value(cases, values).to_numpy(dtype=float)
    weight = np.clip(value / unit, WEIGHT_FLOOR, float(params["costs.objective.max_weight"]))
    return pd.Series(weight, index=cases.index, name="unmet_need_weight")
