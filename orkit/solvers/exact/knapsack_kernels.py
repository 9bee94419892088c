"""Compiled branch and bound for the bounded multi-dimensional knapsack: the exact pricing problem
of the pod pattern LP (the most valuable content of one node at the LP's duals).

A branch is cut when its value plus the fractional knapsack bound of one surrogate constraint (a
weighted sum of the resource constraints) over the items still to decide cannot beat the best
content so far; items are taken in order of value per unit of surrogate weight. The weights are
chosen at the root to make that bound smallest, which there makes it the LP bound: on the
pricing problems late in column generation (items nearly equally worth their room) this cut
the search from 11.3 million nodes to 125 thousand over 29 knapsacks, against equal weights.
Knapsacks over nearly the same items (one per node of a disrupt step) can share one choice.
Every content the search accepts fits every resource exactly, so its value is a real pattern's.
The search gives up after `node_limit` nodes; it then returns the root bound as its upper bound,
so a caller can still bound the optimum honestly. The same search, cut by a fixed floor instead
of the best so far, enumerates every content worth at least the floor (for proofs by enumeration).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from orkit.solvers.exact.bin_completion import fill_within_slack

EPSILON = 1e-9
GOLDEN = (5**0.5 - 1) / 2  # golden-section ratio
MULTIPLIER_STEPS = 20  # narrow the segment to 0.618**20 = 7e-5 of its length
SPLIT_ROWS = 2  # knapsacks per thread at least: below, one thread does them all. Late in column generation an
# 8-node disrupt step's 7 knapsacks take 2 ms each: split, its pricing took 0.22 s instead of 0.33 s
STOP_POLL = 0.05  # seconds between looks at a stop request while waiting for the kernels to load


@njit(cache=True)
def _most_of(k: int, count: np.ndarray, weight: np.ndarray, left: np.ndarray) -> int:
    """How many of item k fit the capacity left (at most its count)."""
    top = count[k]
    for r in range(weight.shape[1]):
        if weight[k, r] > 0:
            top = min(top, left[r] // weight[k, r])
    return top


@njit(cache=True)
def _fractional_bound(first: int, value: np.ndarray, count: np.ndarray, weight: np.ndarray,
                      surrogate: np.ndarray, scale: np.ndarray, left: np.ndarray) -> float:
    """The fractional knapsack bound of items first.. on the surrogate constraint (items are in
    decreasing value per surrogate weight)."""
    room = 0.0
    for r in range(left.shape[0]):
        room += left[r] * scale[r]
    bound = 0.0
    for k in range(first, value.shape[0]):
        if value[k] <= 0.0:  # the rest are worth nothing (only an enumeration passes such items)
            break
        top = _most_of(k, count, weight, left)
        if top <= 0:
            continue
        if surrogate[k] <= 0.0:
            bound += top * value[k]
            continue
        whole = top * surrogate[k]
        if whole <= room:
            bound += top * value[k]
            room -= whole
        else:
            bound += value[k] * room / surrogate[k]
            break
    return bound


@njit(cache=True)
def _by_density(value: np.ndarray, weight: np.ndarray, multiplier: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each item's surrogate weight, and the items in decreasing value per surrogate weight."""
    surrogate = weight.astype(np.float64) @ multiplier
    return surrogate, np.argsort(-value / np.maximum(surrogate, 1e-300))


@njit(cache=True)
def _surrogate_bound(value: np.ndarray, count: np.ndarray, weight: np.ndarray, capacity: np.ndarray,
                     multiplier: np.ndarray) -> float:
    """The root's fractional knapsack bound of the surrogate constraint with these multipliers."""
    surrogate, order = _by_density(value, weight, multiplier)
    return _fractional_bound(0, value[order], count[order], weight[order], surrogate[order], multiplier, capacity)


@njit(cache=True)
def surrogate_multipliers(value: np.ndarray, count: np.ndarray, weight: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Surrogate multipliers (resource r weighted by multiplier[r], with multiplier @ capacity = 1)
    that make the root bound small: a golden-section search along the segment towards each single
    resource in turn (the bound is unimodal along it), twice over; with two resources the first
    segment spans all choices (with one, there are none), so once. Any multipliers give a valid
    bound: good ones only make the search shorter."""
    resources = capacity.shape[0]
    unit = np.zeros((resources, resources))
    for r in range(resources):
        if capacity[r] > 0:
            unit[r, r] = 1.0 / capacity[r]
    multiplier = unit[resources - 1].copy()
    for _ in range(1 if resources <= 2 else 2):
        for r in range(resources - 1 if resources == 2 else resources):
            low, high = 0.0, 1.0
            one, two = high - GOLDEN * (high - low), low + GOLDEN * (high - low)
            at_one = _surrogate_bound(value, count, weight, capacity, (1 - one) * multiplier + one * unit[r])
            at_two = _surrogate_bound(value, count, weight, capacity, (1 - two) * multiplier + two * unit[r])
            for _ in range(MULTIPLIER_STEPS):
                if at_one < at_two:
                    high, two, at_two = two, one, at_one
                    one = high - GOLDEN * (high - low)
                    at_one = _surrogate_bound(value, count, weight, capacity, (1 - one) * multiplier + one * unit[r])
                else:
                    low, one, at_one = one, two, at_two
                    two = low + GOLDEN * (high - low)
                    at_two = _surrogate_bound(value, count, weight, capacity, (1 - two) * multiplier + two * unit[r])
            t = (low + high) / 2
            multiplier = (1 - t) * multiplier + t * unit[r]
    return multiplier


@njit(cache=True)
def _search_order(value: np.ndarray, count: np.ndarray, weight: np.ndarray, capacity: np.ndarray,
                  multiplier: np.ndarray):
    """The items in the search's order (decreasing value per surrogate weight, with `multiplier`,
    or where it is empty the root's best multipliers): (value, count, weight, surrogate weight,
    multipliers, the order)."""
    scale = multiplier if multiplier.shape[0] else surrogate_multipliers(value, count, weight, capacity)
    surrogate, order = _by_density(value, weight, scale)
    return value[order], count[order], weight[order], surrogate[order], scale, order


@njit(cache=True, inline="always")
def _descend(depth: int, x: np.ndarray, left: np.ndarray, current: float, value: np.ndarray, count: np.ndarray,
             weight: np.ndarray) -> tuple[int, float]:
    """The depth-first search's first branch at `depth`: as many of the item as fit."""
    take = _most_of(depth, count, weight, left)
    x[depth] = take
    left -= take * weight[depth]
    return depth + 1, current + take * value[depth]


@njit(cache=True, inline="always")
def _backtrack(depth: int, x: np.ndarray, left: np.ndarray, current: float, value: np.ndarray,
               weight: np.ndarray) -> tuple[int, float]:
    """The depth-first search's next branch: one fewer of the deepest item still taken, then the
    items after it. Returns (the depth to go on from, the value taken), the depth -1 when done."""
    level = depth - 1
    while level >= 0 and x[level] == 0:
        level -= 1
    if level < 0:
        return -1, current
    x[level] -= 1
    left += weight[level]
    return level + 1, current - value[level]


@njit(cache=True)
def bounded_knapsack(value: np.ndarray, count: np.ndarray, weight: np.ndarray, capacity: np.ndarray,
                     floor: float, node_limit: int, multiplier: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Maximise value @ x subject to x @ weight <= capacity and 0 <= x <= count (integers).

    value [item] > 0; count [item]; weight [item, resource] >= 0; capacity [resource].
    Only contents worth more than `floor` are recorded. Returns (x, its value, upper): x is the
    best content found (zeros and `floor` when none beats it), and no content is worth more than
    upper (never below the value); upper equals the value when the search finished, so x is then
    optimal or nothing beats the floor. `multiplier` weighs the resources in the bound (empty: the
    best for these items, at some cost; knapsacks over nearly the same items can share one)."""
    n = weight.shape[0]
    value, count, weight, surrogate, scale, order = _search_order(value, count, weight, capacity, multiplier)

    root = _fractional_bound(0, value, count, weight, surrogate, scale, capacity)
    x = np.zeros(n, np.int64)
    best_x = np.zeros(n, np.int64)
    best = floor
    left = capacity.copy()
    current = 0.0
    depth = 0
    nodes = 0
    finished = True
    while True:
        nodes += 1
        if current > best + EPSILON:
            best = current
            best_x[:] = x
        if depth < n:
            if nodes > node_limit:
                finished = False
                break
            if current + _fractional_bound(depth, value, count, weight, surrogate, scale, left) > best + EPSILON:
                depth, current = _descend(depth, x, left, current, value, count, weight)
                continue
        depth, current = _backtrack(depth, x, left, current, value, weight)
        if depth < 0:
            break

    result = np.zeros(n, np.int64)
    result[order] = best_x
    return result, best, best if finished else max(best, root)


@njit(cache=True, nogil=True)
def _knapsack_rows(value: np.ndarray, counts: np.ndarray, weight: np.ndarray, capacities: np.ndarray,
                   floors: np.ndarray, node_limit: int, least_value: float,
                   multipliers: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`bounded_knapsack` once per row g, with multipliers[g]. It releases the GIL, so threads can
    run it on parts of the rows at once."""
    rows, n = counts.shape
    xs = np.zeros((rows, n), np.int64)
    best = np.zeros(rows)
    upper = np.zeros(rows)
    for g in range(rows):
        items = np.nonzero((counts[g] > 0) & (value > least_value))[0]
        x, found, most = bounded_knapsack(value[items], counts[g][items], weight[items], capacities[g], floors[g],
                                          node_limit, multipliers[g])
        xs[g][items] = x
        best[g], upper[g] = found, most
    return xs, best, upper


def bounded_knapsacks(value: np.ndarray, counts: np.ndarray, weight: np.ndarray, capacities: np.ndarray,
                      floors: np.ndarray, node_limit: int, least_value: float,
                      workers: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`bounded_knapsack` once per row g of counts [g, item], capacities [g, resource] and floors [g],
    over the items worth more than `least_value` with a positive count, in one compiled call per
    thread: the nodes of a disrupt step price 32 knapsacks a round, most settled within 50 search
    nodes, where calling one at a time cost more than the searches. Rows of one capacity share the
    surrogate multipliers chosen for the first of them (their items differ only in the pods running
    on each node), so the answer does not depend on `workers`. A row of another capacity gets its
    own: on a two-tier place step every node's free capacity differs, and a nearly full node's
    multipliers cut the other nodes' searches short at 20,000 search nodes (4.5 ms each) where their
    own settled them in 0.1-0.2 ms. With 2 workers, column generation on a 32-node disrupt step took
    0.90 s instead of 1.06 s (median of 5). Returns (x [g, item], value [g], upper [g])."""
    rows = counts.shape[0]  # at least one: a cluster has nodes
    multipliers = np.empty(capacities.shape)
    chosen: dict[bytes, np.ndarray] = {}
    for g in range(rows):
        key = capacities[g].tobytes()
        if key not in chosen:
            items = np.flatnonzero((counts[g] > 0) & (value > least_value))
            chosen[key] = surrogate_multipliers(value[items], counts[g][items], weight[items], capacities[g])
        multipliers[g] = chosen[key]
    parts = min(workers, rows // SPLIT_ROWS, _POOL_THREADS + 1)
    if parts < 2:
        return _knapsack_rows(value, counts, weight, capacities, floors, node_limit, least_value, multipliers)
    shares = [np.arange(p, rows, parts) for p in range(parts)]  # interleaved: neighbouring nodes cost alike
    futures = [_POOL.submit(_knapsack_rows, value, counts[share], weight, capacities[share], floors[share],
                            node_limit, least_value, multipliers[share]) for share in shares[1:]]
    results = [_knapsack_rows(value, counts[shares[0]], weight, capacities[shares[0]], floors[shares[0]],
                              node_limit, least_value, multipliers[shares[0]])] + [f.result() for f in futures]
    xs = np.zeros(counts.shape, np.int64)
    best, upper = np.zeros(rows), np.zeros(rows)
    for share, (x, found, most) in zip(shares, results):
        xs[share], best[share], upper[share] = x, found, most
    return xs, best, upper


# The threads pricing runs on besides the caller's (the executor starts them at its first use).
_POOL_THREADS = max(1, (os.cpu_count() or 2) - 1)
_POOL = ThreadPoolExecutor(_POOL_THREADS, thread_name_prefix="orkit-pricing")


@njit(cache=True)
def knapsack_contents_above(value: np.ndarray, count: np.ndarray, weight: np.ndarray, capacity: np.ndarray,
                            floor: float, most: int, node_limit: int) -> tuple[np.ndarray, bool]:
    """Every x with value @ x >= floor, x @ weight <= capacity and 0 <= x <= count (integers):
    (the contents [m, item], complete). Incomplete when there are more than `most` or the search
    takes more than `node_limit` nodes."""
    n = weight.shape[0]
    value, count, weight, surrogate, scale, order = _search_order(value, count, weight, capacity,
                                                                  np.zeros(0))
    x = np.zeros(n, np.int64)
    found = np.zeros((most, n), np.int64)
    m = 0
    left = capacity.copy()
    current = 0.0
    depth = 0
    complete = True
    nodes = 0
    while True:
        nodes += 1
        if nodes > node_limit:
            complete = False
            break
        if depth == n:
            if current >= floor - EPSILON:
                if m == most:
                    complete = False
                    break
                found[m] = x
                m += 1
        elif current + _fractional_bound(depth, value, count, weight, surrogate, scale, left) >= floor - EPSILON:
            depth, current = _descend(depth, x, left, current, value, count, weight)
            continue
        depth, current = _backtrack(depth, x, left, current, value, weight)
        if depth < 0:
            break
    result = np.zeros((m, n), np.int64)
    result[:, order] = found[:m]
    return result, complete


_COMPILE_SECONDS: list[float] = []
_LOADED = threading.Event()


def compile_seconds() -> float:
    """Seconds the first calls of the kernels took in this process (compilation, or loading from
    the disk cache once compiled)."""
    if not _COMPILE_SECONDS:
        started = time.perf_counter()
        one, ones = np.ones(1), np.ones(1, np.int64)
        _knapsack_rows(one, ones[None], np.ones((1, 1), np.int64), ones[None], np.zeros(1), 1, 0.0, one[None])
        surrogate_multipliers(one, ones, np.ones((1, 1), np.int64), ones)  # bounded_knapsacks calls it on its own
        knapsack_contents_above(one, ones, np.ones((1, 1), np.int64), ones, 0.0, 1, 1)
        fill_within_slack(ones, ones, np.ones((1, 1), np.int64), ones, 2, ones, 1)
        _COMPILE_SECONDS.append(time.perf_counter() - started)
        _LOADED.set()
    return _COMPILE_SECONDS[0]


def kernels_ready(wait: float, stop: Callable[[], bool] = lambda: False) -> bool:
    """Whether the kernels are loaded in this process, waiting up to `wait` seconds or until `stop()`
    (a Ctrl-C); the first call starts loading them in a background thread. A first call inside a
    solve cannot be interrupted, and took 0.65-0.8 s from the disk cache and about 20-35 s on a fresh
    install (a 1.5 s pod solve ran 18 s), so a solve uses them only once they are ready."""
    if not _LOADED.is_set() and _LOADER.ident is None:  # not started yet
        _LOADER.start()
    deadline = time.perf_counter() + max(wait, 0.0)
    while not _LOADED.is_set():
        left = deadline - time.perf_counter()
        if left <= 0 or stop():
            return False
        _LOADED.wait(min(left, STOP_POLL))
    return True


_LOADER = threading.Thread(target=compile_seconds, name="orkit-knapsack-kernels", daemon=True)
