"""Every single-machine backend against brute force on small instances, and against each other."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

import orkit
from orkit.core.result import Status
from orkit.generators.tardiness import generate
from orkit.models.tardiness import SingleMachine
from orkit.solvers.heuristics.tardiness_rules import RULES
from orkit.solvers.tardiness_dominance import respect_dominance
from tests.conftest import INSTANCES

BACKENDS = ["heuristic", "exact", "cpsat", "mip", "auto"]


def brute_force(model: SingleMachine) -> int:
    """Optimum over all permutations, with the schedule recomputed here, not by the model."""
    p, d, w, r = model.processing_times, model.due_dates, model.weights, model.releases
    best = None
    for order in itertools.permutations(range(model.n)):
        t, total = 0, 0
        for j in order:
            t = max(t, r[j]) + p[j]
            if model.objective == "tardiness":
                total += w[j] * max(0, t - d[j])
            elif model.objective == "completion":
                total += w[j] * t
            else:
                total += w[j] * (t > d[j])
        best = total if best is None else min(best, total)
    return int(best)


def small_instances():
    rng = np.random.default_rng(11)
    for k in range(4):
        n = 6
        releases = rng.integers(0, 20, n) if k % 2 else None
        base = SingleMachine(rng.integers(1, 12, n), rng.integers(0, 40, n), rng.integers(1, 6, n), releases,
                             name=f"small{k}")
        for objective in ("tardiness", "completion", "tardy_jobs"):
            yield replace(base, objective=objective)


@pytest.mark.parametrize("model", list(small_instances()), ids=lambda m: f"{m.name}-{m.objective}")
@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_matches_brute_force(model, backend):
    optimum = brute_force(model)
    result = orkit.solve(model, backend=backend, time_limit=5, seed=1, workers=1)
    if result.objective is None:  # only a skipped stage may end without a solution
        assert backend == "exact" and model.has_releases and "release dates" in result.stages[0].reason
        return
    assert model.evaluate(result.solution).objective == result.objective >= optimum
    if result.status is Status.OPTIMAL:
        assert result.objective == optimum
    if backend in ("cpsat", "mip", "auto"):
        assert result.status is Status.OPTIMAL


def subset_dp_optimum(model: SingleMachine) -> int:
    """Independent oracle for n <= 20: the plain DP over all 2^n subsets (no bounds, no dominance),
    vectorised layer by layer over subset size."""
    n, p, d, w = model.n, model.processing_times, model.due_dates, model.weights
    masks = np.arange(1 << n)
    bits = (masks[:, None] >> np.arange(n)) & 1
    length, size = bits @ p, bits.sum(axis=1)
    best = np.full(1 << n, np.iinfo(np.int64).max // 2)
    best[0] = 0
    for k in range(n):
        layer = masks[size == k]
        for j in range(n):
            free = layer[bits[layer, j] == 0]
            end = length[free] + p[j]
            np.minimum.at(best, free | (1 << j), best[free] + w[j] * np.maximum(end - d[j], 0))
    return int(best[-1])


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_exact_matches_the_plain_subset_dp_on_shipped_instances(k):
    model = orkit.load(f"{INSTANCES / 'tardiness' / 'wt20.txt'}#{k}")
    exact = orkit.solve(model, backend="exact", time_limit=20, workers=1)
    assert exact.status is Status.OPTIMAL
    assert exact.objective == subset_dp_optimum(model)


def test_exact_proves_a_forty_job_instance():
    model = generate(40, 0.6, 0.4, seed=3, weighted=True)
    result = orkit.solve(model, time_limit=30, workers=1)
    assert result.status is Status.OPTIMAL
    assert result.bound == result.objective


def test_lagrangian_bound_never_exceeds_the_optimum():
    from orkit.solvers.exact import tardiness_kernels as k

    for model in small_instances():
        if model.has_releases or model.objective != "tardiness":
            continue
        p, d, w = (np.ascontiguousarray(a) for a in (model.processing_times, model.due_dates, model.weights))
        optimum = brute_force(model)
        bound, _, _, _ = k.lagrangian_bound(p, d, w, 0, float(optimum) + 50, np.zeros(model.n), np.zeros(model.n),
                                            int(p.sum()), 500, 2.0, -k.INF)
        assert bound <= optimum + 1e-6


def test_every_rule_gives_a_permutation_and_edd_is_optimal_when_all_can_be_on_time():
    model = generate(30, 0.2, 0.4, seed=5, weighted=True)
    for rule, build in RULES.items():
        order = build(model)
        assert sorted(order.tolist()) == list(range(30)), rule
    easy = SingleMachine([2, 3, 1], [10, 5, 2])  # EDD: 2, 1, 0 completes at 1, 4, 6 -> all on time
    assert easy.cost(RULES["EDD"](easy)) == 0


def test_dominance_repair_never_costs():
    rng = np.random.default_rng(2)
    for seed in range(20):
        model = generate(15, 0.6, 0.4, seed=seed, weighted=True)
        order = rng.permutation(15)
        assert model.cost(respect_dominance(model, order)) <= model.cost(order)


def test_same_seed_same_answer():
    model = generate(60, 0.8, 0.2, seed=9, weighted=True)
    params = {"heuristic": {"max_stall": 300}}  # ends by stalling, not by the clock
    first = orkit.solve(model, backend="heuristic", time_limit=30, seed=4, workers=1, backend_params=params)
    second = orkit.solve(model, backend="heuristic", time_limit=30, seed=4, workers=1, backend_params=params)
    assert first.solution.order.tolist() == second.solution.order.tolist()


def test_generator_is_seeded_and_follows_the_recipe():
    a, b = generate(50, 0.6, 0.4, seed=1, weighted=True), generate(50, 0.6, 0.4, seed=1, weighted=True)
    assert a.to_dict() == b.to_dict()
    total = int(a.processing_times.sum())
    assert a.processing_times.min() >= 1 and a.processing_times.max() <= 100
    assert a.weights.min() >= 1 and a.weights.max() <= 10
    assert a.due_dates.min() >= total * (1 - 0.6 - 0.2) - 1 and a.due_dates.max() <= total * (1 - 0.6 + 0.2)


@pytest.mark.parametrize("seed, tf, rdd", [(0, 0.6, 0.2), (1, 0.4, 1.0), (2, 0.8, 0.6)])
def test_emmons_dominance_keeps_an_optimum(seed, tf, rdd):
    """The subset DP with Emmons' precedences, without any dominance, and Lawler's decomposition
    (the default for equal weights) must agree."""
    model = generate(30, tf, rdd, seed=seed)
    runs = [orkit.solve(model, backend=("heuristic", "exact"), time_limit=30, workers=1,
                        backend_params={"exact": params})
            for params in ({"decomposition": False}, {"decomposition": False, "dominance": False}, {})]
    assert all(run.status is Status.OPTIMAL for run in runs)
    assert len({run.objective for run in runs}) == 1
    assert "Lawler" not in runs[0].stages[1].reason and "Lawler decomposition" in runs[2].stages[1].reason
