"""The protect level of an untiered case, against hmpps-tier's own test cases (docs/sources.md#hmpps-tier).

Each case below is one of hmpps-tier's behaviour (Cucumber) scenarios, JUnit integration tests or unit tests,
with the inputs a case table can hold: RSR %, RoSH, MAPPA level, the number of distinct complexity
registrations, recorded sex, parenting responsibilities (``dependent_children``), impulsivity or temper control
(``impulsivity_or_temper``), breach or recall (``breach_recall_12m``, Delius previous enforcement activity) and
whether there is a valid assessment. "No RoSH registration" is ``low`` (both score 0); an OASys answer scoring
more than 0 (parenting Yes, impulsivity or temper Some or Significant) is 1. Expected points are the test's
own; the level is the test's where it asserts one, else the level the points give (A >= 150, B >= 20, C >= 10).

Left out, and why:

- calculateRSRScore "RSR 999.99" (0 points): the ``rsr_pct`` column refuses values above 100, so a table cannot
  hold it; :func:`test_rsr_bands_are_the_tools_bounds` checks the band function itself on it.
- RegistrationEdgeCasesTest "uses latest registration - two mappa", "exclude historic registrations", "uses
  mappa registration when latest is non-mappa" and "uses two thirds registration": they test which Delius
  registration the tool picks (the latest, not historic, MAPPA type); a case table holds the level already
  picked, so there is nothing of ours to test.
- The change level (the digit of the whole-tier tests): the needs model gives untiered cases the hours of
  change level 1 and derives only the letter.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from workload.params import load_parameters
from workload.scoring.needs import protect_level, score_needs
from workload.testing import cases_frame
from workload.tier import case_protect_points, rsr_band

PARAMS = load_parameters()
ALL_CODES = 10  # RMDO, ALSH, RVLN, RCCO, RCPR, RCHD, RPIR, RVAD, STRG, RTAO

# name, rsr_pct, rosh, mappa, complexity registrations, sex, parenting, impulsivity or temper, breach/recall,
# valid assessment, expected points, expected level
CASES: list[tuple[str, float, str, int, int, str, int, int, int, int, int, str]] = [
    ("calculateRSRScore: RSR 7.1", 7.1, "low", 0, 0, "male", 0, 0, 0, 0, 20, "B"),
    ("calculateRSRScore: RSR 7.0", 7.0, "low", 0, 0, "male", 0, 0, 0, 0, 20, "B"),
    ("calculateRSRScore: RSR 6.9", 6.9, "low", 0, 0, "male", 0, 0, 0, 0, 10, "C"),
    ("calculateRSRScore: RSR 3.1", 3.1, "low", 0, 0, "male", 0, 0, 0, 0, 10, "C"),
    ("calculateRSRScore: RSR 3.0", 3.0, "low", 0, 0, "male", 0, 0, 0, 0, 10, "C"),
    ("calculateRSRScore: RSR 2.9", 2.9, "low", 0, 0, "male", 0, 0, 0, 0, 0, "D"),
    ("calculateROSHScore: very high", 0, "very_high", 0, 0, "male", 0, 0, 0, 0, 150, "A"),
    ("calculateROSHScore: high", 0, "high", 0, 0, "male", 0, 0, 0, 0, 20, "B"),
    ("calculateROSHScore: medium", 0, "medium", 0, 0, "male", 0, 0, 0, 0, 10, "C"),
    ("calculateROSHScore: low", 0, "low", 0, 0, "male", 0, 0, 0, 0, 0, "D"),
    ("ROSHandRSRRule: RSR 7.0 and RoSH very high", 7.0, "very_high", 0, 0, "male", 0, 0, 0, 0, 150, "A"),
    ("ROSHandRSRRule: RSR 7.0 and RoSH medium", 7.0, "medium", 0, 0, "male", 0, 0, 0, 0, 20, "B"),
    ("ROSHandRSRRule: RSR 22.0 and RoSH medium", 22.0, "medium", 0, 0, "male", 0, 0, 0, 0, 20, "B"),
    ("MAPPA: M3", 0, "low", 3, 0, "male", 0, 0, 0, 0, 150, "A"),
    ("MAPPA: M2", 0, "low", 2, 0, "male", 0, 0, 0, 0, 150, "A"),
    ("MAPPA: M1", 0, "low", 1, 0, "male", 0, 0, 0, 0, 5, "D"),
    ("MAPPA: none", 0, "low", 0, 0, "male", 0, 0, 0, 0, 0, "D"),
    *[
        (f"additionalFactorsMaleAndFemale: {code}", 0, "low", 0, 1, "male", 0, 0, 0, 1, 2, "D")
        for code in ("RCCO", "RCPR", "RCHD", "RPIR", "RTAO", "RVAD", "STRG", "RMDO", "ALSH", "RVLN")
    ],
    ("additionalFactorsMaleAndFemale: all ten", 0, "low", 0, ALL_CODES, "male", 0, 0, 0, 1, 20, "B"),
    ("FemaleBreachRecall: male with breach", 0, "low", 0, 0, "male", 0, 0, 1, 0, 0, "D"),
    ("FemaleBreachRecall: female with breach", 0, "low", 0, 0, "female", 0, 0, 1, 0, 2, "D"),
    ("FemaleBreachRecall: female, M1, ALSH RVLN, breach", 0, "low", 1, 2, "female", 0, 0, 1, 0, 11, "C"),
    ("FemaleBreachRecall: two active convictions", 0, "low", 0, 0, "female", 0, 0, 1, 0, 2, "D"),
    ("FemaleBreachRecall: two breached convictions, true", 0, "low", 0, 0, "female", 0, 0, 1, 0, 2, "D"),
    ("FemaleBreachRecall: two breached convictions, false", 0, "low", 0, 0, "female", 0, 0, 0, 0, 0, "D"),
    ("FemaleComplexity: parenting yes", 0, "low", 0, 0, "female", 1, 0, 0, 1, 2, "D"),
    ("FemaleComplexity: impulsivity 1 temper 1", 0, "low", 0, 0, "female", 0, 1, 0, 1, 2, "D"),
    ("FemaleComplexity: temper 1", 0, "low", 0, 0, "female", 0, 1, 0, 1, 2, "D"),
    ("FemaleComplexity: impulsivity 1", 0, "low", 0, 0, "female", 0, 1, 0, 1, 2, "D"),
    ("FemaleComplexity: temper 2", 0, "low", 0, 0, "female", 0, 1, 0, 1, 2, "D"),
    ("FemaleComplexity: impulsivity 2", 0, "low", 0, 0, "female", 0, 1, 0, 1, 2, "D"),
    ("FemaleComplexity: parenting, impulsivity 1", 0, "low", 0, 0, "female", 1, 1, 0, 1, 4, "D"),
    ("FemaleComplexity: parenting, temper 1", 0, "low", 0, 0, "female", 1, 1, 0, 1, 4, "D"),
    ("FemaleComplexity: parenting, impulsivity 1, temper 1", 0, "low", 0, 0, "female", 1, 1, 0, 1, 4, "D"),
    ("FemaleComplexity: no, 0, 0", 0, "low", 0, 0, "female", 0, 0, 0, 1, 0, "D"),
    ("FemaleComplexity: male with all three", 0, "low", 0, 0, "male", 1, 1, 0, 1, 0, "D"),
    ("assessAndProtectAxis: M3 and RCCO", 0, "low", 3, 1, "male", 0, 0, 0, 0, 152, "A"),
    ("assessAndProtectAxis: M3", 0, "low", 3, 0, "male", 0, 0, 0, 0, 150, "A"),
    ("assessAndProtectAxis: 51 points", 0, "high", 1, ALL_CODES, "female", 1, 1, 1, 1, 51, "B"),
    ("assessAndProtectAxis: 21 points", 0, "medium", 1, 3, "male", 0, 0, 0, 0, 21, "B"),
    ("assessAndProtectAxis: 20 points", 0, "high", 0, 0, "male", 0, 0, 0, 0, 20, "B"),
    ("assessAndProtectAxis: 19 points", 0, "medium", 1, 2, "male", 0, 0, 0, 0, 19, "C"),
    ("assessAndProtectAxis: 11 points", 0, "low", 1, 3, "male", 0, 0, 0, 0, 11, "C"),
    ("assessAndProtectAxis: 10 points", 0, "medium", 0, 0, "male", 0, 0, 0, 0, 10, "C"),
    ("assessAndProtectAxis: 9 points", 0, "low", 1, 2, "male", 0, 0, 0, 0, 9, "D"),
    ("assessAndProtectAxis: 0 points", 0, "low", 0, 0, "male", 0, 0, 0, 0, 0, "D"),
    ("ProtectTierATest: Mappa M2", 23, "low", 2, 0, "male", 0, 0, 0, 1, 170, "A"),
    ("ProtectTierATest: Mappa M3", 23, "low", 3, 0, "male", 0, 0, 0, 1, 170, "A"),
    ("ProtectTierATest: ROSH VERY HIGH", 23, "very_high", 0, 0, "male", 0, 0, 0, 1, 150, "A"),
    ("ProtectTierATest: low Mappa but 31 points", 23, "high", 1, 3, "male", 0, 0, 0, 1, 31, "B"),
    ("TierCalculationV2Test: no NSIs, female", 0, "low", 0, 0, "female", 0, 0, 0, 0, 0, "D"),
    ("TierCalculationV2Test: write back when unchanged", 23, "low", 2, 0, "male", 0, 0, 0, 0, 170, "A"),
    ("TierCalculationV2Test: second run, needs severe", 23, "low", 2, 0, "male", 0, 0, 0, 1, 170, "A"),
    ("TierCalculationV2Test: protect level changed", 23, "low", 1, 0, "male", 0, 0, 0, 1, 25, "B"),
    ("TierCalculationV2Test: san threshold", 23, "low", 0, 0, "male", 0, 0, 0, 1, 20, "B"),
    ("RegistrationEdgeCasesTest: no registrations", 23, "low", 0, 0, "male", 0, 0, 0, 1, 20, "B"),
    ("RegistrationEdgeCasesTest: registration level missing", 23, "low", 0, 1, "male", 0, 0, 0, 1, 22, "B"),
    ("NoAssessmentFoundTest: 404", 23, "low", 2, 0, "male", 0, 0, 0, 0, 170, "A"),
    ("AdditionalFactorsForWomenTest: parenting yes, temper some", 0, "low", 0, 0, "female", 1, 1, 0, 1, 4, "D"),
    ("AdditionalFactorsForWomenTest: no valid assessment", 0, "low", 0, 0, "female", 0, 0, 0, 0, 0, "D"),
    (
        "AdditionalFactorsForWomenTest: impulsivity significant, temper some",
        0,
        "low",
        0,
        0,
        "female",
        0,
        1,
        0,
        1,
        2,
        "D",
    ),
    ("AdditionalFactorsForWomenTest: temper some", 0, "low", 0, 0, "female", 0, 1, 0, 1, 2, "D"),
    ("AdditionalFactorsForWomenTest: impulsivity significant", 0, "low", 0, 0, "female", 0, 1, 0, 1, 2, "D"),
    ("AdditionalFactorsForWomenTest: parenting no", 0, "low", 0, 0, "female", 0, 0, 0, 1, 0, "D"),
    ("AdditionalFactorsForWomenTest: impulsivity none", 0, "low", 0, 0, "female", 0, 0, 0, 1, 0, "D"),
    ("AdditionalFactorsForWomenTest: temper none", 0, "low", 0, 0, "female", 0, 0, 0, 1, 0, "D"),
    ("AdditionalFactorsForWomenTest: no assessment, breach", 0, "low", 0, 0, "female", 0, 0, 1, 0, 2, "D"),
    ("AdditionalFactorsForWomenTest: no assessment, no breach", 0, "low", 0, 0, "female", 0, 0, 0, 0, 0, "D"),
]


def untiered_case(rsr, rosh, mappa, cx, sex, parenting, impulsive, breach, assessed) -> dict[str, Any]:
    return {
        "tier": "untiered",
        "rsr_pct": float(rsr),
        "rosh": rosh,
        "mappa_level": mappa,
        "complexity_registrations": cx,
        "sex": sex,
        "dependent_children": parenting,
        "impulsivity_or_temper": impulsive,
        "breach_recall_12m": breach,
        "valid_assessment": assessed,
    }


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_protect_points_and_level_are_hmpps_tiers(case: tuple[Any, ...]) -> None:
    _name, *inputs, points, level = case
    cases = cases_frame([untiered_case(*inputs)])
    assert case_protect_points(cases, PARAMS).tolist() == [points]
    assert protect_level(cases, PARAMS).tolist() == [level]


def test_all_cases_at_once_match_one_by_one() -> None:
    cases = cases_frame([untiered_case(*c[1:10]) for c in CASES])
    assert case_protect_points(cases, PARAMS).tolist() == [c[10] for c in CASES]
    assert protect_level(cases, PARAMS).tolist() == [c[11] for c in CASES]


@pytest.mark.parametrize(
    ("rsr", "band"),
    [
        (0.0, "below_3"),
        (2.99, "below_3"),
        (3.0, "from_3_to_7"),
        (6.99, "from_3_to_7"),  # the tool's bound is BigDecimal(6.99) = 6.99000000000000021...: 6.99 is inside
        (6.995, "below_3"),  # between the bands
        (7.0, "from_7"),
        (99.98, "from_7"),
        (99.99, "below_3"),  # the tool's bound is BigDecimal(99.99) = 99.98999999999999488...: 99.99 is above it
        (100.0, "below_3"),
        (999.99, "below_3"),  # calculateRSRScore "RSR 999.99": 0 points
    ],
)
def test_rsr_bands_are_the_tools_bounds(rsr: float, band: str) -> None:
    assert rsr_band(np.array([rsr]), PARAMS).tolist() == [band]


def test_the_womens_oasys_factors_need_a_valid_assessment_and_breach_does_not() -> None:
    woman = untiered_case(0, "low", 0, 0, "female", 1, 1, 1, 1)
    cases = cases_frame([woman, {**woman, "valid_assessment": 0}, {**woman, "sex": "unknown"}])
    assert case_protect_points(cases, PARAMS).tolist() == [6, 2, 0]


def test_optional_columns_default_when_absent() -> None:
    """A table without the optional columns: RSR 0, no registrations, no impulsivity, a valid assessment."""
    case = untiered_case(0, "medium", 1, 0, "female", 1, 0, 0, 1)
    full = cases_frame([case])
    bare = full.drop(columns=["rsr_pct", "complexity_registrations", "impulsivity_or_temper", "valid_assessment"])
    assert case_protect_points(bare, PARAMS).tolist() == case_protect_points(full, PARAMS).tolist() == [17]
    assert case_protect_points(bare.drop(columns="sex"), PARAMS).tolist() == [15]  # nobody recorded female


def test_tiered_cases_keep_their_letter_whatever_the_protect_columns_say() -> None:
    tiered = {**untiered_case(50, "very_high", 3, 10, "female", 1, 1, 1, 1), "tier": "D1"}
    assert protect_level(cases_frame([tiered]), PARAMS).tolist() == ["D"]


def test_the_derived_level_feeds_the_risk_hours_of_untiered_cases() -> None:
    """hmpps-tier case "female, M1, ALSH RVLN, breach": 11 points, C; the same case for a man is 9 points, D,
    so the risk hours of the two differ, and only those: sex enters through the tier, as in today's tiering."""
    woman = untiered_case(0, "low", 1, 2, "female", 0, 0, 1, 0)
    scores = score_needs(cases_frame([woman, {**woman, "sex": "male"}]), PARAMS)
    assert protect_level(cases_frame([woman, {**woman, "sex": "male"}]), PARAMS).tolist() == ["C", "D"]
    risk = PARAMS.table("needs.risk.hours.community")
    assert scores["hours_risk"].tolist() == [risk["C"], risk["D"]]
    other = [c for c in scores.columns if c not in ("hours_risk", "required_hours")]
    assert scores.iloc[0][other].tolist() == scores.iloc[1][other].tolist()


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [("rsr_pct", 101.0, "rsr_pct"), ("complexity_registrations", 11, "complexity_registrations")],
)
def test_values_outside_the_table_are_refused(column: str, value: float, message: str) -> None:
    cases = cases_frame([{**untiered_case(0, "low", 0, 0, "male", 0, 0, 0, 1), column: value}])
    with pytest.raises(ValueError, match=message):
        case_protect_points(cases, PARAMS)
