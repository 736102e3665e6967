"""The synthetic scenario: :func:`synth_scenario` draws it (every step of :mod:`workload.synth`, in order, from
one generator) and :class:`SynthScenario` holds its tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workload.errors import Problem
from workload.params import Parameters, load_parameters
from workload.synth.cases import _draw_cases, _pdu_sizes, _pdu_women_share
from workload.synth.holders import _assign_current
from workload.synth.partners import _draw_partners
from workload.synth.staff import _draw_practitioners


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


def _resolve_params(params: Parameters | Mapping[str, Any] | None) -> Parameters:
    if params is None:
        return load_parameters()
    if isinstance(params, Parameters):
        return params
    return load_parameters(params)


class SynthError(ValueError):
    """Options of :func:`synth_scenario` out of range: ``problems`` holds one :class:`workload.errors.Problem`
    per option (code ``synth.option``, the option as its ``key``); ``str()`` joins them with "; "."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(f"{p.key} {p.message}" for p in problems))


def synth_scenario(
    n_cases: int,
    n_practitioners: int,
    n_pdus: int,
    women_share: float | None = None,
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
        Share of cases who are women, 0-1; default ``synth.population.women_share`` (0.12). PDUs vary around it.
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
        refuse(
            "n_practitioners", f"must be at least 2 per PDU, {2 * max(int(n_pdus), 1)} here (found {n_practitioners})"
        )
    if women_share is not None and not 0 <= float(women_share) <= 1:
        refuse("women_share", f"must be between 0 and 1 (found {women_share})")
    if int(seed) < 0:
        refuse("seed", f"must be 0 or more (found {seed})")
    whole = isinstance(partners, (int, np.integer)) and not isinstance(partners, bool)
    if not (partners == "auto" or (whole and int(partners) >= 0)):
        refuse("partners", f"must be 'auto' or a whole number 0 or more (found {partners!r})")
    if unallocated_share is not None and not 0 <= float(unallocated_share) <= 1:
        refuse("unallocated_share", f"must be between 0 and 1 (found {unallocated_share})")
    if problems:
        raise SynthError(problems)

    params = _resolve_params(params)
    if women_share is None:
        women_share = float(params["synth.population.women_share"])
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
        rng,
        params,
        case_info,
        staff_info,
        practitioners["practitioner_id"].to_numpy(dtype=object),
        unallocated_share_used,
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
    return SynthScenario(
        cases=cases, practitioners=practitioners, partners=partner_frame, seed=int(seed), options=options
    )
