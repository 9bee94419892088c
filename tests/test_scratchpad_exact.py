"""The exact canonical search for buffer placement: found placements verify, exhaustion proves
infeasibility, the peak is minimised with proof, and the resumable kernel does not depend on
how its work is cut into calls."""

from __future__ import annotations

import numpy as np
import pytest

import orkit
from orkit.core.backend import StageContext
from orkit.core.budget import Budget
from orkit.core.result import Status
from orkit.models.scratchpad import BufferPlacement, Placement
from orkit.solvers.exact import scratchpad as exact
from orkit.solvers.exact import scratchpad_kernels as kernels
from orkit.solvers.heuristics.scratchpad import neighbours, place_in_order


def perfect_packing(seed: int, n: int, span: int = 100, capacity: int = 100) -> BufferPlacement:
    """Cut a span x capacity rectangle at random into n buffers: a zero-slack instance that has a
    placement (the cut itself) with every address in use at every time."""
    rng = np.random.default_rng(seed)
    pieces = [(0, span, 0, capacity)]
    while len(pieces) < n:
        k = int(rng.integers(len(pieces)))
        t0, t1, a0, a1 = pieces[k]
        if rng.random() < 0.5 and t1 - t0 > 1:
            cut = int(rng.integers(t0 + 1, t1))
            pieces[k:k + 1] = [(t0, cut, a0, a1), (cut, t1, a0, a1)]
        elif a1 - a0 > 1:
            cut = int(rng.integers(a0 + 1, a1))
            pieces[k:k + 1] = [(t0, t1, a0, cut), (t0, t1, cut, a1)]
    p = np.array(pieces)
    order = rng.permutation(n)  # the cut order must not leak into the buffer order
    return BufferPlacement(p[order, 0], p[order, 1], p[order, 3] - p[order, 2], capacity=capacity,
                           name=f"perfect-{seed}")


def context(seconds: float = 20) -> StageContext:
    return StageContext(Budget(seconds))


@pytest.mark.parametrize("seed", range(8))
def test_zero_slack_packings_are_found_and_verified(seed):
    model = perfect_packing(seed, 12 + 4 * seed)
    assert model.bound() == model.capacity
    result = orkit.solve(model, backend="exact", time_limit=20)
    assert result.status is Status.OPTIMAL and result.objective == model.capacity
    assert model.evaluate(result.solution).feasible


def test_one_unit_less_is_proven_infeasible_by_exhaustion():
    model = perfect_packing(3, 20)
    sections = exact.Sections.of(model)
    found, proven, nodes = exact.decide(model, sections, model.capacity - 1, context())
    assert found is None and proven and nodes >= 1


@pytest.mark.parametrize("seed", range(6))
def test_random_instances_at_a_known_peak_are_placed(seed):
    """Capacity = the peak of one random canonical placement, so a placement exists."""
    rng = np.random.default_rng(100 + seed)
    n = 40
    starts = rng.integers(0, 40, n)
    base = BufferPlacement(starts, starts + rng.integers(1, 25, n), rng.integers(1, 30, n))
    witness = place_in_order(base, rng.permutation(n), neighbours(base))
    peak = int((witness + base.sizes).max())
    model = BufferPlacement(base.starts, base.ends, base.sizes, capacity=peak)
    found, proven, _ = exact.decide(model, exact.Sections.of(model), peak, context())
    assert proven and found is not None and model.evaluate(found).feasible


@pytest.mark.parametrize("seed", range(4))
def test_without_capacity_the_peak_matches_cpsat_and_mip(seed):
    """Three independent methods agree on the optimum; twins (duplicated buffers) and alignments
    exercise the symmetry cuts of the CP-SAT and MIP models, which must not cut off the optimum."""
    rng = np.random.default_rng(seed)
    n = 12
    starts = rng.integers(0, 10, n)
    ends, sizes = starts + rng.integers(1, 6, n), rng.integers(1, 9, n)
    twin = rng.integers(0, n, 3)
    align = np.where(rng.random(n + 3) < 0.3, 2, 1)
    model = BufferPlacement(np.r_[starts, starts[twin]], np.r_[ends, ends[twin]], np.r_[sizes, sizes[twin]], align)
    ours = orkit.solve(model, backend="exact", time_limit=20)
    assert ours.status is Status.OPTIMAL
    for backend in ("cpsat", "mip"):
        reference = orkit.solve(model, backend=backend, time_limit=20, workers=1)
        assert reference.status is Status.OPTIMAL and reference.objective == ours.objective, backend
        assert model.evaluate(reference.solution).feasible



@pytest.mark.parametrize("seed", range(6))
def test_every_preorder_alone_finds_the_optimum_and_proves_one_less(seed):
    """Short lifetimes over a long horizon make the search split into partitions again and again,
    each re-ranked by its own remaining load: under every preorder, alone, the search must still
    reach the optimum (found by CP-SAT) and exhaust one unit below it."""
    rng = np.random.default_rng(50 + seed)
    n = 16
    starts = rng.integers(0, 24, n)
    model = BufferPlacement(starts, starts + rng.integers(1, 7, n), rng.integers(1, 9, n))
    peak = int(orkit.solve(model, backend="cpsat", time_limit=20, workers=1).objective)
    sections = exact.Sections.of(model)
    for preorder in exact.PREORDERS:
        at_peak = exact.CanonicalSearch(model, sections, peak, preorder)
        assert at_peak.run(10**7) == kernels.FOUND, preorder
        assert model.evaluate(Placement(at_peak.offsets)).objective == peak
        assert exact.CanonicalSearch(model, sections, peak - 1, preorder).run(10**7) == kernels.EXHAUSTED, preorder

def test_mip_proves_one_unit_less_infeasible_by_itself():
    """Called as a stage directly (the chain's live-size check would answer first)."""
    from orkit.solvers.mip import scratchpad as mip

    model = perfect_packing(2, 10)
    tight = BufferPlacement(model.starts, model.ends, model.sizes, capacity=model.capacity - 1)
    assert mip.solve(tight, context()).status is Status.INFEASIBLE
    placed = mip.solve(model, context())
    assert placed.status is Status.OPTIMAL and model.evaluate(placed.solution).feasible


def test_alignment_is_respected():
    model = BufferPlacement(starts=[0, 0, 2, 4], ends=[4, 2, 6, 6], sizes=[3, 4, 4, 3], alignments=[1, 4, 4, 1],
                            capacity=8)
    result = orkit.solve(model, backend="exact", time_limit=10)
    assert result.has_solution and model.evaluate(result.solution).feasible
    assert all(o % a == 0 for o, a in zip(result.solution.offsets, model.alignments))


def test_resuming_in_small_steps_gives_the_same_search():
    model = perfect_packing(5, 30)
    sections = exact.Sections.of(model)
    whole = exact.CanonicalSearch(model, sections, model.capacity, "TAW")
    assert whole.run(10**7) == kernels.FOUND
    stepped = exact.CanonicalSearch(model, sections, model.capacity, "TAW")
    code = kernels.LIMIT
    while code == kernels.LIMIT:
        code = stepped.run(1)
    assert code == kernels.FOUND and stepped.nodes == whole.nodes
    assert np.array_equal(stepped.offsets, whole.offsets)


def test_the_default_chain_runs_the_exact_stage():
    model = perfect_packing(7, 40)
    result = orkit.solve(model, time_limit=20)
    assert result.status is Status.OPTIMAL and model.evaluate(result.solution).feasible
    assert [stage.backend for stage in result.stages][:2] == ["heuristic", "exact"]
