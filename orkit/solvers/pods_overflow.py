"""More pods for a place step by tabu search on overflow, one pod at a time up to the step's ceiling.

Near full utilisation the plans that place one more pod are rare, and they differ from the best
plan in which pods are left out as much as in where the others go. The search starts from the best
plan with one more pod brought in where it overloads the least, then moves pods and swaps them,
with each other and with the pods left out, until nothing is over capacity; each success brings in
the next pod. Only the step's own tier moves: the classes of higher tiers keep their counts, so
every hold of an earlier step keeps its value, and lower tiers are left out (later steps place them).
"""

from __future__ import annotations

import time

import numpy as np

from orkit.core.budget import Budget
from orkit.solvers.heuristics.overflow_kernels import overflow_search
from orkit.solvers.pods_goals import Step, StepGoals

CHUNK_SECONDS = 0.005  # of tabu search between looks at the budget (an iteration takes 5 us to a few ms)
LEVEL_ITERATIONS = 500  # iterations to fit one more pod at most: on a 1 s sample of the grid's util 1.0 and 1.05
# families, successes took 1-380 iterations, and failures ran to the budget (50,000 iterations on 9 pods)


def place_more(goals: StepGoals, holds: list[tuple[Step, int]], step: Step, best: np.ndarray, top: int,
               budget: Budget) -> np.ndarray | None:
    """Class counts placing more of the step's pods than `best` (the most reached, at most `top`) that
    keep every hold, or None when the search fits no more within `budget`."""
    k = goals.k
    members = goals.members(step)
    level = k.priority[members] == goals.model.tiers[step.tier]
    movable, frozen = members[level], members[~level]
    nodes = k.free.shape[0]
    capacity = k.free - best[frozen].T @ k.demand[frozen]
    kind = np.repeat(np.arange(len(movable)), k.size[movable])
    demand = k.demand[movable][kind]
    allowed = k.count_limits[movable][kind] > 0
    running = k.running[movable]
    assign = np.full(len(kind), nodes, np.int64)
    for position, c in enumerate(movable):
        on = np.repeat(np.arange(nodes), best[c])
        assign[np.flatnonzero(kind == position)[:len(on)]] = on
    tabu = np.zeros((len(kind), nodes + 1), np.int64)
    found, iteration, chunk = None, 0, 4
    for _ in range(top - goals.value(step, best)):
        if not _bring_in_one(demand, allowed, capacity, assign):
            break
        fitted, level = False, iteration
        while not fitted and iteration - level < LEVEL_ITERATIONS and not budget.should_stop():
            started, before = time.perf_counter(), iteration
            iteration, fitted = overflow_search(demand, kind, running, allowed, capacity, assign, tabu, iteration,
                                                min(chunk, level + LEVEL_ITERATIONS - iteration))
            if iteration > before:  # as many iterations as take CHUNK_SECONDS at the rate just measured
                chunk = max(1, int(CHUNK_SECONDS * (iteration - before) / max(time.perf_counter() - started, 1e-6)))
        if not fitted:
            break
        counts = np.zeros_like(best)
        counts[frozen] = best[frozen]
        np.add.at(counts, (movable[kind[assign < nodes]], assign[assign < nodes]), 1)
        if not _keeps(goals, holds, counts):
            break
        found = counts
    return found


def _bring_in_one(demand: np.ndarray, allowed: np.ndarray, capacity: np.ndarray, assign: np.ndarray) -> bool:
    """Put one left-out pod on the node where it adds the least overflow (relative to the largest
    capacity per resource); False when no left-out pod is allowed anywhere."""
    nodes = capacity.shape[0]
    out = np.flatnonzero(assign == nodes)
    out = out[allowed[out].any(axis=1)]
    if len(out) == 0:
        return False
    load = np.zeros_like(capacity)
    np.add.at(load, assign[assign < nodes], demand[assign < nodes])
    scale = np.maximum(capacity.max(axis=0), 1).astype(np.float64)
    before = (np.maximum(load - capacity, 0) / scale).sum(axis=1)  # [node]
    after = (np.maximum(load[None] + demand[out][:, None] - capacity[None], 0) / scale).sum(axis=2)
    added = np.where(allowed[out], after - before[None], np.inf)  # [out pod, node]
    i, n = np.unravel_index(int(np.argmin(added)), added.shape)
    assign[out[i]] = n
    return True


def _keeps(goals: StepGoals, holds: list[tuple[Step, int]], counts: np.ndarray) -> bool:
    """Whether counts fit every node, within each class's admissible nodes, and keep every hold."""
    fits = goals.k.fits(counts.T)
    return bool(np.diagonal(fits).all()) and all(
        goals.sign(held) * (goals.value(held, counts) - value) >= 0 for held, value in holds)
