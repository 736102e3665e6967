"""Synthetic scenarios: made-up caseloads, staff and partner agencies with realistic shape, from one seed.

No row describes a real person. Every distribution comes from ``workload/params/synth.yaml``, where each
number cites the source it rests on (an entry of docs/sources.md) or says it is an assumption;
docs/synth.md walks through them. The steps, all vectorised over whole columns with one
``numpy.random.Generator``:

1. PDU sizes from a Dirichlet; each PDU's women share and ethnic mix vary around the national figures.
2. Each case's sex, ethnicity and case type; its OASys needs (0/1/2) and research-highlighted experiences
   (0/1) as thresholds on correlated normal scores: three latent factors (general complexity, trauma,
   substance misuse) plus the case's own noise, with thresholds set so each prevalence is exactly its
   parameter for women and for men.
3. ROSH, RSR band, MAPPA level, OGRS, complexity registrations, mandate for change and assessment status,
   then the tier by the simplified hmpps-tier v2 rules (:mod:`workload.tier`: protect and change points).
4. Practitioners: grade mix from the national PO/PSO workforce plus trainees and seniors, hours,
   reductions, specialisms (more women's specialists where a PDU has more women) and court reports.
5. Who holds each case now: someone in its own PDU, never a PSO for an A or B case, never an SPO; a few
   cases unallocated.
6. Partners: women's centres (or a given number of agencies of several kinds) with contracts sized to the
   women or needs in the PDUs they serve.

:func:`write_scenario` writes the result as a scenario folder (scenario.toml, CSVs, README.md) that
:func:`workload.load.load_scenario` accepts; the same seed gives byte-identical files.

One module per step: :mod:`~workload.synth.cases` (1-3), :mod:`~workload.synth.staff` (4),
:mod:`~workload.synth.holders` (5), :mod:`~workload.synth.partners` (6); :mod:`~workload.synth.scenario`
(:func:`synth_scenario`, :class:`SynthScenario`), :mod:`~workload.synth.folder` (:func:`write_scenario`,
README.md) and :mod:`~workload.synth.draws` (drawing helpers).
"""

from __future__ import annotations

from workload.synth.cases import (
    CASE_COLUMNS,
    CASE_TYPES,
    LATENT_FACTORS,
    LATENT_VARIABLES,
    REGISTRATIONS,
    ROSH_LEVELS,
    RSR_BANDS,
    SEXES,
)
from workload.synth.folder import FLOAT_FORMAT, scenario_readme, synth_command, write_scenario
from workload.synth.partners import PARTNER_COLUMNS, PARTNER_KIND_CYCLE, PARTNER_PREFIX
from workload.synth.scenario import SynthError, SynthScenario, synth_scenario
from workload.synth.staff import GRADES, HOLDING_GRADES, PRACTITIONER_COLUMNS
from workload.tier import change_level, change_points, protect_level, protect_points

__all__ = [
    "CASE_COLUMNS",
    "CASE_TYPES",
    "FLOAT_FORMAT",
    "GRADES",
    "HOLDING_GRADES",
    "LATENT_FACTORS",
    "LATENT_VARIABLES",
    "PARTNER_COLUMNS",
    "PARTNER_KIND_CYCLE",
    "PARTNER_PREFIX",
    "PRACTITIONER_COLUMNS",
    "REGISTRATIONS",
    "ROSH_LEVELS",
    "RSR_BANDS",
    "SEXES",
    "SynthError",
    "SynthScenario",
    "change_level",
    "change_points",
    "protect_level",
    "protect_points",
    "scenario_readme",
    "synth_command",
    "synth_scenario",
    "write_scenario",
]
