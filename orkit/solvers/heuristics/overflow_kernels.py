"""Compiled tabu search for packing a fixed number of pods: the pods sit on nodes or in an "out"
bin, overload is allowed, and moves and swaps lower the total overflow until no node is over
capacity. Swaps with the out bin change which pods are left out while keeping how many, which is
what a near-full cluster needs: on 16 nodes x 128 pods at util 1.0, every seed packs its ceiling of
127 pods within 1-300 iterations from the repack heuristic's 125-126, where bin completion gave up
after 300M nodes (the left-out sets one by one) and column generation with its MIP stayed at 126.
"""

from __future__ import annotations

import numpy as np
from numba import njit

TENURE = 7  # iterations a pod may not return to the bin it left, plus a random 0..TENURE-1
DISTURB = 1e-3  # cost of a running pod that no longer stays where it runs, in overflow units (fractions of
# the largest node): it steers the search among near-equal moves, so the step after starts from less disruption
OUT_EXCESS = -(1 << 62)  # the out bin's load less its capacity: it never overflows


@njit(cache=True, nogil=True)
def _change(excess: np.ndarray, weight: np.ndarray, demand: np.ndarray, node: int, adds: int, removes: int) -> float:
    """How much the overflow of `node` grows when pod `adds` joins it and pod `removes` leaves (-1: none)."""
    grown = 0.0
    for r in range(excess.shape[1]):
        before = excess[node, r]
        after = before
        if adds >= 0:
            after += demand[adds, r]
        if removes >= 0:
            after -= demand[removes, r]
        if after > 0 or before > 0:
            grown += (max(after, 0) - max(before, 0)) * weight[r]
    return grown


@njit(cache=True, nogil=True)
def _stays_lost(count: np.ndarray, running: np.ndarray, c: int, leaves: int, arrives: int) -> int:
    """Running pods of kind c that stop staying where they run when one pod of c moves from bin
    `leaves` to bin `arrives` (negative when one more stays; the out bin holds none running)."""
    nodes = running.shape[1]
    lost = 0
    if leaves < nodes and count[c, leaves] <= running[c, leaves]:
        lost += 1
    if arrives < nodes and count[c, arrives] < running[c, arrives]:
        lost -= 1
    return lost


@njit(cache=True, nogil=True)
def _costs(excess: np.ndarray, count: np.ndarray, running: np.ndarray, weight: np.ndarray) -> tuple[float, float]:
    """(the total overflow, and the search's cost: the overflow plus DISTURB per running pod not staying)."""
    over, lost = 0.0, 0
    for n in range(running.shape[1]):
        for r in range(excess.shape[1]):
            if excess[n, r] > 0:
                over += excess[n, r] * weight[r]
        for c in range(running.shape[0]):
            lost += max(running[c, n] - count[c, n], 0)
    return over, over + DISTURB * lost


@njit(cache=True, nogil=True)
def _move(pod: int, to: int, assign: np.ndarray, excess: np.ndarray, count: np.ndarray, kind: np.ndarray,
          demand: np.ndarray, tabu_until: np.ndarray, iteration: int) -> None:
    """Pod to bin `to`; it may not return to the bin it left for a while."""
    at = assign[pod]
    excess[at] -= demand[pod]
    excess[to] += demand[pod]
    count[kind[pod], at] -= 1
    count[kind[pod], to] += 1
    assign[pod] = to
    tabu_until[pod, at] = iteration + TENURE + np.random.randint(TENURE)


@njit(cache=True, nogil=True)
def overflow_search(demand: np.ndarray, kind: np.ndarray, running: np.ndarray, allowed: np.ndarray,
                    capacity: np.ndarray, assign: np.ndarray, tabu_until: np.ndarray, iteration: int,
                    steps: int) -> tuple[int, bool]:
    """Run up to `steps` tabu iterations on `assign` (pod -> node, or the node count for out),
    changed in place, until no node is over capacity. Each iteration takes a pod off an overloaded
    node: the best move to another node, or swap with a pod of another kind in another bin, that is
    not tabu (unless it beats the best cost of this call); ties are broken at random. The cost is the
    overflow (per resource, relative to the largest node) plus DISTURB for each pod of `running`
    [kind, node] that no longer stays. Returns (the iteration reached, whether everything fits).
    `tabu_until` [pod, bin] and `iteration` carry the search over calls."""
    if iteration == 0:  # one random stream per search, however its iterations are split into calls
        np.random.seed(0)
    pods, d = demand.shape
    nodes = capacity.shape[0]
    weight = np.empty(d)
    for r in range(d):
        weight[r] = 1.0 / max(1, capacity[:, r].max())
    excess = np.full((nodes + 1, d), OUT_EXCESS, np.int64)
    excess[:nodes] = -capacity
    count = np.zeros((running.shape[0], nodes + 1), np.int64)
    for i in range(pods):
        excess[assign[i]] += demand[i]
        count[kind[i], assign[i]] += 1
    over, cost = _costs(excess, count, running, weight)
    best = cost
    hot = np.zeros(nodes + 1, np.bool_)  # overloaded nodes: every move or swap takes a pod off one
    for _ in range(steps):
        if over == 0.0:
            return iteration, True
        iteration += 1
        for n in range(nodes):
            hot[n] = (excess[n] > 0).any()
        chosen, first, second, target, ties = np.inf, -1, -1, -1, 0
        for i in range(pods):
            u = assign[i]
            if not hot[u]:
                continue
            leave = _change(excess, weight, demand, u, -1, i)
            for v in range(nodes):  # moves
                if v == u or not allowed[i, v]:
                    continue
                delta = leave + _change(excess, weight, demand, v, i, -1) \
                    + DISTURB * _stays_lost(count, running, kind[i], u, v)
                if tabu_until[i, v] > iteration and cost + delta >= best - 1e-12:
                    continue
                if delta < chosen - 1e-12:
                    chosen, first, second, target, ties = delta, i, -1, v, 1
                elif delta < chosen + 1e-12:
                    ties += 1
                    if np.random.randint(ties) == 0:
                        first, second, target = i, -1, v
            for j in range(pods):  # swaps, the out bin included
                v = assign[j]
                if v == u or kind[i] == kind[j] or (v < nodes and not allowed[i, v]) or not allowed[j, u]:
                    continue
                lost = _stays_lost(count, running, kind[i], u, v) + _stays_lost(count, running, kind[j], v, u)
                delta = _change(excess, weight, demand, u, j, i) + _change(excess, weight, demand, v, i, j) \
                    + DISTURB * lost
                if (tabu_until[i, v] > iteration or tabu_until[j, u] > iteration) and cost + delta >= best - 1e-12:
                    continue
                if delta < chosen - 1e-12:
                    chosen, first, second, target, ties = delta, i, j, v, 1
                elif delta < chosen + 1e-12:
                    ties += 1
                    if np.random.randint(ties) == 0:
                        first, second, target = i, j, v
        if first < 0:
            continue
        u = assign[first]
        _move(first, target, assign, excess, count, kind, demand, tabu_until, iteration)
        if second >= 0:
            _move(second, u, assign, excess, count, kind, demand, tabu_until, iteration)
        over, cost = _costs(excess, count, running, weight)  # from integer loads: exactly 0 once all fit
        best = min(best, cost)
    return iteration, over == 0.0
