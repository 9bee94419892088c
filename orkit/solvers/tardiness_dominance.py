"""Dominance between single-machine jobs for total (weighted) tardiness without release dates.

If p_i <= p_j, d_i <= d_j and w_i >= w_j, some optimal sequence puts i before j (exchanging them
when j comes first never increases the cost); ties between identical jobs go to the lower index so
the relation stays acyclic. Exact methods prune with it and CP-SAT gets it as precedences.
"""

from __future__ import annotations

import numpy as np

from orkit.models.tardiness import SingleMachine


def dominance_matrix(model: SingleMachine) -> np.ndarray:
    """before[i, j] = True when i may be assumed to precede j."""
    p, d, w = model.processing_times, model.due_dates, model.weights
    before = (p[:, None] <= p[None, :]) & (d[:, None] <= d[None, :]) & (w[:, None] >= w[None, :])
    identical = (p[:, None] == p[None, :]) & (d[:, None] == d[None, :]) & (w[:, None] == w[None, :])
    index = np.arange(model.n)
    before &= ~identical | (index[:, None] < index[None, :])
    np.fill_diagonal(before, False)
    return before


def dominance_pairs(model: SingleMachine) -> list[tuple[int, int]]:
    """The relation without its transitive part (fewer, equivalent precedences)."""
    before = dominance_matrix(model)
    via = (before.astype(np.int64) @ before.astype(np.int64)) > 0
    return [(int(i), int(j)) for i, j in zip(*np.nonzero(before & ~via))]


def respect_dominance(model: SingleMachine, order: np.ndarray) -> np.ndarray:
    """Exchange pairs that break the relation until none does; the cost never increases."""
    before = dominance_matrix(model)
    order = np.array(order, dtype=np.int64)
    changed = True
    while changed:
        changed = False
        for a in range(model.n - 1):
            later = before[order[a + 1:], order[a]]  # a job after position a that must precede it
            if later.any():
                b = a + 1 + int(np.argmax(later))
                order[a], order[b] = order[b], order[a]
                changed = True
    return order
