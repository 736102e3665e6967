"""A synthetic scenario as a scenario folder: :func:`write_scenario` (scenario.toml, CSVs) and the README.md
that says how to reproduce it.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import numpy as np
import pandas as pd

from workload.output import atomic_folder
from workload.synth.cases import CASE_TYPES
from workload.synth.scenario import SynthScenario
from workload.synth.staff import GRADES

FLOAT_FORMAT = "%.10g"
"""CSV number format: values are rounded before writing, so this only keeps the text stable."""


def _toml_string(text: str) -> str:
    """A TOML basic string (JSON escapes are valid TOML escapes)."""
    import json

    return json.dumps(text, ensure_ascii=False)


def synth_command(synth: SynthScenario, name: str, folder: Path | str) -> str:
    """The ``workload synth`` command line that reproduces ``synth`` written to ``folder`` as ``name``."""
    o = synth.options
    parts = [
        "workload",
        "synth",
        "--cases",
        str(o.get("n_cases", len(synth.cases))),
        "--practitioners",
        str(o.get("n_practitioners", len(synth.practitioners))),
        "--pdus",
        str(o.get("n_pdus", synth.cases["pdu"].nunique())),
        "--women-share",
        f"{float(o['women_share']):g}",
        "--seed",
        str(synth.seed),
        "--partners",
        str(o.get("partners", "auto")),
        "--name",
        name,
        "--out",
        Path(folder).as_posix(),
    ]
    return " ".join(shlex.quote(p) for p in parts)


def _share_table(frame: pd.DataFrame, column: str, by: str, order: list[str]) -> list[str]:
    counts = pd.crosstab(frame[by], frame[column])
    groups = [g for g in ("female", "male", "other", "unknown") if g in counts.index]
    lines = [f"| {by} | " + " | ".join(order) + " |", "|---|" + "---|" * len(order)]
    for g in groups:
        row = counts.loc[g]
        total = row.sum()
        cells = [f"{row.get(c, 0) / total:.0%}" for c in order]
        lines.append(f"| {g} | " + " | ".join(cells) + " |")
    return lines


def scenario_readme(synth: SynthScenario, name: str, description: str, folder: Path | str) -> str:
    """README.md of a generated scenario folder: what it is, the command that reproduces it, key figures."""
    cases, staff = synth.cases, synth.practitioners
    o = synth.options
    tier_view = cases.assign(protect=np.where(cases["tier"] == "untiered", "untiered", cases["tier"].str[0]))
    lines = [
        f"# {name}",
        "",
        description,
        "",
        "Synthetic: every row was drawn at random by `workload.synth`; no row describes a real person. The",
        "distributions, and the sources or assumptions behind each, are in docs/synth.md and",
        "workload/params/synth.yaml; docs/synth.md section 7 explains the sizes and women's share of the",
        "bundled examples in scenarios/.",
        "",
        "## How it was generated",
        "",
        "From the repository root (add `--force` to replace this folder; the same seed gives byte-identical files):",
        "",
        "```bash",
        synth_command(synth, name, folder),
        "```",
    ]
    extra = []
    if o.get("unallocated_share") is not None:
        extra.append(f"`unallocated_share={o['unallocated_share']:g}` (Python API only)")
    if o.get("overridden"):
        extra.append("parameter overrides of " + ", ".join(f"`{p}`" for p in o["overridden"]))
    if extra:
        lines += [
            "",
            "Also set when it was generated, so the command alone does not reproduce it: " + "; ".join(extra) + ".",
        ]
    women = int((cases["sex"] == "female").sum())
    n_pdus = cases["pdu"].nunique()
    partner_list = "".join(
        (": " if i == 0 else ", ") + f"{r.partner_id} ({r.kind}, {r.contract_hours_per_year:,.0f} h/yr)"
        for i, r in enumerate(synth.partners.itertuples())
    )
    grades = staff["grade"].value_counts()
    lines += [
        "",
        "## What is in it",
        "",
        (
            f"- {len(cases):,} cases in {n_pdus} PDU{'s' if n_pdus != 1 else ''}: {women:,} women ({women / len(cases):.1%}); "
            f"{int((cases['current_practitioner_id'] == '').sum()):,} unallocated."
        ),
        f"- {len(staff):,} practitioners: " + ", ".join(f"{int(grades.get(g, 0))} {g}" for g in GRADES) + ".",
        f"- {len(synth.partners)} partner agenc{'ies' if len(synth.partners) != 1 else 'y'}" + partner_list + ".",
        "",
        "Protect level (risk of serious harm) by sex:",
        "",
        *_share_table(tier_view, "protect", "sex", ["A", "B", "C", "D", "untiered"]),
        "",
        "Case type by sex:",
        "",
        *_share_table(cases, "case_type", "sex", list(CASE_TYPES)),
        "",
    ]
    return "\n".join(lines)


def write_scenario(
    folder: Path | str,
    synth: SynthScenario,
    name: str,
    description: str = "",
    force: bool = False,
    readme: bool = True,
) -> Path:
    """Write a synthetic scenario as a scenario folder, atomically and deterministically.

    Writes scenario.toml (name, description, seed, [tables]), cases.csv, practitioners.csv, partners.csv
    (when there are partners) and README.md (how it was generated), into a temporary folder beside
    ``folder`` that is then renamed into place. The same ``synth`` always gives byte-identical files.

    Parameters
    ----------
    folder
        Folder to create. An existing empty folder is replaced; a non-empty one only with ``force``, and
        only when it is a synthetic scenario folder that ``workload synth`` wrote, holding nothing else.
    synth
        What :func:`synth_scenario` returned.
    name
        Scenario name shown on reports.
    description
        What the scenario represents; default a sentence from :meth:`SynthScenario.describe`.
    force
        Replace an existing non-empty folder.
    readme
        Also write README.md with the command that reproduces the folder.

    Returns
    -------
    Path
        The folder written.

    Raises
    ------
    workload.output.OutputExistsError
        When ``folder`` exists, is not empty and ``force`` is false (nothing is written).
    workload.output.OutputError
        When ``folder`` cannot be written or replaced (see :func:`workload.output.check_output`).
    """
    folder = Path(folder)
    if not name or not name.strip():
        raise ValueError("name must not be empty")
    description = description or synth.describe()
    has_partners = len(synth.partners) > 0
    toml = [
        "# Synthetic scenario written by workload.synth; README.md says how to regenerate it.",
        f"name = {_toml_string(name)}",
        f"description = {_toml_string(description)}",
        f"seed = {int(synth.seed)}",
        "",
        "[tables]",
        'cases = "cases.csv"',
        'practitioners = "practitioners.csv"',
    ]
    if has_partners:
        toml.append('partners = "partners.csv"')
    with atomic_folder(folder, force=force, kind="synth") as tmp:
        (tmp / "scenario.toml").write_text("\n".join(toml) + "\n", encoding="utf-8")
        _write_csv(synth.cases, tmp / "cases.csv")
        _write_csv(synth.practitioners, tmp / "practitioners.csv")
        if has_partners:
            _write_csv(synth.partners, tmp / "partners.csv")
        if readme:
            (tmp / "README.md").write_text(scenario_readme(synth, name, description, folder), encoding="utf-8")
    return folder


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, lineterminator="\n", float_format=FLOAT_FORMAT, encoding="utf-8")
