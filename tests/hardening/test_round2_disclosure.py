"""The disclosure rule (workload/disclosure.py, docs/model.md "Small cells"), held on whole runs: no
published row stands for 1 to T-1 cases, no figure comes from 1 to T-1 cases, warnings give no case ids
and no small counts."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import FIXTURES, read_raw, write_raw
from workload import cli, disclosure
from workload.synth import synth_scenario, write_scenario

THRESHOLD = 5


def sheet(run: Path, name: str) -> pd.DataFrame:
    """A sheet of report.xlsx with the units taken off its headers (``cases (cases)`` is ``cases``)."""
    frame = pd.read_excel(run / "report.xlsx", sheet_name=name, index_col=0)
    return frame.rename(columns=lambda c: re.sub(r" \([^)]*\)$", "", str(c)))


def run_folder(scenario: Path, out: Path) -> Path:
    assert cli.main(["run", str(scenario), "--out", str(out), "--workers", "1"]) == 0
    return out


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny fixture (3 cases, 2 of them women, a women-only partner) with its PO made a PSO, so the
    B-tier case has no eligible practitioner."""
    root = tmp_path_factory.mktemp("tiny")
    shutil.copytree(FIXTURES / "tiny", root / "s")
    staff = read_raw(root / "s", "practitioners.csv")
    staff.loc[staff["practitioner_id"] == "P01", "grade"] = "PSO"
    write_raw(staff, root / "s", "practitioners.csv")
    return run_folder(root / "s", root / "run")


@pytest.fixture(scope="module")
def tiny_plain_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny fixture as it is: 3 cases, 2 of them women, and a women-only partner."""
    root = tmp_path_factory.mktemp("tinyplain")
    shutil.copytree(FIXTURES / "tiny", root / "s")
    return run_folder(root / "s", root / "run")


@pytest.fixture(scope="module")
def one_case_pdu_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic region in which one PDU holds a single case (and one practitioner)."""
    root = tmp_path_factory.mktemp("onecase")
    folder = write_scenario(root / "s", synth_scenario(300, 14, 2, seed=4), name="one-case PDU")
    cases, staff = read_raw(folder, "cases.csv"), read_raw(folder, "practitioners.csv")
    cases.loc[cases.index[0], ["pdu", "current_practitioner_id"]] = ["LONE", ""]
    staff.loc[staff.index[0], "pdu"] = "LONE"
    cases.loc[
        cases["current_practitioner_id"] == staff.loc[staff.index[0], "practitioner_id"], "current_practitioner_id"
    ] = ""
    write_raw(cases, folder, "cases.csv")
    write_raw(staff, folder, "practitioners.csv")
    return run_folder(folder, root / "run")


def test_a_one_case_pdu_is_never_published_alone(one_case_pdu_run: Path) -> None:
    run = one_case_pdu_run
    assert "LONE" in pd.read_csv(run / "cases.csv")["pdu"].tolist()  # the case-level file keeps it
    for table in (sheet(run, "pdus"), pd.read_csv(run / "pdus.csv", index_col=0)):
        assert "LONE" not in table.index
        assert any("small PDUs" in str(i) for i in table.index)
        assert not disclosure.is_small(table["cases"].to_numpy(dtype=float), THRESHOLD).any()
    html = (run / "report.html").read_text()
    assert ">LONE<" not in html


def test_rows_of_every_published_group_table_count_no_small_group(one_case_pdu_run: Path, tiny_run: Path) -> None:
    for run in (one_case_pdu_run, tiny_run):
        by_group = sheet(run, "outcomes_by_group")
        rows = by_group[by_group.index != "Total"]
        assert not disclosure.is_small(rows["cases"].to_numpy(dtype=float), THRESHOLD).any()
        assert not [c for c in by_group.columns if c.startswith(disclosure.CONTRIBUTOR_PREFIX)]


def test_partner_hours_only_two_women_could_receive_are_not_published(tiny_plain_run: Path) -> None:
    tiny_run = tiny_plain_run
    allocations = pd.read_csv(tiny_run / "allocations.csv")
    referred = int((allocations["partner_hours"] > 0).sum())
    assert 0 < referred < THRESHOLD  # the situation the rule is for
    for totals in (pd.read_csv(tiny_run / "totals.csv", index_col=0), sheet(tiny_run, "totals")):
        reform = totals.loc["needs_lp"]
        for column in ("partner_hours", "partner_cost", "afforded_hours", "staff_cost"):
            value = reform[next(c for c in totals.columns if c.startswith(column))]
            assert pd.isna(value), column
        # and the figures that are still shown cannot give the partner hours back
        assert pd.notna(reform[next(c for c in totals.columns if c.startswith("required_hours"))])
    import json

    summary = json.loads((tiny_run / "summary.json").read_text())
    assert summary["cells"]["needs_lp"]["partner_hours"] is None
    assert summary["counts"]["women"] is None  # two women: a small count


def test_children_cost_of_few_carers_is_not_published(tiny_run: Path) -> None:
    cases = pd.read_csv(FIXTURES / "tiny" / "cases.csv")
    assert 0 < int((cases["dependent_children"] > 0).sum()) < THRESHOLD
    totals = pd.read_csv(tiny_run / "totals.csv", index_col=0)
    assert totals["children_cost"].isna().all() and totals["whole_life_cost"].isna().all()


def test_warnings_name_no_case_and_give_no_small_count(tiny_run: Path) -> None:
    import json

    warnings = json.loads((tiny_run / "summary.json").read_text())["warnings"]
    assert any("no eligible practitioner" in w for w in warnings)
    html = (tiny_run / "report.html").read_text()
    for case_id in pd.read_csv(FIXTURES / "tiny" / "cases.csv")["case_id"]:
        assert case_id not in html and all(case_id not in w for w in warnings)
    for w in warnings:
        for n in re.findall(r"(\d[\d,]*) case", w):
            assert not disclosure.is_small(int(n.replace(",", "")), THRESHOLD), w
    assert any(f"fewer than {THRESHOLD} case(s)" in w for w in warnings)


# ---------------------------------------------------------------------------------------------------------
# the rule's pieces, as properties


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=8),
    st.integers(min_value=0, max_value=10),
)
def test_pooled_rows_are_never_small_and_add_up(counts: list[int], threshold: int) -> None:
    table = pd.DataFrame(
        {"cases": counts, "hours": [2.0 * c for c in counts], "status": "x"},
        index=[f"P{i}" for i in range(len(counts))],
    )
    out = disclosure.pool_small_rows(table, threshold, ["cases", "hours"], disclosure.SMALL_PDUS)
    if threshold > 0:
        assert not disclosure.is_small(out["cases"].to_numpy(dtype=float), threshold).any()
    shown = out["cases"].sum()
    hidden = sum(c for c in counts if disclosure.is_small(c, threshold)) if threshold else 0
    # every case is in a shown row, unless all rows together are too few to show
    assert shown == sum(counts) or (shown == sum(counts) - hidden and hidden < threshold)
    assert (out.loc[out["pooled_groups"] > 0, "status"].isna()).all()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=12), min_size=1, max_size=6), st.integers(min_value=1, max_value=8))
def test_figures_from_few_contributors_are_blank_with_their_complements(
    contributors: list[int], threshold: int
) -> None:
    n = len(contributors)
    table = pd.DataFrame(
        {
            "cases": 100,
            "partner_hours": np.arange(n) + 1.0,
            "afforded_hours": 50.0,
            "required_hours": 80.0,
            "contributors_partner_hours": contributors,
        }
    )
    out = disclosure.suppress_contributions(table, threshold)
    small = disclosure.is_small(np.array(contributors), threshold)
    assert out["partner_hours"].isna().tolist() == small.tolist()
    assert out["afforded_hours"].isna().tolist() == small.tolist()
    assert out["required_hours"].notna().all()
    assert "contributors_partner_hours" not in out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PDU A: 1 case(s) have no eligible practitioner", "PDU A: fewer than 5 case(s) have no eligible practitioner"),
        ("PDU A: 12 case(s) have no eligible practitioner", "PDU A: 12 case(s) have no eligible practitioner"),
        ("x: 12.5 floor hours short across 2 case(s); y", "x: floor hours short across fewer than 5 case(s); y"),
        ("x: 1,200.5 floor hours short across 1,200 case(s)", "x: 1,200.5 floor hours short across 1,200 case(s)"),
        ("today's allocation: 0 case(s) have", "today's allocation: 0 case(s) have"),
        ("PDU01 has 3 cases and 2 practitioners", "PDU01 has fewer than 5 cases and 2 practitioners"),
    ],
)
def test_warnings_put_small_counts_in_words(text: str, expected: str) -> None:
    assert disclosure.redact_warning(text, THRESHOLD) == expected


def test_net_costs_are_not_published_when_a_cost_total_is_not(tiny_plain_run: Path) -> None:
    # every net cost in the sensitivity table sums the partner and children's costs the Totals suppress
    totals = pd.read_csv(tiny_plain_run / "totals.csv", index_col=0)
    assert totals["partner_cost"].isna().any()
    sensitivity = pd.read_csv(tiny_plain_run / "sensitivity.csv", index_col=0)
    net = [c for c in sensitivity.columns if c.startswith("net_cost") or c == "swing"]
    assert sensitivity[net].isna().all().all()
    assert sensitivity[["default", "low", "high"]].notna().all().all()  # the assumptions themselves are shown


# ---------------------------------------------------------------------------------------------------------
# secondary suppression: a blanked figure cannot be worked out as the total minus the rows shown


def test_a_single_small_row_is_protected_by_blanking_another() -> None:
    # groups: 600 contributors, 4 contributors (small), 0; the total (604) is published
    hidden = disclosure.hidden_rows(np.array([600.0, 4.0, 0.0, 604.0]), 5, np.zeros(4), np.array([0, 0, 0, 1], bool))
    assert hidden.tolist() == [True, True, False, False]  # 4 alone would be Total - 600


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=7), st.integers(min_value=1, max_value=8))
def test_what_subtraction_reveals_always_comes_from_enough_cases(counts: list[int], threshold: int) -> None:
    rows = np.array(counts, dtype=float)
    totals = np.zeros(len(rows) + 1, dtype=bool)
    totals[-1] = True
    hidden = disclosure.hidden_rows(np.append(rows, rows.sum()), threshold, np.zeros(len(rows) + 1), totals)
    blanked = rows[hidden[:-1]]
    # the blanked rows together (what Total - shown gives) come from 0 or at least T cases, unless the total
    # itself is small and blanked
    assert blanked.sum() == 0 or blanked.sum() >= threshold or hidden[-1]
    # every row with 1 to T-1 contributors is blanked
    assert all(hidden[i] for i, c in enumerate(counts) if 0 < c < threshold)


def test_children_cost_of_three_men_cannot_be_worked_out_from_the_total(tmp_path: Path) -> None:
    # the red team's case: every man without dependent children but 3; the men's row was blanked alone and
    # Total - women gave those 3 men's children's cost
    shutil.copytree(FIXTURES / "tiny", tmp_path / "s")
    cases = read_raw(tmp_path / "s", "cases.csv")
    base = cases.iloc[[0]]
    rows = []
    for i in range(12):
        row = base.copy()
        row["case_id"] = f"W{i:02d}"
        row["sex"] = "female"
        row["dependent_children"] = "1"
        rows.append(row)
    for i in range(8):
        row = cases.iloc[[1]].copy()
        row["case_id"] = f"M{i:02d}"
        row["sex"] = "male"
        row["dependent_children"] = "1" if i < 3 else "0"
        row["current_practitioner_id"] = ""
        rows.append(row)
    write_raw(pd.concat(rows, ignore_index=True), tmp_path / "s", "cases.csv")
    run = run_folder(tmp_path / "s", tmp_path / "run")
    by_group = pd.read_csv(run / "outcomes_by_group.csv", index_col=0)
    sex = by_group[(by_group["dimension"] == "sex") & (by_group["cell"] == "wmt_today")]
    groups = sex.drop(index="Total")
    assert groups["children_cost"].isna().sum() != 1  # never exactly one blanked row under a shown total
    if groups["children_cost"].isna().any():
        assert groups["children_cost"].isna().all()


def test_a_scenario_of_fewer_cases_than_the_threshold_warns_not_to_share(tiny_plain_run: Path) -> None:
    import json

    warnings = json.loads((tiny_plain_run / "summary.json").read_text())["warnings"]
    assert any("do not share it" in w for w in warnings)
    assert "do not share it" in (tiny_plain_run / "report.html").read_text()
