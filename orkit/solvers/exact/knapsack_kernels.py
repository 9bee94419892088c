"""Compiled branch and bound for the bounded multi-dimensional knapsack: the exact pricing problem
of the pod pattern LP (the most valuable content of one node at the LP's duals).

A branch is cut when its value plus the fractional knapsack bound of one surrogate constraint (a
weighted sum of the resource constraints) over the items still to decide cannot beat the best
content so far; items are taken in order of value per unit of surrogate weight. The weights are
chosen at the root to make that bound smallest, which there makes it the LP bound: on the
pricing problems late in column generation (items nearly equally worth their room) this cut
the search from 11.3 million nodes to 125 thousand over 29 knapsacks, against equal weights.
Knapsacks over nearly the same items (one per node of a disrupt step) can share one choice.
An item may wait for a partner of the same weight worth more (a pod of a class that stays where it
runs, for one of the class that moves in): it is taken only once the partner is taken in full, since
any other content is beaten by a swap. On pricing rounds of 8-32 node disrupt steps, searched to the
end, that took 12.7 s instead of 21.3 s, 0.45 s instead of 1.13 s and 0.29 s instead of 0.96 s.
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
from orkit.solvers.heuristics.overflow_kernels import overflow_search

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


@njit(cache=True, inline="always")
def _barred(k: int, decided: int, x: np.ndarray, count: np.ndarray, partner: np.ndarray) -> bool:
    """Whether item k may not be taken: its partner (an item of the same weight worth more, before it in
    the order) is among the `decided` first items and taken short of its count, so swapping one k for
    one partner would give a better content."""
    p = partner[k]
    return p >= 0 and p < decided and x[p] < count[p]


@njit(cache=True)
def _fractional_bound(first: int, value: np.ndarray, count: np.ndarray, weight: np.ndarray,
                      surrogate: np.ndarray, scale: np.ndarray, left: np.ndarray, x: np.ndarray,
                      partner: np.ndarray) -> float:
    """The fractional knapsack bound of items first.. on the surrogate constraint (items are in
    decreasing value per surrogate weight), leaving out items whose partner is decided short of its count."""
    room = 0.0
    for r in range(left.shape[0]):
        room += left[r] * scale[r]
    bound = 0.0
    for k in range(first, value.shape[0]):
        if value[k] <= 0.0:  # the rest are worth nothing (only an enumeration passes such items)
            break
        if _barred(k, first, x, count, partner):
            continue
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
    none = np.full(value.shape[0], -1, np.int64)
    return _fractional_bound(0, value[order], count[order], weight[order], surrogate[order], multiplier, capacity,
                             none, none)


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
def partners_of(items: np.ndarray, partner: np.ndarray) -> np.ndarray:
    """partner (over all items) restated over the chosen `items`: -1 where the partner is not among them."""
    position = np.full(partner.shape[0], -1, np.int64)
    position[items] = np.arange(items.shape[0])
    chosen = np.full(items.shape[0], -1, np.int64)
    for i in range(items.shape[0]):
        if partner[items[i]] >= 0:
            chosen[i] = position[partner[items[i]]]
    return chosen


@njit(cache=True)
def _search_order(value: np.ndarray, count: np.ndarray, weight: np.ndarray, capacity: np.ndarray,
                  multiplier: np.ndarray, partner: np.ndarray):
    """The items in the search's order (decreasing value per surrogate weight, with `multiplier`,
    or where it is empty the root's best multipliers): (value, count, weight, surrogate weight,
    multipliers, the order, each item's partner in that order or -1). A partner kept only where it
    comes first (where densities tie, the sort decides which does)."""
    scale = multiplier if multiplier.shape[0] else surrogate_multipliers(value, count, weight, capacity)
    surrogate, order = _by_density(value, weight, scale)
    ordered_partner = partners_of(order, partner)
    ordered_partner[ordered_partner >= np.arange(order.shape[0])] = -1  # a partner after its item bars nothing
    return value[order], count[order], weight[order], surrogate[order], scale, order, ordered_partner


@njit(cache=True, inline="always")
def _descend(depth: int, x: np.ndarray, left: np.ndarray, current: float, value: np.ndarray, count: np.ndarray,
             weight: np.ndarray, partner: np.ndarray) -> tuple[int, float]:
    """The depth-first search's first branch at `depth`: as many of the item as fit (none while barred)."""
    take = 0 if _barred(depth, depth, x, count, partner) else _most_of(depth, count, weight, left)
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
                     floor: float, node_limit: int, multiplier: np.ndarray,
                     partner: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Maximise value @ x subject to x @ weight <= capacity and 0 <= x <= count (integers).

    value [item] > 0; count [item]; weight [item, resource] >= 0; capacity [resource].
    Only contents worth more than `floor` are recorded. Returns (x, its value, upper): x is the
    best content found (zeros and `floor` when none beats it), and no content is worth more than
    upper (never below the value); upper equals the value when the search finished, so x is then
    optimal or nothing beats the floor. `multiplier` weighs the resources in the bound (empty: the
    best for these items, at some cost; knapsacks over nearly the same items can share one)."""
    n = weight.shape[0]
    value, count, weight, surrogate, scale, order, partner = _search_order(value, count, weight, capacity,
                                                                           multiplier, partner)
    x = np.zeros(n, np.int64)
    root = _fractional_bound(0, value, count, weight, surrogate, scale, capacity, x, partner)
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
            if current + _fractional_bound(depth, value, count, weight, surrogate, scale, left, x,
                                           partner) > best + EPSILON:
                depth, current = _descend(depth, x, left, current, value, count, weight, partner)
                continue
        depth, current = _backtrack(depth, x, left, current, value, weight)
        if depth < 0:
            break

    result = np.zeros(n, np.int64)
    result[order] = best_x
    return result, best, best if finished else max(best, root)


@njit(cache=True, nogil=True)
def _knapsack_rows(value: np.ndarray, counts: np.ndarray, weight: np.ndarray, capacities: np.ndarray,
                   floors: np.ndarray, node_limit: int, least_value: float, multipliers: np.ndarray,
                   partner: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`bounded_knapsack` once per row g, with multipliers[g]. It releases the GIL, so threads can
    run it on parts of the rows at once."""
    rows, n = counts.shape
    xs = np.zeros((rows, n), np.int64)
    best = np.zeros(rows)
    upper = np.zeros(rows)
    for g in range(rows):
        items = np.nonzero((counts[g] > 0) & (value > least_value))[0]
        x, found, most = bounded_knapsack(value[items], counts[g][items], weight[items], capacities[g], floors[g],
                                          node_limit, multipliers[g], partners_of(items, partner))
        xs[g][items] = x
        best[g], upper[g] = found, most
    return xs, best, upper


def bounded_knapsacks(value: np.ndarray, counts: np.ndarray, weight: np.ndarray, capacities: np.ndarray,
                      floors: np.ndarray, node_limit: int, least_value: float, workers: int = 1,
                      partner: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`bounded_knapsack` once per row g of counts [g, item], capacities [g, resource] and floors [g],
    over the items worth more than `least_value` with a positive count, in one compiled call per
    thread: the nodes of a disrupt step price 32 knapsacks a round, most settled within 50 search
    nodes, where calling one at a time cost more than the searches. Rows of one capacity share the
    surrogate multipliers chosen for the first of them (their items differ only in the pods running
    on each node), so the answer does not depend on `workers`. A row of another capacity gets its
    own: on a two-tier place step every node's free capacity differs, and a nearly full node's
    multipliers cut the other nodes' searches short at 20,000 search nodes (4.5 ms each) where their
    own settled them in 0.1-0.2 ms. With 2 workers, column generation on a 32-node disrupt step took
    0.90 s instead of 1.06 s (median of 5). `partner[item]`, where not -1, is an item of the same
    weight worth more: the item is taken only once its partner is taken in full (see `_barred`).
    Returns (x [g, item], value [g], upper [g])."""
    rows = counts.shape[0]  # at least one: a cluster has nodes
    partner = np.full(counts.shape[1], -1, np.int64) if partner is None else partner
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
        return _knapsack_rows(value, counts, weight, capacities, floors, node_limit, least_value, multipliers, partner)
    shares = [np.arange(p, rows, parts) for p in range(parts)]  # interleaved: neighbouring nodes cost alike
    futures = [_POOL.submit(_knapsack_rows, value, counts[share], weight, capacities[share], floors[share],
                            node_limit, least_value, multipliers[share], partner) for share in shares[1:]]
    results = [_knapsack_rows(value, counts[shares[0]], weight, capacities[shares[0]], floors[shares[0]],
                              node_limit, least_value, multipliers[shares[0]], partner)] + [f.result() for f in futures]
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
                            floor: float, most: int, node_limit: int, partner: np.ndarray) -> tuple[np.ndarray, bool]:
    """Every x with value @ x >= floor, x @ weight <= capacity and 0 <= x <= count (integers) that
    takes no item while its partner is short of its count (see `_barred`): (the contents [m, item],
    complete). Incomplete when there are more than `most` or the search takes more than `node_limit` nodes."""
    n = weight.shape[0]
    value, count, weight, surrogate, scale, order, partner = _search_order(value, count, weight, capacity,
                                                                           np.zeros(0), partner)
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
        elif current + _fractional_bound(depth, value, count, weight, surrogate, scale, left, x,
                                         partner) >= floor - EPSILON:
            depth, current = _descend(depth, x, left, current, value, count, weight, partner)
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
        none = np.full(1, -1, np.int64)
        _knapsack_rows(one, ones[None], np.ones((1, 1), np.int64), ones[None], np.zeros(1), 1, 0.0, one[None], none)
        surrogate_multipliers(one, ones, np.ones((1, 1), np.int64), ones)  # bounded_knapsacks calls it on its own
        knapsack_contents_above(one, ones, np.ones((1, 1), np.int64), ones, 0.0, 1, 1, none)
        fill_within_slack(ones, ones, np.ones((1, 1), np.int64), ones, 2, ones, 1)
        overflow_search(np.ones((1, 1), np.int64), ones - 1, np.ones((1, 1), np.int64), np.ones((1, 1), np.bool_),
                        np.ones((1, 1), np.int64), ones - 1, np.zeros((1, 2), np.int64), 0, 1)
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
