"""benchmarks/allocation_mission.py: the mission checks' structure and their margins on one tiny synthetic PDU.

The checks themselves may pass or fail (the allocator is the thing they judge); these tests only hold the
measurement together: every check has a margin and a verdict, the verdict is ``margin >= 0``, and the
counts and coverages the margins come from agree with each other.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import workload

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "allocation_mission.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("allocation_mission", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def mission(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModuleType, dict[str, Any], dict[str, Any]]:
    am = _script()
    scenario, drawn = am.draw_pdu(0.7, 0.5, 3, 120, tmp_path_factory.mktemp("mission") / "pdu")
    result = workload.run(scenario, workers=1)
    return am, am.mission_checks(result), drawn


def test_the_pdu_is_drawn_at_the_capacity_asked(mission: tuple[ModuleType, dict[str, Any], dict[str, Any]]) -> None:
    _, out, drawn = mission
    figures = out["figures"]
    assert figures["capacity_ratio"] == pytest.approx(0.7, abs=0.005)
    assert drawn["practitioners"] == figures["practitioners"] >= 2
    assert figures["cases"] == 120
    assert figures["held"] + figures["new"] == figures["cases"]
    assert figures["new"] > 0 and figures["held"] > figures["new"]


def test_every_check_has_a_margin_and_passes_exactly_when_it_is_not_negative(
    mission: tuple[ModuleType, dict[str, Any], dict[str, Any]],
) -> None:
    am, out, _ = mission
    assert set(out["checks"]) == set(am.CHECKS)
    for key, check in out["checks"].items():
        assert set(check) == {"margin", "pass"}, key
        if check["margin"] is None:
            assert check["pass"] is None, key
        else:
            assert math.isfinite(check["margin"]), key
            assert check["pass"] is (check["margin"] >= 0), key


def test_margins_come_from_the_figures(mission: tuple[ModuleType, dict[str, Any], dict[str, Any]]) -> None:
    _, out, _ = mission
    figures, checks, cov = out["figures"], out["checks"], out["figures"]["coverage"]
    assert checks["held_kept"]["margin"] == -figures["held_moved"]
    assert checks["new_placed"]["margin"] == -figures["new_unplaced"]
    assert 0 <= figures["held_moved"] <= figures["held"]
    assert 0 <= figures["new_unplaced"] <= figures["new_eligible"] <= figures["new"]
    # the run's own "moved" flag counts the same held cases (a new case is never "moved")
    assert figures["held_moved"] == figures["moved_flag"]
    for value in cov.values():
        assert value is None or 0.0 <= value <= 1.0 + 1e-9
    gain = 100 * (cov["all_needs_lp"] - cov["all_needs_today"])
    assert checks["all_vs_needs_today"]["margin"] == pytest.approx(gain, abs=1e-5)
    gain = 100 * (cov["ab_needs_lp"] - cov["ab_wmt_today"])
    assert checks["ab_vs_wmt_today"]["margin"] == pytest.approx(gain, abs=1e-5)
    lrc = min(figures["low_risk_complex_margin_vs_average"], figures["low_risk_complex_margin_vs_needs_today"])
    assert checks["low_risk_complex"]["margin"] == pytest.approx(lrc, abs=1e-5)
    assert figures["low_risk_complex_margin_vs_average"] == pytest.approx(
        100 * (cov["low_risk_complex_needs_lp"] - cov["all_needs_lp"]) + 5, abs=1e-9
    )
    if figures["women_abuse_early_cases"]:
        margin = 100 * (cov["women_abuse_early_needs_lp"] - cov["all_needs_lp"]) + 5
        assert checks["women_abuse_early"]["margin"] == pytest.approx(margin, abs=1e-5)
    else:
        assert checks["women_abuse_early"]["pass"] is None


def test_the_table_has_one_row_per_scenario(mission: tuple[ModuleType, dict[str, Any], dict[str, Any]]) -> None:
    am, out, drawn = mission
    row = {"ratio": 0.7, "women_share": 0.5, "seed": 3, "drawn": drawn, "seconds": 1.0, **out}
    meta = {
        "quick": True,
        "date": "today",
        "commit": "abc",
        "machine": "m",
        "cores": 2,
        "load_average": "0.00",
        "ratios": [0.7],
        "women_shares": [0.5],
        "seeds": [3],
        "workers": 1,
        "total_seconds": 1.0,
        "summary": am._summary([row]),
    }
    page = am.markdown([row], meta)
    table = [line for line in page.splitlines() if line.startswith("| ")]
    assert len(table) == 2  # header and the one scenario
    assert table[0].count("|") == table[1].count("|")
    assert meta["summary"]["short_scenarios"] == 1
