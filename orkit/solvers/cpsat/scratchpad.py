"""Buffer placement on CP-SAT: lifetimes as fixed x-intervals, offsets as y-intervals, one
no-overlap-2D, the peak address minimised (at most the capacity). Hinted with the incumbent.
A plain model, far weaker than the canonical search (exact backend) on zero-slack instances; it
remains the general fallback."""

from __future__ import annotations

from ortools.sat.python import cp_model

from orkit.core.backend import Outcome, StageContext
from orkit.models.scratchpad import BufferPlacement, Placement
from orkit.solvers.cpsat.common import CompiledCPSAT

MIN_SECONDS = 0.05


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
    peak = cp.new_int_var(int(model.bound()), top, "peak")
    for b in range(model.n):
        cp.add(peak >= offsets[b] + int(model.sizes[b]))
    cp.minimize(peak)
    if ctx.incumbent is not None:
        for b in range(model.n):
            cp.add_hint(offsets[b], int(ctx.incumbent.offsets[b]))

    def decode(solver: cp_model.CpSolver) -> Placement:
        return Placement([solver.value(o) for o in offsets])

    return CompiledCPSAT(cp, {"offsets": offsets}, decode, lambda v: round(v), False,
                         [f"{model.n} buffers, no-overlap-2D"])


def solve(model: BufferPlacement, ctx: StageContext) -> Outcome:
    return compile(model, ctx).run(ctx)
