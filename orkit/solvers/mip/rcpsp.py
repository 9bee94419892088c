"""RCPSP as a time-indexed MIP (Pritsker-style pulse variables, disaggregated precedences).

x[i, t] = 1 when activity i starts at t, for t in its window [ES_i, LS_i] computed with the
incumbent's makespan as horizon. The disaggregated precedence rows and per-period resource rows
give the strong LP bound these formulations are known for; a size guard skips instances whose
horizon makes the model too large.
"""

from __future__ import annotations

import numpy as np

from orkit.core.backend import Outcome, StageContext
from orkit.core.result import Status, Stop
from orkit.models.rcpsp import RCPSP, RCPSPSolution
from orkit.solvers.mip.common import CompiledMIP, LinearBuilder, add_usage_rows, size_guard

# Building and loading the time-indexed model takes a few tenths of a second on j60-sized projects.
MIN_SECONDS = 1.0


def _windows(model: RCPSP, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    return model.earliest_starts, model.latest_starts(horizon)


def estimate_size(model: RCPSP, horizon: int) -> tuple[int, int, int]:
    """(rows, columns, nonzeros) of the formulation, computed without building it."""
    es, ls = _windows(model, horizon)
    width = np.maximum(ls - es + 1, 0)
    cols = int(width.sum()) + 1
    rows = model.n + len(model.sinks)
    nonzeros = cols + int(width[model.sinks].sum()) + len(model.sinks)
    for i, j, lag in model.arcs:
        span = max(int(ls[j] - es[j]), 0)
        rows += span
        t = np.arange(es[j], ls[j])
        nonzeros += int((t - es[j] + 1).sum() + np.clip(t - lag - es[i] + 1, 0, width[i]).sum())
    busy = model.durations * width  # nonzeros of one activity in a per-period usage block
    for k in range(model.n_resources):
        users = (model.demands[:, k] > 0) & (model.durations > 0)
        if users.any():
            rows += horizon
            nonzeros += int(busy[users].sum())
    for i, j in model.disjunctive:
        rows += horizon
        nonzeros += int(busy[i] + busy[j])
    return rows, cols, nonzeros


def compile(model: RCPSP, ctx: StageContext) -> CompiledMIP | Outcome:
    restricted = ctx.incumbent is not None
    horizon = int(ctx.incumbent_objective) if restricted else model.horizon_upper_bound
    es, ls = _windows(model, horizon)
    if (es > ls).any():
        return Outcome(None, None, Status.OPTIMAL if restricted else Status.INFEASIBLE, Stop.COMPLETED,
                       f"no start window within the horizon {horizon}")
    rows, cols, nonzeros = estimate_size(model, horizon)
    skip = size_guard(rows, cols, nonzeros, ctx.params)
    if skip:
        return Outcome(None, None, Status.UNKNOWN, Stop.COMPLETED, skip)

    d = model.durations
    b = LinearBuilder()
    first = np.zeros(model.n, dtype=np.int64)  # column of x[i, es_i]
    for i in range(model.n):
        first[i] = b.add_columns(int(ls[i] - es[i] + 1))[0]
    makespan = int(b.add_columns(1, lower=float(min(model.lower_bound(), horizon)), upper=float(horizon),
                                 cost=1.0, integer=False)[0])

    def column(i: int, t: int) -> int:
        return int(first[i] + t - es[i])

    def prefix(i: int, t: int) -> np.ndarray:
        """Columns of x[i, s] for s <= t."""
        hi = min(int(t), int(ls[i]))
        return np.arange(first[i], first[i] + max(hi - int(es[i]) + 1, 0))

    for i in range(model.n):
        b.add_row(np.arange(first[i], first[i] + ls[i] - es[i] + 1), 1.0, 1.0, 1.0)
    for i, j, lag in model.arcs:  # S_j >= S_i + lag, disaggregated: started(j, t) <= started(i, t - lag)
        for t in range(int(es[j]), int(ls[j])):
            pj, pi = prefix(j, t), prefix(i, t - lag)
            b.add_row(np.concatenate([pj, pi]), np.concatenate([np.ones(len(pj)), -np.ones(len(pi))]), upper=0.0)
    profile = model.capacity_profile(horizon)
    for k in range(model.n_resources):
        users = [i for i in range(model.n) if model.demands[i, k] > 0 and d[i] > 0]
        if users:
            add_usage_rows(b, users, [float(model.demands[i, k]) for i in users], profile[k], es, ls, d, first)
    for i, j in model.disjunctive:
        if d[i] > 0 and d[j] > 0:
            add_usage_rows(b, [int(i), int(j)], [1.0, 1.0], np.ones(horizon), es, ls, d, first)
    for i in model.sinks:
        window = np.arange(es[i], ls[i] + 1)
        b.add_row(np.concatenate([[makespan], first[i] + window - es[i]]),
                  np.concatenate([[1.0], -(window + d[i]).astype(float)]), lower=0.0)

    warm = None
    if ctx.incumbent is not None:
        warm = np.zeros(b.n_cols)
        for i, s in enumerate(ctx.incumbent.starts):
            warm[column(i, int(s))] = 1.0
        warm[makespan] = float(ctx.incumbent_objective)

    def decode(values: np.ndarray) -> RCPSPSolution:
        starts = [int(es[i]) + int(np.argmax(values[first[i]:first[i] + ls[i] - es[i] + 1])) for i in range(model.n)]
        return RCPSPSolution(np.array(starts, dtype=np.int64))

    lp = b.build(integral_objective=True)
    return CompiledMIP(lp, {"first_column": first, "earliest": es, "latest": ls, "makespan": makespan}, decode,
                       warm, restricted,
                       [f"time-indexed, horizon {horizon}, {lp.n_rows} rows x {lp.n_cols} columns, "
                        f"{len(lp.index)} nonzeros"])


def solve(model: RCPSP, ctx: StageContext) -> Outcome:
    compiled = compile(model, ctx)
    if isinstance(compiled, Outcome):
        return compiled
    return compiled.run(ctx)

