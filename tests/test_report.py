"""The run report's words and numbers: one format for money, shares, ratios and hours; plain-English headers; the
headline's costs in words; the two LPs' warnings merged into one line per problem."""

from __future__ import annotations

import math

from workload.pipeline import merge_lp_warnings
from workload.report.formats import _format, gbp, hours, label, pct, ratio
from workload.report.headline import headline_cards, money_in_words


def test_one_format_for_money_shares_ratios_and_hours() -> None:
    assert gbp(-46692.4) == "−£46,692" and gbp(46692.6) == "£46,693" and gbp(-0.2) == "£0"
    assert pct(0.7474) == "74.7%" and pct(None) == "–" and pct(math.nan) == "–"
    assert ratio(0.9734) == "0.97"
    assert hours(3045.9) == "3,046"
    # a disparity ratio is a ratio, never a percentage (its column starts like a coverage column)
    assert _format(0.9734, "coverage_ratio_needs_lp") == "0.97"
    assert _format(0.9734, "coverage_needs_lp") == "97.3%"
    assert _format(-46692.4, "whole_life_cost") == "−£46,692"
    assert _format(0.0, "partner_hours") == "0"


def test_headers_are_plain_english_with_cells_by_name() -> None:
    assert label("cases") == "Cases"
    assert label("coverage_needs_lp") == "Assessed need met, Reform (needs, LP)"
    assert label("coverage_ratio_wmt_today") == "Disparity ratio, WMT today (baseline)"
    assert label("unmet_hours") == "Unmet need (h a year)"
    assert label("utilisation_PO") == "Share of capacity used, PO"


def test_money_is_said_in_words_more_or_less() -> None:
    assert money_in_words(-46692.4) == "£46,692 a year less than today"
    assert money_in_words(1200.0) == "£1,200 a year more than today"
    assert money_in_words(0.2) == "about the same as today"
    assert money_in_words(None) == "not shown (too few cases)"


def _summary(**changes: object) -> dict:
    cell = {"coverage": 0.8, "unmet_hours": 100.0, "moved": 0.0}
    summary = {
        "baseline": "wmt_today",
        "reform": "needs_lp",
        "cells": {"wmt_today": dict(cell), "needs_lp": dict(cell)},
        "suppression_threshold": 5,
        "net_whole_life_cost_reform_vs_baseline": -46692.4,
        "practitioners_red_current": 2,
        "practitioners_red_baseline": 3,
        "practitioners_red_reform": 1,
        "statutory_shortfall_hours": 12.0,
        "overflow_hours": 30.0,
        "coverage_women": {},
        "coverage_men": {},
        "coverage_low_risk_complex": {},
        "fte": {"available": 10.0, "needed_for_assessed_need": 12.0, "needed_for_wmt_hours": 9.0},
    }
    summary.update(changes)
    return summary


def test_headline_shows_the_costs_as_well_as_the_gains() -> None:
    cards = {c["title"]: c for c in headline_cards(_summary(), {"continuity": "keep", "max_moves_share": 0.05})}
    assert cards["Cases moved to another practitioner"]["big"] == "0 cases"
    assert "continuity = keep" in cards["Cases moved to another practitioner"]["vs"]
    assert cards["Practitioners in the red band, reform"]["big"] == "1 practitioner"
    assert "2 today" in cards["Practitioners in the red band, reform"]["vs"]
    assert cards["Public-protection minimums short"]["big"] == "12 h a year"
    assert cards["Public-protection minimums short"]["cost"]
    assert cards["Hours planned above capacity"]["big"] == "30 h a year"
    assert cards["Whole-life cost, reform against today"]["big"] == "£46,692 a year less"
    assert not cards["Whole-life cost, reform against today"]["cost"]
    # a shortfall from too few cases is said, not shown
    cards = {
        c["title"]: c for c in headline_cards(_summary(statutory_shortfall_hours=None), {"continuity": "rebalance"})
    }
    assert cards["Public-protection minimums short"]["big"] == "fewer than 5 cases short"
    assert "continuity = rebalance" in cards["Cases moved to another practitioner"]["vs"]


def test_the_two_lps_warnings_are_one_line_per_problem() -> None:
    same = "PDU P1: public-protection minimums need more hours than the practitioners can give: 12 case(s)."
    merged = merge_lp_warnings({"wmt": [same, "PDU P2: only WMT"], "needs": [same, "PDU P3: only needs"]})
    assert len(merged) == 3
    assert merged[0] == f"both LP allocations (WMT scoring and the reform's needs scoring): {same}"
    assert merged[1].startswith("WMT scoring, LP allocation: PDU P2")
    assert merged[2].startswith("the reform (needs scoring, LP allocation): PDU P3")
    assert merge_lp_warnings({"wmt": [], "needs": []}) == []


def test_workbooks_are_formatted_identical_between_runs_and_keep_case_level_data_apart(tmp_path) -> None:
    """report.xlsx (published) holds the headline, settings, warnings and the published tables, formatted for an
    Excel user; caseload.xlsx (kept in the run folder) holds practitioners and the allocation; both byte-identical
    between identical runs."""
    import openpyxl

    from workload.cli import main
    from workload.synth import synth_scenario, write_scenario

    scenario = write_scenario(
        tmp_path / "s", synth_scenario(n_cases=150, n_practitioners=8, n_pdus=1, seed=5), name="workbook"
    )
    for out in ("a", "b"):
        assert main(["run", str(scenario), "--out", str(tmp_path / out), "--workers", "1"]) == 0
    for name in ("report.xlsx", "caseload.xlsx"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    book = openpyxl.load_workbook(tmp_path / "a" / "report.xlsx")
    assert book.sheetnames[:4] == ["notes", "headline", "settings", "warnings"]
    assert "allocation" not in book.sheetnames and "practitioners" not in book.sheetnames
    totals = book["totals"]
    assert totals["A1"].font.bold and totals.freeze_panes == "B2" and totals.auto_filter.ref
    header = {c.value: c.column_letter for c in totals[1]}
    assert totals[f"{header['whole_life_cost (GBP/yr)']}2"].number_format == '"£"#,##0;-"£"#,##0'
    assert totals[f"{header['coverage (share)']}2"].number_format == "0.0%"
    equity = book["equity"]
    ratio_column = {c.value: c.column_letter for c in equity[1]}["coverage_ratio_needs_lp (ratio)"]
    assert equity[f"{ratio_column}2"].number_format == "0.00"
    headline = {row[0].value: row[1] for row in book["headline"].iter_rows(min_row=2)}
    assert headline["Whole-life cost (GBP/yr)"].number_format.startswith('"£"')
    settings = {row[0].value: row[1].value for row in book["settings"].iter_rows(min_row=2)}
    assert settings["policy.continuity"] == "keep"
    caseload = openpyxl.load_workbook(tmp_path / "a" / "caseload.xlsx")
    assert caseload.sheetnames == ["notes", "practitioners", "allocation"]
    allocation = {c.value for c in caseload["allocation"][1]}
    assert {"case_id", "practitioner_id", "moved", "move_reason"} <= allocation


def test_run_prints_a_line_per_stage_with_progress_and_is_quiet_without(tiny, tmp_path, capsys) -> None:
    """``workload run --progress`` prints each stage on stderr; without it (stderr not a terminal under pytest)
    nothing but warnings."""
    from workload.cli import main

    assert main(["run", str(tiny), "--out", str(tmp_path / "a"), "--workers", "1", "--progress"]) == 0
    err = capsys.readouterr().err
    for stage in ("scoring", "today's allocation", "LP allocation", "outcomes", "tables", "assemble"):
        assert f"  {stage}: done in " in err, stage
    assert main(["run", str(tiny), "--out", str(tmp_path / "b"), "--workers", "1"]) == 0
    assert "done in" not in capsys.readouterr().err
