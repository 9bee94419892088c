"""Pod packing: the model's meaning, manifests, the generator, the default scheduler, and the
solvers against brute force on small clusters."""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import orkit
from orkit.core.backend import StageContext
from orkit.core.budget import Budget
from orkit.core.errors import InstanceError, ModelError
from orkit.core.result import Status
from orkit.formats.kube import parse_quantity, read_manifest
from orkit.generators.pods import generate, replica_sets
from orkit.models.pods import Cluster, Node, Pod, PodObjective, Taint, Toleration
from orkit.solvers import pods_patterns
from orkit.solvers.cpsat.pods import CPSATSteps
from orkit.solvers.exact import knapsack_kernels
from orkit.solvers.exact.bin_completion import FOUND, NONE, fill_within_slack
from orkit.solvers.exact.knapsack_kernels import (
    bounded_knapsack,
    bounded_knapsacks,
    compile_seconds,
    knapsack_contents_above,
)
from orkit.solvers.heuristics.kube_default import DefaultScheduler, default_schedule
from orkit.solvers.heuristics.overflow_kernels import overflow_search
from orkit.solvers.heuristics.pods import move_repairs
from orkit.solvers.heuristics.pods_repack import repack
from orkit.solvers.pods_classes import group, least_disruptive_nodes
from orkit.solvers.pods_fill import ceiling_out_of_reach, fill_to_ceiling, most_placed_by_totals
from orkit.solvers.pods_goals import Step, StepGoals, score_bound
from orkit.solvers.pods_overflow import place_more
from orkit.solvers.pods_patterns import pattern_search
from orkit.solvers.pods_steps import run_steps, settled_mask
from tests.conftest import INSTANCES
from tests.test_cli import run

CLUSTER_YAML = INSTANCES / "pods" / "cluster.yaml"


def small(requests, capacity=(10, 10), running=None, priorities=None, objective="lexicographic"):
    """Nodes with (cpu, memory) capacities and pods with (cpu, memory) requests."""
    nodes = tuple(Node(f"n{k}", {"cpu": c, "memory": m}) for k, (c, m) in enumerate(capacity))
    running = running or [None] * len(requests)
    priorities = priorities or [0] * len(requests)
    pods = tuple(Pod(f"p{k}", {"cpu": c, "memory": m}, prio, None if node is None else f"n{node}")
                 for k, ((c, m), node, prio) in enumerate(zip(requests, running, priorities)))
    return Cluster(nodes, pods, objective)


def test_score_vector_counts_placements_then_disruption_per_tier():
    model = small([(6, 1), (6, 1), (3, 1)], capacity=[(10, 10), (10, 10)], running=[0, None, 0],
                  priorities=[2, 2, 1])
    stay = np.array([0, 1, 0])
    assert model.evaluate(model.plan(stay)).objective == (2, 0, 3, 0)
    moved = np.array([0, 1, 1])  # p2 moves: disruption 2 in the lowest tier
    assert model.evaluate(moved).objective == (2, 0, 3, -2)
    evicted = np.array([0, 1, -1])
    assert model.evaluate(evicted).objective == (2, 0, 2, -1)
    assert model.evaluate(stay).objective > model.evaluate(moved).objective > model.evaluate(evicted).objective


def test_evaluate_names_every_broken_rule():
    nodes = (Node("a", {"cpu": 4}), Node("b", {"cpu": 4}, {"disk": "ssd"}, (Taint("gpu", "yes"),)))
    pods = (Pod("x", {"cpu": 3}, node="a", protected=True), Pod("y", {"cpu": 3}, selector={"disk": "ssd"}),
            Pod("z", {"cpu": 2}))
    model = Cluster(nodes, pods)
    verdict = model.evaluate(model.plan(np.array([1, 1, 0])))
    text = " ".join(verdict.violations)
    assert not verdict.feasible
    assert "pod x is protected" in text
    assert "pod y may not run on node b" in text  # the taint is not tolerated
    assert "node a: cpu requests 2" not in text
    tolerant = Pod("y", {"cpu": 3}, selector={"disk": "ssd"}, tolerations=(Toleration("gpu", "Exists"),))
    model = Cluster(nodes, (pods[0], tolerant, Pod("z", {"cpu": 2})))
    assert model.evaluate(np.array([0, 1, 0])).violations == ["node a: cpu requests 5 > allocatable 4"]
    assert model.evaluate(np.array([0, 1, -1])).feasible


@pytest.mark.parametrize("build, message", [
    (lambda: Cluster((Node("a", {"cpu": 1}),), (Pod("x", {"cpu": 1}, node="b"),)), "runs on unknown node 'b'"),
    (lambda: Cluster((Node("a", {"cpu": 1}),), (Pod("x", {"cpu": -1}),)), "pod x: request cpu must be between"),
    (lambda: Cluster((Node("a", {"cpu": 1}), Node("a", {"cpu": 1})), ()), "node name 'a' appears twice"),
    (lambda: Cluster((Node("a", {"cpu": 1}),), (Pod("x", {}, protected=True),)), "protected but not running"),
    (lambda: Cluster((), ()), "no nodes"),
])
def test_bad_models_are_refused_with_the_reason(build, message):
    with pytest.raises(ModelError, match=message):
        build()


def test_protected_pods_that_overload_their_node_make_the_instance_infeasible():
    model = small([(6, 1), (6, 1)], capacity=[(10, 10)], running=[0, 0])
    model = Cluster(model.nodes, tuple(Pod(p.name, p.requests, node=p.node, protected=True) for p in model.pods))
    result = orkit.solve(model, time_limit=2)
    assert result.status is Status.INFEASIBLE and "node n0 request 12 cpu" in result.reason


@pytest.mark.parametrize("text, resource, value", [
    ("500m", "cpu", 500), ("2", "cpu", 2000), ("0.5", "cpu", 500), ("1Gi", "memory", 2**30),
    ("512Mi", "memory", 512 * 2**20), ("1e9", "memory", 10**9), ("1k", "memory", 1000), (3, "pods", 3),
    ("0.1m", "cpu", 1),  # rounded up, as Kubernetes does
])
def test_quantities(text, resource, value):
    assert parse_quantity(text, resource) == value


@pytest.mark.parametrize("text", ["5x", "", "1..2", "-1", "Gi", "1e400"])
def test_bad_quantities(text):
    with pytest.raises(ValueError):
        parse_quantity(text, "memory")


def test_manifest_reader_resolves_priorities_quantities_taints_and_protection():
    model = read_manifest(CLUSTER_YAML)
    assert [n.name for n in model.nodes] == ["node-a", "node-b", "node-gpu"]
    pods = {p.name: p for p in model.pods}
    assert pods["api-2"].priority == 1000 and pods["api-2"].node is None
    assert pods["jobs/batch-0"].priority == 10  # the globalDefault class
    assert pods["monitoring/node-exporter-x1"].protected  # owned by a DaemonSet
    assert pods["api-0"].requests == {"cpu": 1500, "memory": 2 * 2**30}
    assert "nvidia.com/gpu" in model.resources and "pods" in model.resources
    gpu = model.nodes[2]
    assert not model.placeable[list(pods).index("api-2"), 2]  # tainted, and api-2 does not tolerate it
    assert gpu.taints[0].key == "nvidia.com/gpu"


def test_the_shipped_manifest_is_solved_by_moving_a_batch_pod(tmp_path):
    result = orkit.solve(orkit.load(CLUSTER_YAML), time_limit=5, workers=1)
    assert result.status is Status.OPTIMAL
    assert result.objective == (1, 0, 5, 0, 8, -2)  # every pod placed; one batch pod moved
    assert [m[0] for m in result.solution.moves] == ["jobs/batch-1"] or len(result.solution.moves) == 1


@pytest.mark.parametrize("content, message", [
    ("a: &x [1]\nb: *x\n", "aliases are not accepted"),
    ("kind: List\nitems:\n- kind: Node\n  metadata: {name: n}\n", "no status.allocatable"),
    ("kind: List\nitems: [{kind: Node, metadata: {name: n}, status: {allocatable: {cpu: 2x}}}]\n",
     "'2x' is not a Kubernetes quantity"),
    ("kind: List\nitems:\n- {kind: Node, metadata: {name: n}, status: {allocatable: {cpu: 1}}}\n"
     "- kind: Pod\n  metadata: {name: p}\n  spec: {priorityClassName: gold}\n", "unknown priorityClassName 'gold'"),
    ("kind: Pod\nmetadata: {name: p}\n", "no Node objects"),
    ("kind: [unclosed\n", "invalid YAML"),
    ("- 1\n- 2\n", "expected Kubernetes objects"),
])
def test_bad_manifests_name_the_problem(tmp_path, content, message):
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(InstanceError, match=message) as caught:
        orkit.load(path)
    assert str(path) in str(caught.value)


def test_a_bad_quantity_error_names_its_line(tmp_path):
    text = CLUSTER_YAML.read_text().replace("{cpu: 1500m, memory: 2Gi}}\n- apiVersion: v1\n  kind: Pod\n"
                                            "  metadata: {name: api-1", "{cpu: 15q, memory: 2Gi}}\n"
                                            "- apiVersion: v1\n  kind: Pod\n  metadata: {name: api-1", 1)
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(InstanceError) as caught:
        orkit.load(path)
    line = text.splitlines().index("      resources: {requests: {cpu: 15q, memory: 2Gi}}") + 1
    assert caught.value.line == line and "Pod api-0" in str(caught.value)


def test_a_list_entry_that_is_not_an_object_is_named_with_its_line(tmp_path):
    path = tmp_path / "cut.yaml"
    path.write_text("apiVersion: v1\nkind: List\nitems:\n"
                    "- {kind: Node, metadata: {name: n}, status: {allocatable: {cpu: 1}}}\n- api-2\n")
    with pytest.raises(InstanceError, match="object 2: expected a Kubernetes object .* 'api-2'") as caught:
        orkit.load(path)
    assert caught.value.line == 5


def test_generator_follows_the_recipe():
    sets = replica_sets(100, 4, seed=7)
    assert sum(rs.replicas for rs in sets) == 100 and all(1 <= rs.replicas <= 4 for rs in sets)
    assert all(100 <= rs.cpu <= 1000 and 10**8 <= rs.memory <= 10**9 and 1 <= rs.priority <= 4 for rs in sets)
    model = generate(8, 100, 4, 0.9, seed=7)
    assert generate(8, 100, 4, 0.9, seed=7).to_dict() == model.to_dict()
    assert generate(8, 100, 4, 0.9, seed=8).to_dict() != model.to_dict()
    used = model.demand.sum(axis=0) / model.capacity.sum(axis=0)
    assert np.all(used <= 0.9) and np.all(used > 0.89)
    assert model.evaluate(model.current_plan()).feasible  # the default scheduler's state is valid


def test_default_scheduler_spreads_then_preempts_lower_priority():
    model = small([(4, 4), (4, 4), (8, 8)], capacity=[(10, 10), (10, 10)], priorities=[1, 1, 5])
    scheduler = DefaultScheduler(model)
    assignment = scheduler.run([0, 1, 2])
    # p2 (priority 5) goes first, to n0 (tie, first by name); the low pods then prefer the emptier n1
    assert assignment.tolist() == [1, 1, 0]
    scheduler = DefaultScheduler(model)
    scheduler.run([0, 1])
    assert sorted(scheduler.assign[:2].tolist()) == [0, 1]  # spread over both nodes
    scheduler.run([2])  # arrives later: preempts one low pod on a single node
    assert scheduler.assign[2] >= 0 and scheduler.evictions == 1


def brute_force(model: Cluster):
    best = None
    for choice in itertools.product(range(-1, model.n_nodes), repeat=model.n_pods):
        verdict = model.evaluate(np.array(choice))
        if verdict.feasible and (best is None or verdict.objective > best):
            best = verdict.objective
    return best


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("objective", ["lexicographic", "weighted"])
@pytest.mark.parametrize("backend", ["cpsat", "mip"])
def test_exact_backends_match_brute_force_on_small_clusters(seed, objective, backend):
    rng = np.random.default_rng(seed)
    n_pods = 6
    requests = [tuple(int(v) for v in rng.integers(2, 7, size=2)) for _ in range(n_pods)]
    if seed % 3 == 0:
        requests[1] = requests[0]  # interchangeable pods share a class
    running = [int(v) if v < 3 else None for v in rng.integers(0, 5, size=n_pods)]
    model = small(requests, capacity=[(10, 10)] * 3, running=running,
                  priorities=[int(v) for v in rng.integers(1, 4, size=n_pods)], objective=objective)
    start = model.valid_current_plan()
    model = Cluster(model.nodes, tuple(Pod(p.name, p.requests, p.priority, None if a < 0 else model.nodes[a].name)
                                       for p, a in zip(model.pods, start)), objective)
    result = orkit.solve(model, backend=backend, time_limit=10, workers=1)  # alone: it must do the work
    assert result.status is Status.OPTIMAL
    assert result.objective == brute_force(model)
    assert result.objective >= model.score(model.current_plan())


@pytest.mark.parametrize("nodes, pods, priorities, util, seed", [(4, 16, 1, 0.95, 2), (4, 32, 2, 1.0, 4)])
def test_mip_and_cpsat_agree_with_memory_in_bytes(nodes, pods, priorities, util, seed):
    # memory requests near 1e9 made HiGHS prove a wrong optimum: disruption 8 for 6 on the first
    # cluster, 5 for 3 on the second, until the rows were scaled
    model = generate(nodes, pods, priorities, util, seed)
    mip = orkit.solve(model, backend="mip", time_limit=20, workers=1)
    cpsat = orkit.solve(model, backend="cpsat", time_limit=20, workers=1)
    assert mip.status is Status.OPTIMAL and cpsat.status is Status.OPTIMAL
    assert mip.objective == cpsat.objective


def test_repack_fits_a_pod_that_needs_two_moves():
    # a perfect packing: pending f (6) fits only if c joins a and b joins e; one move never does it
    model = small([(5, 5), (4, 4), (5, 5), (4, 4), (6, 6), (6, 6)], capacity=[(10, 10)] * 3,
                  running=[0, 0, 1, 1, 2, None])
    start = model.valid_current_plan()
    assert model.score(move_repairs(model, default_schedule(model, start))) == (5, 0)
    repacked = repack(model, start, Budget(5))
    assert model.evaluate(repacked).feasible and model.score(repacked) == (6, -4)
    heuristic = orkit.solve(model, backend="heuristic", time_limit=5)
    assert heuristic.objective == (6, -4) and "repack" in heuristic.stages[-1].reason


def test_repack_leaves_undisturbed_higher_tiers_alone():
    # the low pod fits only on n0, and only if the high pod moves to n1: worse, lexicographically
    model = small([(6, 6), (7, 5)], capacity=[(10, 10), (6, 10)], running=[0, None], priorities=[2, 1])
    repacked = repack(model, model.valid_current_plan(), Budget(5))
    assert model.evaluate(repacked).feasible and model.score(repacked) == (1, 0, 1, 0)


def test_repack_never_moves_a_protected_pod_of_a_lower_tier():
    # the protected low pod holds n0; the pending high pod must stay pending, not take its room
    model = Cluster((Node("n0", {"cpu": 10, "memory": 10}),),
                    (Pod("low", {"cpu": 6, "memory": 6}, 1, "n0", protected=True),
                     Pod("high", {"cpu": 6, "memory": 6}, 2, None)))
    repacked = repack(model, model.valid_current_plan(), Budget(5))
    assert model.evaluate(repacked).feasible and list(repacked) == [0, -1]
    assert orkit.solve(model, backend="heuristic", time_limit=5).objective == (0, 0, 1, 0)


def test_never_worse_than_the_default_and_honest_under_a_tight_limit():
    model = generate(32, 256, 4, 1.05, seed=1)
    result = orkit.solve(model, time_limit=0.3, workers=1)
    heuristic = next(s for s in result.stages if s.backend == "heuristic")
    assert result.objective >= heuristic.objective
    assert result.status is Status.OPTIMAL or result.stop.value == "TIME_LIMIT"


def test_cli_generate_solve_check(tmp_path):
    cluster = tmp_path / "c.json"
    made = run("generate", "pods", "--nodes", 4, "--pods", 16, "--seed", 3, "--out", cluster)
    assert made.exit_code == 0, made.output
    out = tmp_path / "plan.json"
    solved = run("solve", cluster, "--time-limit", 5, "--workers", 1, "--out", out)
    assert solved.exit_code == 0 and "OPTIMAL" in solved.output
    plan = json.loads(out.read_text())["solution"]
    assert set(plan) == {"bindings", "moves", "evictions"}
    assert run("check", cluster, out).exit_code == 0
    pod = next(iter(plan["bindings"]))
    plan["bindings"][pod] = "no-such-node"
    out.write_text(json.dumps(plan))
    checked = run("check", cluster, out)
    assert checked.exit_code == 2 and "unknown node 'no-such-node'" in checked.output


def test_weighted_objective_is_one_number():
    model = small([(6, 1), (6, 1)], capacity=[(10, 10)], running=[0, None], priorities=[1, 2],
                  objective=PodObjective.WEIGHTED)
    # placing the priority-2 pod (rank 2) instead of the running rank-1 pod: 2*5 - 1 eviction
    result = orkit.solve(model, time_limit=5, workers=1)
    assert result.objective == 2 * (2 * 2 + 1) - 1


def test_compile_takes_a_side_constraint_that_every_tier_step_keeps(tmp_path):
    cluster = orkit.load(INSTANCES / "pods" / "cluster.yaml")
    free = orkit.solve(cluster, time_limit=10, workers=1)
    compiled = orkit.compile(cluster, "cpsat")
    x, node_b = compiled.vars["x"], compiled.vars["nodes"].index("node-b")
    assert sorted(sum(compiled.vars["classes"], [])) == sorted(p.name for p in cluster.pods if not p.protected)
    compiled.model.add(sum(v for (_, n), v in x.items() if n == node_b) <= 1)  # node-b takes one movable pod
    capped = compiled.solve(time_limit=10, workers=1)
    assert capped.status is Status.OPTIMAL and cluster.evaluate(capped.solution).feasible
    on_b = [p.name for p in cluster.pods if capped.solution.bindings[p.name] == "node-b" and not p.protected]
    assert len(on_b) <= 1
    assert capped.objective < free.objective  # the cap costs something on this cluster
    compiled.export(tmp_path / "pods.pb.txt")
    assert (tmp_path / "pods.pb.txt").stat().st_size > 0


def test_node_contents_go_where_they_keep_running_pods():
    # three identical nodes; a solver's counts put each node's running pods on another node
    model = small([(6, 1), (5, 1), (4, 1), (5, 5)], capacity=[(10, 10)] * 3, running=[0, 1, 2, None])
    k = group(model, np.zeros(model.n_pods, bool))
    rotated = k.counts(np.array([1, 2, 0, 2]), model.n_nodes)
    assert model.evaluate(k.assignment(model, rotated)).objective == (4, -6)
    best = least_disruptive_nodes(k, rotated)
    assert (best.sum(axis=1) == rotated.sum(axis=1)).all()  # the same pods placed
    assert model.evaluate(k.assignment(model, best)).objective == (4, 0)
    # contents only go where they fit: {p0, p2} cannot go to the small node, so p0 and p1 still move
    tight = small([(5, 1), (4, 1), (5, 2)], capacity=[(10, 10), (6, 10)], running=[1, 0, None])
    k = group(tight, np.zeros(tight.n_pods, bool))
    counts = k.counts(np.array([0, 1, 0]), tight.n_nodes)
    assert tight.evaluate(k.assignment(tight, least_disruptive_nodes(k, counts))).objective == (3, -4)


def test_node_contents_keep_higher_tiers_in_place_first():
    # one content holds every pod: on n0 it keeps the high pod, on n1 the two low ones
    model = small([(4, 4), (3, 3), (3, 3)], capacity=[(10, 10)] * 2, running=[0, 1, 1], priorities=[2, 1, 1])
    k = group(model, np.zeros(model.n_pods, bool))
    together = k.counts(np.array([1, 1, 1]), model.n_nodes)
    by_tier = model.evaluate(k.assignment(model, least_disruptive_nodes(k, together)))
    by_count = model.evaluate(k.assignment(model, least_disruptive_nodes(k, together, by_tier=False)))
    assert by_count.objective == (1, -2, 3, -2)  # most pods kept, but the high one moves
    assert by_tier.objective == (1, 0, 3, -4) > by_count.objective


def test_disruption_rounds_to_even_only_when_every_pod_of_the_step_is_placed():
    # generate(8, 32, 1, 0.9, 1): every pod fits, so a plan placing all 32 evicts nobody and each
    # move costs 2; its least disruption, 4, is even. (With a pod left out, as in
    # generate(8, 32, 1, 1.0, 0) below, the optimum 7 is odd: no rounding there.)
    model = generate(8, 32, 1, 0.9, 1)
    k = group(model, model.protected & (model.current >= 0))
    goals = StepGoals(model, k)
    place, disrupt = Step(0, "place"), Step(0, "disrupt")
    assert pods_patterns.value_granule(goals, [(place, 32)], disrupt) == 2
    assert pods_patterns.value_granule(goals, [(place, 31)], disrupt) == 1
    assert pods_patterns.value_granule(goals, [(place, 32)], place) == 1
    reference = orkit.compile(model, "cpsat").solve(time_limit=30, workers=1)
    assert reference.status is Status.OPTIMAL and reference.objective == (32, -4)
    best = k.counts(model.assignment_of(reference.solution), model.n_nodes)
    ctx = StageContext(budget=Budget(10), workers=1)
    assert pattern_search(goals, [(place, 32)], disrupt, best, ctx, ctx.budget).bound == 4


@pytest.mark.parametrize("seed, optimum", [(0, 7), (1, 12)])
def test_pattern_bound_is_valid_and_closes_the_disrupt_step(seed, optimum):
    # generate(8, 32, 1, 1.0, seed): every placeable pod but one fits; the least disruption doing so
    # is proven by the tier model alone (the compiled path runs no pattern search)
    model = generate(8, 32, 1, 1.0, seed)
    reference = orkit.compile(model, "cpsat").solve(time_limit=30, workers=1)
    assert reference.status is Status.OPTIMAL and reference.objective[1] == -optimum
    k = group(model, model.protected & (model.current >= 0))
    goals = StepGoals(model, k)
    place, disrupt = Step(0, "place"), Step(0, "disrupt")
    holds = [(place, reference.objective[0])]
    ctx = StageContext(budget=Budget(10), workers=1)
    best = k.counts(model.assignment_of(reference.solution), model.n_nodes)
    assert pattern_search(goals, holds, disrupt, best, ctx, ctx.budget).bound == optimum  # proves it
    start = k.counts(model.assignment_of(orkit.solve(model, backend="heuristic", time_limit=5).solution),
                     model.n_nodes)
    assert goals.value(place, start) == holds[0][1] and goals.value(disrupt, start) > optimum
    found = pattern_search(goals, holds, disrupt, start, ctx, ctx.budget)
    assert found.bound <= optimum and found.converged
    assert found.counts is not None and goals.value(place, found.counts) == holds[0][1]
    assert optimum <= goals.value(disrupt, found.counts) < goals.value(disrupt, start)


@pytest.mark.parametrize("seed", range(40))
def test_pricing_knapsack_matches_enumeration(seed):
    rng = np.random.default_rng(seed)
    items, resources = int(rng.integers(1, 6)), int(rng.integers(1, 4))
    weight = rng.integers(0, 40, (items, resources))
    count = rng.integers(1, 4, items)
    capacity = rng.integers(10, 100, resources)
    value = rng.uniform(0.1, 5.0, items)
    contents = [x for x in itertools.product(*(range(c + 1) for c in count))
                if (np.array(x) @ weight <= capacity).all()]
    best = max(value @ np.array(x) for x in contents)
    floor = float(np.median([value @ np.array(x) for x in contents]))
    none = np.full(items, -1)  # no item waits for a partner
    above, complete = knapsack_contents_above(value, count, weight, capacity, floor, 10**6, 10**6, none)
    assert complete and sorted(map(tuple, above)) == sorted(x for x in contents if value @ np.array(x) >= floor)
    assert not knapsack_contents_above(value, count, weight, capacity, floor, len(above) - 1, 10**6, none)[1]
    own = np.zeros(0)  # the kernel picks the bound's resource weights itself
    x, found, upper = bounded_knapsack(value, count, weight, capacity, 0.0, 10**6, own, none)
    assert (x @ weight <= capacity).all() and (0 <= x).all() and (x <= count).all()
    assert found == pytest.approx(value @ x) and found == pytest.approx(best) and upper == found
    # weights shared from another knapsack (any non-negative ones) only change the search's length
    shared = rng.uniform(0.0, 1.0, resources)
    assert bounded_knapsack(value, count, weight, capacity, 0.0, 10**6, shared, none)[1] == pytest.approx(best)
    # several knapsacks in one call, over the items worth something with a positive count in each row
    counts = np.stack([count, rng.integers(0, 3, items)])
    capacities = np.stack([capacity, rng.integers(10, 100, resources)])
    xs, values, uppers = bounded_knapsacks(value, counts, weight, capacities, np.zeros(2), 10**6, 0.0)
    for x, got, top, row_count, row_capacity in zip(xs, values, uppers, counts, capacities):
        assert (x <= row_count).all() and (x @ weight <= row_capacity).all() and got == pytest.approx(value @ x)
        assert got == top == pytest.approx(bounded_knapsack(value, row_count, weight, row_capacity, 0.0, 10**6, own,
                                                            none)[1])
    # split over threads, the same answers as in one thread (rows of one capacity share the first one's weights)
    counts = rng.integers(0, 3, (20, items))
    capacities = rng.integers(10, 100, (20, resources))
    alone, split = (bounded_knapsacks(value, counts, weight, capacities, np.zeros(20), 10**6, 0.0, workers)
                    for workers in (1, 2))
    assert all((a == b).all() for a, b in zip(alone, split))
    _, floor_kept, _ = bounded_knapsack(value, count, weight, capacity, best + 1, 10**6, own, none)
    assert floor_kept == best + 1  # nothing beats the floor: reported as the floor itself
    x, cut_short, upper = bounded_knapsack(value, count, weight, capacity, 0.0, 2, own, none)
    assert (x @ weight <= capacity).all() and cut_short <= best + 1e-9
    assert upper >= best - 1e-9  # a search cut short still bounds the optimum from above
    assert upper > cut_short or cut_short == pytest.approx(best)  # and claims optimality only when it has it


@pytest.mark.parametrize("seed", range(40))
def test_an_item_waiting_for_its_partner_loses_no_optimum_and_skips_only_dominated_contents(seed):
    """Item 2c + 1 (a pending or moved pod of class c) has the weight of item 2c (a pod of c staying) and is
    worth less, so a content taking it while item 2c is short of its count is beaten by a swap: the search
    skips exactly those, and the best content is worth the same."""
    rng = np.random.default_rng(seed)
    classes, resources = int(rng.integers(1, 4)), int(rng.integers(1, 3))
    weight = np.repeat(rng.integers(1, 40, (classes, resources)), 2, axis=0)
    value = np.repeat(rng.uniform(0.5, 5.0, classes), 2) - np.tile([0.0, 0.3], classes)
    count = rng.integers(1, 4, 2 * classes)
    capacity = rng.integers(20, 120, resources)
    partner = np.full(2 * classes, -1)
    partner[1::2] = np.arange(0, 2 * classes, 2)  # item 2c + 1 waits for item 2c
    contents = [np.array(x) for x in itertools.product(*(range(c + 1) for c in count))
                if (np.array(x) @ weight <= capacity).all()]
    undominated = [x for x in contents if all(x[2 * c + 1] == 0 or x[2 * c] == count[2 * c] for c in range(classes))]
    best = max(value @ x for x in contents)
    floor = float(np.median([value @ x for x in contents]))
    above, complete = knapsack_contents_above(value, count, weight, capacity, floor, 10**6, 10**6, partner)
    assert complete and sorted(map(tuple, above)) == sorted(tuple(x) for x in undominated if value @ x >= floor)
    _, found, upper = bounded_knapsack(value, count, weight, capacity, 0.0, 10**6, np.zeros(0), partner)
    assert found == pytest.approx(best) and upper == found
    _, found_in_rows, _ = bounded_knapsacks(value, count[None], weight, capacity[None], np.zeros(1), 10**6, 0.0,
                                            partner=partner)
    assert found_in_rows[0] == pytest.approx(best)


def test_a_knapsack_row_of_another_capacity_gets_its_own_bound_weights():
    """A row's answer does not depend on the rows priced with it. On a two-tier place step every node's
    free capacity differs, and a nearly full node's bound weights cut the other nodes' searches short."""
    rng = np.random.default_rng(7)
    items = 24
    weight = rng.integers(1, 60, (items, 2))
    value = (weight / [400, 3000]).sum(axis=1) * rng.uniform(0.95, 1.05, items)  # nearly equally worth their room
    counts = np.full((2, items), 3)
    capacities = np.array([[400, 40], [300, 3000]])  # nearly full in the second resource, and roomy in it
    together = bounded_knapsacks(value, counts, weight, capacities, np.zeros(2), 300, 0.0)
    for row in range(2):
        alone = bounded_knapsacks(value, counts[row:row + 1], weight, capacities[row:row + 1], np.zeros(1), 300, 0.0)
        assert (together[0][row] == alone[0][0]).all() and together[2][row] == alone[2][0]


def test_pricing_kernel_compile_time_is_reported():
    assert compile_seconds() > 0


def test_a_time_limited_plan_reports_the_bound_its_steps_proved():
    # generate(8, 64, 1, 1.05, 0): the fill refutation proves at once that not all 64 pods fit, and
    # the plan is not proven optimal at 1 s; the bound must say 63 at most, not the trivial 64
    model = generate(8, 64, 1, 1.05, 0)
    result = orkit.solve(model, time_limit=1, workers=1, seed=0)
    assert model.bound() == (64, 0)
    assert result.objective[0] <= result.bound[0] <= 63
    assert not model.is_better(result.objective, result.bound)


def test_score_bound_counts_held_pods_and_keeps_later_components_trivial():
    nodes = (Node("a", {"cpu": 10}), Node("b", {"cpu": 10}))
    pods = (Pod("top", {"cpu": 4}, 5, "a", protected=True), Pod("p", {"cpu": 7}, 1, "a"),
            Pod("q", {"cpu": 7}, 1), Pod("r", {"cpu": 7}, 1))
    model = Cluster(nodes, pods)
    goals = StepGoals(model, group(model, model.protected))
    assert model.bound() == (1, 0, 4, 0)
    assert score_bound(goals, []) == (1, 0, 4, 0)
    # tier 1 (priority 1) placed at most 2 of the classes' pods: plus the protected one, 3
    assert score_bound(goals, [(Step(1, "place"), 2)]) == (1, 0, 3, 0)
    assert score_bound(goals, [(Step(1, "place"), 2), (Step(1, "disrupt"), 1)]) == (1, 0, 3, -1)


class UnprovenSecondStep:
    """A step engine that returns the plan it is given, proven on every step but the second."""

    name = "test"

    def __init__(self):
        self.calls = 0

    def optimise(self, step, best, seconds, target=None):
        self.calls += 1
        return best, self.calls != 2

    def hold(self, step, value):
        pass


class FixedPlan:
    """A step engine whose every search returns the same plan, unproven."""

    name = "test"

    def __init__(self, counts):
        self.plan = counts

    def optimise(self, step, best, seconds, target=None):
        return self.plan.copy(), False

    def hold(self, step, value):
        pass


def test_a_search_that_only_ties_a_step_does_not_replace_a_less_disruptive_plan():
    # two running pods fill both nodes; the pending one (larger) fits either node but not beside them
    model = small([(6, 6), (6, 6), (7, 7)], capacity=[(10, 10), (10, 10)], running=[0, 1, None])
    k = group(model, np.zeros(model.n_pods, bool))
    goals = StepGoals(model, k)
    current = k.counts(model.current, model.n_nodes)
    evicting = k.counts(np.array([-1, 1, 0]), model.n_nodes)  # also 2 placed, but evicts a running pod
    place = Step(0, "place")
    assert goals.value(place, evicting) == goals.value(place, current) == 2
    ctx = StageContext(budget=Budget(10), workers=1)
    run = run_steps(model, ctx, goals, FixedPlan(evicting), [place, Step(0, "disrupt")], current, patterns=False)
    assert (run.best == current).all()
    assert model.score(k.assignment(model, run.best)) == (2, 0)


def test_no_step_bound_is_reported_after_the_first_unproven_step():
    model = small([(6, 6), (6, 6), (6, 6)], capacity=[(10, 10), (10, 10)], running=[0, None, None],
                  priorities=[2, 2, 1])
    k = group(model, np.zeros(model.n_pods, bool))
    goals = StepGoals(model, k)
    steps = [Step(t, kind) for t in range(2) for kind in ("place", "disrupt")]
    ctx = StageContext(budget=Budget(10), workers=1)
    run = run_steps(model, ctx, goals, UnprovenSecondStep(), steps, k.counts(model.current, model.n_nodes),
                    patterns=False)
    assert not run.proven_all
    # tier 0: placing is solved (proven), disruption settled by the plan; tier 1's placing is not
    # proven, so its disruption (settled at the tier above's value) says nothing about the optimum
    assert [step for step, _ in run.bounds] == steps[:2]


@pytest.mark.parametrize("seed", [0, 1])
def test_pattern_bound_closes_an_over_subscribed_place_step(seed):
    # generate(8, 32, 1, 1.05, seed): not every pod fits. The tier model alone (the compiled path,
    # no pattern search) needs about 4 s to prove 30 placeable; at 1 s its bound is still 31
    model = generate(8, 32, 1, 1.05, seed)
    reference = orkit.compile(model, "cpsat").solve(time_limit=30, workers=1)
    assert reference.status is Status.OPTIMAL
    optimum = reference.objective[0]
    k = group(model, model.protected & (model.current >= 0))
    goals = StepGoals(model, k)
    place = Step(0, "place")
    start = k.counts(model.assignment_of(orkit.solve(model, backend="heuristic", time_limit=5).solution),
                     model.n_nodes)
    ctx = StageContext(budget=Budget(10), workers=1)
    found = pattern_search(goals, [], place, start, ctx, ctx.budget)
    assert found.bound == optimum
    plan = found.counts if found.counts is not None else start  # none when the start is already optimal
    assert goals.value(place, plan) == optimum
    assert model.evaluate(model.plan(k.assignment(model, plan))).feasible


def test_enumeration_closes_the_gap_column_generation_leaves(monkeypatch):
    # generate(8, 32, 1, 1.05, 0): placing 30 pods disrupts at least 8 running ones (the tier model
    # alone proves it). The pattern LP's bound rounds up to 7 only; enumerating every pattern
    # within the gap and solving the master MIP over them proves 8
    model = generate(8, 32, 1, 1.05, 0)
    reference = orkit.compile(model, "cpsat").solve(time_limit=30, workers=1)
    assert reference.status is Status.OPTIMAL
    optimum = -reference.objective[1]
    k = group(model, model.protected & (model.current >= 0))
    goals = StepGoals(model, k)
    place, disrupt = Step(0, "place"), Step(0, "disrupt")
    holds = [(place, reference.objective[0])]
    start = k.counts(model.assignment_of(orkit.solve(model, backend="heuristic", time_limit=5).solution),
                     model.n_nodes)
    assert goals.value(place, start) == holds[0][1] and goals.value(disrupt, start) > optimum

    def search():
        ctx = StageContext(budget=Budget(10), workers=1)
        return pattern_search(goals, holds, disrupt, start, ctx, ctx.budget)

    found = search()
    assert found.enumerated > 0 and found.bound == optimum and found.counts is not None
    assert goals.value(disrupt, found.counts) == optimum and goals.value(place, found.counts) == holds[0][1]
    assert model.evaluate(model.plan(k.assignment(model, found.counts))).feasible
    monkeypatch.setattr(pods_patterns, "ENUMERATION_LIMIT", 0)  # no enumeration: the Lagrangian bound alone
    alone = search()
    assert alone.enumerated == 0 and alone.bound < optimum


def disrupt_step_after_packing_62(seed):
    """generate(8, 64, 1, 1.05, seed) with its place step's plan from bin completion (62 pods placed, as in
    the chain): (model, classes, step goals, the plan's class counts)."""
    model = generate(8, 64, 1, 1.05, seed)
    k = group(model, model.protected & (model.current >= 0))
    goals = StepGoals(model, k)
    filled, _, _ = fill_to_ceiling(k, goals.members(Step(0, "place")), 62, 10**7)
    return model, k, goals, least_disruptive_nodes(k, filled, True)


def test_a_window_is_enumerated_past_the_pricing_search_limit(monkeypatch):
    # generate(8, 64, 1, 1.05, 1) with 62 pods placed: a window of a few dozen patterns per node kind
    # takes more search nodes to enumerate than a pricing search may use, here held to 5,000 (how far
    # a search goes depends on the duals, so the limit is pinned rather than left to grow). With its own share
    # of the budget the enumeration completes and the master MIP over it proves the disruption optimal
    monkeypatch.setattr(pods_patterns, "SEARCH_NODES", 5_000)
    model, k, goals, start = disrupt_step_after_packing_62(1)
    place, disrupt = Step(0, "place"), Step(0, "disrupt")
    holds = [(place, goals.value(place, start))]
    assert holds[0][1] == most_placed_by_totals(k, goals.members(place)) == 62  # the most that fit the totals

    def search():
        ctx = StageContext(budget=Budget(30), workers=1)
        return pattern_search(goals, holds, disrupt, start, ctx, ctx.budget)

    found = search()
    assert found.enumerated > 0 and found.counts is not None and goals.value(disrupt, found.counts) == found.bound
    assert model.evaluate(model.plan(k.assignment(model, found.counts))).feasible
    monkeypatch.setattr(pods_patterns, "ENUMERATION_SECONDS", 0.0)  # the pricing's search limit only
    cut = search()
    assert cut.counts is None or goals.value(disrupt, cut.counts) > cut.bound


def test_an_unfinished_proof_still_improves_the_plan_over_the_windows_patterns(monkeypatch):
    # generate(8, 64, 1, 1.05, 2) with 62 pods placed: two windows are enumerated and their MIPs, cut off
    # one above the bound, find no plan; the third window has more patterns than 500 (988; within the default
    # limit it proves 28 optimal). The plan must still gain from the windows' patterns: the MIP over all of
    # them finds disruption 28 against the start's 58
    monkeypatch.setattr(pods_patterns, "ENUMERATION_LIMIT", 500)
    model, k, goals, start = disrupt_step_after_packing_62(2)
    place, disrupt = Step(0, "place"), Step(0, "disrupt")
    ctx = StageContext(budget=Budget(60), workers=1)
    found = pattern_search(goals, [(place, 62)], disrupt, start, ctx, ctx.budget)
    assert found.enumerated > 0 and found.counts is not None
    assert found.bound < goals.value(disrupt, found.counts) < goals.value(disrupt, start)
    assert model.evaluate(model.plan(k.assignment(model, found.counts))).feasible


def test_a_window_of_thousands_of_patterns_is_enumerated(monkeypatch):
    # generate(16, 64, 2, 0.95, 0): the repack settles tier 0 and places 30 pods of tier 1, where the pattern
    # LP's bound is 31. Every pattern a plan placing 31 may use, 2,988 of them, goes into the master, and the
    # dive over them finds that plan; with room for only 1,000 the window is not enumerated and the step stays
    # at 30 (which is why the 1 s chain left this scenario unresolved). The overflow search now finds 31 on
    # its own, so it is switched off here: the window must still do it alone
    monkeypatch.setattr(pods_patterns, "place_more", lambda *args: None)
    model = generate(16, 64, 2, 0.95, 0)
    start = model.assignment_of(orkit.solve(model, backend="heuristic", time_limit=5).solution)
    hold, settled = settled_mask(model, start)
    k = group(model, hold)
    goals = StepGoals(model, k)
    place = Step(1, "place")
    counts = k.counts(start, model.n_nodes)
    assert settled == 1 and goals.value(place, counts) == 30

    def search():
        ctx = StageContext(budget=Budget(30), workers=1)
        return pattern_search(goals, [], place, counts, ctx, ctx.budget)

    found = search()
    assert found.bound == 31 and found.counts is not None and goals.value(place, found.counts) == 31
    assert model.evaluate(model.plan(k.assignment(model, found.counts))).feasible
    monkeypatch.setattr(pods_patterns, "ENUMERATION_LIMIT", 1_000)
    narrow = search()
    assert narrow.bound == 31 and (narrow.counts is None or goals.value(place, narrow.counts) == 30)


def single_tier_place(model: Cluster):
    """(classes, step goals, the place step's classes) of a one-priority cluster, running pods movable."""
    k = group(model, model.protected & (model.current >= 0))
    goals = StepGoals(model, k)
    return k, goals, goals.members(Step(0, "place"))


def test_a_ceiling_search_that_gives_up_early_runs_again_at_its_measured_rate(monkeypatch):
    # generate(8, 64, 1, 1.05, 6): bin completion places the 62 pods the totals allow after 6.9M search
    # nodes. Told that nodes cost a millisecond each, the first search gives up at once; the searches
    # after it take their node limits from the rate they measured, and within the half second find 62
    monkeypatch.setattr(pods_patterns, "FILL_RATE", 1_000)
    model = generate(8, 64, 1, 1.05, 6)
    k, goals, members = single_tier_place(model)
    assert most_placed_by_totals(k, members) == 62
    top, counts = pods_patterns._fill_ceiling(goals, [], members, 61, 62, Budget(10))
    assert top == 62 and counts is not None and goals.value(Step(0, "place"), counts) == 62
    assert model.evaluate(model.plan(k.assignment(model, counts))).feasible


def test_a_rate_measured_on_one_ceiling_does_not_size_the_next_ceilings_search(monkeypatch):
    # the first search gives up at once, so its measured rate is enormous; the retry refutes 62, and
    # the search for 61 starts again from FILL_RATE rather than from the rate the 62 search measured
    limits = []

    def fake_fill(k, members, top, node_limit):
        limits.append((top, node_limit))
        if len(limits) == 1:
            return None, False, node_limit  # gave up, instantly
        return None, top == 62, 0  # refuted 62; no claim on 61

    monkeypatch.setattr(pods_patterns, "fill_to_ceiling", fake_fill)
    _, goals, members = single_tier_place(generate(8, 64, 1, 1.05, 9))
    pods_patterns._fill_ceiling(goals, [], members, 60, 62, Budget(10))
    assert [top for top, _ in limits] == [62, 62, 61]
    assert limits[1][1] > 100 * limits[0][1]  # the retry used the measured rate
    assert 0 < limits[2][1] <= pods_patterns.FILL_SECONDS * pods_patterns.FILL_RATE


def test_a_ceiling_narrow_in_memory_is_refuted_by_the_table_of_memory_sums():
    # generate(8, 64, 1, 1.05, 9): the two pods the totals leave out leave 0.03 % of a node's memory
    # unused in all; sums of memory, tabled in coarse units, refute 62 within 2M search nodes, where
    # without the table 1e8 nodes did not settle it
    k, _, members = single_tier_place(generate(8, 64, 1, 1.05, 9))
    assert most_placed_by_totals(k, members) == 62
    counts, refuted, _ = fill_to_ceiling(k, members, 62, 10**7)
    assert refuted and counts is None


def test_coarse_units_of_a_large_resource_never_lose_a_packing():
    # memory 163,849 per node is tabled in units of 10; three pods of 54,616 or 54,617 fill a node
    # exactly, yet their requests in whole units add up to 16,383 of the 16,384 the window starts at
    model = small([(1, 54_616)] * 4 + [(1, 54_617)] * 2, capacity=[(10, 163_849)] * 2)
    k = group(model, np.zeros(6, bool))
    counts, refuted, _ = fill_to_ceiling(k, np.arange(k.n), 6, 10**6)
    assert not refuted and counts is not None
    assert model.evaluate(model.plan(k.assignment(model, counts))).feasible


@pytest.mark.parametrize("seed", range(30))
def test_ceiling_refutation_never_refutes_a_plan_that_exists(seed):
    rng = np.random.default_rng(seed)
    n_nodes, n_pods = int(rng.integers(2, 4)), int(rng.integers(3, 7))
    requests = rng.integers(1, 8, (n_pods, 2))
    capacity = -(-requests.sum(axis=0) // n_nodes) + rng.integers(0, 2, 2)  # little slack: utilisation ~1
    model = small([tuple(int(v) for v in r) for r in requests], capacity=[tuple(int(v) for v in capacity)] * n_nodes)
    k = group(model, np.zeros(n_pods, bool))
    fits_all = any(model.evaluate(np.array(choice)).feasible
                   for choice in itertools.product(range(n_nodes), repeat=n_pods))
    if ceiling_out_of_reach(k, np.arange(k.n), np.arange(n_nodes)):
        assert not fits_all


def test_ceiling_refutation_needs_a_node_filled_to_within_the_slack():
    # two nodes of 10 and pods of 6, 6, 6, 2: placing all leaves no slack, and no content fills 10
    stuck = small([(6, 6), (6, 6), (6, 6), (2, 2)], capacity=[(10, 10), (10, 10)])
    assert ceiling_out_of_reach(group(stuck, np.zeros(4, bool)), np.arange(2), np.arange(2))
    exact = small([(6, 6), (4, 4), (6, 6), (4, 4)], capacity=[(10, 10), (10, 10)])
    assert not ceiling_out_of_reach(group(exact, np.zeros(4, bool)), np.arange(2), np.arange(2))
    over = small([(6, 6), (6, 6), (6, 6), (3, 3)], capacity=[(10, 10), (10, 10)])  # more requested than there is
    assert ceiling_out_of_reach(group(over, np.zeros(4, bool)), np.arange(2), np.arange(2))


def test_pattern_search_settles_a_place_step_one_below_a_refuted_ceiling():
    # generate(4, 32, 1, 1.0, 0): the cluster is sized to exactly what is requested, and the tier
    # model alone proves that 31 of the 32 pods is the most that fit
    model = generate(4, 32, 1, 1.0, 0)
    reference = orkit.compile(model, "cpsat").solve(time_limit=30, workers=1)
    assert reference.status is Status.OPTIMAL and reference.objective[0] == 31
    k = group(model, model.protected & (model.current >= 0))
    goals = StepGoals(model, k)
    place = Step(0, "place")
    assert goals.ceiling(place) == 32 and ceiling_out_of_reach(k, goals.members(place), np.arange(model.n_nodes))
    best = k.counts(model.assignment_of(reference.solution), model.n_nodes)
    ctx = StageContext(budget=Budget(10), workers=1)
    found = pattern_search(goals, [], place, best, ctx, ctx.budget)
    assert found.bound == 31 and found.iterations == 0  # no column generation needed


def test_bin_completion_fills_nodes_only_within_the_slack():
    # pods of 6, 4 and 2 (both resources) on two nodes of 10, at most two of a class on a node
    demand, capacity, most = np.array([[6, 6], [4, 4], [2, 2]]), np.array([10, 10]), np.full(3, 2)
    outcome, contents, _ = fill_within_slack(np.array([2, 2, 0]), most, demand, capacity, 2, np.zeros(2), 10**6)
    assert outcome == FOUND and (contents == [[1, 1, 0], [1, 1, 0]]).all()
    # 6, 6 and 2 leave 6 unused in all: no packing within a slack of 5, one within 6
    outcome, _, _ = fill_within_slack(np.array([2, 0, 1]), most, demand, capacity, 2, np.array([5, 6]), 10**6)
    assert outcome == NONE
    outcome, _, _ = fill_within_slack(np.array([2, 0, 1]), most, demand, capacity, 2, np.array([6, 6]), 10**6)
    assert outcome == FOUND


@pytest.mark.parametrize("seed", range(40))
def test_fill_to_ceiling_agrees_with_brute_force(seed):
    # identical nodes, tight capacity: a plan it returns places `ceiling` pods and fits; a refutation
    # holds only when no assignment places that many
    rng = np.random.default_rng(seed)
    n_nodes, n_pods = int(rng.integers(2, 4)), int(rng.integers(3, 7))
    requests = rng.integers(1, 8, (n_pods, 2))
    capacity = -(-requests.sum(axis=0) // n_nodes) - rng.integers(0, 3, 2)  # utilisation about 1 or more
    capacity = np.maximum(capacity, requests.max(axis=0))
    model = small([tuple(int(v) for v in r) for r in requests], capacity=[tuple(int(v) for v in capacity)] * n_nodes)
    k = group(model, np.zeros(n_pods, bool))
    best = max(int((np.array(choice) >= 0).sum()) for choice in itertools.product(range(-1, n_nodes), repeat=n_pods)
               if model.evaluate(model.plan(np.array(choice))).feasible)
    ceiling = most_placed_by_totals(k, np.arange(k.n))
    counts, refuted, _ = fill_to_ceiling(k, np.arange(k.n), ceiling, 10**6)
    assert refuted == (best < ceiling) and (counts is not None) == (best == ceiling)
    if counts is not None:
        assert counts.sum() == ceiling and model.evaluate(model.plan(k.assignment(model, counts))).feasible


def test_most_placed_by_totals_is_the_largest_set_of_pods_within_the_total_free_capacity():
    # brute force over every set of pods on small over-subscribed clusters (both resources short in most)
    rng = np.random.default_rng(7)
    joint = 0
    for _ in range(150):
        nodes = tuple(Node(f"n{i}", {"cpu": int(rng.integers(5, 20)), "memory": int(rng.integers(5, 20))})
                      for i in range(int(rng.integers(1, 4))))
        pods = tuple(Pod(f"p{i}", {"cpu": int(rng.integers(1, 10)), "memory": int(rng.integers(1, 10))}, 1)
                     for i in range(int(rng.integers(2, 9))))
        k = group(Cluster(nodes, pods), np.zeros(len(pods), bool))
        free = np.maximum(k.free, 0).sum(axis=0)
        requests = np.repeat(k.demand, k.size, axis=0)
        joint += bool((requests.sum(axis=0) > free)[:2].all())
        fitting = max(r for r in range(len(requests) + 1) for chosen in itertools.combinations(requests, r)
                      if (np.sum(chosen, axis=0) <= free).all())
        assert most_placed_by_totals(k, np.arange(k.n)) == fitting
    assert joint >= 30  # the two-resource DP was exercised


def one_move_cluster():
    """r (7 cpu) fits only after p or q (4 each, on nodes a and b of 10) moves over: (model, classes,
    goals, a CP-SAT step engine not built yet)."""
    nodes = (Node("a", {"cpu": 10}), Node("b", {"cpu": 10}))
    pods = (Pod("p", {"cpu": 4}, 1, "a"), Pod("q", {"cpu": 4}, 1, "b"), Pod("r", {"cpu": 7}, 1))
    model = Cluster(nodes, pods)
    k = group(model, model.protected)
    goals = StepGoals(model, k)
    engine = CPSATSteps(model, StageContext(budget=Budget(10), workers=1), k, goals)
    return model, k, goals, engine


def test_cpsat_engine_keeps_holds_given_before_its_model_is_built():
    # r (7 cpu) fits only after p or q moves over: least disruption alone is 0 with r pending, but
    # with the place step held at all 3 pods (recorded before the lazy build) it is one move, 2
    model, k, goals, engine = one_move_cluster()
    engine.hold(Step(0, "place"), 3)
    assert engine.built is None
    found, proven = engine.optimise(Step(0, "disrupt"), k.counts(model.valid_current_plan(), model.n_nodes), 5.0)
    assert proven and goals.value(Step(0, "place"), found) == 3 and goals.value(Step(0, "disrupt"), found) == 2


def test_cpsat_engine_decides_a_target_and_switches_the_decision_off_after():
    # all 3 pods fit once p or q moves (disruption 2). Reaching 3 placed is a plan; with
    # that held, no plan disrupts 0, and a later search must not still carry that decision's constraint
    model, k, goals, engine = one_move_cluster()
    place, disrupt = Step(0, "place"), Step(0, "disrupt")
    current = k.counts(model.valid_current_plan(), model.n_nodes)
    found, proven = engine.optimise(place, current, 5.0, target=3)
    assert proven and goals.value(place, found) == 3
    engine.hold(place, 3)
    assert engine.optimise(disrupt, found, 5.0, target=0) == (None, True)
    best, proven = engine.optimise(disrupt, found, 5.0)
    assert proven and goals.value(disrupt, best) == 2


def test_pattern_master_reads_a_whole_number_lp_optimum_as_the_plan():
    # a disrupt step's node kinds are nodes with the same running pods, so the current plan gives one
    # content per kind; with only those the LP optimum is that plan, and must read back as exactly it
    model = generate(8, 32, 2, 0.95, 0)
    k = group(model, model.protected & (model.current >= 0))
    master = pods_patterns.PatternMaster(StepGoals(model, k), [], Step(0, "disrupt"))
    start = k.counts(model.valid_current_plan(), model.n_nodes)
    master.add_plan(start)
    assert len(master.patterns) == len(master.kinds)
    uses = master.dive(Budget(10))
    assert uses is not None and (master.plan(uses) == start).all()


def test_diving_turns_a_fractional_pattern_lp_into_a_plan_and_leaves_the_lp_as_it_was():
    # three nodes alike and three pods of which any two fit a node but not all three: over the three pair
    # patterns and the empty one, the LP places all three pods with half a node per pair, and no plan
    # over them places more than two (each pair shares a pod with the others)
    model = small([(5, 4), (4, 5), (5, 5)], capacity=[(10, 10)] * 3)
    k = group(model, np.zeros(3, bool))
    goals = StepGoals(model, k)
    place = Step(0, "place")
    master = pods_patterns.PatternMaster(goals, [], place)
    assert len(master.kinds) == 1 and k.n == 3
    for content in ([1, 1, 0], [0, 1, 1], [1, 0, 1], [0, 0, 0]):
        master.add(pods_patterns.Pattern(0, np.array(content), np.zeros(3, np.int64)))
    assert master.solve_lp()[0] == pytest.approx(-3)
    uses = master.dive(Budget(10))
    assert uses is not None and uses.sum() == 3
    plan = master.plan(uses)
    assert goals.value(place, plan) == 2 and model.evaluate(model.plan(k.assignment(model, plan))).feasible
    assert master.solve_lp()[0] == pytest.approx(-3)  # the dive's bounds are undone
    held = pods_patterns.PatternMaster(goals, [(place, 3)], Step(0, "disrupt"))  # only the LP places all three
    for p in master.patterns:
        held.add(p)
    assert held.solve_lp() is not None and held.dive(Budget(10)) is None


def test_a_capped_master_mip_says_when_no_plan_is_worth_the_cap():
    # n0 runs a (5) and b (3), n1 runs c (5); d (7) is pending and all four fill the 20 units exactly.
    # Placing d moves a (disruption 2: n0 = b + d, n1 = a + c) or b and c (4). With both plans' patterns
    # in the disrupt master, a cap of 1 has no plan (an infinite objective, settled), a cap of 2 finds 2
    model = small([(5, 5), (3, 3), (5, 5), (7, 7)], capacity=[(10, 10), (10, 10)], running=[0, 0, 1, None])
    k = group(model, np.zeros(4, bool))
    goals = StepGoals(model, k)
    place, disrupt = Step(0, "place"), Step(0, "disrupt")
    master = pods_patterns.PatternMaster(goals, [(place, 4)], disrupt)
    worse = master.add_plan(k.counts(np.array([1, 0, 1, 0]), model.n_nodes))  # moving b and c
    master.add_plan(k.counts(np.array([0, 1, 0, 1]), model.n_nodes))  # moving a
    ctx = StageContext(budget=Budget(10), workers=1)
    assert master.best_plan(ctx, 5.0, worse, 1) == (None, True, math.inf)
    uses, optimal, objective = master.best_plan(ctx, 5.0, worse, 2)
    assert optimal and objective == 2 and goals.value(disrupt, master.plan(uses)) == 2
    assert master.best_plan(ctx, 5.0, worse)[2] == 2


def test_a_solve_does_not_wait_for_pricing_kernels_still_compiling(tmp_path):
    # an empty numba cache: compiling takes about 20 s, far more than the solve's window, so the first
    # solve runs without the pattern search and says so (it ran 18 s over a 1.5 s window when it waited)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    process = subprocess.run(
        [sys.executable, "-m", "orkit.cli", "solve", str(INSTANCES / "pods" / "n8-p64-r4-u1.0-s3.json"),
         "--time-limit", "1.5", "--workers", "2"], capture_output=True, text=True, env=env, timeout=600)
    assert process.returncode == 0, process.stderr
    assert "pattern search skipped while its kernels load" in process.stdout


def test_waiting_for_the_pricing_kernels_ends_at_a_stop_request(monkeypatch):
    # kernels still loading (an event nobody sets, a loader taken as started): a Ctrl-C during the
    # wait ends it at once instead of after the load (up to a tenth of the window on a fresh install)
    monkeypatch.setattr(knapsack_kernels, "_LOADED", threading.Event())
    monkeypatch.setattr(knapsack_kernels, "_LOADER", threading.current_thread())
    asked = []
    assert not knapsack_kernels.kernels_ready(30.0, lambda: asked.append(True) or True)
    assert asked  # it fails after 30 s when the wait ignores the request
    assert not knapsack_kernels.kernels_ready(0.0)


@pytest.mark.parametrize("seed", range(6))
def test_overflow_search_finds_a_hidden_exact_packing_keeping_the_pods_left_out(seed):
    # nodes cut into pods exactly (both resources) and given 30 units (about 3 %) of slack, plus decoy pods:
    # from a scrambled start with as many pods out as decoys, the search must fit every node again. (With
    # no slack at all, half of these seeds stay unfitted after 20,000 iterations: a local search is no proof.)
    rng = np.random.default_rng(seed)
    n_nodes = int(rng.integers(3, 7))
    capacity = rng.integers(800, 1200, (n_nodes, 2))
    pieces = []
    for cap in capacity:
        parts = int(rng.integers(3, 6))
        cuts = np.sort(rng.choice(np.arange(1, cap.min()), (parts - 1, 2), replace=False), axis=0)
        pieces.append(np.diff(np.vstack([np.zeros(2, np.int64), cuts, cap]), axis=0))
    decoys = rng.integers(300, 600, (int(rng.integers(1, 4)), 2))
    demand = np.vstack(pieces + [decoys]).astype(np.int64)
    kind = np.arange(len(demand))
    assign = rng.permutation(np.concatenate([rng.integers(0, n_nodes, len(demand) - len(decoys)),
                                             np.full(len(decoys), n_nodes)]))
    out = int((assign == n_nodes).sum())
    allowed = np.ones((len(demand), n_nodes), bool)
    running = np.zeros((len(demand), n_nodes), np.int64)
    tabu = np.zeros((len(demand), n_nodes + 1), np.int64)
    capacity += 30
    _, fitted = overflow_search(demand, kind, running, allowed, capacity, assign, tabu, 0, 20_000)
    load = np.zeros((n_nodes + 1, 2), np.int64)
    np.add.at(load, assign, demand)
    assert fitted and (load[:n_nodes] <= capacity).all() and (assign == n_nodes).sum() == out


def test_overflow_search_reports_no_fit_and_keeps_allowed_nodes_when_none_exists():
    # three pods of 6 on two nodes of 10 with nothing out: no fit; pod 2 may only use node 1
    demand = np.array([[6, 6], [6, 6], [6, 6]], np.int64)
    allowed = np.array([[True, True], [True, True], [False, True]])
    assign = np.array([0, 0, 1], np.int64)
    tabu = np.zeros((3, 3), np.int64)
    iteration, fitted = overflow_search(demand, np.arange(3), np.zeros((3, 2), np.int64), allowed,
                                        np.full((2, 2), 10, np.int64), assign, tabu, 0, 200)
    assert not fitted and iteration == 200 and (assign < 2).all() and assign[2] == 1


def test_place_more_reaches_a_near_full_clusters_ceiling_and_keeps_higher_tiers():
    # 16 nodes x 128 pods at util 1.0: 128 is refuted by the totals and slack; the search must place 127
    # from the running state, and the valid plan must pass evaluate()
    model = generate(16, 128, 1, 1.0, 3)
    k = group(model, model.protected & (model.current >= 0))
    goals, step = StepGoals(model, k), Step(0, "place")
    best = k.counts(model.valid_current_plan(), model.n_nodes)
    found = place_more(goals, [], step, best, 127, Budget(20))
    assert goals.value(step, best) < 127 == goals.value(step, found)
    assert model.evaluate(model.plan(k.assignment(model, found))).feasible
    # two tiers: the low tier's step must leave every class of the high tier as the best plan has it
    model = generate(16, 128, 2, 1.0, 1)
    k = group(model, model.protected & (model.current >= 0))
    goals = StepGoals(model, k)
    best = k.counts(model.valid_current_plan(), model.n_nodes)
    holds = [(Step(0, "place"), goals.value(Step(0, "place"), best)),
             (Step(0, "disrupt"), goals.value(Step(0, "disrupt"), best))]
    found = place_more(goals, holds, Step(1, "place"), best, goals.ceiling(Step(1, "place")), Budget(20))
    high = k.priority == model.tiers[0]
    assert goals.value(Step(1, "place"), found) > goals.value(Step(1, "place"), best)
    assert (found[high] == best[high]).all()
    assert model.evaluate(model.plan(k.assignment(model, found))).feasible
