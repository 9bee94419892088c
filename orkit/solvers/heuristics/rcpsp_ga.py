"""A genetic algorithm on activity lists for RCPSP (in the style of Hartmann's GA), with every
child justified by forward-backward improvement and its improved list written back.

Two-point order crossover keeps lists precedence-feasible; mutation swaps neighbours that are
not precedence-related. Decoding runs in the compiled serial SGS, so thousands of schedules fit
in a second.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from orkit.models.rcpsp import RCPSP
from orkit.solvers.heuristics import rcpsp_kernels as kernels
from orkit.solvers.heuristics.rcpsp_sgs import mirrored_profile

# Stop after this many schedules without improvement (or as many as it took to reach the best).
STALL_SCHEDULES = 5000


@dataclass
class Individual:
    order: np.ndarray
    starts: np.ndarray
    makespan: int


class Justifier:
    """Decodes activity lists and improves them by forward-backward passes (compiled SGS)."""

    def __init__(self, model: RCPSP, rank: np.ndarray):
        self.model = model
        self.rank = rank
        self.forward = kernels.forward_project(model)
        self.mirror = kernels.mirror_project(model, self.forward)
        self.schedules = 0

    def _mirror_at(self, makespan: int) -> kernels.FlatProject:
        if not self.model.downtimes:
            return self.mirror  # a constant profile is its own mirror image
        return replace(self.mirror, profile=mirrored_profile(self.model, self.forward.profile, makespan))

    def decode(self, order: np.ndarray, passes: int = 3) -> Individual | None:
        d = self.model.durations
        starts = kernels.run_sgs(self.forward, order)
        self.schedules += 1
        if starts is None:
            return None
        makespan = int((starts + d).max())
        for _ in range(passes):
            ends = starts + d
            back = kernels.run_sgs(self._mirror_at(makespan), np.lexsort((-self.rank, -ends)))
            self.schedules += 1
            if back is None:
                break
            order = np.lexsort((self.rank, -(back + d)))
            candidate = kernels.run_sgs(self.forward, order)
            self.schedules += 1
            if candidate is None:
                break
            value = int((candidate + d).max())
            if value >= makespan:
                break
            starts, makespan = candidate, value
        order = np.lexsort((self.rank, starts))  # the justified schedule's own list (Lamarckian)
        return Individual(order, starts, makespan)


def crossover(mother: np.ndarray, father: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Two-point order crossover: head from the mother, middle and tail in the father's and mother's order."""
    n = len(mother)
    q1, q2 = sorted(rng.integers(0, n + 1, size=2))
    taken = np.zeros(n, dtype=bool)
    child = np.empty(n, dtype=np.int64)
    child[:q1] = mother[:q1]
    taken[mother[:q1]] = True
    position = q1
    for source, stop in ((father, q2), (mother, n)):
        for activity in source:
            if position >= stop:
                break
            if not taken[activity]:
                child[position] = activity
                taken[activity] = True
                position += 1
    return child


def mutate(order: np.ndarray, before: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Swap neighbours with probability `rate` when neither must come before the other."""
    order = order.copy()
    for k in np.flatnonzero(rng.random(len(order) - 1) < rate):
        a, b = order[k], order[k + 1]
        if not before[a, b]:
            order[k], order[k + 1] = b, a
    return order


def genetic_search(model: RCPSP, seeds: list[np.ndarray], rank: np.ndarray, before: np.ndarray,
                   rng: np.random.Generator, deadline: float, lower: int, max_schedules: int,
                   population: int = 200, mutation: float = 0.05, on_improve=None) -> tuple[Individual | None, int]:
    """Evolve activity lists until `deadline` (perf_counter), `max_schedules`, or the lower bound."""
    justify = Justifier(model, rank)
    pool = [ind for ind in (justify.decode(order) for order in seeds) if ind is not None]
    if not pool:
        return None, justify.schedules
    best = min(pool, key=lambda ind: ind.makespan)
    while len(pool) < population:  # fill with mutated copies of the seeds
        parent = pool[rng.integers(len(pool))]
        child = justify.decode(mutate(parent.order, before, 0.3, rng))
        if child is not None:
            pool.append(child)
    improved_at = justify.schedules
    while best.makespan > lower and justify.schedules < max_schedules and time.perf_counter() < deadline:
        if justify.schedules - improved_at > max(STALL_SCHEDULES, improved_at):
            break  # converged: more generations of this population rarely pay
        rng.shuffle(pool)
        children = []
        for k in range(0, len(pool) - 1, 2):
            mother, father = pool[k].order, pool[k + 1].order
            for a, b in ((mother, father), (father, mother)):
                child = justify.decode(mutate(crossover(a, b, rng), before, mutation, rng))
                if child is not None:
                    children.append(child)
                    if child.makespan < best.makespan:
                        best, improved_at = child, justify.schedules
                        if on_improve is not None:
                            on_improve(best.makespan)
        merged = pool + children
        merged.sort(key=lambda ind: ind.makespan)
        pool = merged[:population]
    return best, justify.schedules
