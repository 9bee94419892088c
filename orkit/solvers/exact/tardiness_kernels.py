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
def lagrangian_bound(p, d, w, kind, upper, mu, horizon, iterations, seconds_hint):
    """Subgradient ascent (Polyak steps toward `upper`, step factor halved after 20 non-improving
    iterations). Updates `mu` in place to the best multipliers. Returns (best bound, iterations,
    feasible) where feasible = the relaxed optimum visited every job exactly once (then it is a
    schedule and the bound is its cost)."""
    n = len(p)
    best = -INF
    best_mu = mu.copy()
    factor = 2.0
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
            return value, it + 1, True
        if factor < 1e-4 or best >= upper - 1e-6:
            break
        step = factor * max(upper - value, 1e-3) / norm
        for j in range(n):
            mu[j] += step * (1 - counts[j])
    mu[:] = best_mu
    return best, it + 1, False


@njit(cache=True)
def _hash(words):
    h = np.uint64(0x9E3779B97F4A7C15)
    for k in range(len(words)):
        h ^= words[k] + np.uint64(0x9E3779B97F4A7C15) + (h << np.uint64(6)) + (h >> np.uint64(2))
    h ^= h >> np.uint64(31)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(29)
    return h


@njit(cache=True)
def expand_layer(keys, times, costs, musum, last, p, d, w, kind, mu, mu_total, h1, pred, limit, max_states):
    """Every state (job subset S, its best cost and last job) extended by one job j not in S.

    A child survives when all jobs required before j are in S, when swapping j with S's last job
    would not be strictly cheaper, and when cost + h1[end] + mu(unscheduled) <= limit. States
    meeting again keep the cheaper cost. Returns the next layer (compacted) plus parent indices,
    or an empty layer with overflow=True when more than `max_states` states appear."""
    K, W = keys.shape
    n = len(p)
    cap = 1024
    while cap < 4 * K:
        cap *= 2
    tk = np.zeros((cap, W), dtype=np.uint64)
    tt = np.zeros(cap, dtype=np.int64)
    tc = np.zeros(cap, dtype=np.int64)
    tm = np.zeros(cap, dtype=np.float64)
    tl = np.zeros(cap, dtype=np.int64)
    tp = np.zeros(cap, dtype=np.int64)
    used = np.zeros(cap, dtype=np.bool_)
    count = 0
    child = np.zeros(W, dtype=np.uint64)
    for s in range(K):
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
            if c + h1[e] + (mu_total - musum[s] - mu[j]) > limit:
                continue
            if i >= 0 and not (pred[j, i >> 6] & (np.uint64(1) << np.uint64(i & 63))):
                current = job_cost(kind, w[i], d[i], t) + job_cost(kind, w[j], d[j], e)
                swapped = job_cost(kind, w[j], d[j], t - p[i] + p[j]) + job_cost(kind, w[i], d[i], e)
                if swapped < current:
                    continue
            for q in range(W):
                child[q] = keys[s, q]
            child[word] |= bit
            h = np.int64(_hash(child) & np.uint64(cap - 1))
            while used[h]:
                same = True
                for q in range(W):
                    if tk[h, q] != child[q]:
                        same = False
                        break
                if same:
                    break
                h = (h + 1) & (cap - 1)
            if used[h]:
                if c < tc[h]:
                    tc[h], tl[h], tp[h] = c, j, s
                continue
            used[h] = True
            tk[h, :] = child
            tt[h], tc[h], tm[h], tl[h], tp[h] = e, c, musum[s] + mu[j], j, s
            count += 1
            if count > max_states:
                return (np.zeros((0, W), dtype=np.uint64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64),
                        np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), True)
            if 2 * count > cap:  # grow and rehash
                new_cap = cap * 2
                nk = np.zeros((new_cap, W), dtype=np.uint64)
                nt = np.zeros(new_cap, dtype=np.int64)
                nc = np.zeros(new_cap, dtype=np.int64)
                nm = np.zeros(new_cap, dtype=np.float64)
                nl = np.zeros(new_cap, dtype=np.int64)
                np_ = np.zeros(new_cap, dtype=np.int64)
                nu = np.zeros(new_cap, dtype=np.bool_)
                for x in range(cap):
                    if used[x]:
                        y = np.int64(_hash(tk[x]) & np.uint64(new_cap - 1))
                        while nu[y]:
                            y = (y + 1) & (new_cap - 1)
                        nu[y] = True
                        nk[y, :] = tk[x]
                        nt[y], nc[y], nm[y], nl[y], np_[y] = tt[x], tc[x], tm[x], tl[x], tp[x]
                tk, tt, tc, tm, tl, tp, used, cap = nk, nt, nc, nm, nl, np_, nu, new_cap
    idx = np.flatnonzero(used)
    return tk[idx], tt[idx], tc[idx], tm[idx], tl[idx], tp[idx], False


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
