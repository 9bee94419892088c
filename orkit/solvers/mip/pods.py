"""Pod packing as a MIP on HiGHS: the same class-count model and tier steps as the CP-SAT backend.

Columns: x[c, n] pods of class c on node n, stay[c, n] of them that were running there, moves[c].
Rows: node capacities per resource, class sizes, stay <= x, moves >= placed - stays - pending.
Each lexicographic step changes the objective, is warm-started with the best counts so far,
and is then fixed by one more row; steps the incumbent already settles are not solved.
"""

from __future__ import annotations

import numpy as np

from orkit.core.backend import Outcome, StageContext
from orkit.core.errors import BackendError
from orkit.core.result import Status, Stop
from orkit.models.pods import Cluster
from orkit.solvers.mip.common import SAFETY_MARGIN, LinearBuilder, _highs, size_guard, stop_on_budget, to_highs
from orkit.solvers.pods_classes import PodClasses, class_disruption
from orkit.solvers.pods_goals import Step, StepGoals
from orkit.solvers.pods_steps import solve_by_steps

MIN_SECONDS = 0.05


class CountColumns:
    """Column indices of the class-count model and the coefficient rows of its step objectives."""

    def __init__(self, model: Cluster, k: PodClasses):
        b = LinearBuilder()
        self.x, self.stay = {}, {}
        for (c, n), top in k.count_bounds.items():
            self.x[c, n] = int(b.add_columns(1, 0, top)[0])
            if k.running[c, n]:
                self.stay[c, n] = int(b.add_columns(1, 0, min(top, int(k.running[c, n])))[0])
                b.add_row([self.stay[c, n], self.x[c, n]], [1, -1], upper=0)
        self.moves = b.add_columns(k.n, 0, np.inf)
        node_x: dict[int, list[tuple[int, int]]] = {}
        self.class_x: list[list[int]] = [[] for _ in range(k.n)]
        self.class_stay: list[list[int]] = [[] for _ in range(k.n)]
        for (c, n), col in self.x.items():
            node_x.setdefault(n, []).append((c, col))
            self.class_x[c].append(col)
        for (c, _), col in self.stay.items():
            self.class_stay[c].append(col)
        for n, items in node_x.items():
            for r in range(len(model.resources)):
                cols = [(col, int(k.demand[c, r])) for c, col in items if k.demand[c, r] > 0]
                if cols:
                    b.add_row([col for col, _ in cols], [a for _, a in cols], upper=float(k.free[n, r]))
        for c in range(k.n):
            if self.class_x[c]:
                b.add_row(self.class_x[c], 1, upper=float(k.size[c]))
            # moves - placed + stays >= -pending
            b.add_row([int(self.moves[c]), *self.class_x[c], *self.class_stay[c]],
                      [1] + [-1] * len(self.class_x[c]) + [1] * len(self.class_stay[c]), lower=-float(k.pending[c]))
        self.builder, self.k, self.model = b, k, model

    def objective(self, goals: StepGoals, step: Step) -> tuple[np.ndarray, float]:
        """(coefficients, constant) of the step's expression over the columns."""
        cost = np.zeros(self.builder.n_cols)
        constant = 0.0
        classes = range(self.k.n) if step.kind == "weighted" else goals.members(step)
        for c in classes:
            place_weight = int(goals.rank[c]) * goals.scale if step.kind == "weighted" else 1
            if step.kind in ("place", "weighted"):
                cost[self.class_x[c]] += place_weight
            if step.kind in ("disrupt", "weighted"):
                sign = -1 if step.kind == "weighted" else 1
                constant += sign * int(self.k.running[c].sum())
                cost[self.class_stay[c]] -= sign
                cost[int(self.moves[c])] += sign
        return cost, constant

    def values(self, counts: np.ndarray) -> np.ndarray:
        v = np.zeros(self.builder.n_cols)
        for (c, n), col in self.x.items():
            v[col] = counts[c, n]
        for (c, n), col in self.stay.items():
            v[col] = min(counts[c, n], self.k.running[c, n])
        v[self.moves] = class_disruption(self.k, counts)[2]
        return v

    def counts(self, values: np.ndarray) -> np.ndarray:
        result = np.zeros((self.k.n, self.model.n_nodes), dtype=np.int64)
        for (c, n), col in self.x.items():
            result[c, n] = int(round(values[col]))
        return result


class HighsSteps:
    """The tier steps on one HiGHS model: each step changes the costs and adds its hold as a row."""

    name = "HiGHS"

    def __init__(self, ctx: StageContext, columns: CountColumns, goals: StepGoals):
        self.ctx, self.columns, self.goals = ctx, columns, goals
        self.h = to_highs(columns.builder.build(integral_objective=True))
        self.h.setOptionValue("mip_rel_gap", 0.0)
        self.h.setOptionValue("random_seed", int(ctx.seed) % (2**31))
        for key, value in ctx.params.items():
            if self.h.setOptionValue(key, value) == _highs().HighsStatus.kError:
                raise BackendError(f"HiGHS rejected option {key}={value!r}")

    def optimise(self, step: Step, best: np.ndarray, seconds: float,
                 target: int | None = None) -> tuple[np.ndarray | None, bool]:
        # `target` is not used: a HiGHS decision (no objective) was not measured, so HiGHS optimises
        highspy, h = _highs(), self.h
        cost, _ = self.columns.objective(self.goals, step)
        sign = 1.0 if step.kind == "disrupt" else -1.0  # HiGHS minimises
        h.changeColsCost(len(cost), np.arange(len(cost), dtype=np.int32), sign * cost)
        h.setOptionValue("time_limit", max(0.01, seconds - SAFETY_MARGIN))
        warm = highspy.HighsSolution()
        warm.col_value = list(self.columns.values(best))
        warm.value_valid = True
        h.setSolution(warm)
        with stop_on_budget(h, self.ctx):
            h.run()
        found = None
        if h.getInfo().primal_solution_status == 2:  # kSolutionStatusFeasible
            found = self.columns.counts(np.asarray(h.getSolution().col_value))
        return found, h.getModelStatus() == highspy.HighsModelStatus.kOptimal

    def hold(self, step: Step, value: int) -> None:
        cost, constant = self.columns.objective(self.goals, step)
        nz = np.flatnonzero(cost)
        inf = _highs().kHighsInf
        lower, upper = (-inf, value - constant) if step.kind == "disrupt" else (value - constant, inf)
        self.h.addRow(lower, upper, len(nz), nz.astype(np.int32), cost[nz])


def solve(model: Cluster, ctx: StageContext) -> Outcome:
    def engine(k: PodClasses, goals: StepGoals) -> HighsSteps | Outcome:
        columns = CountColumns(model, k)
        b = columns.builder
        too_large = size_guard(len(b.row_lower), b.n_cols, b.nonzeros, ctx.params)
        if too_large:
            return Outcome(None, None, Status.UNKNOWN, Stop.COMPLETED, too_large)
        return HighsSteps(ctx, columns, goals)

    return solve_by_steps(model, ctx, engine)
