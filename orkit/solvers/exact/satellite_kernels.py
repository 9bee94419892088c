"""Compiled kernels of the station decomposition: the one-antenna dynamic programme at one-second
resolution, and the per-second prefix values it reads."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def prefix_values(rise, length, switch, weight, base, seg_lo, seg_hi, seg_price, seg_first, seg_count, blocked_first,
                  blocked_count, blocked_lo, blocked_hi, penalty):
    """Per window k, over its seconds j = 0..length[k]: prefix[base[k] + j] = value of seconds
    [rise, rise + j) (weight minus the satellite's price, or -penalty where blocked), and
    charge[base[k] + j] = price of the switch seconds [rise + j, rise + j + switch) that a link
    ending there holds. Prices come as sorted segments per window (seg_first/seg_count)."""
    total = base[-1]
    prefix = np.zeros(total)
    charge = np.zeros(total)
    for k in range(len(rise)):
        n = length[k] + switch[k]
        price = np.zeros(n)
        for g in range(seg_first[k], seg_first[k] + seg_count[k]):
            lo = max(seg_lo[g] - rise[k], 0)
            hi = min(seg_hi[g] - rise[k], n)
            for j in range(lo, hi):
                price[j] += seg_price[g]
        for g in range(blocked_first[k], blocked_first[k] + blocked_count[k]):
            lo = max(blocked_lo[g] - rise[k], 0)
            hi = min(blocked_hi[g] - rise[k], n)
            for j in range(lo, hi):
                price[j] += penalty
        acc = 0.0
        b = base[k]
        prefix[b] = 0.0
        for j in range(length[k]):
            acc += weight[k] - price[j]
            prefix[b + j + 1] = acc
        window = 0.0
        for j in range(switch[k]):
            window += price[j]
        for j in range(length[k] + 1):
            charge[b + j] = window
            if switch[k] > 0:
                window += price[j + switch[k]] - price[j] if j + switch[k] < n else -price[j]
    return prefix, charge


@njit(cache=True)
def station_dp(horizon, rise, length, min_d, max_d, before, after, base, prefix, charge):
    """Best value of one antenna: links [s, e) inside windows, each occupying [s - before[k],
    e + after[k]) (after includes the re-pointing), any number per window (a relaxation of one).
    Returns the value and the links as (window, start, end) rows.

    F[t] is the best value with the antenna free from time t. A link of window k ending at e
    reaches F[e + after[k]] from F[s - before[k]] plus its value; for each e the best s is the
    front of a monotone queue over s in [max(rise, e - max_d), e - min_d]."""
    F, pred_k, pred_s = _forward(horizon, rise, length, min_d, max_d, before, after, base, prefix, charge)
    top = len(F)
    links = np.empty((0, 3), np.int64)
    rows = []
    t = top - 1
    while t > 0:
        k = pred_k[t]
        if k < 0:
            t -= 1
            continue
        s = pred_s[t]
        rows.append((k, s, t - after[k]))
        t = s - before[k]
    if rows:
        links = np.empty((len(rows), 3), np.int64)
        for r in range(len(rows)):
            links[r, 0], links[r, 1], links[r, 2] = rows[len(rows) - 1 - r]
    return F[top - 1], links


@njit(cache=True)
def _forward(horizon, rise, length, min_d, max_d, before, after, base, prefix, charge):
    n = len(rise)
    pad = 0
    for k in range(n):
        pad = max(pad, after[k])
    top = horizon + pad + 1
    counts, active = _by_time(rise + min_d + after, rise + length + after, top)  # windows ending at t - after
    queue_s = np.empty(base[-1], np.int64)
    queue_v = np.empty(base[-1])
    head = base[:-1].copy()
    tail = base[:-1].copy()
    F = np.zeros(top)
    pred_k = np.full(top, -1, np.int64)
    pred_s = np.zeros(top, np.int64)
    for t in range(top):
        best = F[t - 1] if t > 0 else 0.0
        for q in range(counts[t], counts[t + 1]):
            k = active[q]
            e = t - after[k]
            s_new = e - min_d[k]
            at = s_new - before[k]
            value = (F[at] if at >= 0 else 0.0) - prefix[base[k] + s_new - rise[k]]
            while tail[k] > head[k] and queue_v[tail[k] - 1] <= value:
                tail[k] -= 1
            queue_s[tail[k]] = s_new
            queue_v[tail[k]] = value
            tail[k] += 1
            while queue_s[head[k]] < e - max_d[k]:
                head[k] += 1
            candidate = queue_v[head[k]] + prefix[base[k] + e - rise[k]] - charge[base[k] + e - rise[k]]
            if candidate > best + 1e-9:
                best = candidate
                pred_k[t] = k
                pred_s[t] = queue_s[head[k]]
        F[t] = best
    return F, pred_k, pred_s


@njit(cache=True)
def _by_time(first, last, top):
    """CSR of the windows k active at each time t in [first[k], last[k]] (t < top)."""
    counts = np.zeros(top + 1, np.int64)
    for k in range(len(first)):
        for t in range(first[k], last[k] + 1):
            counts[t + 1] += 1
    for t in range(top):
        counts[t + 1] += counts[t]
    active = np.empty(counts[top], np.int64)
    fill = counts[:-1].copy()
    for k in range(len(first)):
        for t in range(first[k], last[k] + 1):
            active[fill[t]] = k
            fill[t] += 1
    return counts, active


@njit(cache=True)
def link_values(horizon, rise, length, min_d, max_d, before, after, base, prefix, charge):
    """The best value of one antenna's schedule through each possible link: by_start[base[k] + j] over
    schedules holding a link of window k that starts at rise[k] + j, by_end[...] one that ends there
    (-inf where no link can). A backward programme G[t] (best value of links whose occupations start
    at t or later) joins the forward F of `station_dp`: a link [s, e) is worth F[s - before] + its
    value + G[e + after]. Used to drop links that cannot be part of a better plan than one known."""
    F = _forward(horizon, rise, length, min_d, max_d, before, after, base, prefix, charge)[0]
    n = len(rise)
    shift = 0
    for k in range(n):
        shift = max(shift, before[k])
    top = len(F)
    G = np.zeros(top + shift + 1)  # G[t + shift]
    counts, active = _by_time(rise - before + shift, rise + length - min_d - before + shift, top + shift)
    queue_e = np.empty(base[-1], np.int64)
    queue_v = np.empty(base[-1])
    head = base[:-1].copy()
    tail = base[:-1].copy()
    by_start = np.full(base[-1], -np.inf)
    by_end = np.full(base[-1], -np.inf)
    for t in range(top + shift - 1, -1, -1):
        best = G[t + 1]
        for q in range(counts[t], counts[t + 1]):
            k = active[q]
            s = t - shift + before[k]
            e_new = s + min_d[k]
            value = prefix[base[k] + e_new - rise[k]] - charge[base[k] + e_new - rise[k]] + G[e_new + after[k] + shift]
            while tail[k] > head[k] and queue_v[tail[k] - 1] <= value:
                tail[k] -= 1
            queue_e[tail[k]] = e_new
            queue_v[tail[k]] = value
            tail[k] += 1
            while queue_e[head[k]] > s + max_d[k]:
                head[k] += 1
            after_s = queue_v[head[k]] - prefix[base[k] + s - rise[k]]
            best = max(best, after_s)
            at = s - before[k]
            by_start[base[k] + s - rise[k]] = (F[at] if at >= 0 else 0.0) + after_s
        G[t] = best
    for k in range(n):
        h, tl = base[k], base[k]
        for e in range(rise[k] + min_d[k], rise[k] + length[k] + 1):
            s_new = e - min_d[k]
            at = s_new - before[k]
            value = (F[at] if at >= 0 else 0.0) - prefix[base[k] + s_new - rise[k]]
            while tl > h and queue_v[tl - 1] <= value:
                tl -= 1
            queue_e[tl] = s_new
            queue_v[tl] = value
            tl += 1
            while queue_e[h] < e - max_d[k]:
                h += 1
            j = base[k] + e - rise[k]
            by_end[j] = queue_v[h] + prefix[j] - charge[j] + G[e + after[k] + shift]
    return by_start, by_end
