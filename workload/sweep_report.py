"""The sweep report, now :mod:`workload.sweep.report`; this module keeps ``workload.sweep_report`` imports working."""

from __future__ import annotations

from workload.sweep.report import (
    MAX_CHARTED,
    TEMPLATE,
    format_value,
    grid_labels,
    interval_chart,
    metric_stats,
    sweep_report_html,
    unit_of_metric,
)

__all__ = [
    "MAX_CHARTED",
    "TEMPLATE",
    "format_value",
    "grid_labels",
    "interval_chart",
    "metric_stats",
    "sweep_report_html",
    "unit_of_metric",
]
