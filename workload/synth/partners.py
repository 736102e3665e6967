"""Synthetic partner agencies, step 6 of :mod:`workload.synth`: women's centres (or a given number of agencies
of several kinds) with contracts sized to the women or needs in the PDUs they serve.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workload.params import Parameters
from workload.scenario import NeedArea, PartnerRecord

PARTNER_COLUMNS: tuple[str, ...] = tuple(PartnerRecord.model_fields)

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
