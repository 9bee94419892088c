"""Lawler's decomposition for total tardiness (1||ΣT_j), searched as a branch and bound with memory.

With the jobs in EDD order and k the longest job, some optimal sequence puts k right after exactly
the jobs of EDD positions up to some m >= k (Lawler 1977). Positions where k would end before the
due date of the last job ahead of it, or at or after the due date of the next job behind it, are
dominated (Potts & Van Wassenhove 1982). Both sides are again "the jobs of EDD positions [a, b]
shorter than some job, started at t", so every result is remembered under (a, b, longest, t).
A subproblem is cut when a lower bound reaches the cost it may still use; the bound is remembered
too. Lower bounds: completion times of the jobs in SPT order against due dates in EDD order, and
the remembered results of the same job set at other start times (the optimum never falls when the
start moves later and rises by at most one per job and time unit).
"""

from __future__ import annotations

import bisect
import sys
from collections.abc import Callable

import numpy as np

from orkit.models.tardiness import Criterion, SingleMachine

CHECK_EVERY = 64  # candidate positions between two calls of should_stop (one costs O(n))


class Stopped(Exception):
    """The budget, Ctrl-C or the memory cap ended the search."""


def applies(model: SingleMachine) -> bool:
    """Total tardiness with equal weights and every job available at time 0."""
    weights = model.weights
    return model.objective is Criterion.TARDINESS and not model.has_releases and bool((weights == weights[0]).all())


def spt_edd_bound(processing: list[int], due_sorted: list[int], start: int) -> int:
    """Σ max(0, C_[i] - d_[i]): the i-th completion is at least the SPT one, and matching sorted
    completions with sorted due dates is the cheapest way to pair them."""
    total, clock = 0, start
    for length, due in zip(sorted(processing), due_sorted):
        clock += length
        if clock > due:
            total += clock - due
    return total


class LawlerSearch:
    """Exact total tardiness for jobs all available at time 0 (unit weights)."""

    def __init__(self, processing: np.ndarray, due: np.ndarray, max_entries: int = 3_000_000):
        n = len(processing)
        self.edd = sorted(range(n), key=lambda j: (int(due[j]), int(processing[j]), j))
        self.p = [int(processing[j]) for j in self.edd]
        self.d = [int(due[j]) for j in self.edd]
        by_length = sorted(range(n), key=lambda i: (self.p[i], i))  # ties: the later EDD position is "longer"
        self.rank = [0] * n
        for r, i in enumerate(by_length):
            self.rank[i] = r
        self.memory: dict[tuple[int, int, int], dict[int, tuple[int, bool, int]]] = {}
        self.starts: dict[tuple[int, int, int], list[int]] = {}  # each set's remembered start times, sorted
        self.entries = 0
        self.max_entries = max_entries
        self.nodes = 0
        self._should_stop: Callable[[], bool] = lambda: False

    def solve(self, upper: int, should_stop: Callable[[], bool]) -> np.ndarray | None:
        """A sequence (original job indices) cheaper than `upper`, or None when none exists.
        Raises Stopped when `should_stop` says so or the memory holds `max_entries` results."""
        self._should_stop = should_stop
        jobs = list(range(len(self.p)))
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 4 * len(jobs) + 200))
        try:
            found = self._search(jobs, 0, upper)
        finally:
            sys.setrecursionlimit(limit)
        if found is None:
            return None
        order: list[int] = []
        self._unfold(jobs, 0, order)
        return np.array([self.edd[i] for i in order], dtype=np.int64)

    def _key(self, jobs: list[int]) -> tuple[tuple[int, int, int], int]:
        longest = max(jobs, key=self.rank.__getitem__)
        return (jobs[0], jobs[-1], self.rank[longest]), longest

    def _remembered_bound(self, key: tuple[int, int, int], start: int, size: int) -> int:
        """From the nearest remembered start times on either side (scanning all of them cost more
        than the nodes it saved)."""
        known, starts = self.memory[key], self.starts[key]
        at = bisect.bisect_right(starts, start)
        best = 0
        if at > 0:
            best = known[starts[at - 1]][0]
        if at < len(starts):
            later = starts[at]
            best = max(best, known[later][0] - size * (later - start))
        return best

    def _search(self, jobs: list[int], start: int, upper: int) -> int | None:
        """Optimal cost of `jobs` from `start` if below `upper`, else None."""
        p, d = self.p, self.d
        if len(jobs) == 1:
            cost = max(0, start + p[jobs[0]] - d[jobs[0]])
            return cost if cost < upper else None
        key, longest = self._key(jobs)
        known = self.memory.get(key)
        if known is not None:
            hit = known.get(start)
            if hit is not None and hit[1]:
                return hit[0] if hit[0] < upper else None
        lower = spt_edd_bound([p[i] for i in jobs], [d[i] for i in jobs], start)
        if known and lower < upper:
            lower = max(lower, self._remembered_bound(key, start, len(jobs)))
        if lower >= upper:
            self._remember(key, start, lower, False, -1)
            return None
        self.nodes += 1
        candidates = []
        clock, seen_longest = start, False
        for position, job in enumerate(jobs):
            if position % CHECK_EVERY == 0 and self._should_stop():
                raise Stopped("budget")
            if job == longest:
                seen_longest = True
            else:
                clock += p[job]
            if not seen_longest:
                continue
            finish = clock + p[longest]
            if job != longest and d[job] > finish:
                continue  # the last job ahead could follow k at no cost
            if position + 1 < len(jobs) and finish >= d[jobs[position + 1]]:
                continue  # the next job behind k is better placed ahead of it
            left = [i for i in jobs[:position + 1] if i != longest]
            right = jobs[position + 1:]
            own = max(0, finish - d[longest])
            left_bound = spt_edd_bound([p[i] for i in left], [d[i] for i in left], start) if left else 0
            right_bound = spt_edd_bound([p[i] for i in right], [d[i] for i in right], finish) if right else 0
            candidates.append((left_bound + own + right_bound, position, left, right, finish, own, right_bound))
        candidates.sort(key=lambda c: (c[0], c[1]))
        best, split = upper, -1
        for bound, position, left, right, finish, own, right_bound in candidates:
            if bound >= best:
                break
            left_cost = self._search(left, start, best - own - right_bound) if left else 0
            if left_cost is None:
                continue
            right_cost = self._search(right, finish, best - own - left_cost) if right else 0
            if right_cost is None:
                continue
            best, split = left_cost + own + right_cost, position
        if split >= 0:
            self._remember(key, start, best, True, split)
            return best
        self._remember(key, start, max(upper, lower), False, -1)
        return None

    def _remember(self, key: tuple[int, int, int], start: int, value: int, exact: bool, split: int) -> None:
        known = self.memory.setdefault(key, {})
        previous = known.get(start)
        if previous is None:
            bisect.insort(self.starts.setdefault(key, []), start)
            self.entries += 1
            if self.entries > self.max_entries:
                raise Stopped("memory")
        elif previous[1] or (not exact and previous[0] >= value):
            return
        known[start] = (value, exact, split)

    def _unfold(self, jobs: list[int], start: int, order: list[int]) -> None:
        """Rebuild the sequence from the remembered splits (iteratively, left to right)."""
        stack = [(jobs, start)]
        while stack:
            jobs, start = stack.pop()
            if len(jobs) == 1:
                order.append(jobs[0])
                continue
            key, longest = self._key(jobs)
            split = self.memory[key][start][2]
            left = [i for i in jobs[:split + 1] if i != longest]
            right = jobs[split + 1:]
            finish = start + sum(self.p[i] for i in left) + self.p[longest]
            if right:
                stack.append((right, finish))
            stack.append(([longest], finish - self.p[longest]))
            if left:
                stack.append((left, start))
