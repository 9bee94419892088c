"""Buffer placement as a big-M MIP (the textbook ordering model; HiGHS or CBC).

One integer column per buffer (its offset in units of its alignment), one binary per pair of
buffers alive together (1: a below b), two big-M rows per pair, and the peak above every buffer;
minimise the peak. Twin buffers keep label order and the mirror image is cut as in the CP-SAT
model. Its LP relaxation is weak (the big-M rows vanish at z = 1/2): on zero-slack instances it is
a fallback and a cross-check, not a competitor of the canonical search.
"""

from __future__ import annotations

import numpy as np

from orkit.core.backend import Outcome, StageContext
from orkit.core.result import Status, Stop
from orkit.models.scratchpad import BufferPlacement, Placement
from orkit.solvers.cpsat.scratchpad import twins
from orkit.solvers.mip.common import CompiledMIP, LinearBuilder, size_guard

MIN_SECONDS = 0.1


def compile(model: BufferPlacement, ctx: StageContext) -> CompiledMIP | Outcome:
    pairs = model.overlapping_pairs()
    too_large = size_guard(2 * len(pairs) + model.n, model.n + len(pairs) + 1, 6 * len(pairs) + 2 * model.n,
                           ctx.params)
    if too_large:
        return Outcome(None, None, Status.UNKNOWN, Stop.COMPLETED, too_large)
    top = model.capacity if model.capacity is not None else int(model.sizes.sum())
    sizes, align = model.sizes, model.alignments
    big = float(top)
    b = LinearBuilder()
    slot = np.array([b.add_columns(1, 0.0, float((top - sizes[k]) // align[k]))[0] for k in range(model.n)])
    peak = b.add_columns(1, float(model.bound()), float(top), cost=1.0, integer=False)[0]
    below = b.add_columns(len(pairs))  # below[k] = 1: buffer pairs[k, 0] lies under pairs[k, 1]
    for k, (i, j) in enumerate(pairs):
        # z = 1: o_i + s_i <= o_j;  z = 0: o_j + s_j <= o_i
        b.add_row([slot[i], slot[j], below[k]], [float(align[i]), -float(align[j]), big], upper=big - sizes[i])
        b.add_row([slot[j], slot[i], below[k]], [float(align[j]), -float(align[i]), -big], upper=-float(sizes[j]))
    for k in range(model.n):
        b.add_row([peak, slot[k]], [1.0, -float(align[k])], lower=float(sizes[k]))
    for i, j in twins(model):
        b.add_row([slot[j], slot[i]], [float(align[j]), -float(align[i])], lower=float(sizes[i]))
    unaligned = np.flatnonzero(align == 1)
    if len(unaligned):
        m = int(unaligned[np.argmax(sizes[unaligned])])
        b.add_row([slot[m], peak], [2.0, -1.0], upper=-float(sizes[m]))
    warm = None
    if ctx.incumbent is not None:
        offsets = ctx.incumbent.offsets
        warm = np.zeros(b.n_cols)
        warm[slot] = offsets // align
        warm[peak] = float((offsets + sizes).max())
        warm[below] = offsets[pairs[:, 0]] < offsets[pairs[:, 1]]

    def decode(values: np.ndarray) -> Placement:
        return Placement(np.round(values[slot]).astype(np.int64) * align)

    lp = b.build(integral_objective=True)
    return CompiledMIP(lp, {"slot": slot, "peak": peak, "below": below, "pairs": pairs}, decode, warm, False,
                       [f"big-M ordering, {lp.n_rows} rows x {lp.n_cols} columns"])


def solve(model: BufferPlacement, ctx: StageContext) -> Outcome:
    compiled = compile(model, ctx)
    return compiled if isinstance(compiled, Outcome) else compiled.run(ctx)
