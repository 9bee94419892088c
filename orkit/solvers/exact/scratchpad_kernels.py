"""Compiled depth-first search over canonical buffer placements, after MiniMalloc (Moffitt, ASPLOS'23).

Any feasible placement can be pushed down until every buffer rests on address 0 or on a buffer
alive with it. Listed by offset, such a placement puts each buffer at its *minimum offset*: the
highest top among the buffers placed before it that share time with it. So the search only picks
which buffer comes next, and only in non-decreasing offset order (ties by a preorder).
Four prunings make it fast:

- section inference: in every time section, the floor (the highest top placed there, at least
  the current offset, at least the lowest minimum offset of the buffers still to place there)
  plus the sizes still to place there must fit under the capacity;
- dominance: a buffer is never placed at or above the top another waiting buffer would have at
  its own minimum offset (that buffer could drop into the gap, so another branch covers it);
- decomposition: when no waiting buffer crosses a section boundary any more, the two sides are
  solved one after the other, and a failure on one side never retries choices made on the other;
- the preorder (size, area, lifetime, section load) decides which equal-offset buffer goes first;
  like MiniMalloc, every fresh partition is ranked anew, with the section load counting only what
  is still to place there. Ranking once for the whole instance left challenging_I unsolved after
  60 s under every preorder; re-ranked, load-lifetime-area places it in 1,791 nodes.

The search is iterative and resumable: all state lives in arrays the caller owns; `search` returns
after `max_nodes` expansions so the caller can check its wall-clock budget between calls.
"""

from __future__ import annotations

import numpy as np
from numba import njit

LIMIT, FOUND, EXHAUSTED, OVERFLOW = 0, 1, 2, 3
EXPAND, NEXT_CHOICE, FAIL = 0, 1, 2
SEARCH_FRAME, SPLIT_FRAME = 0, 1
OFFSET, MIN_OFFSET, FLOOR, TOTAL, CUTS, RANK = 0, 1, 2, 3, 4, 5
LOAD_KEY = -1  # preorder key code of the live load still to place in a buffer's sections (recomputed per partition)
UNPLACED = -1

# indices into the `state` array
DEPTH, MODE, TRAIL_TOP, NODES = 0, 1, 2, 3
# indices into the `frames` table (one row per frame)
# POS..CAND_END: a search frame's remaining candidates, or a split frame's remaining ranges, in the pool
KIND, LO, HI, POS, CAND_END, MIN_OFF, MIN_RANK, MARK, OWNER, ALONE = range(10)
FRAME_FIELDS = 10


@njit(cache=True)
def _record(trail, top, kind, index, old):
    trail[top, 0] = kind
    trail[top, 1] = index
    trail[top, 2] = old
    return top + 1


@njit(cache=True)
def _undo(trail, top, mark, offset, min_offset, floor, total, cuts, rank):
    while top > mark:
        top -= 1
        kind, index, old = trail[top, 0], trail[top, 1], trail[top, 2]
        if kind == OFFSET:
            offset[index] = old
        elif kind == MIN_OFFSET:
            min_offset[index] = old
        elif kind == FLOOR:
            floor[index] = old
        elif kind == TOTAL:
            total[index] = old
        elif kind == CUTS:
            cuts[index] = old
        else:
            rank[index] = old
    return top


@njit(cache=True)
def split_range(lo, hi, cuts, total, pool, pool_top):
    """Write the section ranges of [lo, hi) that no waiting buffer crosses and that still hold
    waiting buffers into pool as (lo, hi) pairs; return the new pool top."""
    start = lo
    busy = False
    for s in range(lo, hi):
        busy = busy or total[s] > 0
        if s == hi - 1 or cuts[s] == 0:
            if busy:
                if pool_top + 2 > len(pool):
                    return -1
                pool[pool_top] = start
                pool[pool_top + 1] = s + 1
                pool_top += 2
            start = s + 1
            busy = False
    return pool_top


@njit(cache=True)
def _place(b, first, last, size, align, capacity, sec_ptr, sec_buf, ov_ptr, ov_buf, offset, min_offset, floor, total,
           cuts, stamp, trail, top):
    """Place b at its minimum offset, updating floors, totals, cuts and the minimum offsets of the
    buffers it overlaps (all recorded on the trail). Returns (new trail top, whether every section
    still fits); the top is -1 when the trail is full.

    Only sections whose floor rises above what the caller checked can stop fitting: the caller
    admits b only at offsets where every section's floor, raised to that offset, plus its waiting
    sizes fits, and placing b keeps floor + waiting sizes unchanged in b's own sections."""
    if top + 1 + 3 * (last[b] - first[b]) + (ov_ptr[b + 1] - ov_ptr[b]) > len(trail):
        return -1, False, False
    at = min_offset[b]
    height = at + size[b]
    top = _record(trail, top, OFFSET, b, offset[b])
    offset[b] = at
    for s in range(first[b], last[b]):
        top = _record(trail, top, FLOOR, s, floor[s])
        floor[s] = height
        top = _record(trail, top, TOTAL, s, total[s])
        total[s] -= size[b]
    for s in range(first[b], last[b] - 1):
        top = _record(trail, top, CUTS, s, cuts[s])
        cuts[s] -= 1
    stamp[0] += 1
    mark = stamp[0]
    for s in range(first[b], last[b]):
        stamp[1 + s] = mark
    alone = True
    for k in range(ov_ptr[b], ov_ptr[b + 1]):
        c = ov_buf[k]
        if offset[c] != UNPLACED:
            continue
        alone = False
        if min_offset[c] >= height:
            continue
        top = _record(trail, top, MIN_OFFSET, c, min_offset[c])
        min_offset[c] = -(-height // align[c]) * align[c]
        for s in range(first[c], last[c]):
            stamp[1 + s] = mark
    # unallocated floor: a section's floor is at least the lowest minimum offset waiting in it
    for s in range(len(floor)):
        if stamp[1 + s] != mark or total[s] == 0:
            continue
        lowest = np.iinfo(np.int64).max
        for k in range(sec_ptr[s], sec_ptr[s + 1]):
            c = sec_buf[k]
            if offset[c] == UNPLACED and min_offset[c] < lowest:
                lowest = min_offset[c]
        if lowest > floor[s]:
            if top + 1 > len(trail):
                return -1, False, alone
            top = _record(trail, top, FLOOR, s, floor[s])
            floor[s] = lowest
            if lowest + total[s] > capacity:
                return top, False, alone
    return top, True, alone


@njit(cache=True)
def _rerank(lo, hi, first, last, start_ptr, start_buf, offset, total, keys, key_codes, rank, trail, top):
    """Rank the waiting buffers of a fresh partition [lo, hi) by the preorder, as MiniMalloc does for
    every subproblem: the load key counts only what is still to place, so a side the decomposition
    splits off is ordered by its own bottleneck. Old ranks go on the trail; -1 when it is full."""
    count = 0
    for k in range(start_ptr[lo], start_ptr[hi]):
        count += offset[start_buf[k]] == UNPLACED
    if top + count > len(trail):
        return -1
    waiting = np.empty(count, dtype=np.int64)
    i = 0
    for k in range(start_ptr[lo], start_ptr[hi]):
        b = start_buf[k]
        if offset[b] == UNPLACED:
            waiting[i] = b
            i += 1
    waiting = np.sort(waiting)  # ties go to the lower index
    values = np.empty(count, dtype=np.int64)
    for j in range(len(key_codes) - 1, -1, -1):  # least significant key first, each sort stable
        code = key_codes[j]
        for i in range(count):
            b = waiting[i]
            if code == LOAD_KEY:
                load = 0
                for s in range(first[b], last[b]):
                    load = max(load, total[s])
                values[i] = -load
            else:
                values[i] = -keys[code, b]
        by_key = np.argsort(values, kind="mergesort")
        waiting = waiting[by_key]
    for i in range(count):
        b = waiting[i]
        if rank[b] != i:
            top = _record(trail, top, RANK, b, rank[b])
            rank[b] = i
    return top


@njit(cache=True)
def _candidates(lo, hi, min_off, min_rank, capacity, start_ptr, start_buf, size, rank, offset, min_offset, total,
                pool, pool_top):
    """Write the buffers that may come next in the partition [lo, hi), by (minimum offset, rank).

    Offsets are non-decreasing, so the next one lifts every section's floor to at least itself:
    above capacity minus the largest waiting load in any section nothing can be placed."""
    highest = capacity
    for s in range(lo, hi):
        highest = min(highest, capacity - total[s])
    lowest_top = np.iinfo(np.int64).max
    for k in range(start_ptr[lo], start_ptr[hi]):
        b = start_buf[k]
        if offset[b] == UNPLACED:
            lowest_top = min(lowest_top, min_offset[b] + size[b])
    count = 0
    for k in range(start_ptr[lo], start_ptr[hi]):
        b = start_buf[k]
        if offset[b] != UNPLACED:
            continue
        at = min_offset[b]
        if at < min_off or (at == min_off and rank[b] < min_rank) or at >= lowest_top or at > highest:
            continue  # not canonical, or it would leave a gap a waiting buffer fits into
        if pool_top + count >= len(pool):
            return -1
        pool[pool_top + count] = b
        count += 1
    chosen = pool[pool_top:pool_top + count]
    keys = np.empty(count, dtype=np.int64)
    for i in range(count):
        keys[i] = rank[chosen[i]]
    by_rank = chosen[np.argsort(keys)]
    for i in range(count):
        keys[i] = min_offset[by_rank[i]]
    chosen[:] = by_rank[np.argsort(keys, kind="mergesort")]
    return pool_top + count


@njit(cache=True)
def search(first, last, size, align, rank, keys, key_codes, capacity, start_ptr, start_buf, sec_ptr, sec_buf, ov_ptr,
           ov_buf, offset, min_offset, floor, total, cuts, stamp, trail, frames, pool, state, max_nodes):
    """Run the search for at most `max_nodes` expansions; returns LIMIT, FOUND, EXHAUSTED or
    OVERFLOW (a work array is too small). Frame 0 must be a split frame over the whole instance
    (see `start`)."""
    depth, mode, top, nodes = state[DEPTH], state[MODE], state[TRAIL_TOP], state[NODES]
    budget = nodes + max_nodes
    result = LIMIT
    while True:
        if mode == EXPAND:
            if nodes >= budget:
                break
            nodes += 1
            f = depth
            if frames[f, MIN_RANK] < 0:  # a fresh partition
                top = _rerank(frames[f, LO], frames[f, HI], first, last, start_ptr, start_buf, offset, total, keys,
                              key_codes, rank, trail, top)
                if top < 0:
                    result = OVERFLOW
                    break
            start_at = frames[f - 1, CAND_END]
            end = _candidates(frames[f, LO], frames[f, HI], frames[f, MIN_OFF], frames[f, MIN_RANK], capacity,
                              start_ptr, start_buf, size, rank, offset, min_offset, total, pool, start_at)
            if end < 0:
                result = OVERFLOW
                break
            frames[f, CAND_END] = end
            frames[f, POS] = start_at
            frames[f, ALONE] = 0
            mode = NEXT_CHOICE
        elif mode == NEXT_CHOICE:
            f = depth
            if frames[f, POS] >= frames[f, CAND_END] or frames[f, ALONE]:
                # a buffer nothing waits above never changes its offset, so a later sibling
                # could never place it again: its failure ends this node
                mode = FAIL
                continue
            b = pool[frames[f, POS]]
            frames[f, POS] += 1
            frames[f, MARK] = top
            at = min_offset[b]
            top, fits, alone = _place(b, first, last, size, align, capacity, sec_ptr, sec_buf, ov_ptr, ov_buf,
                                      offset, min_offset, floor, total, cuts, stamp, trail, top)
            frames[f, ALONE] = alone
            if top < 0:
                result = OVERFLOW
                break
            lo, hi = frames[f, LO], frames[f, HI]
            if not fits:
                top = _undo(trail, top, frames[f, MARK], offset, min_offset, floor, total, cuts, rank)
                continue
            pool_start = frames[f, CAND_END]
            pool_end = split_range(lo, hi, cuts, total, pool, pool_start)
            if pool_end < 0:
                result = OVERFLOW
                break
            parts = (pool_end - pool_start) // 2
            if parts == 1:
                depth += 1
                frames[depth, KIND] = SEARCH_FRAME
                frames[depth, LO], frames[depth, HI] = pool[pool_start], pool[pool_start + 1]
                if frames[depth, LO] == lo and frames[depth, HI] == hi:  # the same partition
                    frames[depth, MIN_OFF], frames[depth, MIN_RANK] = at, rank[b]
                else:  # one side is complete: what remains is a fresh partition
                    frames[depth, MIN_OFF], frames[depth, MIN_RANK] = 0, -1
                frames[depth, OWNER] = frames[f, OWNER]
                mode = EXPAND
            elif parts > 1:
                depth = _open_split(frames, pool, depth + 1, pool_start, pool_end, top)
                mode = EXPAND
            else:  # this partition is complete: move on in the split that owns it
                depth = _finish(frames, pool, f)
                if depth < 0:
                    result = FOUND
                    break
                mode = EXPAND
        else:  # FAIL: frame `depth` has no (more) choices
            depth -= 1
            if depth >= 0 and frames[depth, KIND] == SPLIT_FRAME:
                depth -= 1  # one side of a split failed: the split fails as a whole
            if depth < 0:
                result = EXHAUSTED
                break
            top = _undo(trail, top, frames[depth, MARK], offset, min_offset, floor, total, cuts, rank)
            mode = NEXT_CHOICE
    state[DEPTH], state[MODE], state[TRAIL_TOP], state[NODES] = depth, mode, top, nodes
    return result


@njit(cache=True)
def _open_split(frames, pool, d, pool_start, pool_end, top):
    """Push a split frame at depth d over the ranges in pool[pool_start:pool_end], then the search
    frame of its first range; return that frame's depth."""
    frames[d, KIND] = SPLIT_FRAME
    frames[d, CAND_END] = pool_end
    frames[d, POS] = pool_start
    frames[d, MARK] = top
    return _push_part(frames, pool, d)


@njit(cache=True)
def _push_part(frames, pool, d):
    """Push the search frame of the range at split frame d's position; return its depth."""
    s = d + 1
    frames[s, KIND] = SEARCH_FRAME
    frames[s, LO], frames[s, HI] = pool[frames[d, POS]], pool[frames[d, POS] + 1]
    frames[s, OWNER] = d
    frames[s, MIN_OFF], frames[s, MIN_RANK] = 0, -1
    return s


@njit(cache=True)
def _finish(frames, pool, f):
    """Frame f's partition is complete; return the depth of the next partition's search frame, or
    -1 when everything is placed."""
    while True:
        d = frames[f, OWNER]
        frames[d, POS] += 2
        if frames[d, POS] < frames[d, CAND_END]:
            return _push_part(frames, pool, d)
        if d == 0:
            return -1
        f = d - 1


@njit(cache=True)
def start(n_sections, cuts, total, frames, pool, state):
    """Set up the root split over all sections; returns False when nothing needs placing."""
    end = split_range(0, n_sections, cuts, total, pool, 0)
    if end <= 0:
        return False
    state[DEPTH] = _open_split(frames, pool, 0, 0, end, 0)
    state[MODE] = EXPAND
    state[TRAIL_TOP] = 0
    state[NODES] = 0
    return True
