"""Every RCPSP backend, verified by the model's own checker and cross-checked against brute force."""

import numpy as np
import pytest

import orkit
from orkit import RCPSP, Downtime, Status, Stop
from orkit.solvers.heuristics.rcpsp import construct, priority_rules
from tests.conftest import DATA, brute_force_makespan, tiny_project

BACKENDS = ["heuristic", "cpsat", "mip"]


def extended_project() -> RCPSP:
    """Every optional extension at once: releases, a deadline, downtime, a disjunctive pair, a max lag."""
    return RCPSP(
        durations=[2, 3, 2, 2, 1], demands=[[1, 1], [2, 0], [1, 1], [0, 2], [1, 0]], capacities=[2, 2],
        precedences=[(0, 2), (1, 4)], release_dates=[0, 1, 0, 0, 0], deadlines=[None, None, None, None, 9],
        downtimes=[Downtime(0, 2, 3, 0)], disjunctive=[(2, 3)], time_lags=[(3, 4, 1), (4, 3, -6)], name="ext",
    )


def infeasible_by_search() -> RCPSP:
    """No cheap proof: each activity fits its window alone, but the two cannot share the resource."""
    return RCPSP(durations=[3, 3], demands=[[1], [1]], capacities=[1], deadlines=[4, 4], name="clash")


@pytest.mark.parametrize("backend", BACKENDS)
def test_tiny_instance_is_solved_to_proven_optimum(backend):
    model = tiny_project()
    result = orkit.solve(model, backend=("heuristic", backend) if backend != "heuristic" else backend,
                         time_limit=20, workers=1)
    assert result.has_solution and model.evaluate(result.solution).feasible
    assert result.objective == brute_force_makespan(model, 10) == 6
    if backend != "heuristic":  # the heuristic alone cannot prove 6 against the bound 5
        assert result.status is Status.OPTIMAL and result.stop is Stop.COMPLETED


@pytest.mark.parametrize("backend", ["cpsat", "mip"])
def test_exact_backends_alone_reach_the_optimum_on_extended_data(backend):
    model = extended_project()
    expected = brute_force_makespan(model, 12)
    result = orkit.solve(model, backend=backend, time_limit=30, workers=1)
    assert result.status is Status.OPTIMAL
    assert model.evaluate(result.solution).feasible
    assert result.objective == expected


@pytest.mark.parametrize("backend", ["cpsat", "mip"])
def test_exact_backends_prove_infeasibility(backend):
    result = orkit.solve(infeasible_by_search(), backend=backend, time_limit=20, workers=1)
    assert result.status is Status.INFEASIBLE and result.solution is None and result.objective is None


def test_heuristic_alone_is_honest_about_infeasible_instances():
    result = orkit.solve(infeasible_by_search(), backend="heuristic", time_limit=5)
    assert result.status is Status.UNKNOWN and result.objective is None


def test_auto_chain_proves_infeasibility_after_the_heuristic_fails():
    result = orkit.solve(infeasible_by_search(), time_limit=20, workers=1)
    assert result.status is Status.INFEASIBLE
    assert [s.backend for s in result.stages][:2] == ["heuristic", "cpsat"]


def test_contradictory_lags_are_infeasible_with_the_cycle_named():
    model = orkit.load(DATA / "rcpsp" / "contradictory_lags.sch")
    result = orkit.solve(model, time_limit=5)
    assert result.status is Status.INFEASIBLE
    assert "1 -[+5]-> 2 -[-3]-> 1" in result.reason


@pytest.mark.parametrize("backend", ["heuristic", "cpsat", ("heuristic", "mip")])
def test_real_j30_file_solutions_are_verified(j301, backend):
    model = orkit.load(j301)
    result = orkit.solve(model, backend=backend, time_limit=10, workers=2)
    assert result.has_solution
    assert model.evaluate(result.solution).feasible
    assert result.objective >= 43  # the proven optimum of j301_1
    if backend != "heuristic":
        assert result.objective == 43 and result.status is Status.OPTIMAL


def test_rcpsp_max_instance_cpsat_and_mip_agree_on_the_optimum():
    model = orkit.load(DATA / "rcpsp" / "small_max.sch")
    cpsat = orkit.solve(model, backend="cpsat", time_limit=20, workers=1)
    mip = orkit.solve(model, backend="mip", time_limit=20, workers=1)
    assert cpsat.status is Status.OPTIMAL and mip.status is Status.OPTIMAL
    assert cpsat.objective == mip.objective


@pytest.mark.parametrize("backend", ["cpsat", ("heuristic", "mip")])
def test_one_second_on_a_hard_instance_is_never_optimal(hard_j60, backend):
    model = orkit.load(hard_j60)
    result = orkit.solve(model, backend=backend, time_limit=1.0, workers=2)
    assert result.status in (Status.FEASIBLE, Status.UNKNOWN)
    assert result.stop is Stop.TIME_LIMIT
    if result.has_solution:
        assert model.evaluate(result.solution).feasible


def test_auto_chain_never_worse_than_its_heuristic_stage(hard_j60):
    model = orkit.load(hard_j60)
    result = orkit.solve(model, time_limit=2.0, workers=2)
    heuristic = result.stages[0]
    assert heuristic.backend == "heuristic" and heuristic.objective is not None
    assert result.objective <= heuristic.objective
    assert result.status is Status.FEASIBLE and result.stop is Stop.TIME_LIMIT


def test_a_large_project_unproven_at_half_time_ends_in_lns_from_the_best_schedule(hard_j60):
    model = orkit.load(hard_j60)
    assert model.n > 50  # above the split size: default search first, then LNS only
    result = orkit.solve(model, backend=("heuristic", "cpsat"), time_limit=2.0, workers=2)
    heuristic, cpsat = result.stages
    assert "then LNS only" in cpsat.reason and result.objective <= heuristic.objective
    assert result.status is Status.FEASIBLE and model.evaluate(result.solution).feasible


def test_every_priority_rule_gives_a_verified_schedule(j301):
    model = orkit.load(j301)
    assert set(priority_rules(model)) == {"LFT", "LST", "MSLK", "MTS", "GRPW", "EST", "SPT"}
    starts, how = construct(model)
    assert model.evaluate(orkit.RCPSPSolution(starts)).feasible and "SGS" in how


def test_heuristic_is_deterministic_for_a_seed(hard_j60):
    model = orkit.load(hard_j60)
    params = {"heuristic": {"schedules": 3000}}
    runs = [orkit.solve(model, backend="heuristic", time_limit=30, seed=3, backend_params=params) for _ in range(2)]
    assert np.array_equal(runs[0].solution.starts, runs[1].solution.starts)


def test_cbc_through_pulp_matches_highs():
    model = tiny_project()
    result = orkit.solve(model, backend="mip", time_limit=30, backend_params={"mip": {"solver": "cbc"}})
    assert result.status is Status.OPTIMAL and result.objective == 6


def test_mip_size_guard_skips_with_a_reason(j301):
    model = orkit.load(j301)
    result = orkit.solve(model, backend="mip", time_limit=5, backend_params={"mip": {"max_nonzeros": 1000}})
    assert result.status is Status.UNKNOWN
    assert "nonzeros" in result.stages[-1].reason and "above the limit" in result.stages[-1].reason


def test_compile_lets_a_user_add_a_side_constraint(j301):
    model = orkit.load(j301)
    compiled = orkit.compile(model, "cpsat")
    starts = compiled.vars["starts"]
    compiled.model.add(starts[1] >= 10)  # activity "2" may not start before 10
    result = compiled.solve(time_limit=20, workers=2)
    assert result.has_solution and model.evaluate(result.solution).feasible
    assert result.solution.starts[1] >= 10


def test_a_side_constraint_past_the_compiled_horizon_is_not_called_infeasible(j301):
    model = orkit.load(j301)
    compiled = orkit.compile(model, "cpsat")
    compiled.model.add(compiled.vars["starts"][1] >= 10_000)  # feasible, but past the horizon CP-SAT was built with
    result = compiled.solve(time_limit=10, workers=2)
    assert result.status is orkit.Status.UNKNOWN and "not a proof" in result.stages[-1].reason


def test_compile_exports_each_format(tmp_path, j301):
    model = orkit.load(j301)
    orkit.compile(model, "cpsat").export(tmp_path / "m.pb.txt")
    mip = orkit.compile(model, "mip")
    mip.export(tmp_path / "m.lp")
    mip.export(tmp_path / "m.mps")
    assert "constraints" in (tmp_path / "m.pb.txt").read_text()
    assert (tmp_path / "m.lp").stat().st_size > 0 and (tmp_path / "m.mps").stat().st_size > 0


def test_highspy_and_ortools_live_in_one_process():
    import highspy
    from ortools.sat.python import cp_model

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    assert cp_model.CpModel() is not None and h.getInfinity() > 1e20
