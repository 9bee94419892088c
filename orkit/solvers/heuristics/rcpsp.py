"""RCPSP heuristic backend: priority rules x {serial, parallel} SGS with forward-backward
improvement; as the last stage, then a genetic algorithm for the rest of the budget.
Deterministic for a seed when the GA ends by convergence or its schedule count, not the clock."""

from __future__ import annotations

import time

import numpy as np

from orkit.core.backend import Outcome, StageContext
from orkit.core.result import Status, Stop
from orkit.models.rcpsp import RCPSP, RCPSPSolution
from orkit.solvers.heuristics.rcpsp_sgs import (
    activity_list,
    forward_backward,
    forward_instance,
    parallel_sgs,
    serial_sgs,
    topological_rank,
)

MAX_SCHEDULES = 2_000_000


def priority_rules(model: RCPSP) -> dict[str, np.ndarray]:
    """Classic priority values, lower = scheduled first: LFT, LST, MSLK, MTS, GRPW, EST, SPT."""
    es = model.earliest_starts
    critical = model.critical_path_bound()
    ls = model.latest_starts(critical)
    total_successors = model.precedence_reach.sum(axis=1)
    grpw = model.durations + np.array([model.durations[s].sum() for s in model.successors], dtype=np.int64)
    return {
        "LFT": (ls + model.durations).astype(float),
        "LST": ls.astype(float),
        "MSLK": (ls - es).astype(float),
        "MTS": -total_successors.astype(float),
        "GRPW": -grpw.astype(float),
        "EST": es.astype(float),
        "SPT": model.durations.astype(float),
    }


def construct(model: RCPSP, inst=None, rules: dict[str, np.ndarray] | None = None,
              rank: np.ndarray | None = None) -> tuple[np.ndarray | None, str]:
    """Best schedule of every rule with both schemes, each improved by forward-backward passes."""
    inst = inst or forward_instance(model)
    rank = topological_rank(inst) if rank is None else rank
    parallel_ok = not model.has_max_lags
    best, best_value, best_name = None, None, ""
    for rule, priority in (rules or priority_rules(model)).items():
        schemes = [("serial", serial_sgs(inst, activity_list(inst, priority)))]
        if parallel_ok:
            schemes.append(("parallel", parallel_sgs(inst, priority)))
        for scheme, starts in schemes:
            if starts is None:
                continue
            starts = forward_backward(model, inst, starts, rank)
            value = int((starts + model.durations).max())
            if best_value is None or value < best_value:
                best, best_value, best_name = starts, value, f"{scheme} SGS / {rule} + FBI"
    return best, best_name


def solve(model: RCPSP, ctx: StageContext) -> Outcome:
    """Priority rules always; the genetic search only when no exact stage follows.

    Before CP-SAT the rule-based schedule is the better hint: measured on hard j60 instances at 10 s,
    CP-SAT's neighbourhood search ends worse when started from a GA local optimum (sum of gaps
    49.5 % vs 29.3 % over 12 runs), and random sampling before it changed nothing.
    """
    lower = model.lower_bound()
    inst = forward_instance(model)
    rules, rank = priority_rules(model), topological_rank(inst)
    best, how = construct(model, inst, rules, rank)
    best_value = int((best + model.durations).max()) if best is not None else None
    if best is not None:
        ctx.progress(best_value, lower)
    schedules = 0
    if ctx.is_last and (best_value is None or best_value > lower) and not ctx.budget.should_stop():
        from orkit.solvers.heuristics.rcpsp_ga import genetic_search  # compiled kernels: load only when used

        before = np.zeros((model.n, model.n), dtype=bool)
        for j, preds in enumerate(inst.order_preds):
            before[preds, j] = True
        rng = np.random.default_rng(ctx.seed)
        seeds = [np.array(activity_list(inst, p)) for p in rules.values()]
        seeds += [np.array(activity_list(inst, rules["LFT"], rng)) for _ in range(16)]
        if best is not None:
            seeds.append(np.lexsort((rank, best)))
        deadline = time.perf_counter() + ctx.budget.remaining() - 0.02
        ga_best, schedules = genetic_search(
            model, seeds, rank, before, rng, deadline, lower, int(ctx.params.get("schedules", MAX_SCHEDULES)),
            on_improve=lambda value: ctx.progress(value, lower),
        )
        if ga_best is not None and (best_value is None or ga_best.makespan < best_value):
            best, best_value, how = ga_best.starts, ga_best.makespan, "genetic algorithm + FBI"
    if best is None:
        return Outcome(None, None, Status.UNKNOWN, Stop.COMPLETED,
                       reason="no schedule found by the generation schemes (deadlines or maximum lags)")
    proven = best_value <= lower
    note = f"{how}; {schedules} GA schedules" if ctx.is_last else f"{how} (hint for the next stage)"
    return Outcome(RCPSPSolution(best), float(lower), Status.OPTIMAL if proven else Status.FEASIBLE,
                   Stop.COMPLETED, reason=note)
