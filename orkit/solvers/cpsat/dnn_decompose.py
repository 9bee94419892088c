"""Operator order for DNN graphs too large for one order model, by decomposition (in the spirit of
COSMA's divide-and-conquer for NAS graphs).

A topological order is cut into chunks of consecutive operators, each cut where the fewest bytes
are alive across it. Whatever order each chunk takes inside, concatenating the chunks keeps every
producer before its consumers, so the chunks are ordered independently: each by the order
relaxation restricted to its operators, with what crosses its borders as fixed context. The joint
fixed-order model then places and spills over the whole stitched order (it stays tractable: on
NASNet-Mobile it is solved to optimality in about a second, where the order model over all 771
operators finds no useful bound and a weak order in 20 s).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from orkit.core.backend import StageContext
from orkit.models.dnn import DnnMemory

CHUNK_OPS = 60  # operators per chunk: the order relaxation of a chunk this size solves in about a second
CHUNK_SIZES = (CHUNK_OPS, 40, 80)  # later passes move the cuts


def chunks(model: DnnMemory, order: np.ndarray, size: int = CHUNK_OPS) -> list[np.ndarray]:
    """Cut `order` into runs of at most `size` operators, each cut at the boundary with the fewest
    bytes alive across it among the last half of the run."""
    across = model.bytes_across(order)
    out, start = [], 0
    while model.m - start > size:
        window = np.arange(start + size // 2, start + size)  # cut after step i
        cut = int(window[np.argmin(across[window])]) + 1
        out.append(order[start:cut])
        start = cut
    out.append(order[start:])
    return out


def chunked_order(model: DnnMemory, order: np.ndarray, ctx: StageContext,
                  size: int = CHUNK_OPS) -> tuple[np.ndarray, str]:
    """Re-order every chunk of `order` by its own relaxation, sharing the budget equally; a chunk
    keeps its order where its relaxation finds none in time. Returns the order and a note."""
    from orkit.solvers.cpsat.dnn import order_relaxation

    parts = chunks(model, order, size)
    improved, proven = 0, 0
    result = []
    for k, ops in enumerate(parts):
        share = replace(ctx, budget=ctx.budget.slice(ctx.budget.remaining() / (len(parts) - k)), params={})
        relaxed = None if ctx.budget.should_stop() else order_relaxation(model, share, order, ops)
        if relaxed is not None and relaxed.order is not None:
            result.append(relaxed.order)
            improved += 1
            proven += relaxed.proven
        else:
            result.append(ops)
    stitched = np.concatenate(result)
    if model.order_problem(stitched):  # cannot happen by construction; never hand on a bad order
        return order, "decomposition: stitched order invalid, kept the input order"
    return stitched, (f"decomposition: {len(parts)} chunks of <= {size} operators, {improved} re-ordered "
                      f"({proven} optimal for their relaxation)")
