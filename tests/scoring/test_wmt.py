"""The WMT baseline scores: worked examples on the seed values, the seed tables, and invariants."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import FIXTURES
from workload.load import load_scenario
from workload.params import ParameterError, load_parameters
from workload.scenario import SUPERVISED_TIERS, Tier
from workload.scoring.wmt import (
    available_points,
    capacity_pct_unrounded,
    case_hours,
    case_points,
    exact_available_points,
    points_to_hours,
    points_to_weekly_hours,
    practitioner_points,
    practitioner_workload,
    report_points,
    wmt_flag,
    workload_pct,
    workload_pct_units,
)

PARAMS = load_parameters()
ALL_TIERS = [t.value for t in Tier]
CASE_TYPES = ["community", "licence", "custody"]
from workload.testing import cases_frame, practitioners_frame


def worked_example() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Worked example on the seeds (docs/sources.md#hmpps-workload): a 37-hour PO with 10 community B2,
    5 licence C3, 3 custody A1 cases, 2 standard and 1 fast court report in the last 30 days."""
    rows = (
        [{"case_type": "community", "tier": "B2"}] * 10
        + [{"case_type": "licence", "tier": "C3"}] * 5
        + [{"case_type": "custody", "tier": "A1"}] * 3
    )
    cases = cases_frame([{**r, "current_practitioner_id": "PO1"} for r in rows])
    staff = practitioners_frame([{"practitioner_id": "PO1", "standard_reports_30d": 2, "fast_reports_30d": 1}])
    return cases, staff


# ----------------------------------------------------------------------------------------------------------
# worked examples on the seed values


def test_worked_example_2053_of_2176_points_is_94_3_pct() -> None:
    cases, staff = worked_example()
    points = case_points(cases, PARAMS)
    assert points.groupby(cases["tier"]).sum().to_dict() == {"B2": 1150, "C3": 385, "A1": 177}
    assert report_points(staff, PARAMS).loc["PO1"] == 276 + 65
    out = practitioner_workload(staff, points, cases["current_practitioner_id"], PARAMS)
    assert out.loc["PO1"].to_dict() == {
        "wmt_points": 2053,
        "available_points": 2176,
        "workload_pct": 94.3,
        "wmt_flag": "ok",
    }


@pytest.mark.parametrize(
    ("grade", "contracted", "reduction", "expected"),
    [
        ("PO", 37.0, 1.8, 2070),  # CapacityCalculatorTest.kt anchors
        ("PO", 30.0, 1.8, 1658),
        ("PO", 37.0, 0.0, 2176),
        ("PSO", 37.0, 0.0, 2176),
        ("PQiP", 37.0, 0.0, 2176),
        ("PO", 18.5, 0.0, 1088),
        ("SPO", 37.0, 0.0, 0),  # SPO default hours are 0
        ("PO", 10.0, 10.0, 0),  # no available hours
        ("PO", 10.0, 12.5, 0),  # reductions above contracted hours do not go negative
    ],
)
def test_available_points(grade: str, contracted: float, reduction: float, expected: int) -> None:
    staff = practitioners_frame(
        [{"grade": grade, "contracted_hours_per_week": contracted, "reduction_hours_per_week": reduction}]
    )
    out = available_points(staff, PARAMS)
    assert out.iloc[0] == expected
    assert out.dtype == np.int64 and out.name == "available_points"


# ----------------------------------------------------------------------------------------------------------
# case points and hours against the seed tables


@pytest.mark.parametrize(
    ("case_type", "tier", "points", "hours"),
    [
        ("community", "A3", 206, 157),
        ("licence", "A3", 219, 167),
        ("custody", "A3", 75, 57),
        ("community", "B2", 115, 88),
        ("licence", "C3", 77, 59),
        ("custody", "A1", 59, 45),
        ("community", "D0", 29, 23),
        ("licence", "D0", 0, 0),
        ("custody", "C0", 0, 0),
        ("community", "A3S", 0, 0),
        ("licence", "B1S", 0, 0),
        ("community", "untiered", 0, 0),
    ],
)
def test_case_points_and_hours_from_the_seed_tables(case_type: str, tier: str, points: int, hours: float) -> None:
    cases = cases_frame([{"case_type": case_type, "tier": tier}])
    assert case_points(cases, PARAMS).iloc[0] == points
    assert case_hours(cases, PARAMS).iloc[0] == hours


def test_every_tier_and_case_type_scores_its_table_entry() -> None:
    rows = [{"case_type": t, "tier": tier} for t in CASE_TYPES for tier in ALL_TIERS]
    cases = cases_frame(rows)
    points, hours = case_points(cases, PARAMS), case_hours(cases, PARAMS)
    untiered = {"untiered": 0}  # no such entry in the tool or the timings: always 0
    expected_points = [{**PARAMS.table(f"wmt.weights.{r['case_type']}"), **untiered}[r["tier"]] for r in rows]
    expected_hours = [{**PARAMS.table(f"wmt.annual_hours.{r['case_type']}"), **untiered}[r["tier"]] for r in rows]
    assert points.tolist() == expected_points and hours.tolist() == expected_hours
    assert points.dtype == np.int64 and points.name == "wmt_points" and hours.name == "wmt_hours"
    assert points.index.equals(cases.index)
    s_or_untiered = ~cases["tier"].isin(SUPERVISED_TIERS)
    assert (points[s_or_untiered] == 0).all() and (points[~s_or_untiered] > 0).any()


def test_scenario_overrides_change_weights_targets_and_thresholds() -> None:
    params = load_parameters(
        {"wmt.weights.community.A3S": 40, "wmt.nominal_target.PO": 2000, "wmt.red_pct": 90, "wmt.report_points.fast": 0}
    )
    cases = cases_frame([{"tier": "A3S", "current_practitioner_id": "P000"}])
    staff = practitioners_frame([{"fast_reports_30d": 3}])
    points = case_points(cases, params)
    assert points.iloc[0] == 40
    out = practitioner_workload(staff, points, cases["current_practitioner_id"], params)
    assert out.loc["P000", "wmt_points"] == 40 and out.loc["P000", "available_points"] == 2000
    assert wmt_flag(np.array([950]), np.array([1000]), params).tolist() == ["red"]


def test_non_whole_weights_and_unknown_tiers_are_refused() -> None:
    with pytest.raises(ParameterError, match="wmt.weights.community.A3 must be a whole number"):
        case_points(cases_frame([{"tier": "A3"}]), load_parameters({"wmt.weights.community.A3": 206.5}))
    with pytest.raises(ValueError, match="tier 'E9' have no entry in wmt.weights"):
        case_points(cases_frame([{"tier": "E9"}]), PARAMS)


# ----------------------------------------------------------------------------------------------------------
# points to hours


@pytest.mark.parametrize(("points", "weekly"), [(206, 3.50), (115, 1.96), (79, 1.34), (29, 0.49), (75, 1.28)])
def test_points_to_weekly_hours_matches_the_reference_table(points: int, weekly: float) -> None:
    assert round(points_to_weekly_hours(points, PARAMS), 2) == weekly


def test_the_nominal_target_is_a_year_of_productive_hours() -> None:
    assert points_to_hours(2176, PARAMS) == pytest.approx(1660)
    assert points_to_hours(
        1088, load_parameters({"allocation.capacity.productive_hours_per_fte_year": 1590})
    ) == pytest.approx(795)


def test_hours_from_points_are_within_5_pct_of_the_tiering_timings() -> None:
    cases = cases_frame([{"case_type": t, "tier": tier} for t in CASE_TYPES for tier in SUPERVISED_TIERS])
    hours = case_hours(cases, PARAMS)
    from_points = points_to_hours(case_points(cases, PARAMS), PARAMS)
    timed = hours > 0
    assert from_points.name == "hours_from_points"
    assert (from_points[~timed] == 0).all()
    assert np.abs(from_points[timed] / hours[timed] - 1).max() < 0.05


# ----------------------------------------------------------------------------------------------------------
# workload % and flags


@pytest.mark.parametrize(
    ("points", "available", "pct", "flag"),
    [
        (990, 1000, 99.0, "ok"),
        (991, 1000, 99.1, "over"),
        (9905, 10000, 99.1, "over"),  # 99.05% rounds half up to 99.1, above the officer-overview card's 99
        (9904, 10000, 99.0, "ok"),  # 99.04% rounds to 99.0: not above 99
        (1000, 1000, 100.0, "over"),
        (1099, 1000, 109.9, "over"),
        # wmt-web's red test is on the unrounded float: exactly 110% computes as 110.00000000000001 (1.1 has no
        # exact double), so it is red, as the page shows it
        (1100, 1000, 110.0, "red"),
        (11004, 10000, 110.0, "red"),  # 110.04%: hmpps-workload rounds to 110.0, wmt-web's float is above 110
        (1101, 1000, 110.1, "red"),
        (0, 1000, 0.0, "ok"),
        (500, 0, 0.0, "ok"),
        (1, 2000, 0.1, "ok"),
    ],
)
def test_workload_pct_and_flag(points: int, available: int, pct: float, flag: str) -> None:
    got = workload_pct(np.array([points]), np.array([available]), PARAMS)
    assert got[0] == pct
    assert wmt_flag(np.array([points]), np.array([available]), PARAMS).tolist() == [flag]


def test_the_red_band_follows_the_javascript_float_not_the_rounded_pct() -> None:
    """Points just above 110% of available that round to 110.0%: red in wmt-web (its test is on the float);
    just below 110% (109.96%, shown 110.0%): not red."""
    points, available = np.array([110_001, 109_996, 1_100_000]), np.array([100_000, 100_000, 1_000_000])
    assert workload_pct(points, available, PARAMS).tolist() == [110.0, 110.0, 110.0]
    assert capacity_pct_unrounded(points, available).tolist() == [
        110_001 / 100_000 * 100,
        109_996 / 100_000 * 100,
        1_100_000 / 1_000_000 * 100,
    ]
    assert wmt_flag(points, available, PARAMS).tolist() == ["red", "over", "red"]
    assert wmt_flag(pd.Series([5], index=["P1"]), np.array([0]), PARAMS).to_dict() == {"P1": "ok"}


@pytest.mark.parametrize(
    ("points", "available", "capacity"),
    [(15, 102, 14.7), (500, 1000, 50.0), (0, 2176, 0.0), (2053, 2176, 94.3)],  # hmpps-workload's own tests
)
def test_workload_pct_is_hmpps_workloads_capacity(points: int, available: int, capacity: float) -> None:
    """``calculateCapacity``: points / available rounded half-up to 3 places, x 100 (GetOffenderManagerServiceTest:
    15 of 102 -> 14.700; GetImpactForOffenderManager: 500 of 1,000 -> 50; no workload -> 0)."""
    assert workload_pct(np.array([points]), np.array([available]), PARAMS)[0] == capacity


def test_spo_holding_cases_reads_zero_pct() -> None:
    cases = cases_frame([{"tier": "A3", "current_practitioner_id": "S1"}])
    staff = practitioners_frame([{"practitioner_id": "S1", "grade": "SPO"}])
    out = practitioner_workload(staff, case_points(cases, PARAMS), cases["current_practitioner_id"], PARAMS)
    assert out.loc["S1"].to_dict() == {"wmt_points": 206, "available_points": 0, "workload_pct": 0.0, "wmt_flag": "ok"}


def test_holders_must_be_known_practitioners() -> None:
    cases = cases_frame([{"current_practitioner_id": "NOBODY"}])
    with pytest.raises(ValueError, match="held by 'NOBODY'"):
        practitioner_points(
            practitioners_frame([{}]), case_points(cases, PARAMS), cases["current_practitioner_id"], PARAMS
        )
    orphan = pd.Series(["P000"], index=pd.Index(["ELSEWHERE"], name="case_id"))
    with pytest.raises(ValueError, match="held case"):
        practitioner_points(practitioners_frame([{}]), case_points(cases, PARAMS), orphan, PARAMS)


def test_tiny_fixture_output_contract() -> None:
    s = load_scenario(FIXTURES / "tiny")
    points = case_points(s.cases, s.params)
    out = practitioner_workload(s.practitioners, points, s.cases["current_practitioner_id"], s.params)
    assert list(out.columns) == ["wmt_points", "available_points", "workload_pct", "wmt_flag"]
    assert out.index.equals(s.practitioners.index)
    # P01: community D1 (29) + 1 standard report (138); P02: PSO 30 h - 1.8 h, community D1 + 1 fast report
    assert out["wmt_points"].to_dict() == {"P01": 167, "P02": 94}
    assert out["available_points"].to_dict() == {"P01": 2176, "P02": 1658}
    assert out["workload_pct"].to_dict() == {"P01": 7.7, "P02": 5.7}
    assert out["wmt_points"].dtype == np.int64 and out["available_points"].dtype == np.int64


# ----------------------------------------------------------------------------------------------------------
# properties

case_rows = st.lists(
    st.fixed_dictionaries({"case_type": st.sampled_from(CASE_TYPES), "tier": st.sampled_from(ALL_TIERS)}),
    min_size=1,
    max_size=30,
)
staff_rows = st.fixed_dictionaries(
    {
        "grade": st.sampled_from(["PO", "PSO", "PQiP", "SPO"]),
        "contracted_hours_per_week": st.integers(1, 600).map(lambda h: h / 10),
        "reduction_hours_per_week": st.integers(0, 600).map(lambda h: h / 10),
        "standard_reports_30d": st.integers(0, 5),
        "fast_reports_30d": st.integers(0, 5),
    }
)


@settings(max_examples=60, deadline=None)
@given(rows=case_rows, who=st.data())
def test_points_are_additive_over_cases(rows: list[dict[str, Any]], who: st.DataObject) -> None:
    staff = practitioners_frame([{"practitioner_id": "A"}, {"practitioner_id": "B", "standard_reports_30d": 1}])
    holders = who.draw(st.lists(st.sampled_from(["A", "B", None]), min_size=len(rows), max_size=len(rows)))
    cases = cases_frame([{**r, "current_practitioner_id": h} for r, h in zip(rows, holders)])
    points = case_points(cases, PARAMS)
    total = practitioner_points(staff, points, cases["current_practitioner_id"], PARAMS)
    from_cases = total - report_points(staff, PARAMS)
    for p in ("A", "B"):
        assert from_cases[p] == points[cases["current_practitioner_id"] == p].sum()
    # each case's points are its own, whatever else is on the caseload
    singles = [case_points(cases.iloc[[i]], PARAMS).iloc[0] for i in range(len(cases))]
    assert points.tolist() == singles


@settings(max_examples=80, deadline=None)
@given(staff_row=staff_rows, rows=case_rows, extra=case_rows)
def test_workload_pct_never_falls_when_a_case_is_added(
    staff_row: dict[str, Any], rows: list[dict[str, Any]], extra: list[dict[str, Any]]
) -> None:
    staff = practitioners_frame([{**staff_row, "practitioner_id": "P"}])
    cases = cases_frame([{**r, "current_practitioner_id": "P"} for r in rows + extra[:1]])
    holder = cases["current_practitioner_id"]
    points = case_points(cases, PARAMS)
    before = practitioner_workload(staff, points, holder.iloc[:-1], PARAMS).loc["P"]
    after = practitioner_workload(staff, points, holder, PARAMS).loc["P"]
    assert after["wmt_points"] == before["wmt_points"] + points.iloc[-1]
    assert after["workload_pct"] >= before["workload_pct"]
    order = {"ok": 0, "over": 1, "red": 2}
    assert order[after["wmt_flag"]] >= order[before["wmt_flag"]]


def kotlin_available_points(target: str, default: str, hours: str) -> int:
    """A reference for ``calculateAvailablePoints`` in Python's decimal module, step by step as the Kotlin
    BigDecimal code: ``hours.divide(default, 15, HALF_UP)``, the exact product, ``toBigInteger()``."""
    h, d, t = Decimal(hours), Decimal(default), Decimal(target)
    if not (h > 0 and d != 0):
        return 0
    with localcontext() as ctx:
        ctx.prec = 200  # wide enough that the quotient is exact to far beyond 15 places before quantizing
        ratio = (h / d).quantize(Decimal("1e-15"), rounding=ROUND_HALF_UP)
        return int((t * ratio).to_integral_value(rounding=ROUND_DOWN))


@settings(max_examples=150, deadline=None)
@given(row=staff_rows)
def test_available_points_follow_the_tools_grade_lookups(row: dict[str, Any]) -> None:
    """SPOs read the SPO nominal target and every other grade the PO one; PO and PQiP read the PO default hours,
    PSO the PSO ones and SPO the SPO ones (WorkloadPointsEntity)."""
    params = load_parameters(
        {"wmt.nominal_target.PO": 2100, "wmt.nominal_target.SPO": 1900, "wmt.default_hours.PO": 36}
        | {"wmt.default_hours.PSO": 35, "wmt.default_hours.SPO": 30}
    )
    staff = practitioners_frame([row])
    grade = row["grade"]
    target = params[f"wmt.nominal_target.{'SPO' if grade == 'SPO' else 'PO'}"]
    default = params[f"wmt.default_hours.{ {'PO': 'PO', 'PQiP': 'PO', 'PSO': 'PSO'}.get(grade, 'SPO') }"]
    hours = Decimal(str(row["contracted_hours_per_week"])) - Decimal(str(row["reduction_hours_per_week"]))
    expected = kotlin_available_points(str(target), str(default), str(hours))
    assert available_points(staff, params).iloc[0] == expected


@pytest.mark.parametrize(
    ("target", "default", "hours", "expected"),
    [
        (2176, 37, 35.2, 2070),  # CapacityCalculatorTest.kt: 37 h - 1.8
        (2176, 37, 28.2, 1658),  # CapacityCalculatorTest.kt: 30 h - 1.8
        (2100, 35, 30, 1799),  # exactly 1,800, but 30/35 rounded to 15 places is below 6/7: one point less
        (2100, 36, 30, 1749),
        (2100, 36, 0.12, 6),
        (2100, 36, 24, 1400),
        (2176, 36, 33, 1994),
        (2176, 37, 18.5, 1088),
        (2176, 0, 37, 0),  # SPO default hours
        (2176, 37, 0, 0),
        (2176, 37, -1.5, 0),
    ],
)
def test_available_points_are_calculate_available_points(
    target: int, default: int, hours: float, expected: int
) -> None:
    assert exact_available_points(target, default, hours) == expected
    assert kotlin_available_points(str(target), str(default), str(hours)) == expected
    if default:  # the PO default hours cannot be 0; the SPO case is test_available_points
        contracted, reduction = (float(hours), 0.0) if hours > 0 else (5.0, 5.0 - float(hours))
        staff = practitioners_frame(
            [{"grade": "PO", "contracted_hours_per_week": contracted, "reduction_hours_per_week": reduction}]
        )
        params = load_parameters({"wmt.nominal_target.PO": target, "wmt.default_hours.PO": default})
        assert available_points(staff, params).iloc[0] == expected


@settings(max_examples=400, deadline=None)
@given(
    target=st.integers(1, 5000),
    default=st.integers(1, 60),
    hundredths=st.integers(-500, 6000),
)
def test_available_points_match_a_decimal_reference(target: int, default: int, hundredths: int) -> None:
    """Any nominal target and default hours, hours to 0.01: the exact computation is the Kotlin arithmetic."""
    hours = Decimal(hundredths) / 100
    assert exact_available_points(target, default, float(hours)) == kotlin_available_points(
        str(target), str(default), str(hours)
    )


@settings(max_examples=100, deadline=None)
@given(
    target=st.integers(1, 5000),
    default=st.integers(1, 60),
    contracted=st.integers(1, 600).map(lambda h: h / 10),
    reduction=st.integers(0, 600).map(lambda h: h / 10),
)
def test_available_points_of_a_table_match_the_decimal_reference(
    target: int, default: int, contracted: float, reduction: float
) -> None:
    params = load_parameters({"wmt.nominal_target.PO": target, "wmt.default_hours.PO": default})
    staff = practitioners_frame(
        [{"grade": "PQiP", "contracted_hours_per_week": contracted, "reduction_hours_per_week": reduction}]
    )
    hours = Decimal(str(contracted)) - Decimal(str(reduction))
    assert available_points(staff, params).iloc[0] == kotlin_available_points(str(target), str(default), str(hours))


def test_grades_the_tool_has_no_column_for_are_not_parameters() -> None:
    """PSO and PQiP read the PO nominal target and PQiP the PO default hours: no entry of their own to set."""
    for path in ("wmt.nominal_target.PSO", "wmt.nominal_target.PQiP", "wmt.default_hours.PQiP"):
        with pytest.raises(ParameterError, match=f"{path} is not a parameter"):
            load_parameters({path: 2000})


def test_untiered_weights_are_not_parameters() -> None:
    """The tool has no untiered weight (an untiered case scores 0), so a scenario cannot set one."""
    for path in ("wmt.weights.community.untiered", "wmt.weights.custody.untiered", "wmt.annual_hours.licence.untiered"):
        with pytest.raises(ParameterError, match=f"{path} is not a parameter"):
            load_parameters({path: 10})


@settings(max_examples=200, deadline=None)
@given(points=st.integers(0, 10_000), available=st.integers(1, 5_000))
def test_workload_pct_rounds_half_up_exactly(points: int, available: int) -> None:
    ratio = Fraction(points, available) * 1000
    half_up = int(ratio + Fraction(1, 2))
    assert workload_pct_units(points, available, 1) == half_up
    assert workload_pct(np.array([points]), np.array([available]), PARAMS)[0] == (half_up / 10 if points else 0.0)
