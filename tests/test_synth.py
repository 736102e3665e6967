"""Synthetic scenarios: they load, they are reproducible, and their shape matches the parameters' sources."""

from __future__ import annotations

import filecmp
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import REPO
from workload.load import load_scenario
from workload.params import load_parameters
from workload.synth import (
    SynthScenario,
    change_level,
    change_points,
    protect_level,
    protect_points,
    synth_scenario,
    write_scenario,
)

PARAMS = load_parameters()
FILES = ("scenario.toml", "cases.csv", "practitioners.csv", "partners.csv", "README.md")


@pytest.fixture(scope="module")
def county() -> SynthScenario:
    """About 20,000 cases in 8 PDUs: large enough to check shares against their parameters."""
    return synth_scenario(20_000, 870, 8, seed=11)


def _protect(tier: pd.Series) -> pd.Series:
    return tier.where(tier == "untiered", tier.str[0])


# ----------------------------------------------------------------------------------------------------------
# the output is a valid scenario


@pytest.mark.parametrize(
    ("n_cases", "n_staff", "n_pdus", "women", "seed", "partners"),
    [
        (1, 2, 1, 0.12, 0, "auto"),
        (40, 6, 3, 0.12, 1, "auto"),
        (2_500, 110, 4, 0.3, 7, 0),
        (500, 30, 2, 1.0, 3, 8),
        (500, 30, 5, 0.0, 4, 3),
    ],
)
def test_generated_scenarios_load_without_problems(
    tmp_path: Path, n_cases, n_staff, n_pdus, women, seed, partners
) -> None:
    synth = synth_scenario(n_cases, n_staff, n_pdus, women_share=women, seed=seed, partners=partners)
    folder = write_scenario(tmp_path / "s", synth, name="test scenario")
    scenario = load_scenario(folder)
    assert len(scenario.cases) == n_cases
    assert len(scenario.practitioners) == n_staff
    assert scenario.spec.seed == seed
    expected_partners = {"auto": -(-n_pdus // 3), 0: 0}.get(partners, partners)
    assert len(scenario.partners) == expected_partners
    assert (folder / "partners.csv").exists() == (expected_partners > 0)


def test_same_seed_gives_identical_frames_and_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = synth_scenario(3_000, 140, 5, seed=42)
    b = synth_scenario(3_000, 140, 5, seed=42)
    for table in ("cases", "practitioners", "partners"):
        pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table))
    for sub, synth in (("one", a), ("two", b)):
        (tmp_path / sub).mkdir()
        monkeypatch.chdir(tmp_path / sub)
        write_scenario(Path("out"), synth, name="same")
    match, mismatch, errors = filecmp.cmpfiles(tmp_path / "one" / "out", tmp_path / "two" / "out", FILES, shallow=False)
    assert sorted(match) == sorted(FILES) and not mismatch and not errors


def test_a_different_seed_gives_a_different_scenario() -> None:
    a = synth_scenario(3_000, 140, 5, seed=42)
    b = synth_scenario(3_000, 140, 5, seed=43)
    assert not a.cases.equals(b.cases)
    assert not a.practitioners.equals(b.practitioners)


def test_the_default_women_share_is_the_parameter() -> None:
    # no copy of the number in the code: the default is read from the parameter, and follows an override
    assert synth_scenario(40, 4, 1, seed=2).options["women_share"] == PARAMS["synth.population.women_share"]
    moved = synth_scenario(40, 4, 1, seed=2, params={"synth.population.women_share": 0.4})
    assert moved.options["women_share"] == 0.4


# ----------------------------------------------------------------------------------------------------------
# shares match their parameters and sources


def test_women_share_is_close_to_the_parameter(county: SynthScenario) -> None:
    women = (county.cases["sex"] == "female").sum()
    assert abs(women - PARAMS["synth.population.women_share"] * len(county.cases)) <= 1
    one_pdu = synth_scenario(1_200, 25, 1, women_share=0.25, seed=3, params=PARAMS).cases
    assert (one_pdu["sex"] == "female").sum() == 300


def test_women_share_varies_between_pdus(county: SynthScenario) -> None:
    by_pdu = county.cases.groupby("pdu")["sex"].apply(lambda s: (s == "female").mean())
    assert by_pdu.max() - by_pdu.min() > 0.02


def test_domestic_abuse_among_women_matches_its_source(county: SynthScenario) -> None:
    women = county.cases[county.cases["sex"] == "female"]
    expected = PARAMS["synth.needs.flag_prevalence.female.domestic_abuse_victim"]
    # 60%: docs/sources.md#female-offender-strategy-2018; OASys 61-67%: docs/sources.md#moj-da-consultation-2018
    assert 0.6 <= expected <= 0.67
    assert abs(women["domestic_abuse_victim"].mean() - expected) < 0.03
    men = county.cases[county.cases["sex"] == "male"]
    assert men["domestic_abuse_victim"].mean() < 0.2


def test_needs_prevalence_by_sex_matches_the_parameters(county: SynthScenario) -> None:
    cases = county.cases
    for sex in ("female", "male"):
        group = cases[cases["sex"] == sex]
        for need in ("drugs", "emotional_wellbeing", "relationships"):
            assert abs((group[need] >= 1).mean() - PARAMS[f"synth.needs.any_need.{sex}.{need}"]) < 0.035
            assert abs((group[need] == 2).mean() - PARAMS[f"synth.needs.severe_need.{sex}.{need}"]) < 0.035
    women, men = cases[cases["sex"] == "female"], cases[cases["sex"] == "male"]
    assert women["self_harm_history"].mean() > 2 * men["self_harm_history"].mean()
    assert women["dependent_children"].mean() > 3 * men["dependent_children"].mean()
    assert cases.loc[cases["sex"] != "female", "pregnant"].sum() == 0
    assert 0 < women["pregnant"].mean() < 0.05


def test_needs_go_together_through_the_latent_factors(county: SynthScenario) -> None:
    cases = county.cases
    drugs = cases["drugs"] >= 1
    assert cases.loc[drugs, "overdose_history"].mean() > 2 * cases.loc[~drugs, "overdose_history"].mean()
    assert (cases.loc[drugs, "lifestyle"] >= 1).mean() > (cases.loc[~drugs, "lifestyle"] >= 1).mean() + 0.15
    abused = cases["domestic_abuse_victim"] == 1
    assert (cases.loc[abused, "emotional_wellbeing"] >= 1).mean() > (
        cases.loc[~abused, "emotional_wellbeing"] >= 1
    ).mean() + 0.15
    # unrelated by design: dependent children load on no factor
    children = cases["dependent_children"] == 1
    women = cases["sex"] == "female"
    assert (
        abs(cases.loc[children & women, "drugs"].ge(1).mean() - cases.loc[~children & women, "drugs"].ge(1).mean())
        < 0.05
    )


def test_women_are_mostly_tier_c_or_d_and_more_so_than_men(county: SynthScenario) -> None:
    protect = _protect(county.cases["tier"])
    sex = county.cases["sex"]
    women_cd = protect[sex == "female"].isin(["C", "D"]).mean()
    men_cd = protect[sex == "male"].isin(["C", "D"]).mean()
    assert women_cd > 0.8
    assert women_cd > men_cd + 0.1
    assert 0 < county.cases["tier"].str.endswith("S").mean() < 0.05
    change = county.cases["tier"].str[1]
    no_mandate = (change == "0") & (county.cases["case_type"] != "community")
    assert not no_mandate.any()  # only community cases can lack a mandate for change


def test_case_types_put_women_on_community_orders(county: SynthScenario) -> None:
    cases = county.cases
    community = cases["case_type"] == "community"
    custody = cases["case_type"] == "custody"
    women = cases["sex"] == "female"
    # docs/sources.md#managing-vulnerability-2018: women 15% of community orders, 5% of prisoners
    assert abs(women[community].mean() - 0.15) < 0.03
    assert abs(women[custody].mean() - 0.05) < 0.02
    assert cases["months_on_order"].between(0, 36).all()
    assert cases["months_on_order"].std() > 5


def test_po_pso_ratio_follows_the_workforce_figures(county: SynthScenario) -> None:
    grades = county.practitioners["grade"].value_counts()
    fte = PARAMS.table("synth.staff.workforce_fte")
    assert abs(grades["PO"] / grades["PSO"] - fte["PO"] / fte["PSO"]) < 0.03
    assert 0 < grades["SPO"] < grades["PQiP"] < grades["PO"]


def test_every_pdu_has_a_po_and_another_case_holder(county: SynthScenario) -> None:
    staff = county.practitioners
    holders = staff[staff["grade"] != "SPO"].groupby("pdu").size()
    pos = staff[staff["grade"] == "PO"].groupby("pdu").size()
    pdus = sorted(county.cases["pdu"].unique())
    assert holders.reindex(pdus, fill_value=0).min() >= 2
    assert pos.reindex(pdus, fill_value=0).min() >= 1
    sizes = county.cases.groupby("pdu").size()
    assert sizes.max() > 1.3 * sizes.min()  # PDU sizes vary
    staff_per_pdu = staff.groupby("pdu").size().reindex(sizes.index)
    assert np.corrcoef(sizes, staff_per_pdu)[0, 1] > 0.95  # staffing follows caseload


def test_current_holders_respect_grade_and_pdu(county: SynthScenario) -> None:
    cases, staff = county.cases, county.practitioners.set_index("practitioner_id")
    held = cases[cases["current_practitioner_id"] != ""]
    grade = held["current_practitioner_id"].map(staff["grade"])
    protect = _protect(held["tier"])
    assert not (protect.isin(["A", "B"]) & (grade == "PSO")).any()
    assert not (grade == "SPO").any()
    assert (held["current_practitioner_id"].map(staff["pdu"]) == held["pdu"]).all()
    unallocated = (cases["current_practitioner_id"] == "").mean()
    assert abs(unallocated - PARAMS["synth.caseload.unallocated_share"]) < 0.01


def test_women_specialists_are_more_common_where_more_cases_are_women() -> None:
    few = synth_scenario(4_000, 400, 2, women_share=0.05, seed=5).practitioners
    many = synth_scenario(4_000, 400, 2, women_share=0.5, seed=5).practitioners
    share = lambda staff: staff["specialisms"].str.contains("women").mean()
    assert share(many) > share(few) + 0.2
    assert (many["specialisms"] == "").mean() > 0.3  # specialisms stay a minority
    hours = many["contracted_hours_per_week"]
    assert (hours == 37).mean() > 0.7 and (hours < 37).any()
    assert (many["reduction_hours_per_week"] < hours).all()
    assert (many["standard_reports_30d"] > 0).any() and (
        many.loc[many["grade"] == "SPO", "standard_reports_30d"] == 0
    ).all()


def test_unallocated_share_and_parameter_overrides_are_honoured() -> None:
    synth = synth_scenario(
        3_000,
        120,
        2,
        seed=2,
        unallocated_share=0.0,
        params={"synth.needs.flag_prevalence.female.domestic_abuse_victim": 0.9},
    )
    cases = synth.cases
    assert (cases["current_practitioner_id"] != "").all()
    assert cases.loc[cases["sex"] == "female", "domestic_abuse_victim"].mean() > 0.85
    assert synth.options["overridden"] == ["synth.needs.flag_prevalence.female.domestic_abuse_victim"]


# ----------------------------------------------------------------------------------------------------------
# partners


def test_auto_partners_are_womens_centres_sized_to_the_women_served(county: SynthScenario) -> None:
    partners = county.partners
    assert (partners["kind"] == "womens_centre").all() and (partners["women_only"] == 1).all()
    served = partners["pdus"].str.split(";").explode()
    assert sorted(served) == sorted(county.cases["pdu"].unique())  # every PDU served, once
    assert partners["need_areas"].str.contains("domestic_abuse_victim").all()
    women = county.cases[county.cases["sex"] == "female"].groupby("pdu").size()
    women_served = partners["pdus"].str.split(";").map(lambda pdus: int(women.reindex(pdus, fill_value=0).sum()))
    hours_per_woman = partners["contract_hours_per_year"] / women_served
    cost = PARAMS.table("synth.partners.womens_centre_cost_per_woman")
    price = partners["price_per_hour"]
    # the contract buys, per woman served, the referral share of a place at the cost midpoint
    expected = PARAMS["synth.partners.referral_share.womens_centre"] * (cost["low"] + cost["high"]) / 2 / price
    assert np.allclose(hours_per_woman, expected, rtol=0.1)


def test_a_number_of_partners_gives_several_kinds() -> None:
    partners = synth_scenario(600, 40, 4, seed=1, partners=6).partners
    assert len(partners) == 6 and partners["partner_id"].is_unique
    assert partners["kind"].nunique() == 6 and partners.loc[0, "kind"] == "womens_centre"
    assert (partners["women_only"] == (partners["kind"] == "womens_centre").astype(int)).all()


# ----------------------------------------------------------------------------------------------------------
# the tier rules (simplified hmpps-tier v2, docs/sources.md#hmpps-tier)


def _protect_of(rosh, rsr="below_3", mappa=0, registrations=0, womens=0, female=False) -> str:
    points = protect_points(
        np.array([rosh]),
        np.array([rsr]),
        np.array([mappa]),
        np.array([registrations]),
        np.array([womens]),
        np.array([female]),
        PARAMS,
    )
    return str(protect_level(points, PARAMS)[0])


def test_protect_level_follows_tier_md() -> None:
    assert _protect_of("very_high") == "A"
    assert _protect_of("low", mappa=2) == "A"
    assert _protect_of("high") == "B"
    assert _protect_of("medium") == "C"
    assert _protect_of("low", rsr="from_3_to_7") == "C"
    assert _protect_of("medium", rsr="from_7") == "B"  # the larger of RSR and ROSH
    assert _protect_of("low", mappa=1) == "D"
    assert _protect_of("low", registrations=5) == "C"
    assert _protect_of("low", registrations=40, womens=3, female=True) == "B"  # complexity capped at 20: never A
    # women's additional factors move D to C (from 4 points) and C to B (from 14), for women only
    assert _protect_of("low", registrations=2, womens=3, female=True) == "C"
    assert _protect_of("low", registrations=2, womens=3, female=False) == "D"
    assert _protect_of("medium", registrations=2, womens=3, female=True) == "B"


def test_change_level_follows_tier_md() -> None:
    zero = {need: np.zeros(5) for need in PARAMS.table("tier.change.need_weights")}
    needs = dict(
        zero,
        thinking_behaviour=np.array([2, 2, 2, 0, 0]),
        attitudes=np.array([2, 2, 0, 0, 0]),
        drugs=np.array([2, 0, 0, 0, 0]),
        finance=np.full(5, 2),
        emotional_wellbeing=np.full(5, 2),
    )
    ogrs = np.array([90, 20, 0, 0, 99])
    iom = np.array([1, 0, 0, 0, 0])
    points = change_points(needs, ogrs, iom, PARAMS)
    assert points.tolist() == [4 + 4 + 2 + 9 + 2, 4 + 4 + 2, 4, 0, 9]  # finance and wellbeing weigh 0
    everyone = np.ones(5, dtype=bool)
    assert change_level(points, everyone, everyone, PARAMS).tolist() == [3, 2, 1, 1, 1]
    no_mandate = np.array([False, True, True, True, True])
    not_assessed = np.array([True, True, True, False, True])
    assert change_level(points, no_mandate, not_assessed, PARAMS).tolist() == [0, 2, 1, 2, 1]


# ----------------------------------------------------------------------------------------------------------
# writing


def test_write_refuses_a_non_empty_folder_unless_forced(tmp_path: Path) -> None:
    synth = synth_scenario(30, 4, 1, seed=1)
    target = tmp_path / "scen"
    target.mkdir()
    write_scenario(target, synth, name="first")  # an empty folder is fine
    with pytest.raises(FileExistsError):
        write_scenario(target, synth_scenario(30, 4, 1, seed=2), name="second")
    assert 'name = "first"' in (target / "scenario.toml").read_text()
    write_scenario(target, synth_scenario(30, 4, 1, seed=2), name="second", force=True)
    assert 'name = "second"' in (target / "scenario.toml").read_text()
    assert load_scenario(target).spec.seed == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scen"]  # no temporary folder left behind


def test_names_and_descriptions_are_quoted_for_toml(tmp_path: Path) -> None:
    synth = synth_scenario(30, 4, 1, seed=1, partners=0)
    folder = write_scenario(tmp_path / "q", synth, name='Women\'s "hub" \\ PDU', description="line one\nline two")
    scenario = load_scenario(folder)
    assert scenario.spec.name == 'Women\'s "hub" \\ PDU'
    assert scenario.spec.description == "line one\nline two"
    assert scenario.spec.tables.partners is None


def test_bad_sizes_are_refused_in_plain_words() -> None:
    with pytest.raises(ValueError, match="at least 2 per PDU"):
        synth_scenario(100, 3, 2)
    with pytest.raises(ValueError, match="women_share"):
        synth_scenario(100, 4, 1, women_share=1.5)
    with pytest.raises(ValueError, match="partners"):
        synth_scenario(100, 4, 1, partners="many")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n_cases=st.integers(1, 300),
    n_pdus=st.integers(1, 5),
    extra_staff=st.integers(0, 12),
    women=st.floats(0, 1),
    seed=st.integers(0, 2**32 - 1),
    partners=st.one_of(st.just("auto"), st.integers(0, 7)),
)
def test_any_small_scenario_loads(tmp_path_factory, n_cases, n_pdus, extra_staff, women, seed, partners) -> None:
    synth = synth_scenario(
        n_cases, 2 * n_pdus + extra_staff, n_pdus, women_share=women, seed=seed, partners=partners, params=PARAMS
    )
    folder = write_scenario(tmp_path_factory.mktemp("h") / "s", synth, name="h")
    scenario = load_scenario(folder)
    assert len(scenario.cases) == n_cases
    staff = scenario.practitioners
    held = scenario.cases["current_practitioner_id"].dropna()
    assert not (staff.loc[held, "grade"].to_numpy() == "SPO").any()


# ----------------------------------------------------------------------------------------------------------
# the committed examples


@pytest.mark.parametrize("name", ["women-pdu", "region"])
def test_committed_example_loads_and_is_reproduced_by_its_readme_command(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shlex

    from workload.cli import main

    committed = REPO / "scenarios" / name
    scenario = load_scenario(committed)
    assert len(scenario.partners) >= 1
    readme = (committed / "README.md").read_text(encoding="utf-8")
    command = next(line for line in readme.splitlines() if line.startswith("workload synth "))
    monkeypatch.chdir(tmp_path)
    assert main(shlex.split(command)[1:]) == 0
    # every file the command writes matches the committed one (the folder may hold more, e.g. sweep.toml)
    names = sorted(p.name for p in (tmp_path / "scenarios" / name).iterdir())
    _match, mismatch, errors = filecmp.cmpfiles(committed, tmp_path / "scenarios" / name, names, shallow=False)
    assert not mismatch and not errors, f"{name}: {mismatch or errors} differ from what the README command writes"
