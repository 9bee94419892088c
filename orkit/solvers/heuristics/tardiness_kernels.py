"""Compiled (numba) inner loops for single-machine sequencing: cost, insertion and swap local
search, dynasearch, and an iterated local search with random-swap kicks.

Jobs are indexed 0..n-1; a sequence is an int64 array of job indices. `kind` selects the cost
(0 = weighted tardiness, 1 = weighted completion, 2 = weighted tardy jobs), matching
`Criterion.code` in orkit.models.tardiness.
"""

from __future__ import annotations

import numpy as np
from numba import njit

SWAP_WINDOW = 100


@njit(cache=True, inline="always")
def job_cost(kind: int, w: int, d: int, c: int) -> int:
    if kind == 0:
        return w * (c - d) if c > d else 0
    if kind == 1:
        return w * c
    return w if c > d else 0


@njit(cache=True)
def sequence_cost(seq, p, d, w, r, kind):
    t = 0
    total = 0
    for k in range(len(seq)):
        j = seq[k]
        if r[j] > t:
            t = r[j]
        t += p[j]
        total += job_cost(kind, w[j], d[j], t)
    return total


@njit(cache=True)
def _insertion_pass(seq, p, d, w, r, kind, current):
    """First improvement over all moves "take the job at position i, reinsert it at position k";
    each candidate is costed on the fly and abandoned as soon as it cannot improve."""
    n = len(seq)
    for i in range(n):
        job = seq[i]
        for k in range(n):
            if k == i:
                continue
            t = 0
            total = 0
            m = 0  # next position of the original sequence to place (skipping i)
            for pos in range(n):
                if pos == k:
                    jj = job
                else:
                    if m == i:
                        m += 1
                    jj = seq[m]
                    m += 1
                if r[jj] > t:
                    t = r[jj]
                t += p[jj]
                total += job_cost(kind, w[jj], d[jj], t)
                if total >= current:
                    break
            if total < current:
                if k > i:
                    seq[i:k] = seq[i + 1:k + 1].copy()
                else:
                    seq[k + 1:i + 1] = seq[k:i].copy()
                seq[k] = job
                return total
    return current


@njit(cache=True)
def _insertion_pass_no_idle(seq, p, d, w, kind, current):
    """Best insertion move when jobs never wait (no release dates), all n^2 moves costed in O(n^2):
    moving the job at i to k > i pulls positions i+1..k earlier by p_i; to k < i pushes k..i-1
    later by p_i; running sums give each move's change in O(1). Applies the best; returns the cost."""
    n = len(seq)
    ends = np.empty(n, dtype=np.int64)
    base = np.empty(n, dtype=np.int64)
    t = 0
    for m in range(n):
        t += p[seq[m]]
        ends[m] = t
        base[m] = job_cost(kind, w[seq[m]], d[seq[m]], t)
    best_delta, best_i, best_k = 0, -1, -1
    for i in range(n):
        job = seq[i]
        pi = p[job]
        running = 0
        for k in range(i + 1, n):  # forward
            jk = seq[k]
            running += job_cost(kind, w[jk], d[jk], ends[k] - pi) - base[k]
            delta = running + job_cost(kind, w[job], d[job], ends[k]) - base[i]
            if delta < best_delta:
                best_delta, best_i, best_k = delta, i, k
        running = 0
        for k in range(i - 1, -1, -1):  # backward
            jk = seq[k]
            running += job_cost(kind, w[jk], d[jk], ends[k] + pi) - base[k]
            start = ends[k - 1] if k > 0 else 0
            delta = running + job_cost(kind, w[job], d[job], start + pi) - base[i]
            if delta < best_delta:
                best_delta, best_i, best_k = delta, i, k
    if best_i < 0:
        return current
    i, k, job = best_i, best_k, seq[best_i]
    if k > i:
        seq[i:k] = seq[i + 1:k + 1].copy()
    else:
        seq[k + 1:i + 1] = seq[k:i].copy()
    seq[k] = job
    return current + best_delta


@njit(cache=True)
def _swap_gain(seq, p, d, w, kind, a, b, start):
    """Cost reduction from swapping positions a < b, where position a starts at `start` (no releases)."""
    before = 0
    after = 0
    t = start
    for m in range(a, b + 1):
        j = seq[m]
        t += p[j]
        before += job_cost(kind, w[j], d[j], t)
    t = start + p[seq[b]]
    after += job_cost(kind, w[seq[b]], d[seq[b]], t)
    for m in range(a + 1, b):
        j = seq[m]
        t += p[j]
        after += job_cost(kind, w[j], d[j], t)
    t += p[seq[a]]
    after += job_cost(kind, w[seq[a]], d[seq[a]], t)
    return before - after


@njit(cache=True)
def dynasearch_pass(seq, p, d, w, kind):
    """Best set of independent swaps, by a dynamic programme over positions (Congram, Potts &
    van de Velde): F[k] = max(F[k-1], max_i F[i] + gain(i, k-1)). Applies it; returns the gain.
    Swaps span at most SWAP_WINDOW positions, so a pass costs O(n·window²) instead of O(n³)."""
    n = len(seq)
    starts = np.zeros(n + 1, dtype=np.int64)
    for m in range(n):
        starts[m + 1] = starts[m] + p[seq[m]]
    best = np.zeros(n + 1, dtype=np.int64)
    choice = -np.ones(n + 1, dtype=np.int64)
    for k in range(1, n + 1):
        best[k] = best[k - 1]
        b = k - 1
        for a in range(max(0, b - SWAP_WINDOW), b):
            gain = _swap_gain(seq, p, d, w, kind, a, b, starts[a])
            if gain > 0 and best[a] + gain > best[k]:
                best[k] = best[a] + gain
                choice[k] = a
    k = n
    while k > 0:
        a = choice[k]
        if a < 0:
            k -= 1
            continue
        b = k - 1
        tmp = seq[a]
        seq[a] = seq[b]
        seq[b] = tmp
        k = a
    return best[n]


@njit(cache=True)
def _swap_pass(seq, p, d, w, r, kind, current):
    """First-improvement pairwise interchange (general, release dates allowed)."""
    n = len(seq)
    for a in range(n - 1):
        for b in range(a + 1, n):
            tmp = seq[a]
            seq[a] = seq[b]
            seq[b] = tmp
            value = sequence_cost(seq, p, d, w, r, kind)
            if value < current:
                return value
            seq[b] = seq[a]
            seq[a] = tmp
    return current


@njit(cache=True)
def local_search(seq, p, d, w, r, kind, use_dynasearch, max_passes):
    """Descend: dynasearch passes while they gain (with release dates: a swap pass), then the best
    insertion move, and again, until neither improves. At most `max_passes` passes, so large
    instances stay interruptible. Returns (cost, converged)."""
    current = sequence_cost(seq, p, d, w, r, kind)
    passes = 0
    while passes < max_passes:
        if use_dynasearch:
            while passes < max_passes:
                passes += 1
                gain = dynasearch_pass(seq, p, d, w, kind)
                if gain <= 0:
                    break
                current -= gain
        else:
            passes += 1
            value = _swap_pass(seq, p, d, w, r, kind, current)
            if value < current:
                current = value
                continue
        passes += 1
        if use_dynasearch:
            value = _insertion_pass_no_idle(seq, p, d, w, kind, current)
        else:
            value = _insertion_pass(seq, p, d, w, r, kind, current)
        if value >= current:
            return current, True
        current = value
    return current, False


@njit(cache=True)
def iterated_local_search(seq, p, d, w, r, kind, use_dynasearch, seed, max_kicks, max_stall, target, max_passes,
                          strength):
    """Local search, then repeated random-swap kicks and re-descent; accepts ties and keeps the best.

    A kick is (2..6)·strength random swaps of positions at most 8·strength apart. Stops after
    `max_kicks` kicks, `max_stall` kicks without a new best, on reaching `target`, or when a
    descent needs more than `max_passes` passes (the caller resumes from the best). Returns
    (best cost, kicks done); `seq` holds the best sequence on return."""
    np.random.seed(seed)
    n = len(seq)
    best_cost, converged = local_search(seq, p, d, w, r, kind, use_dynasearch, max_passes)
    if not converged:
        return best_cost, 0
    best = seq.copy()
    current = seq.copy()
    current_cost = best_cost
    stall = 0
    kicks = 0
    while kicks < max_kicks and stall < max_stall and best_cost > target and n > 2:
        trial = current.copy()
        for _ in range((2 + np.random.randint(0, 5)) * strength):
            a = np.random.randint(0, n - 1)
            b = min(n - 1, a + 1 + np.random.randint(0, max(1, min(n - 1, 8 * strength))))
            tmp = trial[a]
            trial[a] = trial[b]
            trial[b] = tmp
        value, _ = local_search(trial, p, d, w, r, kind, use_dynasearch, max_passes)
        kicks += 1
        if value <= current_cost:
            current[:] = trial
            current_cost = value
        if value < best_cost:
            best[:] = trial
            best_cost = value
            stall = 0
        else:
            stall += 1
            if stall % 50 == 0:  # drift too far: restart from the best
                current[:] = best
                current_cost = best_cost
    seq[:] = best
    return best_cost, kicks
