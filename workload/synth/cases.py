"""Synthetic cases, steps 1-3 of :mod:`workload.synth`: PDU sizes and women's shares, each case's sex,
ethnicity, case type, needs and experiences, risks and tier.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from workload.params import ParameterError, Parameters
from workload.scenario import OASYS_NEEDS, RESEARCH_FLAGS, CaseRecord
from workload.synth.draws import _categorical, _largest_remainder, _sigmoid, _threshold
from workload.tier import RSR_BANDS, change_level, change_points, protect_level, protect_points

UNWRITTEN_COLUMNS: tuple[str, ...] = (
    "rsr_pct",
    "reoffending_likelihood_pct",
    "complexity_registrations",
    "impulsivity_or_temper",
    "valid_assessment",
)
"""Optional case columns a synthetic case table leaves out (their defaults apply): the inputs of an untiered case's
derived protect level beyond RoSH and MAPPA, which the generator draws only as parts of the tiers it assigns, and
the likelihood of reoffending, which the cost model then derives from needs and protect level."""

CASE_COLUMNS: tuple[str, ...] = tuple(c for c in CaseRecord.model_fields if c not in UNWRITTEN_COLUMNS)

SEXES: tuple[str, ...] = ("female", "male", "other", "unknown")
"""Sex codes used internally, in this order (0 female, 1 male, 2 other, 3 unknown)."""

LATENT_VARIABLES: tuple[str, ...] = (*OASYS_NEEDS, *RESEARCH_FLAGS, "breach_recall_12m")
"""Everything drawn from the latent-factor model, in the order the draws are made."""

LATENT_FACTORS: tuple[str, ...] = ("general", "trauma", "substance")
"""The three independent latent factors: general complexity, trauma (abuse histories), substance misuse."""

CASE_TYPES: tuple[str, ...] = ("community", "licence", "custody")
ROSH_LEVELS: tuple[str, ...] = ("low", "medium", "high", "very_high")
REGISTRATIONS: tuple[str, ...] = (
    "self_harm",
    "mental_health",
    "vulnerability",
    "child_concerns",
    "risk_to_children",
    "other",
)


def _by_sex_group(female: float, male: float) -> np.ndarray:
    """Values for the sex groups used in draws: 0 women, 1 men, 2 other or unknown (the mean of the two)."""
    return np.array([female, male, (female + male) / 2.0])


def _table_rows(params: Parameters, path: str, keys: tuple[str, ...]) -> np.ndarray:
    """A female/male pair of table leaves as a (3, len(keys)) matrix: women, men, mean of both."""
    female = params.table(f"{path}.female")
    male = params.table(f"{path}.male")
    rows = np.array([[float(female[k]) for k in keys], [float(male[k]) for k in keys]])
    return np.vstack([rows, rows.mean(axis=0)])


def _sex_group(sex_code: np.ndarray) -> np.ndarray:
    """Sex group for drawing: 0 female, 1 male, 2 other or unknown."""
    return np.minimum(sex_code, 2)


def _pdu_sizes(rng: np.random.Generator, n_cases: int, n_pdus: int, params: Parameters) -> np.ndarray:
    """Cases per PDU: Dirichlet shares, at least one case each when there are enough cases."""
    if n_pdus == 1:
        return np.array([n_cases], dtype=np.int64)
    alpha = float(params["synth.population.pdu_size_concentration"])
    shares = rng.dirichlet(np.full(n_pdus, alpha))
    base = 1 if n_cases >= n_pdus else 0
    return base + rng.multinomial(n_cases - base * n_pdus, shares).astype(np.int64)


def _pdu_women_share(rng: np.random.Generator, women_share: float, sizes: np.ndarray, params: Parameters) -> np.ndarray:
    """Each PDU's women share: logit-normal around ``women_share``, centred so the caseload-weighted mean stays put."""
    n_pdus = len(sizes)
    offsets = rng.normal(0.0, float(params["synth.population.pdu_women_share_logit_sd"]), n_pdus)
    if women_share <= 0 or women_share >= 1 or n_pdus == 1:
        return np.full(n_pdus, float(women_share))
    logit = math.log(women_share / (1 - women_share)) + offsets
    weights = np.maximum(sizes, 1) / np.maximum(sizes, 1).sum()
    shift = 0.0
    for _ in range(50):  # Newton steps on one number: the weighted mean share equals women_share
        share = _sigmoid(logit + shift)
        gap = float(weights @ share) - women_share
        slope = float(weights @ (share * (1.0 - share)))
        if abs(gap) < 1e-12 or slope <= 0:
            break
        shift -= gap / slope
    return _sigmoid(logit + shift)


def _latent_needs(
    rng: np.random.Generator, group: np.ndarray, params: Parameters
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """OASys need severities and yes/no experiences from the latent-factor threshold model.

    Each variable v has a normal score L_v = g_v G + t_v T + s_v S + sqrt(1 - g_v^2 - t_v^2 - s_v^2) E_v, with
    G, T, S the general complexity, trauma and substance factors and E_v the case's own noise, all standard
    normal and independent, so L_v is standard normal. A need has severity >= 1 when L_v exceeds the
    threshold of its any-need prevalence and 2 when it exceeds that of its severe prevalence (by sex group);
    a flag is 1 above the threshold of its prevalence. Prevalences are therefore exact; loadings only set
    how needs go together.
    """
    n = len(group)
    factors = {name: rng.standard_normal(n) for name in LATENT_FACTORS}
    load = {name: params.table(f"synth.needs.loading.{name}") for name in LATENT_FACTORS}
    any_need = _table_rows(params, "synth.needs.any_need", OASYS_NEEDS)
    severe = _table_rows(params, "synth.needs.severe_need", OASYS_NEEDS)
    if np.any(severe > any_need + 1e-12):
        raise ParameterError("synth.needs.severe_need must not exceed synth.needs.any_need for any need and sex")
    flags = _table_rows(params, "synth.needs.flag_prevalence", RESEARCH_FLAGS)
    breach = params.table("synth.caseload.breach_recall_share")
    out: dict[str, np.ndarray] = {}
    for var in LATENT_VARIABLES:
        loadings = np.array([float(load[f].get(var, 0.0)) for f in LATENT_FACTORS])
        residual = 1.0 - float(np.sum(loadings**2))
        if residual < 0:
            raise ParameterError(f"synth.needs.loading: the squared loadings of {var} add up to more than 1")
        score = math.sqrt(residual) * rng.standard_normal(n)
        for f, w in zip(LATENT_FACTORS, loadings):
            if w:
                score += w * factors[f]
        if var in OASYS_NEEDS:
            j = OASYS_NEEDS.index(var)
            t1 = np.array([_threshold(p) for p in any_need[:, j]])[group]
            t2 = np.array([_threshold(p) for p in severe[:, j]])[group]
            out[var] = (score > t1).astype(np.int64) + (score > t2).astype(np.int64)
        elif var in RESEARCH_FLAGS:
            j = RESEARCH_FLAGS.index(var)
            out[var] = (score > np.array([_threshold(p) for p in flags[:, j]])[group]).astype(np.int64)
        else:
            prev = _by_sex_group(float(breach["female"]), float(breach["male"]))
            out[var] = (score > np.array([_threshold(p) for p in prev])[group]).astype(np.int64)
    return out, factors


def _months_on_order(rng: np.random.Generator, n: int, params: Parameters) -> np.ndarray:
    """Months since the order or licence started: exponential with the given mean, truncated at the maximum."""
    mean = float(params["synth.caseload.months_on_order_mean"])
    top = float(params["synth.caseload.months_on_order_max"])
    u = rng.random(n)
    months = -mean * np.log1p(-u * (1.0 - math.exp(-top / mean)))
    return np.minimum(np.round(months, 1), top)


def _draw_cases(
    rng: np.random.Generator,
    params: Parameters,
    pdu_names: list[str],
    sizes: np.ndarray,
    pdu_women: np.ndarray,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The case table (without current practitioners) and the arrays the later steps need."""
    n = int(sizes.sum())
    n_pdus = len(pdu_names)
    pdu_idx = np.repeat(np.arange(n_pdus), sizes)

    # sex: each PDU gets its share of women (whole cases, adding up to the scenario's share), chosen at
    # random among its cases; the rest are mostly men, a few other/unknown
    women_total = round(float(np.sum(pdu_women * sizes)))
    women_per_pdu = np.minimum(_largest_remainder(women_total, pdu_women * sizes), sizes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    order = np.lexsort((rng.random(n), pdu_idx))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - starts[pdu_idx[order]]
    other = {key: float(value) for key, value in params.table("synth.population.other_sex_share").items()}
    v = rng.random(n)
    sex_code = np.where(
        rank < women_per_pdu[pdu_idx],
        0,
        np.where(v < other["other"], 2, np.where(v < other["other"] + other["unknown"], 3, 1)),
    )
    group = _sex_group(sex_code)
    female = sex_code == 0

    # ethnicity: each PDU's mix drawn around the national shares
    eth = params.table("synth.population.ethnicity_share")
    eth_names = list(eth)
    eth_shares = np.array([float(eth[k]) for k in eth_names])
    eth_shares = eth_shares / eth_shares.sum()
    if n_pdus > 1:
        conc = float(params["synth.population.pdu_ethnicity_concentration"])
        pdu_eth = rng.dirichlet(np.maximum(conc * eth_shares, 1e-6), size=n_pdus)
    else:
        pdu_eth = eth_shares[None, :]
    ethnicity = np.array(eth_names, dtype=object)[_categorical(rng, pdu_eth, pdu_idx)]

    def draw(path: str, names: tuple[str, ...]) -> np.ndarray:
        return np.array(names, dtype=object)[_categorical(rng, _table_rows(params, path, names), group)]

    case_type = draw("synth.caseload.case_type_share", CASE_TYPES)

    needs, factors = _latent_needs(rng, group, params)
    needs["pregnant"] = np.where(female, needs["pregnant"], 0)

    rosh = draw("synth.risk.rosh_share", ROSH_LEVELS)
    rsr_band = draw("synth.risk.rsr_band_share", RSR_BANDS)
    mappa_share = params.table("synth.risk.mappa_share_by_rosh")
    p_mappa = pd.Series(rosh).map(mappa_share).to_numpy(dtype=float)
    levels = params.table("synth.risk.mappa_level_share")
    level_probs = np.array([[levels["level_1"], levels["level_2"], levels["level_3"]]], dtype=float)
    mappa_level = np.where(rng.random(n) < p_mappa, 1 + _categorical(rng, level_probs, np.zeros(n, dtype=np.int64)), 0)

    ogrs_mean = params.table("synth.risk.ogrs_logit_mean")
    logit = (
        _by_sex_group(float(ogrs_mean["female"]), float(ogrs_mean["male"]))[group]
        + float(params["synth.risk.ogrs_complexity_loading"]) * factors["general"]
        + float(params["synth.risk.ogrs_noise_sd"]) * rng.standard_normal(n)
    )
    ogrs_pct = np.clip(np.floor(100.0 * _sigmoid(logit)), 0, 99)

    reg_p = params.table("synth.tiering.registration_probability")
    r = rng.random((len(REGISTRATIONS), n))
    registrations = (
        ((needs["self_harm_history"] == 1) | (needs["suicide_attempt_history"] == 1)) & (r[0] < reg_p["self_harm"])
    ).astype(np.int64)
    registrations += ((needs["emotional_wellbeing"] == 2) & (r[1] < reg_p["mental_health"])).astype(np.int64)
    registrations += (
        ((needs["sex_work"] == 1) | (needs["domestic_abuse_victim"] == 1) | (needs["sexual_violence_victim"] == 1))
        & (r[2] < reg_p["vulnerability"])
    ).astype(np.int64)
    registrations += ((needs["dependent_children"] == 1) & (r[3] < reg_p["child_concerns"])).astype(np.int64)
    registrations += (r[4] < reg_p["risk_to_children"]).astype(np.int64)
    registrations += (r[5] < reg_p["other"]).astype(np.int64)

    no_mandate_share = float(params["synth.caseload.community_no_mandate_share"])
    mandate = ~((case_type == "community") & (rng.random(n) < no_mandate_share))
    assessed = rng.random(n) >= float(params["synth.caseload.no_valid_assessment_share"])
    iom = rng.random(n) < float(params["synth.caseload.iom_share"])
    impulsive_p = params.table("synth.tiering.impulsivity_probability")
    p_impulsive = np.array([impulsive_p["none"], impulsive_p["standard"], impulsive_p["severe"]], dtype=float)
    impulsive = rng.random(n) < p_impulsive[needs["thinking_behaviour"]]
    womens_factors = (
        ((needs["dependent_children"] == 1) & assessed).astype(np.int64)
        + (impulsive & assessed).astype(np.int64)
        + needs["breach_recall_12m"]
    )

    points = protect_points(rosh, rsr_band, mappa_level, registrations, womens_factors, female, params)
    letter = protect_level(points, params)
    level = change_level(change_points(needs, ogrs_pct, iom, params), mandate, assessed, params)
    tier = np.char.add(letter.astype(str), level.astype(str)).astype(object)
    unsupervised = rng.random(n) < float(params["synth.caseload.unsupervised_share"])
    tier = np.where(unsupervised, tier + "S", tier)
    untiered = rng.random(n) < float(params["synth.caseload.untiered_share"])
    tier = np.where(untiered, "untiered", tier)

    months = _months_on_order(rng, n, params)

    width = max(7, len(str(n)))
    columns: dict[str, Any] = {
        "case_id": np.char.add("C", np.char.zfill(np.arange(1, n + 1).astype(str), width)).astype(object),
        "pdu": np.array(pdu_names, dtype=object)[pdu_idx],
        "sex": np.array(SEXES, dtype=object)[sex_code],
        "ethnicity": ethnicity,
        "case_type": case_type,
        "tier": tier,
        "rosh": rosh,
        "mappa_level": mappa_level.astype(np.int64),
        "months_on_order": months,
    }
    for var in LATENT_VARIABLES:
        columns[var] = needs[var].astype(np.int64)
    columns["current_practitioner_id"] = np.full(n, "", dtype=object)
    frame = pd.DataFrame({c: columns[c] for c in CASE_COLUMNS})
    internals = {"pdu_idx": pdu_idx, "female": female, "high_protect": np.isin(letter, ["A", "B"])}
    return frame, internals
