"""RCPSP heuristic backend: priority rules x {serial, parallel} SGS, forward-backward improvement,
then regret-biased random sampling within its share of the budget. Deterministic for a seed."""

from __future__ import annotations

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

# Share of the budget the heuristic takes when later stages follow, and its cap in seconds.
CHAIN_SHARE = 0.05
CHAIN_CAP = 0.5
# Random samples: many when the heuristic is the last stage; few before CP-SAT, whose search
# improves a hint far more than sampling does (measured on hard j60 instances at 10 s).
DEFAULT_SAMPLES = 200
CHAIN_SAMPLES = 16


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


def construct(model: RCPSP, inst=None) -> tuple[np.ndarray | None, str]:
    """Best schedule of every rule with both schemes, each improved by forward-backward passes."""
    inst = inst or forward_instance(model)
    rank = topological_rank(inst)
    parallel_ok = not model.has_max_lags
    best, best_value, best_name = None, None, ""
    for rule, priority in priority_rules(model).items():
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
    time_limit = ctx.time_for_stage(CHAIN_SHARE, CHAIN_CAP)
    deadline = ctx.budget.elapsed() + time_limit
    samples = int(ctx.params.get("samples", DEFAULT_SAMPLES if ctx.is_last else CHAIN_SAMPLES))
    lower = model.lower_bound()
    inst = forward_instance(model)
    best, how = construct(model, inst)
    best_value = int((best + model.durations).max()) if best is not None else None
    if best is not None:
        ctx.progress(best_value, lower)
    rank = topological_rank(inst)
    rng = np.random.default_rng(ctx.seed)
    lft = priority_rules(model)["LFT"]
    done = 0
    while done < samples and (best_value is None or best_value > lower):
        if ctx.budget.should_stop() or ctx.budget.elapsed() > deadline:
            break
        done += 1
        starts = serial_sgs(inst, activity_list(inst, lft, rng))
        if starts is None:
            continue
        starts = forward_backward(model, inst, starts, rank)
        value = int((starts + model.durations).max())
        if best_value is None or value < best_value:
            best, best_value, how = starts, value, f"biased random sampling #{done} + FBI"
            ctx.progress(best_value, lower)
    if best is None:
        return Outcome(None, None, Status.UNKNOWN, Stop.COMPLETED,
                       reason="no schedule found by the generation schemes (deadlines or maximum lags)")
    proven = best_value <= lower
    return Outcome(RCPSPSolution(best), float(lower), Status.OPTIMAL if proven else Status.FEASIBLE,
                   Stop.COMPLETED, reason=f"{how}; {done} samples")
