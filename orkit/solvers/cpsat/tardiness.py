"""Single-machine sequencing on CP-SAT: one interval per job, one no-overlap, cost terms per job.

Always hinted with the incumbent; the objective is capped at the incumbent's value, so
"infeasible" here proves the incumbent optimal. Without release dates the machine never idles
(horizon = Σp) and, for total tardiness, the dominance "i before j when p_i <= p_j, d_i <= d_j,
w_i >= w_j" is added as precedences (the hint is first made to respect them, which never costs).
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from orkit.core.backend import Outcome, StageContext
from orkit.models.tardiness import Criterion, Sequence, SingleMachine
from orkit.solvers.cpsat.common import CompiledCPSAT
from orkit.solvers.tardiness_dominance import dominance_pairs, respect_dominance

MIN_SECONDS = 0.05


def compile(model: SingleMachine, ctx: StageContext) -> CompiledCPSAT:
    use_dominance = bool(ctx.params.pop("dominance", True))
    p, d, w, r = model.processing_times, model.due_dates, model.weights, model.releases
    horizon = model.horizon
    cp = cp_model.CpModel()
    cp.name = model.name
    starts = [cp.new_int_var(int(r[j]), horizon - int(p[j]), f"start_{model.labels[j]}") for j in range(model.n)]
    ends = [starts[j] + int(p[j]) for j in range(model.n)]
    intervals = [cp.new_fixed_size_interval_var(starts[j], int(p[j]), f"job_{model.labels[j]}") for j in range(model.n)]
    cp.add_no_overlap(intervals)
    dominance = use_dominance and not model.has_releases and model.objective is Criterion.TARDINESS
    if dominance:
        for i, j in dominance_pairs(model):
            cp.add(starts[j] >= ends[i])
    terms = []
    if model.objective is Criterion.TARDINESS:
        for j in range(model.n):
            late_max = max(0, horizon - int(d[j]))
            tardy = cp.new_int_var(0, late_max, f"tardiness_{model.labels[j]}")
            cp.add(tardy >= ends[j] - int(d[j]))
            terms.append(int(w[j]) * tardy)
    elif model.objective is Criterion.COMPLETION:
        terms = [int(w[j]) * ends[j] for j in range(model.n)]
    else:
        for j in range(model.n):
            late = cp.new_bool_var(f"late_{model.labels[j]}")
            cp.add(ends[j] <= int(d[j])).only_enforce_if(~late)
            terms.append(int(w[j]) * late)
    objective = sum(terms)
    cp.minimize(objective)
    restricted = ctx.incumbent is not None
    if restricted:
        cp.add(objective <= int(ctx.incumbent_objective))
        order = ctx.incumbent.order
        if dominance:
            order = respect_dominance(model, order)
        ends_hint = model.completions(order)
        for j in range(model.n):
            cp.add_hint(starts[j], int(ends_hint[j] - p[j]))

    def decode(solver: cp_model.CpSolver) -> Sequence:
        values = [solver.value(s) for s in starts]
        return Sequence(sorted(range(model.n), key=lambda j: (values[j], j)))

    return CompiledCPSAT(cp, {"starts": starts, "intervals": intervals}, decode, lambda v: round(v),
                         restricted, [f"{model.n} intervals, horizon {horizon}"
                                      + (", dominance precedences" if dominance else "")])


def solve(model: SingleMachine, ctx: StageContext) -> Outcome:
    return compile(model, ctx).run(ctx)
