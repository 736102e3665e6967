"""Helpers for tests and users: check an allocation against the rules, and make random valid inputs.

:func:`assert_allocation_valid` states, in one place, what every allocation the LP allocator returns must
satisfy (one practitioner per case, hours conserved, eligibility, capacity except as reported overflow,
partner contracts and scope, caseload cap and budget unless reported). :func:`random_allocation_inputs`
builds random but valid case, practitioner and partner frames with the columns the needs model and the
WMT baseline add, for property tests and benchmarks.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workload.params import Parameters, load_parameters
from workload.scenario import SUPERVISED_TIERS, Policy

TOLERANCE_HOURS = 1e-4
"""Numerical slack for comparisons of hours (solvers work to ~1e-7 relative; sums of many cases add up)."""


def _fail(problems: list[str], what: str, ids: Any) -> None:
    ids = list(ids)
    if ids:
        shown = ", ".join(str(i) for i in ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
        problems.append(f"{what}: {shown}")


def assert_allocation_valid(
    allocation: Any,
    cases: pd.DataFrame,
    practitioners: pd.DataFrame,
    partners: pd.DataFrame | None,
    policy: Policy,
    params: Parameters | None = None,
) -> None:
    """Raise AssertionError listing every rule an allocation breaks (nothing when it is valid).

    Checks, for an :class:`workload.allocate.lp.Allocation` of ``cases`` (which carry ``required_hours``,
    ``wmt_hours`` and, when partners are used, ``hours_need_<area>``):

    - every case appears once, with exactly one practitioner, or None only when no practitioner of its PDU
      may hold it (then no hours at all);
    - the practitioner is in the case's PDU, has capacity, may hold its tier (no A or B tier for PSOs) and,
      under a hard women's specialist pool, is a specialist for a woman's case;
    - hours are non-negative and conserved: afforded + partner + unmet = required; the floor shortfall is
      max(0, floor - afforded);
    - partner hours go to a partner serving the PDU, only for need areas it delivers, only to women where it
      is women-only, and no partner exceeds its contract; none when partners are off;
    - each practitioner's allocated hours are the sum over their cases and exceed capacity only by the
      reported ``overflow_hours``;
    - ``moved`` is true exactly when the case had a current practitioner and now has another (or none);
    - the caseload cap holds except for practitioners the PDU row reports, and the budget cap holds.
    """
    from workload.allocate.arrays import (
        NEED_AREAS,
        capacity_hours,
        caseload_limit,
        protection_minimum,
        staff_cost_per_hour,
    )
    from workload.allocate.continuity import _as_tuple, continuity_pairs, current_positions, move_budget

    params = params or load_parameters()
    tol = TOLERANCE_HOURS
    problems: list[str] = []
    out = allocation.cases
    if not out.index.equals(cases.index):
        missing = cases.index.difference(out.index)
        extra = out.index.difference(cases.index)
        _fail(problems, "cases missing from the allocation", missing)
        _fail(problems, "unknown cases in the allocation", extra)
        raise AssertionError(
            "allocation is not valid:\n- " + "\n- ".join(problems or ["case index differs (order or duplicates)"])
        )
    required = cases["required_hours"].to_numpy(dtype=float)
    afforded = out["afforded_hours"].to_numpy(dtype=float)
    partner_hours = out["partner_hours"].to_numpy(dtype=float)
    unmet = out["unmet_hours"].to_numpy(dtype=float)
    ids = cases.index.to_numpy()

    for name, values in (("afforded_hours", afforded), ("partner_hours", partner_hours), ("unmet_hours", unmet)):
        _fail(problems, f"negative or non-finite {name}", ids[~np.isfinite(values) | (values < -tol)])
    _fail(
        problems,
        "hours not conserved (afforded + partner + unmet != required)",
        ids[np.abs(afforded + partner_hours + unmet - required) > tol * (1 + required)],
    )
    floor = protection_minimum(cases, params).to_numpy()
    _fail(
        problems,
        "floor_hours differ from the public-protection minimum",
        ids[np.abs(out["floor_hours"].to_numpy(dtype=float) - floor) > tol],
    )
    _fail(
        problems,
        "floor_shortfall_hours differ from max(0, floor - afforded)",
        ids[
            np.abs(out["floor_shortfall_hours"].to_numpy(dtype=float) - np.maximum(floor - afforded, 0.0))
            > tol * (1 + floor)
        ],
    )

    chosen = out["practitioner_id"].to_numpy(dtype=object)
    placed = pd.notna(chosen)
    known = np.array([p in practitioners.index for p in chosen], dtype=bool) | ~placed
    _fail(problems, "practitioner_id not in the practitioner table", ids[~known])
    capacity = capacity_hours(practitioners, params)

    # eligibility, PDU by PDU, against the same rule the model uses
    prac = practitioners.copy()
    prac["capacity_hours"] = capacity
    for pdu, group in cases.groupby("pdu", sort=True):
        staff = prac[prac["pdu"] == pdu]
        if "move_protected" not in group.columns:
            group = group.assign(move_protected=False)
        eligible, kept = (
            continuity_pairs(group, staff, params, policy)
            if len(staff)
            else (np.zeros((len(group), 0), dtype=bool), np.zeros(len(group), dtype=bool))
        )
        rows = cases.index.get_indexer(group.index)
        # continuity: kept cases stay; under rebalance, no more moves than the budget
        who_now = chosen[rows]
        current_now = group["current_practitioner_id"].to_numpy(dtype=object)
        _fail(
            problems, "case moved although the continuity rule keeps it", group.index[kept & (who_now != current_now)]
        )
        if len(staff):
            position = current_positions(group, staff)
            could_keep = position >= 0
            could_keep[could_keep] = staff["capacity_hours"].to_numpy(dtype=float)[position[could_keep]] > 0
            moved_here = could_keep & (who_now != current_now)
            budget = move_budget(int(could_keep.sum()), policy)
            if budget is not None and int(moved_here.sum()) > budget:
                problems.append(f"PDU {pdu}: {int(moved_here.sum())} cases moved, above the move budget {budget:g}")
        who = chosen[rows]
        col = staff.index.get_indexer(pd.Series(who).where(pd.notna(who), None))
        here = pd.notna(who)
        _fail(problems, f"practitioner from another PDU than {pdu}", group.index[here & (col < 0)])
        ok_rows = here & (col >= 0)
        bad = np.zeros(len(group), dtype=bool)
        bad[ok_rows] = ~eligible[np.flatnonzero(ok_rows), col[ok_rows]]
        _fail(
            problems,
            "practitioner not eligible (capacity, grade for the tier, hard women's pool, or continuity)",
            group.index[bad],
        )
        none_but_eligible = ~here & eligible.any(axis=1)
        _fail(problems, "no practitioner although one may hold the case", group.index[none_but_eligible])
    _fail(
        problems,
        "case without a practitioner has practitioner or partner hours",
        ids[~placed & ((afforded > tol) | (partner_hours > tol))],
    )

    current = cases["current_practitioner_id"].to_numpy(dtype=object)
    has_current = pd.notna(current)
    expected_moved = has_current & ~(placed & (chosen == current))
    _fail(problems, "moved flag wrong", ids[out["moved"].to_numpy(dtype=bool) != expected_moved])

    # partners
    partner = out["partner_id"].to_numpy(dtype=object)
    referred = pd.notna(partner)
    _fail(problems, "partner hours without a partner", ids[~referred & (partner_hours > tol)])
    if referred.any():
        use = policy.use_partners and partners is not None and len(partners) > 0
        if not use or partners is None:
            _fail(problems, "partner hours although partners are off", ids[referred])
        else:
            known_partner = np.array([k in partners.index for k in partner], dtype=bool) | ~referred
            _fail(problems, "partner_id not in the partner table", ids[~known_partner])
            rows = np.flatnonzero(referred & known_partner)
            for r in rows.tolist():
                k = partner[r]
                row = partners.loc[k]
                case = cases.iloc[r]
                if str(case["pdu"]) not in _as_tuple(row["pdus"]):
                    problems.append(f"case {ids[r]}: partner {k} does not serve PDU {case['pdu']}")
                if int(row["women_only"]) and str(case["sex"]) != "female":
                    problems.append(f"case {ids[r]}: women-only partner {k} given a case that is not a woman's")
                areas = [a for a in _as_tuple(row["need_areas"]) if a in NEED_AREAS]
                deliverable = float(sum(float(case[f"hours_need_{a}"]) for a in areas))
                if partner_hours[r] > deliverable + tol * (1 + deliverable):
                    problems.append(
                        f"case {ids[r]}: partner {k} gives {partner_hours[r]:.4f} h, more than the "
                        f"{deliverable:.4f} h of need areas it delivers"
                    )
            used = pd.Series(partner_hours[rows], index=partner[rows]).groupby(level=0).sum()
            contract = partners["contract_hours_per_year"].astype(float).reindex(used.index)
            _fail(
                problems,
                "partner contract hours exceeded",
                used.index[(used > contract + tol * (1 + contract)).to_numpy()],
            )

    # practitioners: allocated hours, capacity and reported overflow
    table = allocation.practitioners
    if not table.index.equals(practitioners.index):
        problems.append("practitioner table index differs from the input's")
    else:
        sums = (
            pd.Series(afforded[placed], index=chosen[placed])
            .groupby(level=0)
            .sum()
            .reindex(practitioners.index, fill_value=0.0)
        )
        allocated = table["allocated_hours"].to_numpy(dtype=float)
        _fail(
            problems,
            "allocated_hours differ from the sum over the practitioner's cases",
            practitioners.index[np.abs(allocated - sums.to_numpy()) > tol * (1 + allocated)],
        )
        cap = capacity.to_numpy()
        _fail(
            problems,
            "capacity_hours differ from capacity_hours()",
            practitioners.index[np.abs(table["capacity_hours"].to_numpy(dtype=float) - cap) > tol],
        )
        overflow = table["overflow_hours"].to_numpy(dtype=float)
        _fail(
            problems,
            "capacity exceeded beyond the reported overflow",
            practitioners.index[allocated > cap + overflow + tol * (1 + cap)],
        )
        _fail(
            problems,
            "overflow reported where there is none",
            practitioners.index[overflow > np.maximum(allocated - cap, 0.0) + tol * (1 + cap)],
        )
        over = practitioners.index[overflow > tol]
        reported = set(";".join(allocation.pdus["practitioners_over_capacity"].astype(str)).split(";")) - {""}
        _fail(problems, "over capacity but not named in the PDU table", [p for p in over if p not in reported])
        counts = pd.Series(chosen[placed]).value_counts().reindex(practitioners.index, fill_value=0)
        _fail(
            problems,
            "caseload differs from the cases held",
            practitioners.index[table["caseload"].to_numpy() != counts.to_numpy()],
        )
        limit = caseload_limit(practitioners, params, policy)
        if limit is not None:
            over_cap = practitioners.index[counts.to_numpy() > np.floor(limit.to_numpy() + 1e-9)]
            named = set(";".join(allocation.pdus["practitioners_over_cap"].astype(str)).split(";")) - {""}
            _fail(problems, "caseload cap exceeded and not reported", [p for p in over_cap if p not in named])
        if policy.budget_cap_gbp is not None:
            unit = staff_cost_per_hour(practitioners, params)
            spend = float((sums * unit).sum())
            if referred.any() and partners is not None:
                price = partners["price_per_hour"].astype(float)
                spend += float(sum(partner_hours[r] * price[partner[r]] for r in np.flatnonzero(referred)))
            if spend > policy.budget_cap_gbp * (1 + 1e-6) + tol:
                problems.append(f"budget exceeded: {spend:,.2f} GBP against a cap of {policy.budget_cap_gbp:,.2f}")

    if problems:
        raise AssertionError("allocation is not valid:\n- " + "\n- ".join(problems))


def random_allocation_inputs(
    seed: int,
    n_pdus: int = 1,
    cases_per_pdu: int = 30,
    practitioners_per_pdu: int = 4,
    n_partners: int = 1,
    load: float = 1.2,
    women_share: float = 0.3,
    current_share: float = 0.6,
    params: Parameters | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Random but valid (cases, practitioners, partners) frames, as the loader and scoring would give them.

    Cases carry the scoring columns the allocator reads (``required_hours``, ``wmt_hours`` from the 2021
    timings, ``hours_need_<area>``) and the flags the priority rules read. Practitioners' contracted hours
    are scaled so that each PDU's required hours are ``load`` times its capacity (``load > 1``: not enough
    time for everyone). The arguments other than ``seed`` are shapes for tests, not model numbers.
    """
    from workload.allocate.arrays import NEED_AREAS, capacity_hours

    params = params or load_parameters()
    rng = np.random.default_rng(seed)
    tiers = list(SUPERVISED_TIERS) + ["C1S", "D2S", "untiered"]
    tier_p = np.r_[np.full(len(SUPERVISED_TIERS), 0.9 / len(SUPERVISED_TIERS)), [0.04, 0.03, 0.03]]
    types = ["community", "licence", "custody"]
    pdus = [f"PDU{i + 1:02d}" for i in range(n_pdus)]
    n = n_pdus * cases_per_pdu
    case_pdu = np.repeat(pdus, cases_per_pdu)
    case_ids = [f"C{i + 1:05d}" for i in range(n)]
    tier = rng.choice(tiers, size=n, p=tier_p)
    case_type = rng.choice(types, size=n, p=[0.6, 0.3, 0.1])
    timing = {t: params.table(f"wmt.annual_hours.{t}") for t in types}
    wmt_hours = np.array([float(timing[ct].get(t, 0.0)) for ct, t in zip(case_type, tier)])  # untiered: 0
    sex = np.where(rng.random(n) < women_share, "female", "male")
    needs = np.where(rng.random((n, len(NEED_AREAS))) < 0.25, rng.uniform(2.0, 15.0, (n, len(NEED_AREAS))), 0.0)
    required = wmt_hours * rng.uniform(0.6, 1.0, n) + needs.sum(axis=1) + rng.uniform(0.0, 10.0, n)
    cases = pd.DataFrame(
        {
            "pdu": case_pdu,
            "sex": sex,
            "case_type": case_type,
            "tier": tier,
            "overdose_history": (rng.random(n) < 0.1).astype(np.int64),
            "self_harm_history": (rng.random(n) < 0.15).astype(np.int64),
            "suicide_attempt_history": (rng.random(n) < 0.05).astype(np.int64),
            "dependent_children": (rng.random(n) < 0.2).astype(np.int64),
            "pregnant": (rng.random(n) < 0.02).astype(np.int64),
            "required_hours": required,
            "wmt_hours": wmt_hours,
            "hours_risk": wmt_hours * rng.uniform(0.5, 0.8, n),
            "restart_hours": rng.uniform(0.0, 8.0, n),
            "move_protected": rng.random(n) < 0.4,
            "early_trust": rng.random(n) < 0.15,
        },
        index=pd.Index(case_ids, name="case_id"),
    )
    for j, area in enumerate(NEED_AREAS):
        cases[f"hours_need_{area}"] = needs[:, j]

    m = n_pdus * practitioners_per_pdu
    prac_ids = [f"P{i + 1:04d}" for i in range(m)]
    grade = rng.choice(["PO", "PSO", "PQiP", "SPO"], size=m, p=[0.5, 0.35, 0.1, 0.05])
    if practitioners_per_pdu:
        grade[::practitioners_per_pdu] = "PO"  # every PDU has at least one PO, so A/B cases can be held
    contracted = rng.choice([37.0, 30.0, 22.5], size=m)
    reduction = np.where(rng.random(m) < 0.3, rng.uniform(0.0, 5.0, m), 0.0)
    specialisms = [("women",) if r < 0.35 else () for r in rng.random(m)]
    practitioners = pd.DataFrame(
        {
            "pdu": np.repeat(pdus, practitioners_per_pdu),
            "grade": grade,
            "contracted_hours_per_week": contracted,
            "reduction_hours_per_week": reduction,
            "specialisms": pd.Series(specialisms, dtype=object).to_numpy(),
        },
        index=pd.Index(prac_ids, name="practitioner_id"),
    )
    if m:
        cap = capacity_hours(practitioners, params)
        for pdu in pdus:
            mine = (practitioners["pdu"] == pdu).to_numpy()
            have = float(cap[mine].sum())
            need = float(required[case_pdu == pdu].sum())
            if have > 0:
                scale = need / load / have
                practitioners.loc[mine, "contracted_hours_per_week"] *= scale
                practitioners.loc[mine, "reduction_hours_per_week"] *= scale
        over = practitioners["contracted_hours_per_week"] > 60
        practitioners.loc[over, "reduction_hours_per_week"] *= 60 / practitioners.loc[over, "contracted_hours_per_week"]
        practitioners.loc[over, "contracted_hours_per_week"] = 60.0

    current = np.full(n, None, dtype=object)
    for pdu in pdus:
        staff = np.array([p for p, d in zip(prac_ids, practitioners["pdu"]) if d == pdu], dtype=object)
        rows = np.flatnonzero((case_pdu == pdu) & (rng.random(n) < current_share))
        if len(staff):
            current[rows] = rng.choice(staff, size=len(rows))
    cases["current_practitioner_id"] = pd.Series(current, index=cases.index, dtype=object)

    partner_ids = [f"K{i + 1:03d}" for i in range(n_partners)]
    partner_rows: list[dict[str, Any]] = []
    for k in partner_ids:
        served = tuple(sorted(rng.choice(pdus, size=min(len(pdus), int(rng.integers(1, 3))), replace=False).tolist()))
        areas = tuple(sorted(rng.choice(NEED_AREAS, size=int(rng.integers(2, 5)), replace=False).tolist()))
        partner_rows.append(
            {
                "pdus": served,
                "kind": "other",
                "contract_hours_per_year": float(rng.uniform(20.0, 60.0) * cases_per_pdu / 10),
                "price_per_hour": float(rng.uniform(15.0, 40.0)),
                "need_areas": areas,
                "women_only": int(rng.random() < 0.4),
            }
        )
    partners = pd.DataFrame(partner_rows, index=pd.Index(partner_ids, name="partner_id"))
    if not len(partners):
        partners = pd.DataFrame(
            columns=["pdus", "kind", "contract_hours_per_year", "price_per_hour", "need_areas", "women_only"],
            index=pd.Index([], name="partner_id"),
        )
    return cases, practitioners, partners


# ----------------------------------------------------------------------------------------------------------
# small tables shaped like the loader's, for tests and notebooks

CASE_DEFAULTS: dict = {
    "pdu": "PDU1",
    "sex": "female",
    "ethnicity": None,
    "case_type": "community",
    "tier": "C2",
    "rosh": "low",
    "mappa_level": 0,
    "months_on_order": 6.0,
    "current_practitioner_id": None,
}
"""Values a test case takes unless it says otherwise (needs and flags default to 0)."""


def cases_frame(rows: list[dict]) -> pd.DataFrame:
    """A case table shaped like the loader's: every CaseRecord column, needs and flags 0 unless given."""
    from workload.scenario import CaseRecord

    fields = CaseRecord.model_fields
    columns = [c for c in fields if c != "case_id"]
    defaults = {c: getattr(f.default, "value", f.default) for c, f in fields.items() if not f.is_required()}
    defaults = {**defaults, **CASE_DEFAULTS}
    records = [{c: row.get(c, defaults.get(c, 0)) for c in columns} for row in rows]
    ids = [row.get("case_id", f"C{i:04d}") for i, row in enumerate(rows)]
    return pd.DataFrame(records, index=pd.Index(ids, name="case_id"), columns=columns)


def practitioners_frame(rows: list[dict]) -> pd.DataFrame:
    """A practitioner table shaped like the loader's (a full-time PO in PDU1 with no reports unless given)."""
    from workload.scenario import PractitionerRecord

    defaults: dict = {
        "pdu": "PDU1",
        "grade": "PO",
        "contracted_hours_per_week": 37.0,
        "reduction_hours_per_week": 0.0,
        "specialisms": (),
        "standard_reports_30d": 0,
        "fast_reports_30d": 0,
    }
    columns = [c for c in PractitionerRecord.model_fields if c != "practitioner_id"]
    records = [{c: row.get(c, defaults[c]) for c in columns} for row in rows]
    ids = [row.get("practitioner_id", f"P{i:03d}") for i, row in enumerate(rows)]
    return pd.DataFrame(records, index=pd.Index(ids, name="practitioner_id"), columns=columns)
