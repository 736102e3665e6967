"""The investment question: which posts of which grade in which PDU, and which partner hours, to buy.

For each budget B, one LP chooses added whole-time posts ``f[d,g]`` of grade g in PDU d and extra partner
hours ``e[k,d]`` beyond each contract, with the allocation LP of every PDU inside it
(:func:`workload.allocate.model.build_model`, unchanged):

- a post of grade g in PDU d adds K_g case hours (a whole-time practitioner's) to a pool that today's
  practitioners of that grade in that PDU draw on: ``sum_c y[c,p] - o_p - t_p <= K_p`` and
  ``sum_(p of grade g in d) t_p <= K_g f[d,g]`` (:class:`Planner` says why);
- each partner contract row reads ``sum_c z[c,k] <= H_k + e[k,d]``, ``e <= partner_extra_share x H_k``;
- the budget row: ``sum (post_g + recruit_g) f[d,g] + sum h_k e[k,d] <= B``, with ``post_g`` the staff cost
  per hour of the grade x ``plan.paid_hours_per_fte_year`` and ``recruit_g`` ``plan.recruitment_cost_per_fte``.

Objective ``need`` (maximise need met): the allocation LP's own objective (weighted unmet hours, bands,
minimums and rules), the spend only a tie-break. Objective ``whole_life_cost``: the spend plus each case's
unmet hours at ``v_c`` pounds an hour, the whole-life cost one more hour saves it
(:func:`workload.marginal.hour_savings`, evaluated by :mod:`workload.outcomes` at today's staffing: exact for a
cost linear in coverage, its tangent otherwise), with the allocator's safeguards (minimums, capacity) kept
first and its other terms as a small tie-break. A post is then bought while the pounds its hours save exceed its price, so the spend may stop below the budget.

Each answer is evaluated with :mod:`workload.outcomes`' public functions on the LP's hours per case (continuous,
not rounded to one practitioner): whole-life cost = outcomes' whole-life cost (existing staff's hours, partner
hours used, reoffending, children, ...) + the added posts' cost. FTE are continuous (report to 0.1). Pairs are
priced in as the allocator prices them (:mod:`workload.allocate.pricing`), warm across budgets.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import highspy
import numpy as np
import pandas as pd

from workload import marginal, outcomes
from workload.allocate.arrays import HOURS_TOL, PduArrays, capacity_hours, pdu_arrays, pdu_inputs
from workload.allocate.grouped import first_per_group
from workload.allocate.model import Model, build_model
from workload.allocate.perspective import unmet_columns
from workload.allocate.pricing import PRICING_ADD_PER_CASE, PRICING_TOL, column_block, starting_columns
from workload.allocate.solvers import new_highs
from workload.errors import Problem
from workload.load import Scenario, ScenarioError, read_toml
from workload.params import ParameterError, flatten_overrides
from workload.pipeline import lp_cases, score_cases
from workload.reform import Reform, ReformError

OBJECTIVES = ("whole_life_cost", "need")
"""What ``workload plan`` minimises: whole-life cost in pounds, or the allocation's weighted unmet need."""

RULES_WEIGHT = 1e-3
"""Numerical guard, not a model number: the allocation objective's weight (pounds per weighted hour) in the
``whole_life_cost`` objective on the need bands and the pair and partner hours, small against any pound an
hour saves, so it only breaks ties between allocations of equal cost the way the allocator would."""

SAFEGUARD_WEIGHT = 1e3
"""Numerical guard, not a model number: the allocator's penalties on a public-protection minimum's shortfall,
hours over capacity and cases over a cap are kept in the ``whole_life_cost`` objective at this many pounds
per weighted hour (their weighted penalties are 40 and more, so GBP 40,000 an hour and more: far above what an
hour saves), so minimums come before pounds and capacity is not stretched to save pounds, as in the
allocator."""

SAFEGUARDS = ("s", "o", "q")
"""The allocator's columns priced by :data:`SAFEGUARD_WEIGHT` in the ``whole_life_cost`` objective."""

TIE_BREAK = 1e-6
"""Numerical guard, not a model number: the spend's weight in the ``need`` objective (per pound), so of two
equal answers the cheaper is taken."""


@dataclass(frozen=True)
class Prices:
    """What added capacity costs: per whole-time post a year (salary and on-costs, recruitment) by grade,
    and each partner's price per extra hour."""

    post: dict[str, float]
    recruitment: dict[str, float]
    partner: pd.Series

    def per_fte(self, grade: str) -> float:
        return self.post[grade] + self.recruitment[grade]


def prices(scenario: Scenario) -> Prices:
    """The prices from the parameters (``costs.staff_cost_per_hour``, ``plan.*``) and partners.csv."""
    params = scenario.params
    hours = float(params["plan.paid_hours_per_fte_year"])
    rate = params.table("costs.staff_cost_per_hour")
    recruit = params.table("plan.recruitment_cost_per_fte")
    grades = plan_grades(scenario)
    partner = scenario.partners["price_per_hour"].astype(float) if len(scenario.partners) else pd.Series(dtype=float)
    return Prices({g: float(rate[g]) * hours for g in grades}, {g: float(recruit.get(g, 0.0)) for g in grades}, partner)


def prices_reform(path: str | Path) -> Reform:
    """A prices file (``--prices``): a TOML table of parameter overrides, dotted (``"costs.staff_cost_per_hour.PO"
    = 32``) or nested (``[plan.recruitment_cost_per_fte]``), checked as the scenario's ``[parameters]`` are, with
    problems naming the file. Raises :class:`workload.reform.ReformError` when it cannot be read."""
    path = Path(path)
    label = str(path)
    try:
        data = read_toml(path, label)
    except ScenarioError as exc:
        raise ReformError(exc.problems) from None
    try:
        overrides = flatten_overrides(data.get("parameters", data))
    except ParameterError as exc:
        raise ReformError([Problem(label, p.message, key=p.key, code=p.code) for p in exc.problems]) from None
    if not isinstance(data.get("parameters", data), dict):
        raise ReformError([Problem(label, "[parameters] must be a table of parameter paths and values")])
    return Reform(parameters=overrides, label=label)


def plan_grades(scenario: Scenario) -> list[str]:
    return [g for g in str(scenario.params["plan.grades"]).split(";") if g]


@dataclass(frozen=True)
class PlanPoint:
    """One budget's answer."""

    budget: float
    spend: float
    objective: float
    fte: pd.Series
    """Added FTE, indexed by (pdu, grade)."""
    partner_hours: pd.Series
    """Extra partner hours bought, indexed by (partner_id, pdu)."""
    afforded: pd.Series
    partner: pd.Series
    today_share: pd.Series
    """Share of each case's practitioner hours paid by today's staff: the rest its holder draws from the
    new posts' pool (``1 - t_p / load_p``), already paid in the spend."""
    holder: pd.Series
    partner_cost: pd.Series
    """Partner hours x the price of the case's partner, per case."""


@dataclass
class _Block:
    pdu: str
    arrays: PduArrays
    model: Model
    col0: int
    row0: int


class Planner:
    """The joint LP of every PDU with the post and partner columns and the budget row, re-solved per budget.

    A post of grade g in PDU d adds ``K_g`` hours (a whole-time practitioner's case hours,
    :func:`workload.allocate.arrays.capacity_hours`) to a pool that today's practitioners of that grade in
    that PDU draw on: ``sum_c y[c,p] - o_p - t_p <= K_p``, ``sum_(p of grade g in d) t_p <= K_g f[d,g]``.
    This is the steady state after caseloads turn over (new cases go to the new post and free hours of
    those who hold cases today), so continuity rules and the grade rule stay as they are, and a grade's
    post is worth the best of its practitioners' shadow prices at the margin. A PDU with no practitioner of
    a grade gets no posts of it.
    """

    def __init__(self, scenario: Scenario, objective: str = "whole_life_cost") -> None:
        if objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}; found {objective!r}")
        self.scenario, self.objective = scenario, objective
        params, policy = scenario.params, scenario.spec.policy
        self.prices = prices(scenario)
        self.scores = score_cases(scenario)
        self.need = self.scores["assessed_need_hours"]
        frame = lp_cases(scenario, self.scores, "needs")
        staff = scenario.practitioners
        self.grades_of = staff["grade"]
        whole_time = pd.DataFrame(
            {
                "grade": plan_grades(scenario),
                "contracted_hours_per_week": float(params["allocation.capacity.fte_hours_per_week"]),
                "reduction_hours_per_week": 0.0,
            }
        )
        self.fte_hours = dict(zip(whole_time["grade"], capacity_hours(whole_time, params)))
        inputs = pdu_inputs(frame, staff, scenario.partners, params, policy)
        self.blocks: list[_Block] = []
        col, row = 0, 0
        for pdu, inp in inputs.items():
            model = build_model(pdu_arrays(inp, params, policy))
            self.blocks.append(_Block(pdu, model.arrays, model, col, row))
            col += model.n_cols
            row += model.n_rows
        self.n_alloc_cols, self.n_alloc_rows = col, row
        self._build()

    # ------------------------------------------------------------------------------------------------------

    def _build(self) -> None:
        params = self.scenario.params
        max_fte = float(params["plan.max_fte_per_grade"])
        extra_share = float(params["plan.partner_extra_share"])
        mats = []
        entries: list[tuple[int, int, float]] = []  # (row, extra column, value); rows past the allocation's: new
        price: list[float] = []
        upper_extra: list[float] = []
        self.post_index: list[tuple[str, str]] = []
        self.partner_index: list[tuple[str, str]] = []
        self.post_cols: list[int] = []
        self.partner_cols: list[int] = []
        self.pool_cols: list[tuple[_Block, int, int]] = []  # (block, practitioner, extra column)
        next_row = self.n_alloc_rows

        def column(cost: float, upper: float) -> int:
            price.append(cost)
            upper_extra.append(upper)
            return len(price) - 1

        for b in self.blocks:
            m, a = b.model, b.arrays
            mats.append((b.row0 + np.repeat(np.arange(m.n_rows), np.diff(m.start)), b.col0 + m.index, m.value))
            cap0 = b.row0 + m.families["capacity"].start
            grades = self.grades_of.reindex(a.practitioner_ids).to_numpy(dtype=object)
            for grade, hours in self.fte_hours.items():
                holders = np.flatnonzero((grades == grade) & (a.capacity > 0))
                if not len(holders) or hours <= 0:
                    continue
                pool = next_row
                next_row += 1
                for p in holders:
                    t = column(0.0, np.inf)
                    entries += [(cap0 + int(p), t, -1.0), (pool, t, 1.0)]
                    self.pool_cols.append((b, int(p), t))
                f = column(self.prices.per_fte(grade), max_fte)
                entries.append((pool, f, -float(hours)))
                self.post_index.append((b.pdu, grade))
                self.post_cols.append(f)
            if "contract" in m.families:
                for k, partner in enumerate(a.partner_ids):
                    e = column(float(a.price[k]), extra_share * float(a.contract[k]))
                    entries.append((b.row0 + m.families["contract"].start + k, e, -1.0))
                    self.partner_index.append((str(partner), b.pdu))
                    self.partner_cols.append(e)
        self.budget_row = next_row
        n_rows = next_row + 1
        self.extra_price = np.array(price, dtype=float)
        n_extra = len(price)
        for j in self.post_cols + self.partner_cols:
            entries.append((self.budget_row, j, float(self.extra_price[j])))
        rows = np.array([r for r, _, _ in entries], dtype=np.int64)
        cols = np.array([c for _, c, _ in entries], dtype=np.int64) + self.n_alloc_cols
        vals = np.array([v for _, _, v in entries], dtype=float)
        all_rows = np.concatenate([r for r, _, _ in mats] + [rows])
        all_cols = np.concatenate([c for _, c, _ in mats] + [cols])
        all_vals = np.concatenate([v for _, _, v in mats] + [vals])
        n_cols = self.n_alloc_cols + n_extra
        order = np.lexsort((all_rows, all_cols))
        col_start = np.concatenate([[0], np.cumsum(np.bincount(all_cols, minlength=n_cols))]).astype(np.int64)
        self.csc = (col_start, all_rows[order].astype(np.int32), all_vals[order].astype(float))
        self.entry_col = np.repeat(np.arange(n_cols), np.diff(col_start))
        self.alloc_cost = np.concatenate([b.model.cost for b in self.blocks]) if self.blocks else np.zeros(0)
        self.lower = np.concatenate([b.model.lower for b in self.blocks] + [np.zeros(n_extra)])
        self.upper = np.concatenate([b.model.upper for b in self.blocks] + [np.array(upper_extra, dtype=float)])
        # pricing, as the allocator does (workload.allocate.pricing): each PDU's pairs start from its starting
        # columns and enter while their reduced cost at the duals is negative; every other column is in
        self.pair_case = np.full(n_cols, -1, dtype=np.int64)
        cases_before = 0
        for b in self.blocks:
            y = b.model.blocks["y"]
            self.pair_case[b.col0 + y.start : b.col0 + y.stop] = cases_before + b.arrays.pair_case
            cases_before += b.arrays.n_cases
        starting = [starting_columns(b.model) + b.col0 for b in self.blocks]
        self.active = np.concatenate([*starting, np.arange(self.n_alloc_cols, n_cols)]).astype(np.int64)
        self.in_model = np.zeros(n_cols, dtype=bool)
        self.in_model[self.active] = True
        self.cost = self._costs(priced=False)
        n_pools = self.budget_row - self.n_alloc_rows
        h = new_highs(600.0, 1)
        h.setOptionValue("presolve", "off")  # re-solved warm after each pricing round and budget
        lp = highspy.HighsLp()
        first, index, value = column_block(self.csc, self.active)
        lp.num_col_ = lp.a_matrix_.num_col_ = len(self.active)
        lp.num_row_ = lp.a_matrix_.num_row_ = n_rows
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.r_[first, len(index)].astype(np.int32)
        lp.a_matrix_.index_ = index
        lp.a_matrix_.value_ = value
        lp.col_cost_ = self.cost[self.active]
        lp.col_lower_ = self.lower[self.active]
        lp.col_upper_ = self.upper[self.active]
        lp.row_lower_ = np.concatenate([b.model.row_lower for b in self.blocks] + [np.full(n_pools + 1, -np.inf)])
        lp.row_upper_ = np.concatenate([b.model.row_upper for b in self.blocks] + [np.zeros(n_pools + 1)])
        lp.offset_ = sum(b.model.offset for b in self.blocks)
        h.passModel(lp)
        self.highs = h
        if self.objective == "whole_life_cost":
            self.cost = self._costs(priced=True)
            positions = np.arange(len(self.active), dtype=np.int32)
            self.highs.changeColsCost(len(positions), positions, self.cost[self.active])

    def _costs(self, priced: bool) -> np.ndarray:
        """Column costs. Unpriced (``need``): the allocation's objective, the spend a tie-break. Priced
        (``whole_life_cost``): the spend in pounds, each unmet hour of case c at ``v_c`` pounds (the whole-life
        cost one more hour saves it at today's staffing, :func:`workload.marginal.hour_savings`), and the
        allocation's objective x :data:`RULES_WEIGHT` so its rules (bands, continuity, the women's pool) break
        ties; its safeguards (minimums, capacity, caps: :data:`SAFEGUARDS`) x :data:`SAFEGUARD_WEIGHT`."""
        if not priced:
            return np.concatenate([self.alloc_cost, TIE_BREAK * self.extra_price])
        saving = self._hour_savings()
        cost = RULES_WEIGHT * self.alloc_cost
        for b in self.blocks:
            m = b.model
            for name in SAFEGUARDS:
                if name in m.blocks:
                    cols = b.col0 + np.arange(m.blocks[name].start, m.blocks[name].stop)
                    cost[cols] = SAFEGUARD_WEIGHT * self.alloc_cost[cols]
            v = saving.reindex(b.arrays.case_ids).to_numpy(dtype=float)
            for block, case in unmet_columns(m.blocks, b.arrays):
                cost[b.col0 + np.arange(block.start, block.stop)] += v[case]
        return np.concatenate([cost, self.extra_price])

    def _hour_savings(self) -> pd.Series:
        """``v_c`` at today's staffing (budget 0): the allocation LP's hours evaluated by workload.outcomes."""
        point = self.solve(0.0)
        cases = self.scenario.cases
        cell = outcomes.CellResult(point.afforded, point.partner, point.holder, pd.Series(False, index=cases.index))
        staff = self._staff_cost(point)
        return marginal.hour_savings(cases, self.need, cell, staff, point.partner_cost, self.scenario.params)

    # ------------------------------------------------------------------------------------------------------

    def solve(self, budget: float) -> PlanPoint:
        """The optimum at this budget (warm-started from the last one solved)."""
        self.highs.changeRowBounds(self.budget_row, -np.inf, float(budget))
        while True:
            self.highs.run()
            status = self.highs.getModelStatus()
            if status != highspy.HighsModelStatus.kOptimal:
                text = self.highs.modelStatusToString(status)
                raise RuntimeError(f"the plan's LP at budget {budget:,.0f} ended {text}")
            add = self._entering(np.array(self.highs.getSolution().row_dual, dtype=float))
            if not len(add):
                break
            first, index, value = column_block(self.csc, add)
            self.highs.addCols(
                len(add), self.cost[add], self.lower[add], self.upper[add], len(index), first, index, value
            )
            self.active = np.concatenate([self.active, add])
        return self._point(float(budget))

    def _entering(self, duals: np.ndarray) -> np.ndarray:
        """Left-out pairs whose reduced cost ``c_e - A_e' pi`` is negative at these row duals, at most
        :data:`~workload.allocate.pricing.PRICING_ADD_PER_CASE` a case, most negative first (marked as in)."""
        _, rows, values = self.csc
        reduced = self.cost - np.bincount(self.entry_col, weights=values * duals[rows], minlength=len(self.cost))
        pairs = np.flatnonzero((self.pair_case >= 0) & ~self.in_model & (reduced < -PRICING_TOL))
        if not len(pairs):
            return pairs
        add = pairs[first_per_group(self.pair_case[pairs], reduced[pairs], PRICING_ADD_PER_CASE)]
        self.in_model[add] = True
        return add.astype(np.int64)

    def _point(self, budget: float) -> PlanPoint:
        values = np.zeros(len(self.cost))
        values[self.active] = np.array(self.highs.getSolution().col_value, dtype=float)
        cases = self.scenario.cases
        afforded = pd.Series(0.0, index=cases.index)
        partner = pd.Series(0.0, index=cases.index)
        holder = pd.Series(None, index=cases.index, dtype=object)
        partner_cost = pd.Series(0.0, index=cases.index)
        today_share = pd.Series(1.0, index=cases.index)
        extra = values[self.n_alloc_cols :]
        drawn: dict[str, np.ndarray] = {}
        for b, p, t in self.pool_cols:
            drawn.setdefault(b.pdu, np.zeros(b.arrays.n_practitioners))[p] = extra[t]
        for b in self.blocks:
            a, m = b.arrays, b.model
            y = values[b.col0 + m.blocks["y"].start : b.col0 + m.blocks["y"].stop]
            z = values[b.col0 + m.blocks["z"].start : b.col0 + m.blocks["z"].stop]
            afforded[a.case_ids] = np.bincount(a.pair_case, weights=y, minlength=a.n_cases)
            partner[a.case_ids] = np.bincount(a.link_case, weights=z, minlength=a.n_cases)
            paid = z * a.price[a.link_partner]
            partner_cost[a.case_ids] = np.bincount(a.link_case, weights=paid, minlength=a.n_cases)
            # who gives a case most of its hours holds it (its staff cost's grade)
            order = np.lexsort((-y, a.pair_case))
            first = order[np.r_[True, np.diff(a.pair_case[order]) != 0]]
            holder[a.case_ids[a.pair_case[first]]] = a.practitioner_ids[a.pair_prac[first]]
            load = np.bincount(a.pair_prac, weights=y, minlength=a.n_practitioners)
            pooled = drawn.get(b.pdu, np.zeros(a.n_practitioners))
            share = 1.0 - np.divide(pooled, load, out=np.zeros(len(load)), where=load > HOURS_TOL)
            today_share[a.case_ids[a.pair_case[first]]] = np.clip(share[a.pair_prac[first]], 0.0, 1.0)
        extra = np.where(extra > HOURS_TOL, extra, 0.0)
        spend = float(self.extra_price @ extra)
        fte = pd.Series(
            extra[self.post_cols],
            index=pd.MultiIndex.from_tuples(self.post_index, names=["pdu", "grade"]),
            name="fte",
            dtype=float,
        )
        hours = pd.Series(
            extra[self.partner_cols],
            index=pd.MultiIndex.from_tuples(self.partner_index, names=["partner_id", "pdu"]),
            name="partner_hours",
            dtype=float,
        )
        objective = float(self.highs.getInfo().objective_function_value)
        return PlanPoint(budget, spend, objective, fte, hours, afforded, partner, today_share, holder, partner_cost)

    def _staff_cost(self, point: PlanPoint) -> pd.Series:
        """Staff cost of today's practitioners' hours per case (:func:`workload.outcomes.staff_cost` on the
        share of the case's hours they pay for); the new posts are paid in full in the spend."""
        return outcomes.staff_cost(
            point.afforded * point.today_share, point.holder, self.grades_of, self.scenario.params
        )

    def whole_life_cost(self, point: PlanPoint) -> pd.DataFrame:
        """Per case, outcomes' costs of this answer (staff cost of today's practitioners only: add
        ``point.spend`` for the scenario's whole-life cost)."""
        cases = self.scenario.cases
        cell = outcomes.CellResult(point.afforded, point.partner, point.holder, pd.Series(False, index=cases.index))
        frame = outcomes.case_outcomes(self.need, cell)
        values = outcomes.cost_values(self.scenario.params)
        costs = outcomes.whole_life_costs(cases, frame, self._staff_cost(point), point.partner_cost, values)
        return pd.concat([frame, costs], axis=1)
