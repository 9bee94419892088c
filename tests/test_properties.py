"""Property tests: random valid RCPSP instances get a verified answer or an honest status from
every backend, the exact ones agree with brute force; random invalid data raises ModelError."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import orkit
from orkit import RCPSP, Downtime, ModelError, Status
from tests.conftest import brute_force_makespan, feasible_schedules

FAST = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def small_projects(draw, max_n=4):
    n = draw(st.integers(2, max_n))
    r = draw(st.integers(1, 2))
    capacities = draw(st.lists(st.integers(1, 3), min_size=r, max_size=r))
    durations = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    demands = [[draw(st.integers(0, c)) for c in capacities] for _ in range(n)]
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    precedences = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=3))
    kwargs = {}
    if draw(st.booleans()):
        kwargs["release_dates"] = draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    if draw(st.booleans()):
        kwargs["deadlines"] = draw(st.lists(st.one_of(st.none(), st.integers(2, 9)), min_size=n, max_size=n))
    if draw(st.booleans()):
        kwargs["disjunctive"] = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=2))
    if draw(st.booleans()):
        start = draw(st.integers(0, 3))
        kwargs["downtimes"] = [Downtime(0, start, start + draw(st.integers(1, 2)), draw(st.integers(0, capacities[0])))]
    if draw(st.booleans()):
        i, j = draw(st.sampled_from(pairs))
        kwargs["time_lags"] = [(j, i, -draw(st.integers(0, 4)))]  # j at most a few units after i
    return RCPSP(durations=durations, demands=demands, capacities=capacities, precedences=precedences, **kwargs)


@FAST
@given(small_projects())
def test_exact_backends_agree_with_brute_force(model):
    horizon = min(model.horizon_upper_bound, 11)
    expected = brute_force_makespan(model, horizon) if (horizon + 1) ** model.n <= 2_000_000 else None
    for backend in ("cpsat", "mip"):
        result = orkit.solve(model, backend=backend, time_limit=20, workers=1)
        assert result.status in (Status.OPTIMAL, Status.INFEASIBLE), (backend, result.stages)
        if result.status is Status.OPTIMAL:
            assert model.evaluate(result.solution).feasible
            if model.horizon_upper_bound <= 11:
                assert result.objective == expected, backend
        elif model.horizon_upper_bound <= 11:
            assert expected is None


@FAST
@given(small_projects(max_n=6))
def test_heuristic_answers_are_verified_or_honest(model):
    result = orkit.solve(model, backend="heuristic", time_limit=5)
    if result.has_solution:
        assert model.evaluate(result.solution).feasible
        assert result.objective >= model.lower_bound()
    else:
        assert result.status in (Status.UNKNOWN, Status.INFEASIBLE) and result.objective is None


@settings(max_examples=60, deadline=None)
@given(
    durations=st.lists(st.one_of(st.integers(-5, 5), st.floats(allow_nan=True), st.text(max_size=2)), max_size=4),
    demands=st.lists(st.lists(st.integers(-3, 20), max_size=3), max_size=4),
    capacities=st.lists(st.integers(-3, 10), max_size=3),
    precedences=st.lists(st.tuples(st.integers(-2, 5), st.integers(-2, 5)), max_size=4),
)
def test_random_data_is_a_model_or_a_model_error(durations, demands, capacities, precedences):
    try:
        model = RCPSP(durations=durations, demands=demands, capacities=capacities, precedences=precedences)
    except ModelError:
        return
    assert model.n == len(durations) and (model.durations >= 0).all()
    assert (model.demands <= model.capacities[None, :]).all()
    assert np.array_equal(RCPSP.from_dict(model.to_dict()).durations, model.durations)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_projects())
def test_precedence_energy_delays_and_lower_bound_hold_in_every_feasible_schedule(model):
    horizon = min(model.horizon_upper_bound, 10)
    schedules = feasible_schedules(model, horizon)
    for i, j, delay in model.precedence_energy_delays:
        assert (schedules[:, j] >= schedules[:, i] + delay).all()
    if len(schedules):
        assert (schedules + model.durations).max(axis=1).min() >= model.lower_bound()
