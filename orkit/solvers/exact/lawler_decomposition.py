"""Lawler's decomposition for total tardiness (1||ΣT_j), searched as a branch and bound with memory.

With the jobs in EDD order and k the longest job, some optimal sequence puts k right after exactly
the jobs of EDD positions up to some m >= k (Lawler 1977). Positions where k would end before the
due date of the last job ahead of it, or at or after the due date of the next job behind it, are
dominated (Potts & Van Wassenhove 1982). Both sides are again "the jobs of EDD positions [a, b]
shorter than some job, started at t", so every result is remembered under (a, b, longest, t).
A subproblem is cut when a lower bound reaches the cost it may still use; the bound is remembered
too. Lower bounds: completion times of the jobs in SPT order against due dates in EDD order, and
the same job set's latest remembered result at another start time (the optimum never falls when
the start moves later, and rises by at most one per job and time unit).
The search itself is compiled and resumable (lawler_kernels); this module sizes its calls to the
budget.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from orkit.models.tardiness import Criterion, SingleMachine
from orkit.solvers.exact import lawler_kernels as kernels

SECONDS_PER_CALL = 0.05  # between two budget checks
FIRST_QUOTA = 256  # node expansions in the first call; later calls are sized from the measured rate
MAX_ENTRIES = 3_000_000  # remembered results (~100 bytes each) before the search gives up


class Stopped(Exception):
    """The budget, Ctrl-C or the memory cap ended the search."""


def applies(model: SingleMachine) -> bool:
    """Total tardiness with equal weights and every job available at time 0."""
    weights = model.weights
    return model.objective is Criterion.TARDINESS and not model.has_releases and bool((weights == weights[0]).all())


class LawlerSearch:
    """Exact total tardiness for jobs all available at time 0 (unit weights)."""

    def __init__(self, processing: np.ndarray, due: np.ndarray, max_entries: int = MAX_ENTRIES):
        n = len(processing)
        processing, due = np.asarray(processing, np.int64), np.asarray(due, np.int64)
        self.edd = np.lexsort((np.arange(n), processing, due))  # by due date, then length, then index
        self.p, self.d = processing[self.edd], due[self.edd]
        self.by_rank = np.lexsort((np.arange(n), self.p))  # ties: the later EDD position is "longer"
        self.rank = np.empty(n, np.int64)
        self.rank[self.by_rank] = np.arange(n)
        self.memory = kernels.new_memory()
        self.frames = np.zeros((64, kernels.FIELDS), np.int64)
        self.cands = np.zeros((1024, 5), np.int64)
        self.state = np.zeros(6, np.int64)
        self.max_entries = max_entries

    @property
    def nodes(self) -> int:
        return int(self.state[3])

    @property
    def entries(self) -> int:
        return len(self.memory)

    def solve(self, upper: int, should_stop: Callable[[], bool]) -> np.ndarray | None:
        """A sequence (original job indices) cheaper than `upper`, or None when none exists.
        Raises Stopped when `should_stop` says so or the memory holds `max_entries` results."""
        args = (self.p, self.d, self.rank, self.by_rank, self.memory)
        self.frames, self.cands = kernels.start(*args, self.frames, self.state, self.cands, upper)
        quota = FIRST_QUOTA
        while self.state[4] == 0:
            if should_stop():
                raise Stopped("budget")
            began = time.perf_counter()
            self.frames, self.cands = kernels.search(*args, self.frames, self.state, self.cands, quota,
                                                     self.max_entries)
            took = time.perf_counter() - began
            quota = int(min(max(quota * SECONDS_PER_CALL / max(took, 1e-4), 16), 4 * quota))
        if self.state[4] == 2:
            raise Stopped("memory")
        if self.state[5] < 0:
            return None
        return self.edd[kernels.unfold(self.p, self.rank, self.memory, len(self.p))]
