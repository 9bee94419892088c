"""Single-machine sequencing as a MIP on HiGHS (or CBC): two formulations.

- time_indexed: x[j, s] = 1 when job j starts at s; one assignment row per job, one capacity row
  per time unit. Strong LP bound, but n·Σp columns: for moderate horizons only (size guard).
- positional (the tardiness study's): x[j, k] = 1 when job j is in position k, completion C_k of
  each position, job costs linked by big-M rows. Small, weak bound.
`formulation=auto` (default) takes the time-indexed model when it passes the size guard.
"""

from __future__ import annotations

import numpy as np

from orkit.core.backend import Outcome, StageContext
from orkit.core.result import Status, Stop
from orkit.models.tardiness import Criterion, Sequence, SingleMachine, job_costs
from orkit.solvers.mip.common import CompiledMIP, LinearBuilder, add_usage_rows, size_guard

MIN_SECONDS = 0.5


def time_indexed_size(model: SingleMachine) -> tuple[int, int, int]:
    """(rows, columns, nonzeros) of the time-indexed model, without building it."""
    width = model.horizon - model.processing_times - model.releases + 1
    cols = int(width.sum())
    rows = model.n + model.horizon
    return rows, cols, cols + int((width * model.processing_times).sum())


def time_indexed(model: SingleMachine, ctx: StageContext) -> CompiledMIP:
    p, r, horizon = model.processing_times, model.releases, model.horizon
    es, ls = r.copy(), horizon - p
    b = LinearBuilder()
    first = np.zeros(model.n, dtype=np.int64)
    for j in range(model.n):
        starts = np.arange(es[j], ls[j] + 1)
        cost = job_costs(model.objective, starts + p[j], np.full(len(starts), model.due_dates[j]),
                         np.full(len(starts), model.weights[j]))
        first[j] = b.add_columns(len(starts), cost=cost.astype(float))[0]
        b.add_row(np.arange(first[j], first[j] + len(starts)), 1.0, 1.0, 1.0)
    add_usage_rows(b, list(range(model.n)), [1.0] * model.n, np.ones(horizon), es, ls, p, first)
    warm = None
    if ctx.incumbent is not None:
        warm = np.zeros(b.n_cols)
        ends = model.completions(ctx.incumbent.order)
        for j in range(model.n):
            warm[first[j] + ends[j] - p[j] - es[j]] = 1.0

    def decode(values: np.ndarray) -> Sequence:
        starts = [int(es[j]) + int(np.argmax(values[first[j]:first[j] + ls[j] - es[j] + 1])) for j in range(model.n)]
        return Sequence(sorted(range(model.n), key=lambda j: (starts[j], j)))

    lp = b.build(integral_objective=True)
    return CompiledMIP(lp, {"first_column": first}, decode, warm, False,
                       [f"time-indexed, {lp.n_rows} rows x {lp.n_cols} columns"])


def positional(model: SingleMachine, ctx: StageContext) -> CompiledMIP:
    n, p, d, w, r = model.n, model.processing_times, model.due_dates, model.weights, model.releases
    big = float(model.horizon)
    b = LinearBuilder()
    x = b.add_columns(n * n).reshape(n, n)  # x[j, k]
    completion = b.add_columns(n, lower=0.0, upper=big, integer=False)  # C_k of position k
    if model.objective is Criterion.TARDINESS:
        cost = b.add_columns(n, lower=0.0, upper=big, cost=w.astype(float), integer=False)  # T_j
    elif model.objective is Criterion.COMPLETION:
        cost = b.add_columns(n, lower=0.0, upper=big, cost=w.astype(float), integer=False)  # C_j
    else:
        cost = b.add_columns(n, cost=w.astype(float))  # U_j
    for j in range(n):
        b.add_row(x[j], 1.0, 1.0, 1.0)
    for k in range(n):
        b.add_row(x[:, k], 1.0, 1.0, 1.0)
        # C_k >= C_{k-1} + Σ p_j x[j, k] and C_k >= Σ (r_j + p_j) x[j, k]
        prev = [completion[k - 1]] if k else []
        b.add_row(np.concatenate([[completion[k]], prev, x[:, k]]),
                  np.concatenate([[1.0], [-1.0] * len(prev), -p.astype(float)]), lower=0.0)
        if model.has_releases:
            b.add_row(np.concatenate([[completion[k]], x[:, k]]), np.concatenate([[1.0], -(r + p).astype(float)]),
                      lower=0.0)
    for j in range(n):
        for k in range(n):  # job j in position k: its cost term follows C_k
            if model.objective is Criterion.TARDINESS:  # T_j >= C_k - d_j - M (1 - x_jk)
                b.add_row([cost[j], completion[k], x[j, k]], [1.0, -1.0, -big], lower=-float(d[j]) - big)
            elif model.objective is Criterion.COMPLETION:  # C_j >= C_k - M (1 - x_jk)
                b.add_row([cost[j], completion[k], x[j, k]], [1.0, -1.0, -big], lower=-big)
            else:  # C_k - d_j <= M (1 - x_jk) + M U_j
                b.add_row([completion[k], x[j, k], cost[j]], [1.0, big, -big], upper=float(d[j]) + big)
    warm = None
    if ctx.incumbent is not None:
        order = ctx.incumbent.order
        ends = model.completions(order)
        warm = np.zeros(b.n_cols)
        for k, j in enumerate(order):
            warm[x[j, k]] = 1.0
            warm[completion[k]] = float(ends[j])
        warm[cost] = {Criterion.TARDINESS: np.maximum(ends - d, 0), Criterion.COMPLETION: ends,
                      Criterion.TARDY_JOBS: (ends > d)}[model.objective]

    def decode(values: np.ndarray) -> Sequence:
        return Sequence(np.argmax(values[x], axis=0).astype(np.int64))

    lp = b.build(integral_objective=True)
    return CompiledMIP(lp, {"position": x, "completion": completion, "cost": cost}, decode, warm, False,
                       [f"positional, {lp.n_rows} rows x {lp.n_cols} columns"])


def compile(model: SingleMachine, ctx: StageContext) -> CompiledMIP | Outcome:
    formulation = str(ctx.params.pop("formulation", "auto"))
    if formulation not in ("auto", "time_indexed", "positional"):
        from orkit.core.errors import BackendError

        raise BackendError(f"unknown formulation {formulation!r}; valid: auto, time_indexed, positional")
    if formulation in ("auto", "time_indexed"):
        too_large = size_guard(*time_indexed_size(model), ctx.params)
        if not too_large:
            return time_indexed(model, ctx)
        if formulation == "time_indexed":
            return Outcome(None, None, Status.UNKNOWN, Stop.COMPLETED, too_large)
    return positional(model, ctx)


def solve(model: SingleMachine, ctx: StageContext) -> Outcome:
    compiled = compile(model, ctx)
    if isinstance(compiled, Outcome):
        return compiled
    return compiled.run(ctx)
