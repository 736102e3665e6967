"""The sweep's ranking: policy variants ranked within each value of the assumptions, ties reported as ties."""

from __future__ import annotations

import pandas as pd

from workload.sweep.results import ALL_ASSUMPTIONS, ALL_PDUS, rank_policies, ranking_text


def _sweep(values: dict[tuple[str, float], float], draws: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Variants and results for a grid of ``policy.pool`` x ``parameters.effect`` with the given objective."""
    rows, results = [], []
    for i, ((pool, effect), value) in enumerate(values.items()):
        for d in range(max(draws, 1)):
            variant = f"g{i:02d}" + (f"-d{d:02d}" if draws else "")
            rows.append(
                {"variant": variant, "grid_point": f"g{i:02d}", "draw": d if draws else None, "policy.pool": pool}
            )
            rows[-1]["parameters.effect"] = effect
            results.append({"variant": variant, "pdu": ALL_PDUS, "metric": "cost", "value": value})
    variants = pd.DataFrame(rows).set_index("variant")
    variants["draw"] = variants["draw"].astype("Int64")
    return variants, pd.DataFrame(results)


def test_ranking_within_an_assumption_value_differs_from_the_pooled_one() -> None:
    # pooled over the effect sizes, "soft" has the lower mean cost (30.5 against 55) and the single best grid
    # point is "hard" at the optimistic effect (10); within each effect size each is best once
    variants, results = _sweep({("hard", 0.05): 10.0, ("hard", 0.2): 100.0, ("soft", 0.05): 11.0, ("soft", 0.2): 50.0})
    ranking = rank_policies(results, variants, ["policy.pool", "parameters.effect"], "cost", "min")
    best = ranking[ranking["rank"] == 1].groupby("assumptions")["policy"].apply(list).to_dict()
    assert best["effect=0.05"] == ["pool=hard"] and best["effect=0.2"] == ["pool=soft"]
    overall = ranking[ranking["assumptions"] == ALL_ASSUMPTIONS]
    assert overall["rank"].tolist() == [1, 1] and overall["tie"].all(), "each best under one assumption: a tie"
    assert overall.set_index("policy")["mean"].idxmin() == "pool=soft", "the pooled mean would name soft"
    assert ranking_text(ranking).startswith("tie") and ranking_text(ranking, "effect=0.05") == "pool=hard"


def test_a_six_way_tie_is_reported_as_a_tie() -> None:
    pools = ["off", "soft", "hard", "a", "b", "c"]
    values = {(p, 0.1): 93117.0 + (1e-4 if i % 2 else 0.0) for i, p in enumerate(pools)}  # equal within tolerance
    variants, results = _sweep(values, draws=3)
    ranking = rank_policies(results, variants, ["policy.pool", "parameters.effect"], "cost", "min")
    assert (ranking["assumptions"] == ALL_ASSUMPTIONS).all(), "one assumption value: one block"
    assert ranking["rank"].tolist() == [1] * 6 and ranking["tie"].all()
    assert (ranking["share_best"] == 1.0).all() and (ranking["share_best_alone"] == 0.0).all()
    assert ranking_text(ranking) == "tie: all 6 variants"


def test_variants_are_named_by_their_settings_and_a_clear_winner_by_name() -> None:
    variants, results = _sweep({("hard", 0.1): 5.0, ("off", 0.1): 7.0})
    ranking = rank_policies(results, variants, ["policy.pool", "parameters.effect"], "cost", "min")
    assert ranking["policy"].tolist() == ["pool=hard", "pool=off"] and not ranking["tie"].any()
    assert ranking_text(ranking) == "pool=hard"
    assert ranking_text(rank_policies(results, variants, ["policy.pool", "parameters.effect"], "cost", "max")) == (
        "pool=off"
    )
