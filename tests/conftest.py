"""Shared fixtures: shipped instance paths and small RCPSP builders with an independent brute force."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

from orkit import RCPSP

# The same examples on every machine: a fresh clone must not meet a new slow or failing example
# that the last run never saw (property tests still explore; they just do it reproducibly).
settings.register_profile("reproducible", derandomize=True)
settings.load_profile("reproducible")

ROOT = Path(__file__).resolve().parent.parent
INSTANCES = ROOT / "instances"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session", autouse=True)
def compiled_pricing_kernel() -> None:
    """The pod pattern search's compiled knapsack takes seconds to compile on a fresh clone (then
    loads from numba's disk cache): pay that once, before any test with a time limit runs."""
    from orkit.solvers.exact.knapsack_kernels import compile_seconds

    compile_seconds()


@pytest.fixture
def j301() -> Path:
    return INSTANCES / "rcpsp" / "j301_1.sm"


@pytest.fixture
def hard_j60() -> Path:
    return DATA / "rcpsp" / "j6013_1.sm"


def tiny_project() -> RCPSP:
    """4 activities, 1 resource of capacity 3: lower bound 5, optimum 6."""
    return RCPSP(durations=[2, 3, 2, 1], demands=[[2], [2], [1], [3]], capacities=[3],
                 precedences=[(0, 2), (1, 3)], name="tiny")


def feasible_schedules(model: RCPSP, horizon: int) -> np.ndarray:
    """Every feasible start vector in [0, horizon]^n (rows), checked with numpy independently of
    orkit's evaluate(). Only for tiny instances."""
    n, d, q = model.n, model.durations, model.demands
    assert (horizon + 1) ** n <= 2_000_000, "brute force is for tiny instances only"
    grid = np.array(list(itertools.product(range(horizon + 1), repeat=n)), dtype=np.int64)
    ends = grid + d
    ok = (ends.max(axis=1) <= horizon) & (grid >= model.releases).all(axis=1) & (ends <= model.due).all(axis=1)
    for i, j in model.precedences:
        ok &= grid[:, j] >= ends[:, i]
    for i, j, lag in model.time_lags:
        ok &= grid[:, j] >= grid[:, i] + lag
    for i, j in model.disjunctive:
        if d[i] and d[j]:
            ok &= (grid[:, i] >= ends[:, j]) | (grid[:, j] >= ends[:, i])
    profile = model.capacity_profile(horizon)
    for t in range(horizon):
        running = (grid <= t) & (t < ends)
        usage = running.astype(np.int64) @ q
        ok &= (usage <= profile[:, t]).all(axis=1)
    return grid[ok]


def brute_force_makespan(model: RCPSP, horizon: int) -> int | None:
    """Optimal makespan by enumeration; None when no schedule ends by `horizon`."""
    schedules = feasible_schedules(model, horizon)
    if not len(schedules):
        return None
    return int((schedules + model.durations).max(axis=1).min())
