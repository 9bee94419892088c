"""DNN memory planning: reader, the plan checker, the baseline, and the exact models cross-checked
against an enumeration of every operator order of a small graph."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

import orkit
from orkit import InstanceError
from orkit.core.backend import StageContext
from orkit.core.budget import Budget
from orkit.core.result import Status
from orkit.models.dnn import DnnMemory, MemoryPlan
from orkit.solvers.cpsat import dnn as cpsat_dnn
from orkit.solvers.heuristics.dnn import replay
from tests.conftest import DATA, INSTANCES

TINY = DATA / "dnn" / "tiny.json"


def tiny(capacity: int | None = None, order=None) -> DnnMemory:
    from dataclasses import replace

    return replace(orkit.load(TINY), capacity=capacity, order=order)


def topological_orders(model: DnnMemory):
    for order in itertools.permutations(range(model.m)):
        if model.order_problem(np.array(order)) is None:
            yield np.array(order)


def test_reader_derives_producers_consumers_and_the_budget():
    model = orkit.load(TINY)
    assert model.problem == "dnn" and model.m == 7 and model.n == 7
    assert model.largest_operator == (11, 3)  # op c: a's output (6) + its own (5)
    assert list(model.consumers[2]) == [4, 5] and model.producer[6] == 6
    assert model.compulsory_bytes == 4 + 2  # the graph input and the graph output
    shipped = orkit.load(INSTANCES / "dnn" / "resnet50.json")
    assert shipped.m == 177 and shipped.largest_operator[0] == 2408448


def bare(document: dict) -> dict:
    """Without the optional producer/consumer fields the reader cross-checks first."""
    for t in document["tensors"]:
        t.pop("producer"), t.pop("consumers")
    return document


@pytest.mark.parametrize("change, message", [
    (lambda d: bare(d)["ops"][2].update(inputs=[9]), "unknown tensor 9"),
    (lambda d: bare(d)["ops"][1].update(inputs=[6]), "cycle"),
    (lambda d: d["ops"][2].update(inputs=[9]), "consumer 2 does not list it as an input"),
    (lambda d: d["tensors"][3].update(bytes=0), "bytes must be a positive integer"),
    (lambda d: d["tensors"][3].update(producer=1), "does not list it as an output"),
    (lambda d: d["ops"][4].update(id=7), "ids must count"),
    (lambda d: d.pop("tensors"), "'tensors' must be a non-empty list"),
])
def test_broken_graphs_name_the_file_and_the_problem(tmp_path, change, message):
    document = json.loads(TINY.read_text())
    change(document)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(document))
    with pytest.raises(InstanceError) as err:
        orkit.load(path)
    assert message in str(err.value) and "broken.json" in str(err.value)


def plan(order, segments) -> MemoryPlan:
    s = np.array(segments)
    return MemoryPlan(order, s[:, 0], s[:, 1], s[:, 2], s[:, 3])


# listed order; tensor: (first, last) steps of its uses: 0:(0,1) 1:(1,3) 2:(2,5) 3:(3,4) 4:(4,6) 5:(5,6) 6:(6,6)
NO_SPILL = [[0, 0, 1, 0], [1, 1, 3, 4], [2, 2, 5, 0], [3, 3, 4, 10], [4, 4, 6, 3], [5, 5, 6, 10], [6, 6, 6, 5]]


def test_checker_accepts_a_plan_and_prices_a_spill():
    model = tiny(16)
    verdict = model.evaluate(plan(range(7), NO_SPILL))
    assert verdict.feasible and verdict.objective == 0, verdict.violations
    spilled = [row for row in NO_SPILL if row[0] != 2] + [[2, 2, 2, 0], [2, 4, 5, 0]]
    verdict = model.evaluate(plan(range(7), spilled))
    assert verdict.feasible and verdict.objective == 2 * 3  # tensor 2 written once, read once
    assert tiny(None).evaluate(plan(range(7), NO_SPILL)).objective == 15  # the peak address


@pytest.mark.parametrize("segments, order, words", [
    ([r for r in NO_SPILL if r[0] != 3] + [[3, 3, 3, 10]], range(7), "not resident at step 4"),
    ([r for r in NO_SPILL if r[0] != 3] + [[3, 3, 4, 9]], range(7), "overlap"),
    ([r for r in NO_SPILL if r[0] != 3] + [[3, 3, 4, 12]], range(7), "capacity"),
    ([r for r in NO_SPILL if r[0] != 1] + [[1, 2, 3, 4]], range(7), "not at its producer's step"),
    (NO_SPILL, [0, 2, 1, 3, 4, 5, 6], "runs before"),
    ([r for r in NO_SPILL if r[0] != 6] + [[6, 6, 7, 5]], range(7), "after its last use"),
])
def test_checker_names_what_is_wrong(segments, order, words):
    verdict = tiny(16).evaluate(plan(order, segments))
    assert not verdict.feasible and any(words in v for v in verdict.violations), verdict.violations


def test_without_capacity_nothing_may_be_spilled():
    spilled = [row for row in NO_SPILL if row[0] != 2] + [[2, 2, 2, 0], [2, 4, 5, 0]]
    verdict = tiny(None).evaluate(plan(range(7), spilled))
    assert not verdict.feasible and "spilled" in verdict.violations[0]


def test_a_fixed_order_is_enforced():
    model = tiny(16, order=(0, 1, 3, 2, 4, 5, 6))
    assert not model.evaluate(plan(range(7), NO_SPILL)).feasible
    result = orkit.solve(model, time_limit=10, workers=1)
    assert list(result.solution.order) == [0, 1, 3, 2, 4, 5, 6]


@pytest.mark.parametrize("capacity", [11, 12, 13, 14])
def test_free_order_optimum_is_the_best_fixed_order_optimum(capacity):
    """The chain's OPTIMAL over free orders equals the minimum, over every topological order, of the
    joint model's proven optimum for that order; the relaxation bound never exceeds it."""
    model = tiny(capacity)
    per_order = []
    for order in topological_orders(model):
        compiled = cpsat_dnn.joint_model(model, order)
        outcome = compiled.run(StageContext(Budget(10), workers=1))
        assert outcome.status is Status.OPTIMAL
        assert model.evaluate(outcome.solution).objective == round(outcome.bound)
        per_order.append(round(outcome.bound))
    relaxed = cpsat_dnn.order_relaxation(model, StageContext(Budget(10), workers=1), None)
    assert relaxed.bound <= min(per_order)
    result = orkit.solve(model, time_limit=20, workers=1)
    assert result.status is Status.OPTIMAL and result.objective == min(per_order)
    assert model.evaluate(result.solution).feasible
    baseline = orkit.solve(model, backend="baseline", time_limit=5)
    assert baseline.objective >= result.objective


def test_peak_variant_matches_enumeration():
    model = tiny(None)
    from orkit.solvers.heuristics.dnn import no_spill_instance

    best = min(orkit.solve(no_spill_instance(model, order, None), backend="exact", time_limit=5).objective
               for order in topological_orders(model))
    result = orkit.solve(model, time_limit=20, workers=1)
    assert result.status is Status.OPTIMAL and result.objective == best


def test_capacity_below_the_largest_operator_is_infeasible_with_the_reason():
    result = orkit.solve(tiny(10), time_limit=5)
    assert result.status is Status.INFEASIBLE and "operator c" in result.reason


@pytest.mark.parametrize("policy", ["furthest", "window"])
def test_replays_give_verified_plans_on_random_graphs(policy):
    rng = np.random.default_rng(7)
    for _ in range(20):
        m = 12
        inputs = [()] + [tuple(sorted(set(rng.integers(0, o, size=int(rng.integers(1, 3))).tolist())))
                         for o in range(1, m)]
        model = DnnMemory(tuple(inputs), tuple((o,) for o in range(m)), rng.integers(1, 20, m))
        need = int(model.largest_operator[0])
        for capacity in (need, need + 7):
            bounded = model.with_capacity(capacity)
            found = replay(bounded, bounded.listed_order, policy)
            assert found is not None and bounded.evaluate(found).feasible


def test_resnet50_at_its_largest_operator_runs_without_spills():
    """At M_R the listed order of ResNet-50 keeps every tensor resident; found and verified."""
    model = orkit.load(INSTANCES / "dnn" / "resnet50.json").with_capacity(2408448)
    result = orkit.solve(model, time_limit=30, workers=2)
    assert result.has_solution and model.evaluate(result.solution).feasible
    baseline = orkit.solve(model, backend="baseline", time_limit=5)
    assert result.objective <= baseline.objective


def test_cli_solves_a_graph_with_a_capacity():
    from tests.test_cli import run

    out = run("solve", str(TINY), "--capacity", "12", "--time-limit", "10", "-q")
    assert out.exit_code == 0 and "OPTIMAL" in out.output
