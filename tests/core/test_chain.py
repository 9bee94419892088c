"""The pipeline's promises: verified results, faults recorded and survived, honest statuses."""

import json
import threading
import time

import numpy as np
import pytest

import orkit
from orkit import BackendError, RCPSPSolution, Status, Stop
from orkit.core.backend import Outcome
from orkit.core.chain import run_stages
from orkit.core.result import gap
from tests.conftest import tiny_project


def _stage(solution=None, bound=None, status=Status.FEASIBLE, stop=Stop.COMPLETED, sleep=0.0, error=None):
    def runner(model, ctx):
        if sleep:
            time.sleep(sleep)
        if error is not None:
            raise error
        return Outcome(solution, bound, status, stop)

    return runner


GOOD = RCPSPSolution([0, 2, 2, 5])  # makespan 6, optimal
WORSE = RCPSPSolution([0, 2, 2, 6])  # makespan 7
BROKEN = RCPSPSolution([0, 0, 2, 3])  # overloads the resource


def test_a_stage_that_raises_is_recorded_and_the_chain_goes_on():
    result = run_stages(tiny_project(), [("boom", _stage(error=RuntimeError("kaput"))), ("good", _stage(GOOD))],
                        time_limit=5)
    assert result.objective == 6 and result.backend == "good"
    assert result.stages[0].stop is Stop.ERROR and "RuntimeError: kaput" in result.stages[0].reason


def test_a_wrong_solution_is_rejected_by_evaluate():
    result = run_stages(tiny_project(), [("liar", _stage(BROKEN, status=Status.OPTIMAL)), ("good", _stage(WORSE))],
                        time_limit=5)
    assert result.objective == 7 and result.backend == "good"
    assert "rejected" in result.stages[0].reason and "over capacity" in result.stages[0].reason
    assert result.status is Status.FEASIBLE  # the liar's optimality claim was not believed


def test_memory_error_is_recorded():
    result = run_stages(tiny_project(), [("hog", _stage(error=MemoryError())), ("good", _stage(GOOD))], time_limit=5)
    assert result.stages[0].reason == "failed: out of memory" and result.has_solution


def test_a_later_worse_solution_never_replaces_the_incumbent():
    result = run_stages(tiny_project(), [("first", _stage(GOOD)), ("second", _stage(WORSE))], time_limit=5)
    assert result.objective == 6 and result.backend == "first"


def test_bound_meeting_objective_proves_optimality_and_skips_the_rest():
    result = run_stages(tiny_project(), [("a", _stage(GOOD, bound=6.0)), ("b", _stage(WORSE))], time_limit=5)
    assert result.status is Status.OPTIMAL and result.stop is Stop.COMPLETED and result.gap == 0
    assert result.stages[1].reason == "skipped: optimality already proven"


def test_an_optimality_claim_worse_than_the_incumbent_is_ignored():
    worst = RCPSPSolution([0, 2, 2, 7])  # makespan 8, feasible
    result = run_stages(tiny_project(), [("a", _stage(WORSE)), ("b", _stage(worst, status=Status.OPTIMAL))],
                        time_limit=5)
    assert result.status is Status.FEASIBLE and result.objective == 7 and result.bound == 5
    assert "claimed 8 optimal although a verified 7 exists: ignored" in result.stages[1].reason


def test_a_bound_beyond_the_incumbent_is_ignored():
    result = run_stages(tiny_project(), [("a", _stage(WORSE)), ("b", _stage(bound=9.0))], time_limit=5)
    assert result.status is Status.FEASIBLE and result.bound == 5
    assert "contradicts the verified incumbent" in result.stages[1].reason


def test_infeasibility_claim_is_ignored_when_a_solution_exists():
    result = run_stages(tiny_project(), [("a", _stage(WORSE)), ("b", _stage(status=Status.INFEASIBLE))], time_limit=5)
    assert result.status is Status.FEASIBLE and "ignored" in result.stages[1].reason


def test_no_solution_means_none_not_infinity():
    result = run_stages(tiny_project(), [("nothing", _stage())], time_limit=5)
    assert result.status is Status.UNKNOWN and result.objective is None and result.gap is None
    data = json.loads(result.to_json())
    assert data["objective"] is None and data["solution"] is None


def test_time_limit_skips_later_stages_with_a_reason():
    slow = _stage(WORSE, stop=Stop.TIME_LIMIT, sleep=0.4)
    result = run_stages(tiny_project(), [("slow", slow), ("never", _stage(GOOD))], time_limit=0.3)
    assert result.objective == 7 and result.status is Status.FEASIBLE and result.stop is Stop.TIME_LIMIT
    assert result.stages[1].reason == "skipped: no time left"


def test_interrupt_keeps_the_best_solution(hard_j60):
    model = orkit.load(hard_j60)
    seen = []

    def log(event):
        seen.append(event)

    timer = threading.Timer(1.5, lambda: budget_holder[0].interrupt())
    budget_holder = []
    from orkit.core.budget import Budget

    budget = Budget(30)
    budget_holder.append(budget)
    timer.start()
    result = run_stages(model, [("heuristic", None), ("cpsat", None)], budget=budget, workers=2, log=log)
    assert result.stop is Stop.INTERRUPTED and result.status is Status.FEASIBLE
    assert result.wall_time < 10
    assert model.evaluate(result.solution).feasible
    assert seen and seen[-1].objective >= result.objective


def test_warm_start_is_verified_and_used():
    model = tiny_project()
    result = orkit.solve(model, backend="heuristic", warm_start={"starts": [0, 2, 2, 5]}, time_limit=5)
    assert result.stages[0].backend == "warm_start" and result.objective == 6
    bad = orkit.solve(model, backend="heuristic", warm_start=BROKEN, time_limit=5)
    assert bad.stages[0].reason.startswith("rejected")


def test_unknown_backend_fails_fast_with_the_valid_names():
    with pytest.raises(BackendError, match="valid: auto, heuristic, cpsat, mip"):
        orkit.solve(tiny_project(), backend="gurobi")
    with pytest.raises(BackendError, match="valid: auto, heuristic, cpsat, mip"):
        orkit.solve(tiny_project(), backend=("heuristic", "cplex"))


def test_unknown_cpsat_parameter_is_reported_as_a_failed_stage():
    result = orkit.solve(tiny_project(), backend="cpsat", backend_params={"cpsat": {"no_such_knob": 1}})
    assert "unknown CP-SAT parameter 'no_such_knob'" in result.stages[0].reason


def test_result_exports(j301):
    model = orkit.load(j301)
    result = orkit.solve(model, time_limit=10, workers=2)
    data = json.loads(result.to_json())
    assert data["status"] == "OPTIMAL" and data["objective"] == 43 and data["versions"]["ortools"]
    frame = result.to_frame()
    assert list(frame.columns[:4]) == ["activity", "start", "end", "duration"] and len(frame) == 32
    assert set(result.stages_frame()["backend"]) >= {"heuristic"}
    again = model.solution_from_dict(data["solution"])
    assert np.array_equal(again.starts, result.solution.starts)


def test_gap_definition():
    assert gap(100, 90.0) == pytest.approx(0.1)
    assert gap(None, 3.0) is None and gap(5, None) is None and gap((1, 2), 3.0) is None
    assert gap(0, 0.0) == 0.0
