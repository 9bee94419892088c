"""The compiled SGS kernel and the genetic algorithm: same schedules as the reference SGS, lists
that stay precedence-feasible, and verified results."""

import numpy as np
import pytest

import orkit
from orkit import Status
from orkit.solvers.heuristics import rcpsp_kernels as kernels
from orkit.solvers.heuristics.rcpsp import priority_rules
from orkit.solvers.heuristics.rcpsp_ga import crossover, mutate
from orkit.solvers.heuristics.rcpsp_sgs import activity_list, forward_instance, serial_sgs
from tests.solvers.test_rcpsp_backends import extended_project


def _precedence_feasible(order, model) -> bool:
    position = np.empty(model.n, dtype=int)
    position[order] = np.arange(model.n)
    return all(position[i] < position[j] for i, j in model.precedences)


@pytest.mark.parametrize("which", ["j301", "extended"])
def test_kernel_sgs_matches_the_reference_sgs(which, j301):
    model = orkit.load(j301) if which == "j301" else extended_project()
    inst, flat = forward_instance(model), kernels.forward_project(model)
    rng = np.random.default_rng(1)
    lft = priority_rules(model)["LFT"]
    for _ in range(30):
        order = np.array(activity_list(inst, lft, rng))
        expected, got = serial_sgs(inst, order), kernels.run_sgs(flat, order)
        assert (expected is None and got is None) or np.array_equal(expected, got)
        if got is not None:
            assert model.evaluate(orkit.RCPSPSolution(got)).feasible


def test_crossover_and_mutation_keep_lists_precedence_feasible(j301):
    model = orkit.load(j301)
    inst = forward_instance(model)
    rng = np.random.default_rng(2)
    lft = priority_rules(model)["LFT"]
    before = model.precedence_reach
    for _ in range(50):
        mother = np.array(activity_list(inst, lft, rng))
        father = np.array(activity_list(inst, lft, rng))
        child = mutate(crossover(mother, father, rng), before, 0.3, rng)
        assert sorted(child) == list(range(model.n))
        assert _precedence_feasible(child, model)


def test_standalone_heuristic_runs_the_genetic_search(hard_j60):
    model = orkit.load(hard_j60)
    result = orkit.solve(model, backend="heuristic", time_limit=3, seed=0)
    assert result.status is Status.FEASIBLE and model.evaluate(result.solution).feasible
    rules_only = orkit.solve(model, backend=("heuristic", "cpsat"), time_limit=3).stages[0].objective
    assert result.objective <= rules_only
    assert "GA schedules" in result.stages[0].reason


def test_kernel_compile_time_is_reported():
    assert kernels.compile_seconds() > 0
