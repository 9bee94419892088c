"""Exact buffer placement: a search over canonical placements (see scratchpad_kernels).

Four preorders of the buffers (MiniMalloc's load-lifetime-area, lifetime-area-load and
load-area-lifetime, plus area-load) each drive their own resumable search; they take turns with a
node quota that doubles every round, so whichever suits the instance finishes first and no work is
thrown away. Any one of them running to exhaustion proves that no placement fits.

With a capacity the search answers "does everything fit?" and then, while time remains, tries
lower peaks down to the live-size bound; without one it starts from the best heuristic peak.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from orkit.core.backend import Outcome, StageContext
from orkit.core.result import Status, Stop
from orkit.models.scratchpad import BufferPlacement, Placement
from orkit.solvers.exact import scratchpad_kernels as kernels
from orkit.solvers.heuristics.scratchpad import classic_orders, neighbours, place_in_order

MIN_SECONDS = 0.02
FIRST_QUOTA = 2_000  # node expansions per preorder in the first round; doubles every round
CHECK_SECONDS = 0.05  # wall time between two budget checks
# W lifetime width, A area, T the largest load still to place in the buffer's sections (re-ranked
# per partition). MiniMalloc's three plus area-first; TWA alone places all six challenging
# instances within 20,000 nodes, the others need millions on some (benchmarks/scratchpad.py)
PREORDERS = ("TWA", "WAT", "TAW", "AT")
STATIC_KEYS = "WLAZOCSE"  # preorder letters whose value never changes; T (section load) is recomputed
MAX_WORK_CELLS = 20_000_000  # int64 cells of work arrays one search may allocate (160 MiB)


@dataclass(frozen=True)
class Sections:
    """The instance cut at every time a buffer starts or ends, with the lookup tables the search needs."""

    first: np.ndarray  # per buffer: first section
    last: np.ndarray  # per buffer: one past its last section
    live: np.ndarray  # per section: total size alive
    start_ptr: np.ndarray  # CSR: buffers by first section
    start_buf: np.ndarray
    sec_ptr: np.ndarray  # CSR: buffers alive in each section
    sec_buf: np.ndarray
    ov_ptr: np.ndarray  # CSR: buffers whose lifetimes intersect
    ov_buf: np.ndarray
    crossing: np.ndarray  # per section s: buffers alive in both s and s + 1
    static_keys: np.ndarray  # preorder key values per letter of STATIC_KEYS (rows) and buffer

    @property
    def count(self) -> int:
        return len(self.live)

    @classmethod
    def of(cls, model: BufferPlacement) -> Sections:
        times, live = model.live_profile  # every start/end time and the size alive from it on
        first = np.searchsorted(times, model.starts).astype(np.int64)
        last = np.searchsorted(times, model.ends).astype(np.int64)
        count = len(times) - 1
        crossing = np.cumsum(np.bincount(first, minlength=count + 1) - np.bincount(last - 1, minlength=count + 1))
        by_start = np.argsort(first, kind="stable")
        section_of = np.concatenate([np.arange(a, b) for a, b in zip(first, last)])
        by_section = np.argsort(section_of, kind="stable")
        alive = np.repeat(np.arange(model.n), last - first)[by_section]
        adjacent = neighbours(model)
        degree = np.array([len(a) for a in adjacent])
        every = np.arange(count + 1)
        return cls(first, last, live[:count].astype(np.int64),
                   np.searchsorted(first[by_start], every).astype(np.int64), by_start.astype(np.int64),
                   np.searchsorted(section_of[by_section], every).astype(np.int64), alive.astype(np.int64),
                   np.concatenate([[0], np.cumsum(degree)]).astype(np.int64),
                   np.concatenate(adjacent + [np.zeros(0, np.int64)]).astype(np.int64),
                   crossing[:count].astype(np.int64), static_key_matrix(model, last - first, degree))

    def work_shape(self, n: int) -> tuple[int, int]:
        """(trail rows, candidate pool size) of one search; MemoryError when above MAX_WORK_CELLS."""
        spans = int((self.last - self.first).sum())
        # floor lifts are bounded only by n x sections in theory; a search that outgrows this stops
        # with OVERFLOW and the round robin drops it
        lifts = min(n * self.count, 2 * (spans + len(self.ov_buf)) + self.count)
        reranks = n * min(n, 64)  # old ranks of the fresh partitions on the stack
        trail_rows = n + 3 * spans + len(self.ov_buf) + lifts + reranks + 16
        pool_size = min(n * (n + 4) + 16, max(1_000_000, 64 * n))  # candidate lists of the frames on the stack
        if 3 * trail_rows + pool_size > MAX_WORK_CELLS:
            raise MemoryError(f"the search would need {3 * trail_rows + pool_size:,} work cells")
        return trail_rows, pool_size


def static_key_matrix(model: BufferPlacement, section_counts: np.ndarray, overlaps: np.ndarray) -> np.ndarray:
    """One row per letter of STATIC_KEYS: lifetime width (W and L), area, size, overlaps, sections,
    start, end."""
    width = model.ends - model.starts
    return np.stack([width, width, width * model.sizes, model.sizes, overlaps, section_counts, model.starts,
                     model.ends]).astype(np.int64)


def preorder_codes(preorder: str) -> np.ndarray:
    """The preorder's letters as kernel key codes: rows of the static matrix, or the live load."""
    return np.array([kernels.LOAD_KEY if k == "T" else STATIC_KEYS.index(k) for k in preorder], dtype=np.int64)


@dataclass
class CanonicalSearch:
    """One resumable search at one capacity under one preorder."""

    model: BufferPlacement
    sections: Sections
    capacity: int
    preorder: str
    nodes: int = 0
    done: int = kernels.LIMIT
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n, sec = self.model.n, self.sections
        trail_rows, pool_size = sec.work_shape(n)
        self.arrays = {
            "rank": np.zeros(n, dtype=np.int64),  # set per partition by the kernel
            "size": self.model.sizes.astype(np.int64),
            "align": self.model.alignments.astype(np.int64),
            "offset": np.full(n, kernels.UNPLACED, dtype=np.int64),
            "min_offset": np.zeros(n, dtype=np.int64),
            "floor": np.zeros(sec.count, dtype=np.int64),
            "total": sec.live.copy(),
            "cuts": sec.crossing.copy(),
            "stamp": np.zeros(sec.count + 1, dtype=np.int64),
            "trail": np.zeros((trail_rows, 3), dtype=np.int64),
            "frames": np.zeros((2 * n + 4, kernels.FRAME_FIELDS), dtype=np.int64),
            "pool": np.zeros(pool_size, dtype=np.int64),
            "state": np.zeros(4, dtype=np.int64),
        }
        a = self.arrays
        a["key_codes"] = preorder_codes(self.preorder)
        if not kernels.start(sec.count, a["cuts"], a["total"], a["frames"], a["pool"], a["state"]):
            self.done = kernels.FOUND

    def run(self, nodes: int) -> int:
        """Expand up to `nodes` more nodes; returns the kernel's LIMIT/FOUND/EXHAUSTED/OVERFLOW."""
        if self.done != kernels.LIMIT:
            return self.done
        sec, a = self.sections, self.arrays
        self.done = kernels.search(sec.first, sec.last, a["size"], a["align"], a["rank"], sec.static_keys,
                                   a["key_codes"], self.capacity,
                                   sec.start_ptr, sec.start_buf, sec.sec_ptr, sec.sec_buf, sec.ov_ptr, sec.ov_buf,
                                   a["offset"], a["min_offset"], a["floor"], a["total"], a["cuts"], a["stamp"],
                                   a["trail"], a["frames"], a["pool"], a["state"], nodes)
        self.nodes = int(a["state"][kernels.NODES])
        return self.done

    @property
    def offsets(self) -> np.ndarray:
        return self.arrays["offset"].copy()


def decide(model: BufferPlacement, sections: Sections, capacity: int, ctx: StageContext,
           preorders: tuple[str, ...] = PREORDERS) -> tuple[np.ndarray | None, bool, int]:
    """Search for a placement under `capacity`: (offsets or None, proven (found or exhausted), nodes)."""
    searches = [CanonicalSearch(model, sections, capacity, p) for p in preorders]
    quota, rate = FIRST_QUOTA, 50_000.0  # rate: node expansions per second, re-measured every call
    while searches:
        for search in list(searches):
            target = search.nodes + quota
            while search.nodes < target:
                if ctx.budget.should_stop():
                    return None, False, sum(s.nodes for s in searches)
                before, clock = search.nodes, time.perf_counter()
                code = search.run(int(min(target - search.nodes, max(1_000, rate * CHECK_SECONDS))))
                elapsed = time.perf_counter() - clock
                if elapsed > 1e-3:
                    rate = (search.nodes - before) / elapsed
                if code == kernels.FOUND:
                    return search.offsets, True, search.nodes
                if code == kernels.EXHAUSTED:
                    return None, True, search.nodes
                if code == kernels.OVERFLOW:
                    searches.remove(search)
                    break
        quota *= 2
    return None, False, 0


def solve(model: BufferPlacement, ctx: StageContext) -> Outcome:
    lower = int(model.bound())  # the chain has already answered instances whose live size exceeds the capacity
    try:
        sections = Sections.of(model)
        sections.work_shape(model.n)
    except MemoryError as exc:
        return Outcome(None, None, Status.UNKNOWN, Stop.COMPLETED, f"skipped: instance too large ({exc})")
    best = None if ctx.incumbent is None else np.asarray(ctx.incumbent.offsets)
    best_peak = None if best is None else int((best + model.sizes).max())
    if model.capacity is not None and best is None:
        found, proven, nodes = decide(model, sections, model.capacity, ctx)
        if found is None:
            status = Status.INFEASIBLE if proven else Status.UNKNOWN
            return Outcome(None, lower if not proven else None, status, ctx.budget.stop_cause(),
                           f"canonical search, {nodes:,} nodes: " + ("no placement fits" if proven else "stopped"))
        best, best_peak = found, int((found + model.sizes).max())
        ctx.progress(best_peak, lower)
    if best is None:  # run alone without a capacity: start from the size-order placement
        best = place_in_order(model, classic_orders(model)["size"], neighbours(model))
        best_peak = int((best + model.sizes).max())
    low, high = lower, best_peak  # the optimum lies in [low, high]; high is achieved by `best`
    note = ""
    while low < high and not ctx.budget.should_stop():
        target = low if high - low <= 1 else (low + high) // 2
        found, proven, nodes = decide(model, sections, target, ctx)
        if found is not None:
            best, high = found, int((found + model.sizes).max())
            ctx.progress(high, low)
        elif proven:
            low = target + 1
        else:
            note = f"; peak {target} undecided when the budget ran out"
            break
    status = Status.OPTIMAL if low >= high else Status.FEASIBLE
    return Outcome(Placement(best), float(low), status, ctx.budget.stop_cause(),
                   f"canonical search: peak {high}, bound {low}{note}")
