"""The Potts & Van Wassenhove generator behind the OR-Library wt sets and the study's tt sets.

p_j ~ U[1, 100], w_j ~ U[1, 10] (weighted only), d_j ~ U[P(1 − TF − RDD/2), P(1 − TF + RDD/2)]
with P = Σp, all integers; due dates below 0 are clipped to 0 as in OR-Library (unless
`clip_due=False`, as in the unweighted sets where negative due dates occur). numpy's PCG64
stream from `seed` makes every instance reproducible.
"""

from __future__ import annotations

import numpy as np

from orkit.core.errors import ModelError
from orkit.models.tardiness import SingleMachine


def generate(jobs: int, tf: float, rdd: float, seed: int = 0, weighted: bool = False,
             clip_due: bool = True) -> SingleMachine:
    if jobs < 1:
        raise ModelError("--jobs must be at least 1")
    if not 0 <= tf <= 1 or not 0 <= rdd <= 1:
        raise ModelError("--tf and --rdd must lie in [0, 1]")
    rng = np.random.default_rng(seed)
    p = rng.integers(1, 101, size=jobs)
    w = rng.integers(1, 11, size=jobs) if weighted else None
    total = int(p.sum())
    low, high = total * (1 - tf - rdd / 2), total * (1 - tf + rdd / 2)
    d = np.floor(rng.uniform(low, high + 1, size=jobs)).astype(np.int64)
    d = np.minimum(d, int(np.floor(high)))
    if clip_due:
        d = np.maximum(d, 0)
    name = f"{'wt' if weighted else 'tt'}{jobs}_tf{tf:g}_rdd{rdd:g}_s{seed}"
    return SingleMachine(p, d, w, name=name)


def write_orlib(models: list[SingleMachine], path) -> None:
    """OR-Library layout: per instance p, (w,) d; 20 integers per line. All models share n."""
    sizes = {m.n for m in models}
    if len(sizes) != 1:
        raise ModelError("an OR-Library file holds instances of one size")
    weighted = any(m.is_weighted for m in models)
    numbers: list[int] = []
    for m in models:
        numbers += m.processing_times.tolist() + (m.weights.tolist() if weighted else []) + m.due_dates.tolist()
    lines = [" ".join(f"{x:6d}" for x in numbers[i:i + 20]) for i in range(0, len(numbers), 20)]
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")
