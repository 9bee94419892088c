"""Buffer placement on CP-SAT: lifetimes as fixed x-intervals, offsets as y-intervals, one
no-overlap-2D, the peak address minimised (at most the capacity), strengthened three ways:

- every maximal set of buffers alive together (an interval graph's maximal cliques: the live set
  just before some buffer ends) gets its own 1-D no-overlap on the offsets, whose energetic
  reasoning sees a full section at once where the 2-D constraint reasons pairwise;
- symmetry: buffers with the same lifetime and size are placed in label order, and the mirror
  image of a placement (offset -> peak - offset - size) is cut by keeping the largest buffer in
  the lower half;
- search: the largest-area buffers first, each at its lowest offset (a canonical placement), from
  the incumbent's hint.
"""

from __future__ import annotations

import numpy as np
from ortools.sat.python import cp_model

from orkit.core.backend import Outcome, StageContext
from orkit.models.scratchpad import BufferPlacement, Placement
from orkit.solvers.cpsat.common import CompiledCPSAT

MIN_SECONDS = 0.05


def maximal_cliques(model: BufferPlacement) -> list[np.ndarray]:
    """The maximal sets of buffers alive at one time: the live set at each start time after which
    a buffer ends before the next start (or the last start)."""
    starts, ends = model.starts, model.ends
    times = np.unique(starts)
    nxt = np.r_[times[1:], np.iinfo(np.int64).max]
    cliques = []
    for t, t_next in zip(times, nxt):
        alive = np.flatnonzero((starts <= t) & (ends > t))
        if t_next == np.iinfo(np.int64).max or (ends[alive] <= t_next).any():
            cliques.append(alive)
    return cliques


def twins(model: BufferPlacement) -> list[tuple[int, int]]:
    """Consecutive pairs of buffers with identical lifetime, size and alignment."""
    key = np.lexsort((np.arange(model.n), model.alignments, model.sizes, model.ends, model.starts))
    pairs = []
    for a, b in zip(key[:-1], key[1:]):
        if (model.starts[a] == model.starts[b] and model.ends[a] == model.ends[b]
                and model.sizes[a] == model.sizes[b] and model.alignments[a] == model.alignments[b]):
            pairs.append((int(a), int(b)))
    return pairs


def compile(model: BufferPlacement, ctx: StageContext) -> CompiledCPSAT:
    top = model.capacity if model.capacity is not None else int(model.sizes.sum())
    cp = cp_model.CpModel()
    cp.name = model.name
    offsets, xs, ys = [], [], []
    for b in range(model.n):
        size, align = int(model.sizes[b]), int(model.alignments[b])
        offset = cp.new_int_var(0, top - size, f"offset_{model.labels[b]}")
        if align > 1:
            slot = cp.new_int_var(0, (top - size) // align, f"slot_{model.labels[b]}")
            cp.add(offset == align * slot)
        offsets.append(offset)
        xs.append(cp.new_fixed_size_interval_var(int(model.starts[b]), int(model.ends[b] - model.starts[b]),
                                                 f"life_{model.labels[b]}"))
        ys.append(cp.new_fixed_size_interval_var(offset, size, f"addr_{model.labels[b]}"))
    cp.add_no_overlap_2d(xs, ys)
    cliques = maximal_cliques(model)
    for clique in cliques:
        if len(clique) > 1:
            cp.add_no_overlap([ys[b] for b in clique])
    peak = cp.new_int_var(int(model.bound()), top, "peak")
    for b in range(model.n):
        cp.add(peak >= offsets[b] + int(model.sizes[b]))
    pairs = twins(model)
    for a, b in pairs:
        cp.add(offsets[a] < offsets[b])
    unaligned = model.alignments == 1
    if unaligned.any():  # the mirror of an unaligned placement is a placement with the same peak
        big = int(np.flatnonzero(unaligned)[np.argmax(model.sizes[unaligned])])
        cp.add(2 * offsets[big] + int(model.sizes[big]) <= peak)
    cp.minimize(peak)
    area = model.sizes * (model.ends - model.starts)
    order = np.argsort(-area, kind="stable")
    cp.add_decision_strategy([offsets[b] for b in order], cp_model.CHOOSE_FIRST, cp_model.SELECT_MIN_VALUE)
    if ctx.incumbent is not None:
        for b in range(model.n):
            cp.add_hint(offsets[b], int(ctx.incumbent.offsets[b]))

    def decode(solver: cp_model.CpSolver) -> Placement:
        return Placement([solver.value(o) for o in offsets])

    return CompiledCPSAT(cp, {"offsets": offsets, "peak": peak}, decode, lambda v: round(v), False,
                         [f"{model.n} buffers, no-overlap-2D + {len(cliques)} section no-overlaps, "
                          f"{len(pairs)} twin orderings"])


def solve(model: BufferPlacement, ctx: StageContext) -> Outcome:
    return compile(model, ctx).run(ctx)
