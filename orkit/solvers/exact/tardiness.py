"""Exact single-machine methods, chosen by objective (all jobs available at time 0):

- Σ w C: Smith's ratio rule is optimal.
- Σ w U: Lawler & Moore's pseudo-polynomial DP.
- Σ T (equal weights): Lawler's decomposition as a branch and bound with memory
  (lawler_decomposition) gets most of the budget; if it does not finish, the weighted method
  below goes on with the rest.
- Σ w T: a Lagrangian bound by subgradient ascent, then a DP over job subsets pruned
  by that bound, by precedence dominance and by adjacent interchange (see tardiness_kernels).
  It either proves the incumbent optimal, finds the optimum, or stops at its state limit or the
  budget with the Lagrangian bound as an honest lower bound.
"""

from __future__ import annotations

import math

import numpy as np

from orkit.core.backend import Outcome, StageContext
from orkit.core.result import Status, Stop
from orkit.models.tardiness import Criterion, Sequence, SingleMachine
from orkit.solvers.exact import tardiness_kernels as kernels
from orkit.solvers.exact.lawler_decomposition import MAX_ENTRIES, LawlerSearch, Stopped, applies
from orkit.solvers.heuristics.tardiness import improve_best_rule
from orkit.solvers.tardiness_dominance import dominance_matrix

MIN_SECONDS = 0.05
DEFAULT_MAX_STATES = 4_000_000  # per layer; ~100 bytes per state while the layer is built
STATES_PER_CALL = 20_000  # states expanded between two budget checks
LAGRANGIAN_WORK = 50_000_000  # n·T steps of subgradient DPs between two budget checks
STRONG_TABLE_WORK = 500_000_000  # n^2 T steps (about a second) for the interchange-aware table
STRONG_TABLE_CELLS = 5_000_000  # n T floats it keeps
STRONG_TABLE_RATE = 3e8  # n^2 T steps per second, roughly (measured 0.05-0.2 s at n = 100)
LAWLER_MOORE_MAX_CELLS = 50_000_000
DOMINANCE_RATE = 3e8  # n^3 per second for the transitive closure of the dominance relation (86 s at n = 3000)
DECOMPOSITION_SHARE = 0.9  # of the remaining budget, for equal weights; the Lagrangian bound and subset DP get the rest
# (when the decomposition does not finish, n is large and they rarely prove: n = 300 proved at 0.9, not at 0.7)


def precedence_masks(model: SingleMachine) -> np.ndarray:
    """Bitsets pred[j] of the jobs the dominance relation puts before j."""
    words = (model.n + 63) // 64
    masks = np.zeros((model.n, words), dtype=np.uint64)
    for i, j in zip(*np.nonzero(dominance_matrix(model))):
        masks[j, i >> 6] |= np.uint64(1) << np.uint64(i & 63)
    return masks


def subset_dp(model: SingleMachine, upper: int, mu: np.ndarray, pred: np.ndarray, top: tuple[np.ndarray, np.ndarray],
              ctx: StageContext, max_states: int) -> tuple[np.ndarray | None, str, bool]:
    """Search for a sequence cheaper than `upper`. Returns (sequence or None, note, complete);
    complete=False when the state limit or the budget stopped it."""
    p, d, w = model.processing_times, model.due_dates, model.weights
    n, words = model.n, (model.n + 63) // 64
    kind = model.objective.code
    top_value, top_job = top
    keys = np.zeros((1, words), dtype=np.uint64)
    times = np.zeros(1, dtype=np.int64)
    costs = np.zeros(1, dtype=np.int64)
    musum = np.zeros(1)
    last = np.full(1, -1, dtype=np.int64)
    history: list[tuple[np.ndarray, np.ndarray]] = []
    limit = upper - 1 + 1e-6  # integer costs: a completion must reach upper - 1 or less
    mu_total = float(mu.sum())
    peak = 1
    for layer in range(n):
        capacity = 1024
        while capacity < 4 * len(keys):
            capacity *= 2
        table = kernels.new_table(capacity, words)
        count, position = 0, 0
        while position < len(keys):
            if ctx.budget.should_stop():
                return None, f"stopped in layer {layer + 1}/{n} ({max(peak, count):,} states at most)", False
            stop = min(len(keys), position + STATES_PER_CALL)
            position, count = kernels.expand_states(keys, times, costs, musum, last, position, stop, table, count,
                                                    p, d, w, kind, mu, mu_total, top_value, top_job, pred, limit)
            if count > max_states:
                return None, f"layer {layer + 1} exceeded {max_states:,} states", False
            if position < stop:  # table half full: double it
                bigger = kernels.new_table(2 * len(table[0]), words)
                kernels.rehash(table, bigger)
                table = bigger
        used = np.flatnonzero(table[6])
        keys, times, costs, musum, last, parent = (a[used] for a in table[:6])
        peak = max(peak, len(keys))
        history.append((last, parent))
        if len(keys) == 0:
            return None, f"every partial sequence pruned by layer {layer + 1} ({peak:,} states at most)", True
    order = np.empty(n, dtype=np.int64)
    state = int(np.argmin(costs))
    for layer in range(n - 1, -1, -1):
        last_jobs, parents = history[layer]
        order[layer] = last_jobs[state]
        state = int(parents[state])
    return order, f"subset DP: {peak:,} states at most", True


def lagrangian(model: SingleMachine, upper: int, ctx: StageContext, iterations: int) -> tuple[float, np.ndarray, str]:
    """Best Lagrangian bound within `iterations` subgradient steps (budget checked between rounds)."""
    p, d, w = model.processing_times, model.due_dates, model.weights
    mu, best_mu = np.zeros(model.n), np.zeros(model.n)
    best, factor, done = -kernels.INF, 2.0, 0
    per_call = max(1, min(50, LAGRANGIAN_WORK // (model.n * int(p.sum()))))  # ~0.1 s between budget checks
    while done < iterations and not ctx.budget.should_stop():
        step = min(per_call, iterations - done)
        best, its, exact, factor = kernels.lagrangian_bound(p, d, w, model.objective.code, float(upper), mu,
                                                            best_mu, int(p.sum()), step, factor, best)
        done += its
        if exact or its < step:
            break
    if done == 0:
        return 0.0, best_mu, "no time for a Lagrangian bound"
    return best, best_mu, f"Lagrangian bound {best:.1f} after {done} subgradient steps"


def _upper_bound(model: SingleMachine, ctx: StageContext) -> np.ndarray:
    if ctx.incumbent is not None:
        return np.asarray(ctx.incumbent.order, dtype=np.int64)
    return improve_best_rule(model, seed=ctx.seed, budget=ctx.budget)


def solve_tardiness(model: SingleMachine, ctx: StageContext) -> Outcome:
    best = _upper_bound(model, ctx)
    upper = model.cost(best)
    if upper == 0:
        return Outcome(Sequence(best), 0.0, Status.OPTIMAL, Stop.COMPLETED, "zero cost")
    decomposition = ctx.params.pop("decomposition", True)
    max_entries = int(ctx.params.pop("max_entries", MAX_ENTRIES))
    if decomposition and applies(model):
        outcome, why = _decomposition(model, best, upper, ctx, max_entries)
        if outcome is not None:
            return outcome
        note_before = why + "; "
    else:
        note_before = ""
    iterations = int(ctx.params.pop("lagrangian_iterations", 2000))
    max_states = int(ctx.params.pop("max_states", DEFAULT_MAX_STATES))
    bound, mu, note = lagrangian(model, upper, ctx, iterations)
    note = note_before + note
    lower = max(0, math.ceil(bound - 1e-6))
    ctx.progress(upper, float(lower))
    if lower >= upper:
        return Outcome(Sequence(best), float(upper), Status.OPTIMAL, Stop.COMPLETED, note + " meets the incumbent")
    dominance = ctx.params.pop("dominance", True)
    if dominance and ctx.budget.remaining() < model.n ** 3 / DOMINANCE_RATE:
        return Outcome(Sequence(best), float(lower), Status.FEASIBLE, Stop.TIME_LIMIT,
                       note + f"; no time left for the dominance relation of {model.n} jobs")
    pred = precedence_masks(model) if dominance else np.zeros((model.n, (model.n + 63) // 64), dtype=np.uint64)
    p, d, w, kind = model.processing_times, model.due_dates, model.weights, model.objective.code
    horizon = int(p.sum())
    strong_work = model.n * model.n * horizon
    if strong_work <= STRONG_TABLE_WORK and model.n * horizon <= STRONG_TABLE_CELLS:
        if ctx.budget.remaining() < strong_work / STRONG_TABLE_RATE:
            return Outcome(Sequence(best), float(lower), Status.FEASIBLE, Stop.TIME_LIMIT,
                           note + "; no time left for the interchange-aware table")
        _, *top = kernels.strong_backward(p, d, w, kind, mu, horizon, pred)
        strong = float(top[0][0, 0] + mu.sum())  # the same multipliers on the tighter relaxation
        lower = max(lower, math.ceil(strong - 1e-6))
        note += f", {strong:.1f} with interchange and precedence rules"
        ctx.progress(upper, float(lower))
        if lower >= upper:
            return Outcome(Sequence(best), float(upper), Status.OPTIMAL, Stop.COMPLETED, note + " meets the incumbent")
    else:
        top = kernels.weak_top(*kernels.backward_relaxation(p, d, w, kind, mu, horizon))
    order, dp_note, complete = subset_dp(model, upper, mu, pred, top, ctx, max_states)
    note += "; " + dp_note
    if order is not None:
        return Outcome(Sequence(order), float(model.cost(order)), Status.OPTIMAL, Stop.COMPLETED, note)
    if complete:
        return Outcome(Sequence(best), float(upper), Status.OPTIMAL, Stop.COMPLETED,
                       note + ": nothing beats the incumbent")
    return Outcome(Sequence(best), float(lower), Status.FEASIBLE, ctx.budget.stop_cause(), note)


def _decomposition(model: SingleMachine, best: np.ndarray, upper: int, ctx: StageContext,
                   max_entries: int) -> tuple[Outcome | None, str]:
    """Lawler's decomposition on a share of the budget: an Outcome when it finishes, else why not."""
    weight = int(model.weights[0])
    search = LawlerSearch(model.processing_times, model.due_dates, max_entries)
    share = ctx.budget.slice(DECOMPOSITION_SHARE * ctx.budget.remaining())
    try:
        order = search.solve(upper // weight, share.should_stop)
    except Stopped as stop:
        if ctx.budget.interrupted:
            return Outcome(Sequence(best), None, Status.FEASIBLE, Stop.INTERRUPTED,
                           f"Lawler decomposition interrupted after {search.nodes:,} nodes"), ""
        cause = "the memory cap" if str(stop) == "memory" else "its share of the time"
        return None, f"Lawler decomposition stopped by {cause} ({search.nodes:,} nodes)"
    note = f"Lawler decomposition: {search.nodes:,} nodes, {search.entries:,} remembered results"
    if order is None:
        return Outcome(Sequence(best), float(upper), Status.OPTIMAL, Stop.COMPLETED,
                       note + ": nothing beats the incumbent"), ""
    return Outcome(Sequence(order), float(model.cost(order)), Status.OPTIMAL, Stop.COMPLETED, note), ""


def solve(model: SingleMachine, ctx: StageContext) -> Outcome:
    if model.has_releases:
        return Outcome(None, None, Status.UNKNOWN, Stop.COMPLETED,
                       "skipped: release dates (the exact methods here assume every job available at time 0)")
    if model.objective is Criterion.COMPLETION:
        order = model.wspt_order()
        return Outcome(Sequence(order), float(model.cost(order)), Status.OPTIMAL, Stop.COMPLETED,
                       "Smith's ratio rule (WSPT) is optimal for total weighted completion time")
    if model.objective is Criterion.TARDY_JOBS:
        cells = (model.n + 1) * (int(model.processing_times.sum()) + 1)
        if cells > LAWLER_MOORE_MAX_CELLS:
            return Outcome(None, None, Status.UNKNOWN, Stop.COMPLETED,
                           f"skipped: Lawler-Moore table of {cells:,} cells exceeds {LAWLER_MOORE_MAX_CELLS:,}")
        value, on_time = kernels.lawler_moore(model.processing_times, model.due_dates, model.weights)
        edd = np.argsort(model.due_dates, kind="stable")
        order = np.concatenate([edd[on_time[edd]], edd[~on_time[edd]]])
        return Outcome(Sequence(order), float(value), Status.OPTIMAL, Stop.COMPLETED,
                       "Lawler-Moore DP (on-time jobs in EDD order, tardy jobs last)")
    return solve_tardiness(model, ctx)
