"""Synthetic practitioners, step 4 of :mod:`workload.synth`: grade mix, hours, reductions, specialisms and
court reports.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workload.params import Parameters
from workload.scenario import PractitionerRecord, Specialism
from workload.synth.draws import _categorical, _largest_remainder

PRACTITIONER_COLUMNS: tuple[str, ...] = tuple(PractitionerRecord.model_fields)

GRADES: tuple[str, ...] = ("PO", "PSO", "PQiP", "SPO")
HOLDING_GRADES: tuple[str, ...] = ("PO", "PSO", "PQiP")


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
    rest_holders = rng.permutation(
        np.concatenate(
            [
                np.full(counts["PO"] - n_pdus, grade_of["PO"]),
                np.full(counts["PSO"], grade_of["PSO"]),
                np.full(counts["PQiP"], grade_of["PQiP"]),
            ]
        )
    )
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
