"""Compiled kernels of the exact single-machine methods.

1. A Lagrangian lower bound: relax "every job exactly once" with multipliers mu; what remains is a
   shortest path over time (fill [0, T] with jobs, no job twice in a row), solved by a DP over
   (t, first job) in O(n·T). Its dual is at least the time-indexed LP bound (Tanaka, Fujikuma &
   Araki build SSDP on the same relaxation). Subgradient steps adjust mu.
2. A forward DP over job subsets (the jobs sequenced first), kept layer by layer in hash tables and
   pruned three ways: the Lagrangian bound of the unscheduled rest (the backward table h(t) plus
   the multipliers of the unscheduled jobs), precedence dominance between jobs, and adjacent
   pairwise interchange of the last two jobs.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from orkit.solvers.heuristics.tardiness_kernels import job_cost

INF = 1e30
TOP = 4  # first jobs kept per time in the strong backward table


@njit(cache=True)
def backward_relaxation(p, d, w, kind, mu, horizon):
    """h(t) = cheapest pseudo-schedule filling [t, horizon] exactly, with job j costing
    cost_j(C) − mu_j and no job twice in a row. Returns the best and second-best values per t
    with their first jobs (second best: best among a different first job)."""
    n = len(p)
    h1 = np.full(horizon + 1, INF)
    h2 = np.full(horizon + 1, INF)
    a1 = np.full(horizon + 1, -1, dtype=np.int64)
    a2 = np.full(horizon + 1, -1, dtype=np.int64)
    h1[horizon] = 0.0
    for t in range(horizon - 1, -1, -1):
        b1, b2 = INF, INF
        j1, j2 = -1, -1
        for j in range(n):
            e = t + p[j]
            if e > horizon:
                continue
            nxt = h1[e] if a1[e] != j else h2[e]
            if nxt >= INF:
                continue
            v = job_cost(kind, w[j], d[j], e) - mu[j] + nxt
            if v < b1:
                b2, j2 = b1, j1
                b1, j1 = v, j
            elif v < b2:
                b2, j2 = v, j
        h1[t], a1[t], h2[t], a2[t] = b1, j1, b2, j2
    return h1, a1, h2, a2


@njit(cache=True)
def _job_counts(p, a1, a2, horizon, n):
    """How often each job appears in the optimal pseudo-schedule (followed from t = 0)."""
    counts = np.zeros(n, dtype=np.int64)
    t, prev = 0, -1
    while t < horizon:
        j = a1[t] if a1[t] != prev else a2[t]
        if j < 0:
            break
        counts[j] += 1
        t += p[j]
        prev = j
    return counts


@njit(cache=True)
def lagrangian_bound(p, d, w, kind, upper, mu, best_mu, horizon, iterations, factor, best):
    """`iterations` subgradient steps (Polyak steps toward `upper`; the step factor halves after 20
    non-improving iterations). Call repeatedly, passing factor and best back in; `mu` is the
    current point, `best_mu` receives the best multipliers seen. Returns (best bound, iterations
    done, exact, factor); exact = the relaxed optimum visited every job once, so it is a schedule
    and the bound is its cost."""
    n = len(p)
    stall = 0
    it = 0
    for it in range(iterations):
        h1, a1, h2, a2 = backward_relaxation(p, d, w, kind, mu, horizon)
        value = h1[0] + mu.sum()
        counts = _job_counts(p, a1, a2, horizon, n)
        if value > best + 1e-9:
            best = value
            best_mu[:] = mu
            stall = 0
        else:
            stall += 1
            if stall >= 20:
                factor *= 0.5
                stall = 0
        norm = 0.0
        for j in range(n):
            g = 1 - counts[j]
            norm += g * g
        if norm == 0:
            return value, it + 1, True, factor
        if factor < 1e-4 or best >= upper - 1e-6:
            break
        step = factor * max(upper - value, 1e-3) / norm
        for j in range(n):
            mu[j] += step * (1 - counts[j])
    return best, it + 1, False, factor


@njit(cache=True, inline="always")
def _may_follow(p, d, w, kind, pred, j, i, t):
    """May job i directly follow job j when j starts at t? Not when i is required before j, nor
    when i-then-j would be strictly cheaper there and j is not required before i."""
    if pred[j, i >> 6] & (np.uint64(1) << np.uint64(i & 63)):
        return False
    e = t + p[j]
    f = e + p[i]
    swapped = job_cost(kind, w[i], d[i], t + p[i]) + job_cost(kind, w[j], d[j], f)
    current = job_cost(kind, w[j], d[j], e) + job_cost(kind, w[i], d[i], f)
    return not (swapped < current and not (pred[i, j >> 6] & (np.uint64(1) << np.uint64(j & 63))))


@njit(cache=True)
def strong_backward(p, d, w, kind, mu, horizon, pred):
    """Like `backward_relaxation`, but a pseudo-schedule may not place i directly after j unless
    `_may_follow` allows it (the optimal sequence the subset DP keeps obeys that rule). O(n^2 T).
    Returns the table h[t, j] and, per t, the TOP best values with distinct first jobs (sorted),
    for bounds that skip first jobs already sequenced."""
    n = len(p)
    h = np.full((horizon + 1, n), INF)
    top_value = np.full((horizon + 1, TOP), INF)
    top_job = np.full((horizon + 1, TOP), -1, dtype=np.int64)
    top_value[horizon, 0] = 0.0
    for t in range(horizon - 1, -1, -1):
        for j in range(n):
            e = t + p[j]
            if e > horizon:
                continue
            if e == horizon:
                nxt = 0.0
            else:
                nxt = INF
                for i in range(n):
                    if i != j and h[e, i] < nxt and _may_follow(p, d, w, kind, pred, j, i, t):
                        nxt = h[e, i]
                if nxt >= INF:
                    continue
            v = job_cost(kind, w[j], d[j], e) - mu[j] + nxt
            h[t, j] = v
            k = TOP - 1  # insert into the sorted top list
            if v < top_value[t, k]:
                while k > 0 and top_value[t, k - 1] > v:
                    top_value[t, k] = top_value[t, k - 1]
                    top_job[t, k] = top_job[t, k - 1]
                    k -= 1
                top_value[t, k] = v
                top_job[t, k] = j
    return h, top_value, top_job


def weak_top(h1, a1, h2, a2):
    """The plain backward table in the layout of `strong_backward`, for instances too large for it."""
    size = len(h1)
    top_value = np.full((size, TOP), INF)
    top_job = np.full((size, TOP), -1, dtype=np.int64)
    top_value[:, 0], top_job[:, 0] = h1, a1
    top_value[:, 1], top_job[:, 1] = h2, a2
    others = a2 >= 0
    top_value[others, 2], top_job[others, 2] = h2[others], -2
    return top_value, top_job


@njit(cache=True)
def _rest_bound(top_value, top_job, e, child):
    """Cheapest relaxed completion from time e whose first job is not in `child`. A job of -1 ends
    the list (no further first job exists); -2 stands for "other first jobs, none cheaper"."""
    for k in range(TOP):
        j = top_job[e, k]
        if j < 0:
            return top_value[e, k]
        if not (child[j >> 6] & (np.uint64(1) << np.uint64(j & 63))):
            return top_value[e, k]
    return top_value[e, TOP - 1]


@njit(cache=True)
def _hash(words):
    h = np.uint64(0x9E3779B97F4A7C15)
    for k in range(len(words)):
        h ^= words[k] + np.uint64(0x9E3779B97F4A7C15) + (h << np.uint64(6)) + (h >> np.uint64(2))
    h ^= h >> np.uint64(31)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(29)
    return h


def new_table(capacity: int, words: int):
    """An open-addressing table of states: keys (bitsets), time, cost, Σmu, last job, parent, used."""
    return (np.zeros((capacity, words), dtype=np.uint64), np.zeros(capacity, dtype=np.int64),
            np.zeros(capacity, dtype=np.int64), np.zeros(capacity), np.zeros(capacity, dtype=np.int64),
            np.zeros(capacity, dtype=np.int64), np.zeros(capacity, dtype=np.bool_))


@njit(cache=True)
def _insert(tk, tt, tc, tm, tl, tp, used, child, e, c, m, j, s):
    """Insert or improve one state; returns 1 when a new slot was taken."""
    cap = len(used)
    h = np.int64(_hash(child) & np.uint64(cap - 1))
    while used[h]:
        same = True
        for q in range(len(child)):
            if tk[h, q] != child[q]:
                same = False
                break
        if same:
            if c < tc[h]:
                tc[h], tl[h], tp[h] = c, j, s
            return 0
        h = (h + 1) & (cap - 1)
    used[h] = True
    tk[h, :] = child
    tt[h], tc[h], tm[h], tl[h], tp[h] = e, c, m, j, s
    return 1


@njit(cache=True)
def rehash(old, new):
    tk, tt, tc, tm, tl, tp, used = old
    nk, nt, nc, nm, nl, np_, nu = new
    for x in range(len(used)):
        if used[x]:
            _insert(nk, nt, nc, nm, nl, np_, nu, tk[x], tt[x], tc[x], tm[x], tl[x], tp[x])


@njit(cache=True)
def expand_states(keys, times, costs, musum, last, first, stop, table, count, p, d, w, kind, mu, mu_total,
                  top_value, top_job, pred, limit):
    """Extend states first..stop-1 of a layer by one job each into `table`; stops early (returning
    the next unprocessed state) when the table would pass half full. A child survives when the
    jobs required before j are sequenced, swapping j with the state's last job is not strictly
    cheaper, and cost + relaxed rest + mu(unscheduled) <= limit. Returns (next state, count)."""
    tk, tt, tc, tm, tl, tp, used = table
    W = keys.shape[1]
    n = len(p)
    cap = len(used)
    child = np.zeros(W, dtype=np.uint64)
    for s in range(first, stop):
        if 2 * (count + n) > cap:
            return s, count
        t = times[s]
        i = last[s]
        for j in range(n):
            word = j >> 6
            bit = np.uint64(1) << np.uint64(j & 63)
            if keys[s, word] & bit:
                continue
            ok = True
            for q in range(W):
                if pred[j, q] & ~keys[s, q]:
                    ok = False
                    break
            if not ok:
                continue
            e = t + p[j]
            c = costs[s] + job_cost(kind, w[j], d[j], e)
            rest_mu = mu_total - musum[s] - mu[j]
            if c + rest_mu + top_value[e, 0] > limit:
                continue
            if i >= 0 and not (pred[j, i >> 6] & (np.uint64(1) << np.uint64(i & 63))):
                current = job_cost(kind, w[i], d[i], t) + job_cost(kind, w[j], d[j], e)
                swapped = job_cost(kind, w[j], d[j], t - p[i] + p[j]) + job_cost(kind, w[i], d[i], e)
                if swapped < current:
                    continue
            for q in range(W):
                child[q] = keys[s, q]
            child[word] |= bit
            if c + rest_mu + _rest_bound(top_value, top_job, e, child) > limit:
                continue
            count += _insert(tk, tt, tc, tm, tl, tp, used, child, e, c, musum[s] + mu[j], j, s)
    return stop, count


@njit(cache=True)
def lawler_moore(p, d, w):
    """Minimum Σ w_j U_j (Lawler & Moore): jobs in EDD order, DP over the total length of on-time
    jobs. Returns (optimum, on_time flags)."""
    n = len(p)
    order = np.argsort(d, kind="mergesort")
    total = int(p.sum())
    best = np.full((n + 1, total + 1), np.iinfo(np.int64).max // 2, dtype=np.int64)
    best[0, 0] = 0
    for k in range(n):
        j = order[k]
        for t in range(total + 1):
            if best[k, t] >= np.iinfo(np.int64).max // 2:
                continue
            late = best[k, t] + w[j]  # j tardy (sequenced after all on-time jobs)
            if late < best[k + 1, t]:
                best[k + 1, t] = late
            e = t + p[j]
            if e <= d[j] and best[k, t] < best[k + 1, e]:
                best[k + 1, e] = best[k, t]
    t = int(np.argmin(best[n]))
    value = best[n, t]
    on_time = np.zeros(n, dtype=np.bool_)
    for k in range(n - 1, -1, -1):  # walk back: on time when that transition explains the value
        j = order[k]
        if p[j] <= t <= d[j] and best[k, t - p[j]] == best[k + 1, t]:
            on_time[j] = True
            t -= p[j]
    return value, on_time
