"""Buffer placement: model checker, MiniMalloc CSV reader, and the first backends."""

from __future__ import annotations

import numpy as np
import pytest

import orkit
from orkit import InstanceError
from orkit.core.result import Status
from orkit.models.scratchpad import BufferPlacement, Placement
from tests.conftest import DATA, INSTANCES

EXAMPLE = INSTANCES / "scratchpad" / "example.12.csv"


def test_reader_takes_capacity_from_the_name_and_keeps_ids():
    model = orkit.load(EXAMPLE)
    assert model.capacity == 12 and model.n == 5 and model.labels[0] == "b1"
    assert model.peak_live() == (12, 0)


@pytest.mark.parametrize("name, line, message", [
    ("empty_life.8.csv", 3, "upper 5 <= lower 5"),
    ("bad_cell.8.csv", 3, "column 'upper': expected an integer, found 'x'"),
])
def test_reader_errors_name_the_line(name, line, message):
    with pytest.raises(InstanceError, match=message) as err:
        orkit.load(DATA / "scratchpad" / name)
    assert err.value.line == line


def test_live_size_above_capacity_is_infeasible_with_the_time():
    model = orkit.load(DATA / "scratchpad" / "over_capacity.8.csv")
    assert model.infeasibility() == "at time 2 the live buffers need 10 > capacity 8"
    result = orkit.solve(model, time_limit=5)
    assert result.status is Status.INFEASIBLE and result.objective is None


def test_checker_names_overlaps_alignment_and_capacity():
    model = BufferPlacement(starts=[0, 2, 6], ends=[4, 8, 9], sizes=[4, 4, 2], alignments=[1, 1, 4], capacity=8)
    assert model.evaluate(Placement([0, 4, 0])).feasible
    bad = model.evaluate(Placement([0, 2, 7]))
    assert not bad.feasible
    text = " ".join(bad.violations)
    assert "buffers 0 and 1 are alive together and overlap" in text
    assert "not a multiple of its alignment 4" in text and "capacity 8" in text


def test_half_open_lifetimes_may_share_addresses():
    model = BufferPlacement(starts=[0, 4], ends=[4, 8], sizes=[5, 5], capacity=5)
    assert model.evaluate(Placement([0, 0])).feasible
    assert model.bound() == 5


@pytest.mark.parametrize("backend", ["heuristic", "cpsat", "mip", "auto"])
def test_backends_place_the_example_at_capacity(backend):
    result = orkit.solve(orkit.load(EXAMPLE), backend=backend, time_limit=10, workers=2)
    assert result.status is Status.OPTIMAL and result.objective == 12


def test_random_instances_give_verified_placements_at_least_the_live_peak():
    rng = np.random.default_rng(4)
    for seed in range(5):
        n = 12
        starts = rng.integers(0, 20, n)
        model = BufferPlacement(starts, starts + rng.integers(1, 10, n), rng.integers(1, 8, n), name=f"r{seed}")
        for backend in ("heuristic", "cpsat"):
            result = orkit.solve(model, backend=backend, time_limit=5, workers=1, seed=seed)
            assert model.evaluate(result.solution).feasible
            assert result.objective >= model.bound()


def test_tardiness_and_minimalloc_csv_are_told_apart_by_header():
    assert orkit.load(EXAMPLE).problem == "scratchpad"
    assert orkit.load(INSTANCES / "tardiness" / "jobs12.csv").problem == "tardiness"


def test_cli_capacity_overrides_the_file_name():
    from tests.test_cli import run

    tight = run("solve", EXAMPLE, "--capacity", 11, "--quiet")
    assert tight.exit_code == 1 and "live buffers need 12 > capacity 11" in tight.output
    assert run("solve", EXAMPLE, "--capacity", 20, "--quiet").exit_code == 0
