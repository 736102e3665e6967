"""Synthetic scenarios: made-up caseloads, staff and partner agencies with realistic shape, from one seed.

No row describes a real person. Every distribution comes from ``workload/params/synth.yaml``, where each
number cites the reference it rests on (reference/domain.md, reference/tier.md) or says it is an assumption;
docs/synth.md walks through them. The steps, all vectorised over whole columns with one
``numpy.random.Generator``:

1. PDU sizes from a Dirichlet; each PDU's women share and ethnic mix vary around the national figures.
2. Each case's sex, ethnicity and case type; its OASys needs (0/1/2) and research-highlighted experiences
   (0/1) as thresholds on correlated normal scores: three latent factors (general complexity, trauma,
   substance misuse) plus the case's own noise, with thresholds set so each prevalence is exactly its
   parameter for women and for men.
3. ROSH, RSR band, MAPPA level, OGRS, complexity registrations, mandate for change and assessment status,
   then the tier by the simplified hmpps-tier v2 rules (:func:`protect_points`, :func:`change_points`).
4. Practitioners: grade mix from the national PO/PSO workforce plus trainees and seniors, hours,
   reductions, specialisms (more women's specialists where a PDU has more women) and court reports.
5. Who holds each case now: someone in its own PDU, never a PSO for an A or B case, never an SPO; a few
   cases unallocated.
6. Partners: women's centres (or a given number of agencies of several kinds) with contracts sized to the
   women or needs in the PDUs they serve.

:func:`write_scenario` writes the result as a scenario folder (scenario.toml, CSVs, README.md) that
:func:`workload.load.load_scenario` accepts; the same seed gives byte-identical files.
"""

from __future__ import annotations

import math
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist
from typing import Any, Mapping

import numpy as np
import pandas as pd

from workload.errors import Problem
from workload.output import atomic_folder
from workload.params import ParameterError, Parameters, load_parameters
from workload.scenario import (
    OASYS_NEEDS,
    RESEARCH_FLAGS,
    CaseRecord,
    NeedArea,
    PartnerRecord,
    PractitionerRecord,
    Specialism,
)

CASE_COLUMNS: tuple[str, ...] = tuple(CaseRecord.model_fields)
PRACTITIONER_COLUMNS: tuple[str, ...] = tuple(PractitionerRecord.model_fields)
PARTNER_COLUMNS: tuple[str, ...] = tuple(PartnerRecord.model_fields)

SEXES: tuple[str, ...] = ("female", "male", "other", "unknown")
"""Sex codes used internally, in this order (0 female, 1 male, 2 other, 3 unknown)."""

LATENT_VARIABLES: tuple[str, ...] = (*OASYS_NEEDS, *RESEARCH_FLAGS, "breach_recall_12m")
"""Everything drawn from the latent-factor model, in the order the draws are made."""

LATENT_FACTORS: tuple[str, ...] = ("general", "trauma", "substance")
"""The three independent latent factors: general complexity, trauma (abuse histories), substance misuse."""

CASE_TYPES: tuple[str, ...] = ("community", "licence", "custody")
ROSH_LEVELS: tuple[str, ...] = ("low", "medium", "high", "very_high")
RSR_BANDS: tuple[str, ...] = ("below_3", "from_3_to_7", "from_7")
GRADES: tuple[str, ...] = ("PO", "PSO", "PQiP", "SPO")
HOLDING_GRADES: tuple[str, ...] = ("PO", "PSO", "PQiP")
REGISTRATIONS: tuple[str, ...] = (
    "self_harm", "mental_health", "vulnerability", "child_concerns", "risk_to_children", "other"
)

PARTNER_KIND_CYCLE: tuple[str, ...] = (
    "womens_centre",
    "substance_misuse_service",
    "domestic_abuse_service",
    "housing",
    "mental_health",
    "employment",
)
"""Kinds of partner, in the order ``partners=<int>`` cycles through them (a women's centre first)."""

PARTNER_PREFIX: dict[str, str] = {
    "womens_centre": "WC",
    "substance_misuse_service": "SM",
    "domestic_abuse_service": "DA",
    "housing": "HO",
    "mental_health": "MH",
    "employment": "EM",
}

FLOAT_FORMAT = "%.10g"
"""CSV number format: values are rounded before writing, so this only keeps the text stable."""

_NORMAL = NormalDist()


class SynthError(ValueError):
    """Options of :func:`synth_scenario` out of range: ``problems`` holds one :class:`workload.errors.Problem`
    per option (code ``synth.option``, the option as its ``key``); ``str()`` joins them with "; "."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(f"{p.key} {p.message}" for p in problems))


@dataclass(frozen=True)
class SynthScenario:
    """A synthetic scenario's tables in the CSV layout (ids as columns, lists joined with ';').

    Attributes
    ----------
    cases, practitioners, partners
        The three tables, columns in the order of the scenario format's row models. ``partners`` has no rows
        when no partner was asked for. Blank ``current_practitioner_id`` is an empty string.
    seed
        The seed everything was drawn from.
    options
        The arguments of :func:`synth_scenario` (sizes, women share, partners, unallocated share) and the
        parameter paths overridden, so that README.md can state how to reproduce the folder.
    """

    cases: pd.DataFrame
    practitioners: pd.DataFrame
    partners: pd.DataFrame
    seed: int
    options: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        """One sentence saying what the scenario holds."""
        n_pdus = self.cases["pdu"].nunique()
        women = float((self.cases["sex"] == "female").mean())
        return (
            f"Synthetic scenario from workload.synth (seed {self.seed}): {len(self.cases):,} cases "
            f"({women:.0%} women) and {len(self.practitioners):,} practitioners in {n_pdus} PDU"
            f"{'s' if n_pdus != 1 else ''}, {len(self.partners)} partner agenc{'ies' if len(self.partners) != 1 else 'y'}."
        )


# ----------------------------------------------------------------------------------------------------------
# small helpers


def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into whole numbers in proportion to ``weights`` (Hamilton's method, ties by order)."""
    weights = np.asarray(weights, dtype=float)
    if total <= 0 or weights.sum() <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    exact = total * weights / weights.sum()
    counts = np.floor(exact).astype(np.int64)
    short = total - int(counts.sum())
    if short > 0:
        order = np.argsort(-(exact - counts), kind="stable")
        counts[order[:short]] += 1
    return counts


def _categorical(rng: np.random.Generator, probs: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Index of the category drawn for each case, from the row ``probs[group]`` of a probability matrix."""
    probs = np.asarray(probs, dtype=float)
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(group))
    idx = (u[:, None] >= cum[group]).sum(axis=1)
    return np.minimum(idx, probs.shape[1] - 1)


def _threshold(prevalence: float) -> float:
    """The normal score above which a share ``prevalence`` of cases lies."""
    if prevalence <= 0:
        return math.inf
    if prevalence >= 1:
        return -math.inf
    return _NORMAL.inv_cdf(1.0 - prevalence)


def _by_sex_group(female: float, male: float) -> np.ndarray:
    """Values for the sex groups used in draws: 0 women, 1 men, 2 other or unknown (the mean of the two)."""
    return np.array([female, male, (female + male) / 2.0])


def _table_rows(params: Parameters, path: str, keys: tuple[str, ...]) -> np.ndarray:
    """A female/male pair of table leaves as a (3, len(keys)) matrix: women, men, mean of both."""
    female = params.table(f"{path}.female")
    male = params.table(f"{path}.male")
    rows = np.array([[float(female[k]) for k in keys], [float(male[k]) for k in keys]])
    return np.vstack([rows, rows.mean(axis=0)])


def _resolve_params(params: Parameters | Mapping[str, Any] | None) -> Parameters:
    if params is None:
        return load_parameters()
    if isinstance(params, Parameters):
        return params
    return load_parameters(params)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function, without overflow for large arguments."""
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _sex_group(sex_code: np.ndarray) -> np.ndarray:
    """Sex group for drawing: 0 female, 1 male, 2 other or unknown."""
    return np.minimum(sex_code, 2)


# ----------------------------------------------------------------------------------------------------------
# tier rules (simplified hmpps-tier v2, reference/tier.md 1-3)


def protect_points(
    rosh: np.ndarray,
    rsr_band: np.ndarray,
    mappa_level: np.ndarray,
    registrations: np.ndarray,
    womens_factors: np.ndarray,
    female: np.ndarray,
    params: Parameters,
) -> np.ndarray:
    """Protect (risk of serious harm) points of the 2021 unified tier.

    points = max(RSR points, ROSH points) + MAPPA points + min(2 x registrations, 20)
    + 2 x women's additional factors (women only), as hmpps-tier v2 computes them (reference/tier.md 1, 3).

    Parameters
    ----------
    rosh
        ROSH level per case (low, medium, high, very_high).
    rsr_band
        RSR band per case (below_3, from_3_to_7, from_7).
    mappa_level
        MAPPA level 0-3.
    registrations
        Number of distinct complexity registrations (mental health, self-harm, vulnerability, child concerns...).
    womens_factors
        Number of women's additional factors present (parenting, self-control, breach or recall), 0-3.
    female
        True where the recorded sex is female; others get no women's factor points.
    params
        Parameters; reads ``synth.tiering.*``.
    """
    rosh_pts = pd.Series(rosh).map(params.table("synth.tiering.rosh_points")).to_numpy(dtype=float)
    rsr_pts = pd.Series(rsr_band).map(params.table("synth.tiering.rsr_points")).to_numpy(dtype=float)
    mappa_table = params.table("synth.tiering.mappa_points")
    by_level = np.array([mappa_table[f"level_{i}"] for i in range(4)], dtype=float)
    mappa_pts = by_level[np.asarray(mappa_level, dtype=int)]
    complexity = params.table("synth.tiering.complexity_points")
    reg_pts = np.minimum(complexity["each"] * np.asarray(registrations, dtype=float), complexity["max"])
    per_factor = float(params["synth.tiering.womens_factor_points"])
    women_pts = np.where(female, per_factor * np.asarray(womens_factors, dtype=float), 0.0)
    return np.maximum(rosh_pts, rsr_pts) + mappa_pts + reg_pts + women_pts


def protect_level(points: np.ndarray, params: Parameters) -> np.ndarray:
    """Protect letter A-D from protect points: A >= 150, B >= 20, C >= 10, else D (reference/tier.md 1)."""
    t = params.table("synth.tiering.protect_thresholds")
    points = np.asarray(points, dtype=float)
    return np.select([points >= t["A"], points >= t["B"], points >= t["C"]], ["A", "B", "C"], default="D")


def change_points(
    needs: Mapping[str, np.ndarray], ogrs_pct: np.ndarray, iom: np.ndarray, params: Parameters
) -> np.ndarray:
    """Change points of the 2021 unified tier: weighted OASys need severities + floor(OGRS / 10) + 2 if IOM.

    Accommodation, ETE, relationships, lifestyle, drugs and alcohol weigh 1 per severity step, thinking and
    behaviour and attitudes 2, finance and emotional wellbeing 0 (reference/tier.md 2.2).
    """
    weights = params.table("synth.tiering.change_need_weights")
    total = np.floor(np.asarray(ogrs_pct, dtype=float) / 10.0)
    for need, weight in weights.items():
        if weight:
            total = total + float(weight) * np.asarray(needs[need], dtype=float)
    return total + params["synth.tiering.iom_points"] * np.asarray(iom, dtype=float)


def change_level(
    points: np.ndarray, mandate: np.ndarray, assessed: np.ndarray, params: Parameters
) -> np.ndarray:
    """Change level 0-3: 0 with no mandate for change, 2 with no valid assessment, else 3 at 20+ points,
    2 at 10-19, 1 below (reference/tier.md 2.1, 2.4)."""
    t = params.table("synth.tiering.change_thresholds")
    points = np.asarray(points, dtype=float)
    scored = np.select([points >= t["level_3"], points >= t["level_2"]], [3, 2], default=1)
    with_assessment = np.where(np.asarray(assessed, dtype=bool), scored, 2)
    return np.where(np.asarray(mandate, dtype=bool), with_assessment, 0).astype(np.int64)


# ----------------------------------------------------------------------------------------------------------
# cases


def _pdu_sizes(rng: np.random.Generator, n_cases: int, n_pdus: int, params: Parameters) -> np.ndarray:
    """Cases per PDU: Dirichlet shares, at least one case each when there are enough cases."""
    if n_pdus == 1:
        return np.array([n_cases], dtype=np.int64)
    alpha = float(params["synth.population.pdu_size_concentration"])
    shares = rng.dirichlet(np.full(n_pdus, alpha))
    base = 1 if n_cases >= n_pdus else 0
    return base + rng.multinomial(n_cases - base * n_pdus, shares).astype(np.int64)


def _pdu_women_share(
    rng: np.random.Generator, women_share: float, sizes: np.ndarray, params: Parameters
) -> np.ndarray:
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
    women_total = int(round(float(np.sum(pdu_women * sizes))))
    women_per_pdu = np.minimum(_largest_remainder(women_total, pdu_women * sizes), sizes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    order = np.lexsort((rng.random(n), pdu_idx))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - starts[pdu_idx[order]]
    other = params.table("synth.population.other_sex_share")
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


# ----------------------------------------------------------------------------------------------------------
# practitioners


def _grade_counts(n_practitioners: int, n_pdus: int, params: Parameters) -> dict[str, int]:
    """Practitioners by grade in proportion to the national mix, keeping two case holders (one a PO) per PDU."""
    fte = params.table("synth.staff.workforce_fte")
    pqip = float(params["synth.staff.pqip_share"])
    spo = float(params["synth.staff.spo_share"])
    po_pso = 1.0 - pqip - spo
    po_share = po_pso * float(fte["PO"]) / (float(fte["PO"]) + float(fte["PSO"]))
    shares = np.array([po_share, po_pso - po_share, pqip, spo])
    counts = dict(zip(GRADES, _largest_remainder(n_practitioners, shares).tolist()))
    spare = n_practitioners - 2 * n_pdus
    if counts["SPO"] > spare:
        excess = counts["SPO"] - spare
        counts["SPO"] = spare
        extra = _largest_remainder(excess, shares[:3])
        for g, k in zip(HOLDING_GRADES, extra.tolist()):
            counts[g] += k
    for g in ("PSO", "PQiP"):
        move = min(max(n_pdus - counts["PO"], 0), counts[g])
        counts[g] -= move
        counts["PO"] += move
    return counts


def _draw_practitioners(
    rng: np.random.Generator,
    params: Parameters,
    n_practitioners: int,
    pdu_names: list[str],
    sizes: np.ndarray,
    pdu_women: np.ndarray,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The practitioner table, and the arrays that choosing current holders needs (PDU index, grade,
    available hours, women's specialism)."""
    n_pdus = len(pdu_names)
    n = n_practitioners
    staff_per_pdu = 2 + _largest_remainder(n - 2 * n_pdus, np.maximum(sizes, 0).astype(float))
    pdu_idx = np.repeat(np.arange(n_pdus), staff_per_pdu)
    starts = np.concatenate([[0], np.cumsum(staff_per_pdu)[:-1]])
    slot = np.arange(n) - starts[pdu_idx]

    counts = _grade_counts(n, n_pdus, params)
    grade_of = {g: i for i, g in enumerate(GRADES)}
    # slot 0 of every PDU is a PO, slot 1 another case holder, the rest (SPOs too) shuffled
    first_pos = np.full(n_pdus, grade_of["PO"])
    rest_holders = rng.permutation(np.concatenate([np.full(counts["PO"] - n_pdus, grade_of["PO"]),
                                                   np.full(counts["PSO"], grade_of["PSO"]),
                                                   np.full(counts["PQiP"], grade_of["PQiP"])]))
    second = rest_holders[:n_pdus]
    others = rng.permutation(np.concatenate([rest_holders[n_pdus:], np.full(counts["SPO"], grade_of["SPO"])]))
    grade_code = np.empty(n, dtype=np.int64)
    grade_code[slot == 0] = first_pos
    grade_code[slot == 1] = second
    grade_code[slot >= 2] = others
    # shuffle within each PDU so the senior-most is not always listed first
    order = np.lexsort((rng.random(n), pdu_idx))
    grade_code = grade_code[order]
    grade = np.array(GRADES, dtype=object)[grade_code]

    full_time = float(params["synth.staff.full_time_hours"])
    pt_hours = params.table("synth.staff.part_time_hours")
    pt_weights = params.table("synth.staff.part_time_weights")
    pt_values = np.array([float(pt_hours[k]) for k in pt_hours])
    pt_probs = np.array([[float(pt_weights[k]) for k in pt_hours]])
    part_time = rng.random(n) < float(params["synth.staff.part_time_share"])
    hours = np.where(part_time, pt_values[_categorical(rng, pt_probs, np.zeros(n, dtype=np.int64))], full_time)

    red_share = params.table("synth.staff.reduction_share")
    red_frac = params.table("synth.staff.reduction_fraction")
    has_reduction = rng.random(n) < np.array([float(red_share[g]) for g in GRADES])[grade_code]
    fraction = rng.uniform(float(red_frac["low"]), float(red_frac["high"]), n)
    reduction = np.where(has_reduction, np.round(hours * fraction, 1), 0.0)
    reduction = np.minimum(reduction, np.round(hours - 0.1, 1))

    spec_share = params.table("synth.staff.specialism_share")
    p_women = np.minimum(
        float(params["synth.staff.women_specialist_per_women_share"]) * pdu_women[pdu_idx],
        float(params["synth.staff.women_specialist_max"]),
    )
    draws = rng.random((len(Specialism), n))
    specialisms = pd.Series([""] * n, dtype=object)
    women_specialist = np.zeros(n, dtype=bool)
    for i, spec in enumerate(Specialism):
        p = p_women if spec is Specialism.women else float(spec_share[spec.value])
        has = draws[i] < p
        if spec is Specialism.women:
            women_specialist = has
        specialisms = specialisms.where(~has, specialisms + spec.value + ";")
    specialisms = specialisms.str.rstrip(";")

    writer_share = params.table("synth.staff.report_writer_share")
    std_mean = params.table("synth.staff.standard_reports_mean")
    fast_mean = params.table("synth.staff.fast_reports_mean")
    writer = rng.random(n) < np.array([float(writer_share[g]) for g in GRADES])[grade_code]
    standard = np.where(writer, rng.poisson(np.array([float(std_mean[g]) for g in GRADES])[grade_code]), 0)
    fast = np.where(writer, rng.poisson(np.array([float(fast_mean[g]) for g in GRADES])[grade_code]), 0)

    width = max(5, len(str(n)))
    frame = pd.DataFrame(
        {
            "practitioner_id": np.char.add("P", np.char.zfill(np.arange(1, n + 1).astype(str), width)).astype(object),
            "pdu": np.array(pdu_names, dtype=object)[pdu_idx],
            "grade": grade,
            "contracted_hours_per_week": hours,
            "reduction_hours_per_week": reduction,
            "specialisms": specialisms.to_numpy(dtype=object),
            "standard_reports_30d": np.minimum(standard, 100).astype(np.int64),
            "fast_reports_30d": np.minimum(fast, 200).astype(np.int64),
        }
    )[list(PRACTITIONER_COLUMNS)]
    internals = {
        "pdu_idx": pdu_idx,
        "grade_code": grade_code,
        "available_hours": np.maximum(hours - reduction, 0.1),
        "women_specialist": women_specialist,
    }
    return frame, internals


def _assign_current(
    rng: np.random.Generator,
    params: Parameters,
    case_info: dict[str, np.ndarray],
    staff_info: dict[str, np.ndarray],
    staff_ids: np.ndarray,
    unallocated_share: float,
) -> np.ndarray:
    """Who holds each case now: a practitioner of its own PDU, chosen with chance in proportion to
    available hours x grade weight (x the women's-specialist factor for a woman's case); never a PSO or
    SPO for an A or B case, never an SPO for any case; blank for a share of cases, and where nobody eligible
    works in the PDU."""
    n = len(case_info["pdu_idx"])
    allocated = rng.random(n) >= unallocated_share
    u = rng.random(n)
    holder = np.full(n, -1, dtype=np.int64)
    w_ab = params.table("synth.staff.holding_weight_ab")
    w_cd = params.table("synth.staff.holding_weight_cd")
    grade_weight_ab = np.array([float(w_ab.get("PO", 0)), 0.0, float(w_ab.get("PQiP", 0)), 0.0])
    grade_weight_cd = np.array([float(w_cd.get("PO", 0)), float(w_cd.get("PSO", 0)), float(w_cd.get("PQiP", 0)), 0.0])
    specialist_factor = float(params["synth.staff.women_specialist_holding_factor"])

    case_pdu = case_info["pdu_idx"]
    staff_pdu = staff_info["pdu_idx"]
    n_pdus = int(max(case_pdu.max(initial=-1), staff_pdu.max(initial=-1)) + 1)
    case_bounds = np.searchsorted(case_pdu, np.arange(n_pdus + 1))
    staff_bounds = np.searchsorted(staff_pdu, np.arange(n_pdus + 1))
    for k in range(n_pdus):
        c0, c1 = case_bounds[k], case_bounds[k + 1]
        s0, s1 = staff_bounds[k], staff_bounds[k + 1]
        if c0 == c1 or s0 == s1:
            continue
        grades = staff_info["grade_code"][s0:s1]
        hours = staff_info["available_hours"][s0:s1]
        specialist = staff_info["women_specialist"][s0:s1]
        high = case_info["high_protect"][c0:c1]
        female = case_info["female"][c0:c1]
        todo = allocated[c0:c1]
        for is_high in (True, False):
            base = hours * (grade_weight_ab if is_high else grade_weight_cd)[grades]
            for is_female in (True, False):
                weights = base * np.where(specialist, specialist_factor, 1.0) if is_female else base
                mask = todo & (high == is_high) & (female == is_female)
                if not mask.any() or weights.sum() <= 0:
                    continue
                cum = np.cumsum(weights)
                pick = np.searchsorted(cum, u[c0:c1][mask] * cum[-1], side="right")
                holder[c0:c1][mask] = s0 + np.minimum(pick, len(cum) - 1)
    return np.where(holder >= 0, staff_ids[np.maximum(holder, 0)], "").astype(object)


# ----------------------------------------------------------------------------------------------------------
# partners


def _need_areas(params: Parameters, kind: str) -> list[str]:
    table = params.table(f"synth.partners.need_areas.{kind}")
    return [a.value for a in NeedArea if float(table.get(a.value, 0)) > 0]


def _eligible_by_pdu(
    cases: pd.DataFrame, areas: list[str], women_only: bool, n_pdus: int, pdu_idx: np.ndarray
) -> np.ndarray:
    """Cases per PDU with at least one of ``areas`` (severity >= 1 or flag 1), women only if asked."""
    has = np.zeros(len(cases), dtype=bool)
    for area in areas:
        has |= cases[area].to_numpy() >= 1
    if women_only:
        has &= (cases["sex"] == "female").to_numpy()
    return np.bincount(pdu_idx[has], minlength=n_pdus)


def _draw_partners(
    params: Parameters, partners: int | str, pdu_names: list[str], cases: pd.DataFrame, pdu_idx: np.ndarray
) -> pd.DataFrame:
    """Partner agencies: ``auto`` gives one women's centre per few neighbouring PDUs; an int gives that many
    agencies, cycling through the kinds in PARTNER_KIND_CYCLE and spreading PDUs among them."""
    n_pdus = len(pdu_names)
    if partners == "auto":
        per = max(int(params["synth.partners.pdus_per_womens_centre"]), 1)
        groups = [list(range(i, min(i + per, n_pdus))) for i in range(0, n_pdus, per)]
        kinds = ["womens_centre"] * len(groups)
    else:
        k = int(partners)
        kinds = [PARTNER_KIND_CYCLE[j % len(PARTNER_KIND_CYCLE)] for j in range(k)]
        if k <= n_pdus:
            groups = [list(range(j, n_pdus, k)) for j in range(k)]
        else:
            groups = [[j % n_pdus] for j in range(k)]
    if not kinds:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in PARTNER_COLUMNS})

    price = params.table("synth.partners.price_per_hour")
    per_referral = params.table("synth.partners.hours_per_referral")
    referral = params.table("synth.partners.referral_share")
    cost = params.table("synth.partners.womens_centre_cost_per_woman")
    floor = float(params["synth.partners.min_contract_hours"])
    eligible: dict[str, np.ndarray] = {}
    rows = []
    for j, (kind, served) in enumerate(zip(kinds, groups)):
        areas = _need_areas(params, kind)
        women_only = kind == "womens_centre"
        if kind not in eligible:
            eligible[kind] = _eligible_by_pdu(cases, areas, women_only, n_pdus, pdu_idx)
        hourly = float(price[kind])
        if kind == "womens_centre":
            hours_each = (float(cost["low"]) + float(cost["high"])) / 2.0 / hourly
        else:
            hours_each = float(per_referral[kind])
        count = float(eligible[kind][served].sum())
        rows.append(
            {
                "partner_id": f"{PARTNER_PREFIX[kind]}{j + 1:02d}",
                "pdus": ";".join(pdu_names[i] for i in served),
                "kind": kind,
                "contract_hours_per_year": float(max(floor, round(count * float(referral[kind]) * hours_each))),
                "price_per_hour": hourly,
                "need_areas": ";".join(areas),
                "women_only": int(women_only),
            }
        )
    return pd.DataFrame(rows)[list(PARTNER_COLUMNS)]


# ----------------------------------------------------------------------------------------------------------
# the public entry points


def synth_scenario(
    n_cases: int,
    n_practitioners: int,
    n_pdus: int,
    women_share: float = 0.12,
    seed: int = 0,
    partners: int | str = "auto",
    unallocated_share: float | None = None,
    params: Parameters | Mapping[str, Any] | None = None,
) -> SynthScenario:
    """Draw a synthetic scenario: cases, practitioners and partner agencies for ``n_pdus`` PDUs.

    Parameters
    ----------
    n_cases
        People on probation to draw (at least 1; the national caseload is about 240,000).
    n_practitioners
        Staff to draw, SPOs included (at least 2 per PDU: each PDU gets at least a PO and one more case holder).
    n_pdus
        Probation delivery units, named PDU01, PDU02, ...
    women_share
        Share of cases who are women, 0-1 (default 0.12, the middle of the 10-15% in reference/domain.md 2.2,
        equal to ``synth.population.women_share``). PDUs vary around it.
    seed
        Seed of the one random generator everything is drawn from (0 or more). Same seed, same scenario.
    partners
        ``"auto"``: one women's centre per few neighbouring PDUs; an int: that many partner agencies of
        several kinds (0 for none).
    unallocated_share
        Share of cases with no current practitioner; default ``synth.caseload.unallocated_share``.
    params
        Parameters (or a mapping of overrides by dotted path); default the package's parameter files.

    Returns
    -------
    SynthScenario
        The three tables in the CSV layout, the seed and the options used.

    Raises
    ------
    SynthError
        (a ValueError) When a size or share is out of range; its ``problems`` name each option.
    """
    problems: list[Problem] = []

    def refuse(option: str, message: str) -> None:
        problems.append(Problem("synth_scenario", message, code="synth.option", key=option))

    if int(n_cases) < 1:
        refuse("n_cases", f"must be at least 1 (found {n_cases})")
    if int(n_pdus) < 1:
        refuse("n_pdus", f"must be at least 1 (found {n_pdus})")
    if int(n_practitioners) < 2 * max(int(n_pdus), 1):
        refuse("n_practitioners", f"must be at least 2 per PDU, {2 * max(int(n_pdus), 1)} here (found {n_practitioners})")
    if not 0 <= float(women_share) <= 1:
        refuse("women_share", f"must be between 0 and 1 (found {women_share})")
    if int(seed) < 0:
        refuse("seed", f"must be 0 or more (found {seed})")
    whole = isinstance(partners, (int, np.integer)) and not isinstance(partners, bool)
    if not (partners == "auto" or (whole and partners >= 0)):
        refuse("partners", f"must be 'auto' or a whole number 0 or more (found {partners!r})")
    if unallocated_share is not None and not 0 <= float(unallocated_share) <= 1:
        refuse("unallocated_share", f"must be between 0 and 1 (found {unallocated_share})")
    if problems:
        raise SynthError(problems)

    params = _resolve_params(params)
    if unallocated_share is None:
        unallocated_share_used = float(params["synth.caseload.unallocated_share"])
    else:
        unallocated_share_used = float(unallocated_share)
    rng = np.random.default_rng(int(seed))
    n_cases, n_practitioners, n_pdus = int(n_cases), int(n_practitioners), int(n_pdus)

    width = max(2, len(str(n_pdus)))
    pdu_names = [f"PDU{i + 1:0{width}d}" for i in range(n_pdus)]
    sizes = _pdu_sizes(rng, n_cases, n_pdus, params)
    pdu_women = _pdu_women_share(rng, float(women_share), sizes, params)

    cases, case_info = _draw_cases(rng, params, pdu_names, sizes, pdu_women)
    practitioners, staff_info = _draw_practitioners(rng, params, n_practitioners, pdu_names, sizes, pdu_women)
    cases["current_practitioner_id"] = _assign_current(
        rng, params, case_info, staff_info, practitioners["practitioner_id"].to_numpy(dtype=object), unallocated_share_used
    )
    partner_frame = _draw_partners(
        params, partners if partners == "auto" else int(partners), pdu_names, cases, case_info["pdu_idx"]
    )

    options = {
        "n_cases": n_cases,
        "n_practitioners": n_practitioners,
        "n_pdus": n_pdus,
        "women_share": float(women_share),
        "seed": int(seed),
        "partners": partners if partners == "auto" else int(partners),
        "unallocated_share": unallocated_share,
        "overridden": list(params.overridden),
    }
    return SynthScenario(cases=cases, practitioners=practitioners, partners=partner_frame, seed=int(seed), options=options)


def _toml_string(text: str) -> str:
    """A TOML basic string (JSON escapes are valid TOML escapes)."""
    import json

    return json.dumps(text, ensure_ascii=False)


def synth_command(synth: SynthScenario, name: str, folder: Path | str) -> str:
    """The ``workload synth`` command line that reproduces ``synth`` written to ``folder`` as ``name``."""
    o = synth.options
    parts = [
        "workload", "synth",
        "--cases", str(o.get("n_cases", len(synth.cases))),
        "--practitioners", str(o.get("n_practitioners", len(synth.practitioners))),
        "--pdus", str(o.get("n_pdus", synth.cases["pdu"].nunique())),
        "--women-share", f"{float(o.get('women_share', 0.12)):g}",
        "--seed", str(synth.seed),
        "--partners", str(o.get("partners", "auto")),
        "--name", name,
        "--out", Path(folder).as_posix(),
    ]
    return " ".join(shlex.quote(p) for p in parts)


def _share_table(frame: pd.DataFrame, column: str, by: str, order: list[str]) -> list[str]:
    counts = pd.crosstab(frame[by], frame[column])
    groups = [g for g in ("female", "male", "other", "unknown") if g in counts.index]
    lines = [f"| {by} | " + " | ".join(order) + " |", "|---|" + "---|" * len(order)]
    for g in groups:
        row = counts.loc[g]
        total = row.sum()
        cells = [f"{row.get(c, 0) / total:.0%}" for c in order]
        lines.append(f"| {g} | " + " | ".join(cells) + " |")
    return lines


def scenario_readme(synth: SynthScenario, name: str, description: str, folder: Path | str) -> str:
    """README.md of a generated scenario folder: what it is, the command that reproduces it, key figures."""
    cases, staff = synth.cases, synth.practitioners
    o = synth.options
    tier_view = cases.assign(protect=np.where(cases["tier"] == "untiered", "untiered", cases["tier"].str[0]))
    lines = [
        f"# {name}",
        "",
        description,
        "",
        "Synthetic: every row was drawn at random by `workload.synth`; no row describes a real person. The",
        "distributions, and the sources or assumptions behind each, are in docs/synth.md and",
        "workload/params/synth.yaml; docs/synth.md section 7 explains the sizes and women's share of the",
        "bundled examples in scenarios/.",
        "",
        "## How it was generated",
        "",
        "From the repository root (add `--force` to replace this folder; the same seed gives byte-identical files):",
        "",
        "```bash",
        synth_command(synth, name, folder),
        "```",
    ]
    extra = []
    if o.get("unallocated_share") is not None:
        extra.append(f"`unallocated_share={o['unallocated_share']:g}` (Python API only)")
    if o.get("overridden"):
        extra.append("parameter overrides of " + ", ".join(f"`{p}`" for p in o["overridden"]))
    if extra:
        lines += ["", "Also set when it was generated, so the command alone does not reproduce it: " + "; ".join(extra) + "."]
    women = int((cases["sex"] == "female").sum())
    n_pdus = cases["pdu"].nunique()
    partner_list = "".join(
        (": " if i == 0 else ", ") + f"{r.partner_id} ({r.kind}, {r.contract_hours_per_year:,.0f} h/yr)"
        for i, r in enumerate(synth.partners.itertuples())
    )
    grades = staff["grade"].value_counts()
    lines += [
        "",
        "## What is in it",
        "",
        f"- {len(cases):,} cases in {n_pdus} PDU{'s' if n_pdus != 1 else ''}: {women:,} women ({women / len(cases):.1%}); "
        f"{int((cases['current_practitioner_id'] == '').sum()):,} unallocated.",
        f"- {len(staff):,} practitioners: " + ", ".join(f"{int(grades.get(g, 0))} {g}" for g in GRADES) + ".",
        f"- {len(synth.partners)} partner agenc{'ies' if len(synth.partners) != 1 else 'y'}" + partner_list + ".",
        "",
        "Protect level (risk of serious harm) by sex:",
        "",
        *_share_table(tier_view, "protect", "sex", ["A", "B", "C", "D", "untiered"]),
        "",
        "Case type by sex:",
        "",
        *_share_table(cases, "case_type", "sex", list(CASE_TYPES)),
        "",
    ]
    return "\n".join(lines)


def write_scenario(
    folder: Path | str,
    synth: SynthScenario,
    name: str,
    description: str = "",
    force: bool = False,
    readme: bool = True,
) -> Path:
    """Write a synthetic scenario as a scenario folder, atomically and deterministically.

    Writes scenario.toml (name, description, seed, [tables]), cases.csv, practitioners.csv, partners.csv
    (when there are partners) and README.md (how it was generated), into a temporary folder beside
    ``folder`` that is then renamed into place. The same ``synth`` always gives byte-identical files.

    Parameters
    ----------
    folder
        Folder to create. An existing empty folder is replaced; a non-empty one only with ``force``, and
        only when it is a synthetic scenario folder that ``workload synth`` wrote, holding nothing else.
    synth
        What :func:`synth_scenario` returned.
    name
        Scenario name shown on reports.
    description
        What the scenario represents; default a sentence from :meth:`SynthScenario.describe`.
    force
        Replace an existing non-empty folder.
    readme
        Also write README.md with the command that reproduces the folder.

    Returns
    -------
    Path
        The folder written.

    Raises
    ------
    workload.output.OutputExistsError
        When ``folder`` exists, is not empty and ``force`` is false (nothing is written).
    workload.output.OutputError
        When ``folder`` cannot be written or replaced (see :func:`workload.output.check_output`).
    """
    folder = Path(folder)
    if not name or not name.strip():
        raise ValueError("name must not be empty")
    description = description or synth.describe()
    has_partners = len(synth.partners) > 0
    toml = [
        "# Synthetic scenario written by workload.synth; README.md says how to regenerate it.",
        f"name = {_toml_string(name)}",
        f"description = {_toml_string(description)}",
        f"seed = {int(synth.seed)}",
        "",
        "[tables]",
        'cases = "cases.csv"',
        'practitioners = "practitioners.csv"',
    ]
    if has_partners:
        toml.append('partners = "partners.csv"')
    with atomic_folder(folder, force=force, kind="synth") as tmp:
        (tmp / "scenario.toml").write_text("\n".join(toml) + "\n", encoding="utf-8")
        _write_csv(synth.cases, tmp / "cases.csv")
        _write_csv(synth.practitioners, tmp / "practitioners.csv")
        if has_partners:
            _write_csv(synth.partners, tmp / "partners.csv")
        if readme:
            (tmp / "README.md").write_text(scenario_readme(synth, name, description, folder), encoding="utf-8")
    return folder


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, lineterminator="\n", float_format=FLOAT_FORMAT, encoding="utf-8")
