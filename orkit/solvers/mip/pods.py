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
from orkit.models.pods import Cluster, PodObjective
from orkit.solvers.mip.common import SAFETY_MARGIN, LinearBuilder, _highs, size_guard, to_highs
from orkit.solvers.pods_classes import (
    FIRST_STEP_SHARE,
    PodClasses,
    Step,
    StepGoals,
    group,
    incumbent_assignment,
    settled_mask,
)

MIN_SECONDS = 0.05


class CountColumns:
    """Column indices of the class-count model and the coefficient rows of its step objectives."""

    def __init__(self, model: Cluster, k: PodClasses):
        b = LinearBuilder()
        n_nodes = model.n_nodes
        self.x, self.stay = {}, {}
        for c in range(k.n):
            for n in range(n_nodes):
                if not k.allowed[c, n] and k.running[c, n] == 0:
                    continue
                top = int(k.size[c]) if k.allowed[c, n] else int(k.running[c, n])
                need = k.demand[c] > 0
                if need.any():
                    top = min(top, int((np.maximum(k.free[n, need], 0) // k.demand[c, need]).min()))
                if top <= 0:
                    continue
                self.x[c, n] = int(b.add_columns(1, 0, top)[0])
                if k.running[c, n]:
                    self.stay[c, n] = int(b.add_columns(1, 0, min(top, int(k.running[c, n])))[0])
                    b.add_row([self.stay[c, n], self.x[c, n]], [1, -1], upper=0)
        self.moves = b.add_columns(k.n, 0, np.inf)
        for n in range(n_nodes):
            for r in range(len(model.resources)):
                cols = [(col, int(k.demand[c, r])) for (c, nn), col in self.x.items() if nn == n and k.demand[c, r] > 0]
                if cols:
                    b.add_row([col for col, _ in cols], [a for _, a in cols], upper=float(k.free[n, r]))
        self.class_x = [[col for (cc, _), col in self.x.items() if cc == c] for c in range(k.n)]
        self.class_stay = [[col for (cc, _), col in self.stay.items() if cc == c] for c in range(k.n)]
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
        placed = counts.sum(axis=1)
        stays = np.minimum(counts, self.k.running).sum(axis=1)
        v[self.moves] = np.maximum(0, placed - stays - self.k.pending)
        return v

    def counts(self, values: np.ndarray) -> np.ndarray:
        result = np.zeros((self.k.n, self.model.n_nodes), dtype=np.int64)
        for (c, n), col in self.x.items():
            result[c, n] = int(round(values[col]))
        return result


def solve(model: Cluster, ctx: StageContext) -> Outcome:
    start = incumbent_assignment(model, ctx)
    hold, settled = settled_mask(model, start)
    if model.objective is PodObjective.LEXICOGRAPHIC and settled == len(model.tiers):
        return Outcome(model.plan(start), model.score(start), Status.OPTIMAL, Stop.COMPLETED,
                       "the incumbent places every placeable pod and disturbs none")
    k = group(model, hold)
    columns = CountColumns(model, k)
    b = columns.builder
    too_large = size_guard(len(b.row_lower), b.n_cols, b.nonzeros, ctx.params)
    if too_large:
        return Outcome(None, None, Status.UNKNOWN, Stop.COMPLETED, too_large)
    h = to_highs(b.build(integral_objective=True))
    highspy = _highs()
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("random_seed", int(ctx.seed) % (2**31))
    for key, value in ctx.params.items():
        if h.setOptionValue(key, value) == highspy.HighsStatus.kError:
            raise BackendError(f"HiGHS rejected option {key}={value!r}")
    goals = StepGoals(model, k)
    best = k.counts(start, model.n_nodes)
    if model.objective is PodObjective.WEIGHTED:
        steps = [Step(-1, "weighted")]
    else:
        steps = [Step(t, kind) for t in range(settled, len(model.tiers)) for kind in ("place", "disrupt")]
        for t in range(settled):
            cost, _ = columns.objective(goals, Step(t, "place"))
            nz = np.flatnonzero(cost)
            h.addRow(goals.ceiling(Step(t, "place")), highspy.kHighsInf, len(nz), nz.astype(np.int32), cost[nz])
    proven_all, solves, floor = True, 0, 0
    for index, step in enumerate(steps):
        if ctx.budget.should_stop():
            proven_all = False
            break
        proven = goals.settled(step, best, floor)
        if not proven:
            solves += 1
            best, proven = _solve_step(h, columns, goals, step, best, ctx, last=index == len(steps) - 1)
            ctx.progress(model.score(k.assignment(model, best)), None)
        proven_all &= proven
        value = goals.value(step, best)
        cost, constant = columns.objective(goals, step)
        nz = np.flatnonzero(cost)
        if step.kind == "disrupt":
            h.addRow(-highspy.kHighsInf, value - constant, len(nz), nz.astype(np.int32), cost[nz])
            floor = value
        else:
            h.addRow(value - constant, highspy.kHighsInf, len(nz), nz.astype(np.int32), cost[nz])
    assignment = k.assignment(model, best)
    status = Status.OPTIMAL if proven_all else Status.FEASIBLE
    stop = Stop.COMPLETED if proven_all else (Stop.INTERRUPTED if ctx.budget.interrupted else Stop.TIME_LIMIT)
    reason = (f"HiGHS on {k.n} pod classes over {model.n_nodes} nodes, {settled} tier(s) settled by the "
              f"incumbent, {solves} solve(s)" + ("" if proven_all else "; not every tier proven"))
    return Outcome(model.plan(assignment), model.score(assignment) if proven_all else None, status, stop, reason)


def _solve_step(h, columns: CountColumns, goals: StepGoals, step: Step, best: np.ndarray, ctx: StageContext,
                last: bool) -> tuple[np.ndarray, bool]:
    highspy = _highs()
    cost, _ = columns.objective(goals, step)
    maximise = step.kind != "disrupt"
    h.changeColsCost(len(cost), np.arange(len(cost), dtype=np.int32), -cost if maximise else cost)
    share = 1.0 if last else FIRST_STEP_SHARE
    h.setOptionValue("time_limit", max(0.01, ctx.budget.remaining() * share - SAFETY_MARGIN))
    warm = highspy.HighsSolution()
    warm.col_value = list(columns.values(best))
    warm.value_valid = True
    h.setSolution(warm)

    def interrupt(event) -> None:
        if ctx.budget.should_stop():
            event.interrupt()

    hooks = [(h.cbMipInterrupt, interrupt), (h.cbSimplexInterrupt, interrupt)]
    for event, hook in hooks:
        event.subscribe(hook)
    try:
        h.run()
    finally:
        for event, hook in hooks:
            event.unsubscribe(hook)
    if h.getInfo().primal_solution_status == 2:
        found = columns.counts(np.asarray(h.getSolution().col_value))
        sign = 1 if maximise else -1
        if sign * goals.value(step, found) >= sign * goals.value(step, best):
            best = found
    return best, h.getModelStatus() == highspy.HighsModelStatus.kOptimal
