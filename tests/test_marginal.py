"""Where the next hour does most: the run's shadow-price columns and their conversion into pounds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workload import marginal
from workload.load import load_scenario
from workload.pipeline import run_scenario

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "women-pdu"


@pytest.fixture(scope="module")
def result():
    return run_scenario(load_scenario(SCENARIO), workers=1)


def test_every_practitioner_has_a_non_negative_hour_value_and_spare_time_is_worth_nothing(result) -> None:
    staff = result.practitioners
    assert staff["hour_value"].notna().all()
    assert (staff["hour_value"] >= 0).all()
    spare = staff["utilisation"] < 1 - 1e-6
    assert (staff.loc[spare, "hour_value"] == 0).all()
    busy = staff["capacity_hours"] > 0
    assert (staff.loc[busy, "hour_value"] > 0).any(), "the example PDU is short of time: some hour is worth something"


def test_pounds_are_the_pdus_rate_times_weighted_hours(result) -> None:
    staff, pdus = result.practitioners, result.tables["pdus"]
    rate = staff["pdu"].map(pdus["gbp_per_weighted_hour"]).astype(float)
    assert (rate > 0).all()
    np.testing.assert_allclose(staff["hour_value_gbp"], staff["hour_value"] * rate)


def test_a_grades_next_hour_is_its_best_practitioners(result) -> None:
    staff, pdus = result.practitioners, result.tables["pdus"]
    for grade in ("PO", "PSO", "PQiP"):
        mine = staff[staff["grade"] == grade]
        best = mine.groupby("pdu")["hour_value"].max()
        np.testing.assert_allclose(pdus.loc[best.index, f"hour_value_{grade}"], best)


def test_partner_contracts_say_whether_the_next_hour_is_worth_its_price(result) -> None:
    contracts = result.tables["partner_contracts"]
    assert len(contracts) == 1
    row = contracts.iloc[0]
    assert 0 < row["used_hours"] <= row["contract_hours"] + 1e-6
    assert row["use_share"] == pytest.approx(row["used_hours"] / row["contract_hours"])
    # a contract used below its hours does not bind: its next hour is worth nothing, so not its price
    assert row["hour_value"] == 0 and row["worth_price"] == "no"


def test_exchange_rate_is_pounds_over_weighted_hours_of_the_short_cases() -> None:
    pdu = pd.Series(["A", "A", "A", "B"])
    hour_value = pd.Series([2.0, 4.0, 3.0, 1.0])
    saving = pd.Series([100.0, 300.0, 999.0, 50.0])
    unmet = pd.Series([5.0, 1.0, 0.0, 2.0])  # the third case is fully met: it does not set the rate
    rates = marginal.exchange_rates(pdu, hour_value, saving, unmet)
    assert rates["A"] == pytest.approx(400.0 / 6.0)
    assert rates["B"] == pytest.approx(50.0)


def test_partner_values_of_a_small_pdu_are_blank() -> None:
    contracts = pd.DataFrame(
        {
            "partner_id": ["K1", "K1"],
            "pdu": ["A", "B"],
            "contract_hours": [100.0, 100.0],
            "used_hours": [100.0, 40.0],
            "price_per_hour": [30.0, 30.0],
            "hour_value": [2.0, 0.0],
        }
    )
    out = marginal.partner_values(contracts, pd.Series({"A": 20.0, "B": 20.0}), pd.Series({"A": 50, "B": 3}), 5)
    assert out.iloc[0]["hour_value_gbp"] == pytest.approx(40.0) and out.iloc[0]["worth_price"] == "yes"
    assert np.isnan(out.iloc[1]["used_hours"]) and out.iloc[1]["worth_price"] is None
