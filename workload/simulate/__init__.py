"""Simulation (``workload simulate``): a PDU week by week for a year, with arrivals, endings, staff changes and
each allocation policy on the same events, replicated on a process pool or Dask (docs/simulate.md)."""

from __future__ import annotations

from workload.simulate.events import Events, draw_events
from workload.simulate.measures import MEASURES, consecutive_runs
from workload.simulate.policies import POLICIES
from workload.simulate.run import Simulation, resolve_settings, simulate
from workload.simulate.step import Settings, run_replication
from workload.simulate.write import write_simulation

__all__ = [
    "MEASURES",
    "POLICIES",
    "Events",
    "Settings",
    "Simulation",
    "consecutive_runs",
    "draw_events",
    "resolve_settings",
    "run_replication",
    "simulate",
    "write_simulation",
]
