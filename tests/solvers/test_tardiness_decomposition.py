"""Lawler's decomposition (exact total tardiness, equal weights) against independent oracles."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

import orkit
from orkit.core.result import Status
from orkit.generators.tardiness import generate
from orkit.models.tardiness import SingleMachine
from orkit.solvers.exact.lawler_decomposition import LawlerSearch, Stopped
from tests.conftest import INSTANCES
from tests.solvers.test_tardiness_backends import subset_dp_optimum


def total_tardiness(p, d, order) -> int:
    clock, total = 0, 0
    for j in order:
        clock += int(p[j])
        total += max(0, clock - int(d[j]))
    return total


@pytest.mark.parametrize("seed", range(4))
def test_matches_brute_force_with_many_ties(seed):
    """Short, equal lengths and due dates force ties in both orders the decomposition relies on."""
    rng = np.random.default_rng(seed)
    for _ in range(150):
        n = int(rng.integers(2, 8))
        p = rng.integers(1, 5, n)
        d = rng.integers(0, int(p.sum()) + 2, n)
        optimum = min(total_tardiness(p, d, order) for order in itertools.permutations(range(n)))
        order = LawlerSearch(p, d).solve(10 ** 9, lambda: False)
        assert sorted(order.tolist()) == list(range(n))
        assert total_tardiness(p, d, order) == optimum


@pytest.mark.parametrize("k", [1, 2, 3])
def test_matches_the_plain_subset_dp_on_shipped_instances_without_weights(k):
    model = orkit.load(f"{INSTANCES / 'tardiness' / 'wt20.txt'}#{k}")
    model = replace(model, weights=np.ones(model.n, dtype=np.int64))
    optimum = subset_dp_optimum(model)
    order = LawlerSearch(model.processing_times, model.due_dates).solve(10 ** 9, lambda: False)
    assert model.evaluate(orkit.models.tardiness.Sequence(order)).objective == optimum
    # asked for anything cheaper than the optimum, it must say there is none
    assert LawlerSearch(model.processing_times, model.due_dates).solve(optimum, lambda: False) is None


def test_equal_weights_other_than_one_scale_the_optimum():
    base = generate(40, 0.6, 0.4, seed=5)
    tripled = replace(base, weights=np.full(base.n, 3, dtype=np.int64))
    plain = orkit.solve(base, backend=("heuristic", "exact"), time_limit=20, workers=1)
    result = orkit.solve(tripled, backend=("heuristic", "exact"), time_limit=20, workers=1)
    assert plain.status is Status.OPTIMAL and result.status is Status.OPTIMAL
    assert result.objective == 3 * plain.objective
    assert "Lawler decomposition" in result.stages[1].reason


def test_budget_and_memory_cap_stop_the_search():
    model = generate(100, 0.6, 0.2, seed=1)
    calls = []
    with pytest.raises(Stopped):
        LawlerSearch(model.processing_times, model.due_dates).solve(10 ** 9, lambda: calls.append(1) or True)
    assert calls  # the budget was asked
    with pytest.raises(Stopped, match="memory"):
        LawlerSearch(model.processing_times, model.due_dates, max_entries=50).solve(10 ** 9, lambda: False)


def test_unfinished_decomposition_hands_over_to_the_subset_dp():
    """Capped memory: the exact stage says why the decomposition stopped and still proves (by the
    Lagrangian bound or the subset DP behind it)."""
    model = generate(30, 0.6, 0.4, seed=2)
    result = orkit.solve(model, backend=("heuristic", "exact"), time_limit=30, workers=1,
                         backend_params={"exact": {"max_entries": 5}})
    assert result.status is Status.OPTIMAL
    reason = result.stages[1].reason
    assert "stopped by the memory cap" in reason and "Lagrangian bound" in reason


def test_large_unweighted_instance_is_proven():
    model = generate(150, 0.6, 0.4, seed=7)
    result = orkit.solve(model, time_limit=60, workers=1)
    assert isinstance(model, SingleMachine) and result.status is Status.OPTIMAL
    assert result.bound == result.objective


def test_huge_instance_skips_the_dominance_relation_it_has_no_time_for():
    """The O(n^3) closure of Emmons' relation took 87 s at n = 3000 whatever the budget said."""
    model = generate(1500, 1.0, 0.2, seed=1)
    result = orkit.solve(model, backend="exact", time_limit=2, workers=1,
                         backend_params={"exact": {"decomposition": False}})
    assert result.status is Status.FEASIBLE and result.objective is not None
    assert "no time left for the dominance relation of 1500 jobs" in result.stages[0].reason


def test_stepping_the_compiled_search_one_node_at_a_time_gives_the_same_search():
    """The search keeps all its state in the caller's arrays: tiny quotas change nothing."""
    from orkit.solvers.exact import lawler_kernels as kernels

    model = generate(60, 0.6, 0.2, seed=4)
    runs = []
    for quota in (1, 10 ** 9):
        search = LawlerSearch(model.processing_times, model.due_dates)
        args = (search.p, search.d, search.rank, search.by_rank, search.memory)
        frames, cands = kernels.start(*args, search.frames, search.state, search.cands, 10 ** 12)
        calls = 0
        while search.state[4] == 0:
            frames, cands = kernels.search(*args, frames, search.state, cands, quota, 10 ** 7)
            calls += 1
        runs.append((int(search.state[5]), search.nodes, search.entries, calls))
    assert runs[0][:3] == runs[1][:3] and runs[0][3] > 100 * runs[1][3]
