"""Hand-made one-PDU frames for the allocator's tests: cases with no needs beyond risk, practitioners by hours."""

from __future__ import annotations

import pandas as pd

from workload.allocate.model import NEED_COLUMNS
from workload.params import Parameters


def hand_frames(
    params: Parameters,
    cases: dict[str, tuple[str, str, float, float, float]],
    practitioners: dict[str, tuple[str, float]],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Men's cases in PDU X: ``{case_id: (tier, current practitioner, required hours, WMT hours, risk hours)}``,
    and practitioners: ``{practitioner_id: (grade, capacity hours a year)}`` (contracted hours set to give it)."""
    ids = list(cases)
    frame = pd.DataFrame(
        {
            "pdu": "X",
            "sex": "male",
            "tier": [cases[c][0] for c in ids],
            "current_practitioner_id": [cases[c][1] for c in ids],
            "required_hours": [cases[c][2] for c in ids],
            "wmt_hours": [cases[c][3] for c in ids],
            "hours_risk": [cases[c][4] for c in ids],
            "overdose_history": 0,
            "self_harm_history": 0,
            "suicide_attempt_history": 0,
            "dependent_children": 0,
            "pregnant": 0,
        },
        index=pd.Index(ids, name="case_id"),
    )
    for column in NEED_COLUMNS:
        frame[column] = 0.0
    fte_hours = params["allocation.capacity.fte_hours_per_week"]
    per_fte = params["allocation.capacity.productive_hours_per_fte_year"]
    staff = list(practitioners)
    people = pd.DataFrame(
        {
            "pdu": "X",
            "grade": [practitioners[p][0] for p in staff],
            "contracted_hours_per_week": [practitioners[p][1] / per_fte * fte_hours for p in staff],
            "reduction_hours_per_week": 0.0,
            "specialisms": [() for _ in staff],
        },
        index=pd.Index(staff, name="practitioner_id"),
    )
    return frame, people
