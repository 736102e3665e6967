"""Who holds each synthetic case now, step 5 of :mod:`workload.synth`."""

from __future__ import annotations

import numpy as np

from workload.params import Parameters


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
