"""Single-machine heuristic backend: every dispatching rule, then an iterated local search
(dynasearch swaps + insertions, random-swap kicks) from the best rule's sequence.

The search runs in rounds of compiled kicks; between rounds it checks the budget, so it is
deterministic for a seed whenever it ends by stalling rather than by the clock.
"""

from __future__ import annotations

import numpy as np

from orkit.core.backend import Outcome, StageContext
from orkit.core.result import Status
from orkit.models.tardiness import Sequence, SingleMachine
from orkit.solvers.exact.lawler_decomposition import applies as decomposition_applies
from orkit.solvers.heuristics.tardiness_kernels import iterated_local_search
from orkit.solvers.heuristics.tardiness_rules import RULES

MAX_KICKS_PER_ROUND = 100
ROUND_WORK = 10_000_000  # about n^3 per kick: keeps a round (between budget checks) under ~0.1 s
PASS_WORK = 20_000_000  # a descent pass costs about n^2 (insertion) to n·window^2 (dynasearch)
STALL_ALONE = 2_000  # kicks without improvement that end the search when it is the last stage
STALL_BEFORE_EXACT = 500  # ... and when an exact stage follows,
# but not before this share of the budget (capped at MIN_SEARCH_SECONDS) is spent searching:
# under a tight limit the search is what finds optima (wt50 at 1 s: 123/125 optima when handing
# over after 500 stalled kicks, 125/125 when searching ~0.9 s), the proof needs more time anyway.
MIN_SEARCH_SHARE = 0.9
MIN_SEARCH_SECONDS = 1.0
MIN_SEARCH_SECONDS_PER_N3 = 1e-5  # small instances need far less: 0.08 s at n = 20, 1 s from n = 47
# Lawler's decomposition (the exact stage, equal weights) finds and proves tt100 optima from any
# start in at most ~0.02 s: before it, a short search is enough (tt100 at 1 s: 41 proven after
# the long search, 200 after stopping at 50 stalled kicks).
STALL_BEFORE_DECOMPOSITION = 50
# Kicks grow stronger the longer the search stalls (tt100 #22 stays at 48010 > 47966 for 5 s
# with the mildest kicks, whatever the seed; growing every 100 stalled kicks finds it in ~2 s).
STALL_PER_STRENGTH = 100
MAX_STRENGTH = 4

def best_rule(model: SingleMachine) -> tuple[np.ndarray, str]:
    """The cheapest sequence among all dispatching rules (MDDC+ only where it is cheap: n <= 200)."""
    best, best_cost, name = None, None, ""
    for rule, build in RULES.items():
        if rule == "MDDC+" and model.n > 200:
            continue
        order = build(model)
        cost = model.cost(order)
        if best_cost is None or cost < best_cost:
            best, best_cost, name = order, cost, rule
    return np.asarray(best, dtype=np.int64), name


def improve(model: SingleMachine, order: np.ndarray, seed: int, max_stall: int, budget=None,
            on_improve=None, min_seconds: float = 0.0) -> np.ndarray:
    """Iterated local search from `order` until `max_stall` kicks bring nothing (but not before
    `min_seconds` of the budget have passed), the model's bound is reached, or the budget says
    stop. Returns the best sequence."""
    p, d, w, r = model.processing_times, model.due_dates, model.weights, model.releases
    kind, dynasearch = model.objective.code, not model.has_releases
    target = int(np.ceil(model.bound() or 0))
    best = np.array(order, dtype=np.int64)
    best_cost = model.cost(best)
    stall, round_ = 0, 0
    kicks_per_round = max(1, min(MAX_KICKS_PER_ROUND, ROUND_WORK // model.n ** 3))
    max_passes = max(4, PASS_WORK // model.n ** 2)
    def keep_going() -> bool:
        return stall < max_stall or (budget is not None and budget.elapsed() < min_seconds)

    while keep_going() and best_cost > target:
        if budget is not None and budget.should_stop():
            break
        trial = best.copy()
        cost, kicks = iterated_local_search(trial, p, d, w, r, kind, dynasearch, seed * 7919 + round_,
                                            kicks_per_round, max(max_stall - stall, kicks_per_round), target,
                                            max_passes, 1 + min(stall // STALL_PER_STRENGTH, MAX_STRENGTH - 1))
        round_ += 1
        if cost < best_cost:
            best, best_cost, stall = trial, cost, 0
            if on_improve is not None:
                on_improve(best_cost)
        else:
            stall += max(int(kicks), 1)
    return best


def improve_best_rule(model: SingleMachine, seed: int = 0, budget=None) -> np.ndarray:
    """The best rule's sequence improved until the search stalls (or the budget ends)."""
    return improve(model, best_rule(model)[0], seed, STALL_BEFORE_EXACT, budget)


def solve(model: SingleMachine, ctx: StageContext) -> Outcome:
    order, rule = best_rule(model)
    ctx.progress(model.cost(order), None)
    if ctx.is_last:
        stall, min_seconds = STALL_ALONE, 0.0
    elif "exact" in ctx.following and decomposition_applies(model):
        stall, min_seconds = STALL_BEFORE_DECOMPOSITION, 0.0
    else:
        stall = STALL_BEFORE_EXACT
        min_seconds = min(MIN_SEARCH_SECONDS, MIN_SEARCH_SHARE * ctx.budget.time_limit,
                          MIN_SEARCH_SECONDS_PER_N3 * model.n ** 3)
    stall = int(ctx.params.pop("max_stall", stall))
    best = improve(model, order, ctx.seed, stall, ctx.budget, lambda cost: ctx.progress(cost, None),
                   float(ctx.params.pop("min_seconds", min_seconds)))
    how = f"best rule {rule} ({model.cost(order)}), iterated dynasearch/insertion search -> {model.cost(best)}"
    return Outcome(Sequence(best), model.bound(), Status.FEASIBLE, ctx.budget.stop_cause(), how)
