"""The sweep's metrics: the figures every task keeps and ``results.csv`` publishes, and their names."""

from __future__ import annotations

from workload import outcomes
from workload.disclosure import CONTRIBUTOR_PREFIX, CONTRIBUTORS
from workload.outcomes import CELLS, REFORM
from workload.scenario import ALL_PDUS_LABEL

CELL_FIGURES: tuple[str, ...] = outcomes.CELL_FIGURES
"""Figures of each cell of the comparison, as in ``summary.json``'s ``cells``; all add up over PDUs but coverage."""

GROUPS: dict[str, tuple[str, str]] = {
    "women": ("sex", "female"),
    "men": ("sex", "male"),
    "low_risk_complex": ("low_risk_complex", "yes"),
}
"""Headline groups: name -> (dimension, group) in the run's ``outcomes_by_group`` table."""

GROUP_DIMENSIONS: tuple[str, ...] = ("sex", "low_risk_complex")
"""Dimensions whose groups a task keeps (all groups, so small-cell suppression can be applied as a run does)."""

SCALAR_METRICS: tuple[str, ...] = (
    "fte.available",
    "fte.needed_for_assessed_need",
    "fte.needed_for_wmt_hours",
    "net_whole_life_cost_reform_vs_baseline",
    "practitioners_red_current",
    "practitioners_red_baseline",
    "practitioners_red_reform",
    "statutory_shortfall_hours",
)
"""Figures that are not per cell; all add up over PDUs."""

METRICS: tuple[str, ...] = tuple(
    sorted(
        [f"{cell}.{figure}" for cell in CELLS for figure in CELL_FIGURES]
        + [f"{cell}.coverage_{group}" for cell in CELLS for group in GROUPS]
        + list(SCALAR_METRICS)
    )
)
"""Every metric in ``results.csv``; ``[objective] metric`` must be one of these."""

HEADLINE_METRICS: tuple[str, ...] = (
    f"{REFORM}.coverage",
    f"{REFORM}.coverage_women",
    f"{REFORM}.coverage_low_risk_complex",
    f"{REFORM}.unmet_hours",
    f"{REFORM}.whole_life_cost",
    "net_whole_life_cost_reform_vs_baseline",
)
"""Outcomes the sweep report charts for every grid point (the objective is charted first)."""

ALL_PDUS = ALL_PDUS_LABEL
"""The ``pdu`` label of rows that total a variant over its PDUs (not a valid PDU id, so never confused with one)."""


def group_metric(dimension: str, group: str, figure: str, cell: str | None = None) -> str:
    """Name of a task's internal group figure, e.g. ``_group/sex/female/needs_lp/given_hours``."""
    return "/".join(["_group", dimension, group] + ([cell] if cell else []) + [figure])


CONTRIBUTOR_METRICS: tuple[str, ...] = tuple(
    [f"{cell}.{CONTRIBUTOR_PREFIX}{figure}" for cell in CELLS for figure in CONTRIBUTORS if figure != "shortfall_hours"]
    + [f"{CONTRIBUTOR_PREFIX}statutory_shortfall_hours"]
)
"""How many cases each subset figure of a task comes from (working numbers for the disclosure rule, kept in
task files, never published)."""
