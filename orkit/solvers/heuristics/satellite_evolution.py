"""An evolutionary algorithm in the spirit of FFEEA (Jiang et al. 2024): our reproduction of the
study's method from its published description, kept as the baseline the exact stages are
measured against at equal wall time.

Individuals are random keys over the usable windows; decoding packs windows in key order with the
setup-aware packer (the expensive fitness). Crossover is uniform with a rate that adapts to how
often it produced a child better than its parents; mutation re-draws a few keys. The fuzzy step:
a child whose keys are nearly those of an individual already decoded (share of equal keys above
a threshold) inherits that individual's fitness instead of being decoded. Only decoded plans are
ever returned.
"""

from __future__ import annotations

import numpy as np

from orkit.core.backend import Outcome, StageContext
from orkit.core.result import Status
from orkit.models.satellite import LinkScheduling
from orkit.solvers.heuristics.satellite import quality_order
from orkit.solvers.heuristics.satellite_packing import pack

MIN_SECONDS = 0.0
POPULATION = 16
TOURNAMENT = 3
MUTATION_SHARE = 0.01  # of the keys re-drawn per mutation
SIMILARITY = 0.98  # share of equal keys above which a child's fitness is estimated, not decoded
RATE_BOUNDS = (0.2, 0.95)


def _decode(model: LinkScheduling, keys: np.ndarray, windows: np.ndarray, ctx: StageContext):
    return pack(model, windows[np.argsort(-keys, kind="stable")], ctx.budget.should_stop)


def solve(model: LinkScheduling, ctx: StageContext) -> Outcome:
    rng = np.random.default_rng(ctx.seed)
    windows = np.flatnonzero(model.usable)
    n = len(windows)
    if n == 0:
        return Outcome(None, model.bound(), Status.FEASIBLE, ctx.budget.stop_cause(), "no usable window")
    # the greedy's order as keys, then noisy copies of it
    position = np.empty(model.n_windows)
    position[quality_order(model)] = np.arange(model.n_windows)
    rank = -position[windows]
    base = (rank - rank.min()) / max(1.0, np.ptp(rank))
    population = [base.copy()] + [base + rng.normal(0, 0.05 * (1 + j % 4), n) for j in range(POPULATION - 1)]
    fitness: list[float] = []
    best, best_value, decoded, estimated = None, -1, 0, 0
    archive: list[tuple[np.ndarray, float]] = []
    for keys in population:
        if ctx.budget.should_stop() and best is not None:
            fitness.append(-1.0)
            continue
        packer = _decode(model, keys, windows, ctx)
        decoded += 1
        fitness.append(float(packer.value))
        archive.append((keys, float(packer.value)))
        if packer.value > best_value:
            best, best_value = packer, packer.value
            ctx.progress(best_value, None)
    rate, generations = 0.7, 0
    while not ctx.budget.should_stop():
        generations += 1
        parents = [_tournament(fitness, rng) for _ in range(2)]
        a, b = population[parents[0]], population[parents[1]]
        crossed = rng.random() < rate
        child = np.where(rng.random(n) < 0.5, a, b) if crossed else a.copy()
        flip = rng.random(n) < MUTATION_SHARE
        child[flip] = rng.random(int(flip.sum()))
        twin = next((value for keys, value in archive[-4 * POPULATION:]
                     if np.mean(keys == child) >= SIMILARITY), None)
        if twin is not None:
            value = twin
            estimated += 1
        else:
            packer = _decode(model, child, windows, ctx)
            decoded += 1
            value = float(packer.value)
            archive.append((child, value))
            if packer.value > best_value:
                best, best_value = packer, packer.value
                ctx.progress(best_value, None)
        if crossed:  # adapt the crossover rate to its recent success
            better = value > max(fitness[parents[0]], fitness[parents[1]])
            rate = float(np.clip(rate + (0.02 if better else -0.01), *RATE_BOUNDS))
        worst = int(np.argmin(fitness))
        if value > fitness[worst]:
            population[worst], fitness[worst] = child, value
    return Outcome(best.plan(), model.bound(), Status.FEASIBLE, ctx.budget.stop_cause(),
                   f"evolution: {generations} generations, {decoded} decoded, {estimated} fitness estimates "
                   f"(fuzzy), crossover rate {rate:.2f}")


def _tournament(fitness: list[float], rng: np.random.Generator) -> int:
    picks = rng.choice(len(fitness), size=min(TOURNAMENT, len(fitness)), replace=False)
    return int(max(picks, key=lambda j: fitness[j]))
