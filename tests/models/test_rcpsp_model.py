import numpy as np
import pytest

from orkit import RCPSP, Downtime, ModelError, RCPSPSolution
from tests.conftest import brute_force_makespan, tiny_project


def test_validation_names_the_problem():
    with pytest.raises(ModelError, match="activity 2: negative duration -1"):
        RCPSP(durations=[1, -1], demands=[[0], [0]], capacities=[1])
    with pytest.raises(ModelError, match="activity 1: demand 12 of resource R1 exceeds its capacity 10"):
        RCPSP(durations=[1], demands=[[12]], capacities=[10])
    with pytest.raises(ModelError, match="precedences form a cycle: 2 -> 3 -> 2"):
        RCPSP(durations=[1, 1, 1], demands=[[0]] * 3, capacities=[1], precedences=[(0, 1), (1, 2), (2, 1)])
    with pytest.raises(ModelError, match="outside 0..1"):
        RCPSP(durations=[1, 1], demands=[[0]] * 2, capacities=[1], precedences=[(0, 5)])
    with pytest.raises(ModelError, match="demands has shape"):
        RCPSP(durations=[1, 1], demands=[[0, 1]], capacities=[1])
    with pytest.raises(ModelError, match="finite integer"):
        RCPSP(durations=[1.5], demands=[[0]], capacities=[1])
    with pytest.raises(ModelError, match="downtime on R1"):
        RCPSP(durations=[1], demands=[[0]], capacities=[1], downtimes=[Downtime(0, 5, 3)])
    with pytest.raises(ModelError, match="no activities"):
        RCPSP(durations=[], demands=[], capacities=[1])


def test_model_is_immutable():
    model = tiny_project()
    with pytest.raises(ValueError):
        model.durations[0] = 7
    with pytest.raises(AttributeError):
        model.name = "other"


def test_bounds_on_a_tiny_project():
    model = tiny_project()
    assert model.critical_path_bound() == 4  # 1 (3) -> 3 (1)
    assert model.resource_bound() == 5  # energy 4 + 6 + 2 + 3 = 15 over capacity 3
    assert model.lower_bound() == 5
    assert brute_force_makespan(model, 9) == 6


def test_evaluate_accepts_a_feasible_schedule_and_computes_makespan():
    model = tiny_project()
    ev = model.evaluate(RCPSPSolution([0, 2, 2, 5]))
    assert ev.feasible, ev.violations
    assert ev.objective == 6


@pytest.mark.parametrize(
    "kwargs, starts, expected",
    [
        ({}, [0, 0, 2, 3], "resource R1 over capacity during [0, 2)"),
        ({}, [0, 2, 1, 5], "precedence 1 -> 3"),
        ({}, [-1, 2, 2, 5], "starts at -1 < 0"),
        ({"release_dates": [0, 3, 0, 0]}, [0, 2, 2, 5], "before its release date 3"),
        ({"deadlines": [None, None, None, 5]}, [0, 2, 2, 5], "after its deadline 5"),
        ({"disjunctive": [(0, 2)]}, [0, 2, 1, 5], "disjunctive pair 1, 3 overlap"),
        ({"time_lags": [(0, 1, 4)]}, [0, 2, 2, 5], "time lag 1 -[+4]-> 2"),
        ({"downtimes": [Downtime(0, 3, 4, 1)]}, [0, 2, 2, 5], "resource R1 over capacity during [3, 4)"),
    ],
)
def test_evaluate_catches_each_violation_kind(kwargs, starts, expected):
    base = dict(durations=[2, 3, 2, 1], demands=[[2], [2], [1], [3]], capacities=[3], precedences=[(0, 2), (1, 3)])
    base.update(kwargs)
    ev = RCPSP(**base).evaluate(RCPSPSolution(starts))
    assert not ev.feasible
    assert any(expected in v for v in ev.violations), ev.violations


def test_evaluate_rejects_wrong_shapes_and_fractions():
    model = tiny_project()
    assert not model.evaluate(RCPSPSolution([0, 1])).feasible
    assert not model.evaluate(type("S", (), {"starts": np.array([0.5, 2, 2, 5])})()).feasible


def test_dict_round_trip_is_lossless():
    model = RCPSP(durations=[2, 3, 1], demands=[[1, 0], [1, 2], [0, 1]], capacities=[2, 2], precedences=[(0, 2)],
                  release_dates=[0, 1, 0], deadlines=[None, 9, None], downtimes=[Downtime(1, 2, 4, 0)],
                  disjunctive=[(0, 1)], time_lags=[(1, 2, -3)], labels=["a", "b", "c"], name="x")
    again = RCPSP.from_dict(model.to_dict())
    assert again.to_dict() == model.to_dict()


def test_from_dict_rejects_unknown_and_missing_fields():
    with pytest.raises(ModelError, match="unknown RCPSP fields: colour"):
        RCPSP.from_dict({"durations": [1], "demands": [[0]], "capacities": [1], "colour": 3})
    with pytest.raises(ModelError, match="missing RCPSP fields: capacities"):
        RCPSP.from_dict({"durations": [1], "demands": [[0]]})


def test_infeasibility_names_the_lag_cycle_and_the_deadline():
    cyc = RCPSP(durations=[1, 1], demands=[[0], [0]], capacities=[1], time_lags=[(0, 1, 3), (1, 0, -2)])
    assert "1 -[+3]-> 2 -[-2]-> 1" in cyc.infeasibility()
    late = RCPSP(durations=[4, 1], demands=[[0], [0]], capacities=[1], precedences=[(0, 1)], deadlines=[None, 4])
    assert "activity 2 cannot finish before its deadline 4" in late.infeasibility()
    assert tiny_project().infeasibility() is None


def test_resource_bound_sees_downtime():
    model = RCPSP(durations=[4], demands=[[1]], capacities=[1], downtimes=[Downtime(0, 0, 3, 0)])
    assert model.resource_bound() == 7


def test_solution_from_dict_accepts_labels():
    model = tiny_project()
    sol = model.solution_from_dict({"starts": {"1": 0, "2": 2, "3": 2, "4": 5}})
    assert list(sol.starts) == [0, 2, 2, 5]
    with pytest.raises(ModelError):
        model.solution_from_dict({"starts": {"9": 0}})
    with pytest.raises(ModelError):
        model.solution_from_dict({"begin": [0]})
