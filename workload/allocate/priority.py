"""Weights of unmet need: how much one unmet hour of each case counts in the allocator's objective.

Under the default ``[policy] objective = "need"`` the weights come from documented priority rules, each a
parameter under ``allocation.priority`` with its reasoning (``objective = "whole_life_cost"`` uses
:func:`workload.costs.objective_weight` instead, in :func:`workload.allocate.arrays.pdu_inputs`). The rules
use risk of serious harm and the case's experiences and circumstances, never sex: a man with the same tier,
history and children gets the same weight.

A cost model that wants to set the weights itself writes a column ``unmet_need_weight`` on the cases frame;
:func:`unmet_need_weight` then returns that column instead of the rules.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workload.params import ParameterError, Parameters

WEIGHT_COLUMN = "unmet_need_weight"
"""Cases column a cost model may set; when present it replaces the priority rules."""

SAFETY_FLAGS: tuple[str, ...] = ("overdose_history", "self_harm_history", "suicide_attempt_history")
"""Near-miss histories that lift a case's weight (allocation.priority.safety_uplift)."""

CHILDREN_FLAGS: tuple[str, ...] = ("dependent_children", "pregnant")
"""Circumstances in which unmet need also falls on children (allocation.priority.children_uplift)."""

EARLY_TRUST_COLUMN = "early_trust"
"""Cases column, when present: the case is inside its relationship-building window with an abuse or trauma
history (:func:`workload.scoring.needs.early_trust`; allocation.priority.trust_uplift). Absent, no case
gets the uplift."""


def unmet_need_weight(cases: pd.DataFrame, params: Parameters) -> pd.Series:
    """Objective weight of one unmet hour of each case (weighted hours per hour).

    ``weight[c] = base + protect_uplift[letter(tier[c])] + safety_uplift * any(overdose, self-harm,
    suicide attempt history) + children_uplift * any(dependent children, pregnant) + trust_uplift *
    early_trust``, all from
    ``allocation.priority``. ``letter`` is the tier's protect level (``B2`` and ``B2S`` are both B);
    untiered cases use the ``untiered`` entry. If the frame already has an ``unmet_need_weight`` column
    (set by a cost model), that column is returned as it is.

    Parameters
    ----------
    cases
        Case table with ``tier`` and the yes/no columns named in :data:`SAFETY_FLAGS` and
        :data:`CHILDREN_FLAGS` (0/1).
    params
        Model parameters.

    Returns
    -------
    pd.Series
        Weight per case, indexed like ``cases``, named ``unmet_need_weight``; every weight is positive.
    """
    if WEIGHT_COLUMN in cases.columns:
        weight = cases[WEIGHT_COLUMN].astype(float)
        if not (np.isfinite(weight.to_numpy()).all() and (weight.to_numpy() > 0).all()):
            raise ValueError(f"cases column {WEIGHT_COLUMN} must hold positive finite numbers")
        return weight.rename(WEIGHT_COLUMN)
    missing = [c for c in ("tier", *SAFETY_FLAGS, *CHILDREN_FLAGS) if c not in cases.columns]
    if missing:
        raise ValueError(f"cases frame lacks column(s) {', '.join(missing)} needed by the priority rules")
    path = "allocation.priority.protect_level_uplift"
    uplift = params.table(path)
    tier = cases["tier"].astype(str)
    letter = np.where(tier == "untiered", "untiered", tier.str[0])
    lifted = pd.Series(letter, index=cases.index).map(uplift)
    if lifted.isna().any():
        first = lifted.index[lifted.isna().to_numpy()][0]
        raise ParameterError(
            f"{path} has no entry for protect level {letter[cases.index.get_loc(first)]!r} "
            f"(case {first!r}); entries are {', '.join(uplift)}"
        )
    safety = cases[list(SAFETY_FLAGS)].to_numpy(dtype=float).max(axis=1) > 0
    children = cases[list(CHILDREN_FLAGS)].to_numpy(dtype=float).max(axis=1) > 0
    early = (
        cases[EARLY_TRUST_COLUMN].to_numpy(dtype=bool)
        if EARLY_TRUST_COLUMN in cases.columns
        else np.zeros(len(cases), dtype=bool)
    )
    weight = (
        float(params["allocation.priority.base_weight"])
        + lifted.to_numpy(dtype=float)
        + float(params["allocation.priority.safety_uplift"]) * safety
        + float(params["allocation.priority.children_uplift"]) * children
        + float(params["allocation.priority.trust_uplift"]) * early
    )
    if (weight <= 0).any():
        raise ParameterError("allocation.priority weights must make every case's weight positive")
    return pd.Series(weight, index=cases.index, name=WEIGHT_COLUMN)
