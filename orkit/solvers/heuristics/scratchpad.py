"""Buffer placement heuristics: canonical placements (each buffer at the lowest free aligned
offset among the buffers already placed that are alive with it) in classic orders — size, area,
lifetime length, start — then, when it is the last stage, in seeded perturbed orders while the
budget lasts."""

from __future__ import annotations

import numpy as np

from orkit.core.backend import Outcome, StageContext
from orkit.core.result import Status
from orkit.models.scratchpad import BufferPlacement, Placement

MAX_RANDOM_ORDERS = 200


def neighbours(model: BufferPlacement) -> list[np.ndarray]:
    """For each buffer, the buffers whose lifetimes intersect its own."""
    pairs = model.overlapping_pairs()
    both = np.concatenate([pairs, pairs[:, ::-1]])
    both = both[np.argsort(both[:, 0], kind="stable")]
    bounds = np.searchsorted(both[:, 0], np.arange(model.n + 1))
    return [both[bounds[b]:bounds[b + 1], 1] for b in range(model.n)]


def place_in_order(model: BufferPlacement, order: np.ndarray, adjacent: list[np.ndarray]) -> np.ndarray:
    """Offsets of the canonical placement for `order` (lowest fitting aligned offset)."""
    offsets = np.full(model.n, -1, dtype=np.int64)
    sizes, align = model.sizes, model.alignments
    for b in order:
        placed = adjacent[b][offsets[adjacent[b]] >= 0]
        lows = offsets[placed]
        highs = lows + sizes[placed]
        sort = np.argsort(lows, kind="stable")
        candidate = 0
        for lo, hi in zip(lows[sort], highs[sort]):
            if candidate + sizes[b] <= lo:
                break
            if hi > candidate:
                candidate = -(-hi // align[b]) * align[b]
        offsets[b] = candidate
    return offsets


def classic_orders(model: BufferPlacement) -> dict[str, np.ndarray]:
    length = model.ends - model.starts
    index = np.arange(model.n)
    return {
        "size": np.lexsort((index, -length, -model.sizes)),
        "area": np.lexsort((index, -model.sizes, -(model.sizes * length))),
        "lifetime": np.lexsort((index, -model.sizes, -length)),
        "start": np.lexsort((index, -model.sizes, model.starts)),
    }


def solve(model: BufferPlacement, ctx: StageContext) -> Outcome:
    adjacent = neighbours(model)
    lower = model.bound()
    best, best_peak, how = None, None, ""

    def consider(order: np.ndarray, name: str) -> None:
        nonlocal best, best_peak, how
        offsets = place_in_order(model, order, adjacent)
        peak = int((offsets + model.sizes).max())
        if best_peak is None or peak < best_peak:
            best, best_peak, how = offsets, peak, name
            ctx.progress(peak, lower)

    for name, order in classic_orders(model).items():
        consider(order, f"{name} order")
    rng = np.random.default_rng(ctx.seed)
    tries = 0
    base = classic_orders(model)["size"]
    # perturbed orders only when nothing follows: otherwise the exact search uses the time better
    while ctx.is_last and best_peak > lower and tries < MAX_RANDOM_ORDERS and not ctx.budget.should_stop():
        tries += 1  # perturbed size order: swap a few neighbours at random
        order = base.copy()
        for _ in range(1 + tries % 8):
            i = int(rng.integers(0, model.n - 1))
            order[i], order[i + 1] = order[i + 1], order[i]
        consider(order, f"perturbed size order #{tries}")
    stop = ctx.budget.stop_cause()
    if model.capacity is not None and best_peak > model.capacity:
        return Outcome(None, None, Status.UNKNOWN, stop,
                       f"best canonical placement ({how}) needs {best_peak} > capacity {model.capacity}")
    return Outcome(Placement(best), lower, Status.FEASIBLE, stop, f"canonical placement, {how}: peak {best_peak}")
