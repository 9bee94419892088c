"""Compiled (numba) kernels for RCPSP schedule generation: the hot loop of the genetic algorithm.

The kernels see only flat arrays (arcs in CSR form, a capacity profile), so they compile once and
are cached on disk; `compile_seconds()` reports what the first call cost.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numba import njit

from orkit.models.rcpsp import NO_DEADLINE, RCPSP
from orkit.solvers.heuristics.rcpsp_sgs import mirrored_arcs


@dataclass(frozen=True)
class FlatProject:
    """A project (or its mirror image) as flat arrays for the compiled kernels."""

    durations: np.ndarray
    demands: np.ndarray
    profile: np.ndarray
    in_ptr: np.ndarray
    in_src: np.ndarray
    in_lag: np.ndarray
    out_ptr: np.ndarray
    out_dst: np.ndarray
    out_lag: np.ndarray
    release: np.ndarray
    latest: np.ndarray
    partner_ptr: np.ndarray
    partners: np.ndarray


def _csr(n: int, keys: np.ndarray, values: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    order = np.argsort(keys, kind="stable")
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(ptr, keys + 1, 1)
    return (np.cumsum(ptr), *[v[order].astype(np.int64) for v in values])


def flatten(model: RCPSP, arcs: np.ndarray, profile: np.ndarray, release: np.ndarray,
            latest: np.ndarray) -> FlatProject:
    n = model.n
    arcs = arcs.astype(np.int64).reshape(-1, 3)
    in_ptr, in_src, in_lag = _csr(n, arcs[:, 1], [arcs[:, 0], arcs[:, 2]])
    out_ptr, out_dst, out_lag = _csr(n, arcs[:, 0], [arcs[:, 1], arcs[:, 2]])
    pairs = model.disjunctive.astype(np.int64).reshape(-1, 2)
    both = np.vstack([pairs, pairs[:, ::-1]])
    partner_ptr, partners = _csr(n, both[:, 0], [both[:, 1]])
    return FlatProject(model.durations.astype(np.int64), model.demands.astype(np.int64),
                       np.ascontiguousarray(profile, dtype=np.int64), in_ptr, in_src, in_lag, out_ptr, out_dst,
                       out_lag, release.astype(np.int64), latest.astype(np.int64), partner_ptr, partners)


def forward_project(model: RCPSP) -> FlatProject:
    horizon = model.horizon_upper_bound
    latest = np.where(model.due >= NO_DEADLINE, NO_DEADLINE, model.due - model.durations)
    return flatten(model, model.arcs, model.capacity_profile(horizon + 1), model.releases, latest)


def mirror_project(model: RCPSP, forward: FlatProject) -> FlatProject:
    """Reversed in time at full capacity; with downtime the caller swaps in `mirrored_profile`."""
    profile = np.repeat(model.capacities[:, None], forward.profile.shape[1], axis=1)
    return flatten(model, mirrored_arcs(model), profile, np.zeros(model.n, dtype=np.int64),
                   np.full(model.n, NO_DEADLINE, dtype=np.int64))


@njit(cache=True)
def serial_sgs(order, d, q, profile, in_ptr, in_src, in_lag, out_ptr, out_dst, out_lag, release, latest,
               partner_ptr, partners):
    """Serial SGS: each activity of `order` at its earliest feasible start; starts[0] = -1 on failure."""
    n = d.shape[0]
    n_res, horizon = profile.shape
    avail = profile.copy()
    starts = np.full(n, -1, dtype=np.int64)
    for position in range(n):
        j = order[position]
        dj = d[j]
        lo = release[j]
        hi = min(latest[j], horizon - dj)
        for a in range(in_ptr[j], in_ptr[j + 1]):
            i = in_src[a]
            if starts[i] >= 0 and starts[i] + in_lag[a] > lo:
                lo = starts[i] + in_lag[a]
        for a in range(out_ptr[j], out_ptr[j + 1]):
            k = out_dst[a]
            if starts[k] >= 0 and starts[k] - out_lag[a] < hi:
                hi = starts[k] - out_lag[a]
        t = lo
        while dj > 0 and t <= hi:
            moved = False
            for r in range(n_res):  # last period of the window lacking capacity -> jump past it
                if q[j, r] == 0:
                    continue
                for u in range(t + dj - 1, t - 1, -1):
                    if avail[r, u] < q[j, r]:
                        t = u + 1
                        moved = True
                        break
                if moved:
                    break
            if moved:
                continue
            for a in range(partner_ptr[j], partner_ptr[j + 1]):
                p = partners[a]
                if starts[p] >= 0 and d[p] > 0 and starts[p] < t + dj and t < starts[p] + d[p]:
                    t = starts[p] + d[p]
                    moved = True
            if not moved:
                break
        if t > hi or t < 0:
            starts[0] = -1
            return starts
        starts[j] = t
        for r in range(n_res):
            if q[j, r] > 0:
                for u in range(t, t + dj):
                    avail[r, u] -= q[j, r]
    return starts


def run_sgs(project: FlatProject, order: np.ndarray) -> np.ndarray | None:
    p = project
    starts = serial_sgs(order, p.durations, p.demands, p.profile, p.in_ptr, p.in_src, p.in_lag, p.out_ptr,
                        p.out_dst, p.out_lag, p.release, p.latest, p.partner_ptr, p.partners)
    return None if starts[0] < 0 else starts


_COMPILE_SECONDS: list[float] = []


def compile_seconds() -> float:
    """Seconds the first kernel call took in this process (compilation or loading from the cache)."""
    if not _COMPILE_SECONDS:
        started = time.perf_counter()
        one = np.zeros(1, dtype=np.int64)
        serial_sgs(one, one, np.zeros((1, 1), np.int64), np.ones((1, 2), np.int64), np.zeros(2, np.int64),
                   one[:0], one[:0], np.zeros(2, np.int64), one[:0], one[:0], one, np.full(1, 5, np.int64),
                   np.zeros(2, np.int64), one[:0])
        _COMPILE_SECONDS.append(time.perf_counter() - started)
    return _COMPILE_SECONDS[0]
