"""Compiled, resumable form of the Lawler decomposition search (see lawler_decomposition).

Jobs are numbered by EDD position; a job set is "positions a..b with length rank < r". The
recursion runs on an explicit stack of frames held in caller-owned arrays, so a call can stop
after a quota of nodes and the next call goes on where it stopped. Results are remembered in a
typed dictionary under (first, last, longest rank, start): (value, exact, split).
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.typed import Dict

KEY = types.UniTuple(types.int64, 4)
ENTRY = types.UniTuple(types.int64, 3)
NONE = -1  # "no sequence cheaper than the limit"
LATEST = -1  # start field of the key under which a set keeps its latest remembered (start, value)
PUSHED = -2  # a frame was pushed; its result comes later

# frame fields
A, B, R, START, UPPER, BEST, SPLIT, OFFSET, COUNT, NEXT, PHASE, LEFT, LOWER = range(13)  # A, B: first, last
FIELDS = 13
# candidate fields
C_BOUND, C_POS, C_FINISH, C_OWN, C_RIGHT = range(5)


def new_memory():
    return Dict.empty(key_type=KEY, value_type=ENTRY)


@njit(cache=True)
def _bound(p, d, rank, by_rank, a, b, r, start):
    """SPT completions against EDD due dates for the set (a, b, r), both orders by one scan each."""
    total = 0
    clock = start
    i = a
    for q in range(r):
        job = by_rank[q]
        if job < a or job > b:
            continue
        while i <= b and rank[i] >= r:
            i += 1
        clock += p[job]
        if clock > d[i]:
            total += clock - d[i]
        i += 1
    return total


@njit(cache=True)
def _describe(rank, a, b, r):
    """(first, last, longest position, size) of the set, or size 0."""
    first, last, longest, size = -1, -1, -1, 0
    for i in range(a, b + 1):
        if rank[i] < r:
            if first < 0:
                first = i
            last = i
            size += 1
            if longest < 0 or rank[i] > rank[longest]:
                longest = i
    return first, last, longest, size


@njit(cache=True)
def _remember(memory, key, value, exact, split):
    memory[(key[0], key[1], key[2], LATEST)] = (key[3], value, 0)
    if key in memory:
        old = memory[key]
        if old[1] == 1 or (exact == 0 and old[0] >= value):
            return
    memory[key] = (value, exact, split)


@njit(cache=True)
def _enter(p, d, rank, by_rank, memory, frames, depth, cands, top, a, b, r, start, upper):
    """Start solving (a, b, r) from `start` below `upper`: (result or PUSHED, new depth, new top).
    Returns frames/cands possibly reallocated."""
    first, last, longest, size = _describe(rank, a, b, r)
    if size == 0:
        return (0 if 0 < upper else NONE), depth, top, frames, cands
    if size == 1:
        cost = max(0, start + p[first] - d[first])
        return (cost if cost < upper else NONE), depth, top, frames, cands
    rk = rank[longest]
    key = (first, last, rk, start)
    lower = _bound(p, d, rank, by_rank, first, last, rk + 1, start)
    if key in memory:
        hit = memory[key]
        if hit[1] == 1:
            return (hit[0] if hit[0] < upper else NONE), depth, top, frames, cands
        lower = max(lower, hit[0])
    latest = (first, last, rk, LATEST)
    if lower < upper and latest in memory:  # the same set remembered from another start time
        other, value, _ = memory[latest]
        lower = max(lower, value if other <= start else value - size * (other - start))
    if lower >= upper:
        _remember(memory, key, lower, 0, -1)
        return NONE, depth, top, frames, cands
    # candidate positions for the longest job
    if top + size + 1 > cands.shape[0]:
        bigger = np.empty((2 * cands.shape[0] + size + 1, 5), np.int64)
        bigger[:top] = cands[:top]
        cands = bigger
    count = 0
    clock = start
    seen = False
    for m in range(first, last + 1):
        if rank[m] >= rk + 1:
            continue
        if m == longest:
            seen = True
        else:
            clock += p[m]
        if not seen:
            continue
        finish = clock + p[longest]
        if m != longest and d[m] > finish:
            continue
        nxt = m + 1
        while nxt <= last and rank[nxt] > rk:
            nxt += 1
        if nxt <= last and finish >= d[nxt]:
            continue
        own = max(0, finish - d[longest])
        left = _bound(p, d, rank, by_rank, first, m, rk, start)
        right = _bound(p, d, rank, by_rank, m + 1, last, rk, finish)
        row = top + count
        cands[row, C_BOUND] = left + own + right
        cands[row, C_POS] = m
        cands[row, C_FINISH] = finish
        cands[row, C_OWN] = own
        cands[row, C_RIGHT] = right
        count += 1
    if count > 1:  # best bound first, ties to the earlier position
        block = cands[top:top + count].copy()
        order = np.argsort(block[:, C_BOUND] * (block.shape[0] + 1) + np.arange(count), kind="mergesort")
        for j in range(count):
            cands[top + j] = block[order[j]]
    if depth >= frames.shape[0]:  # grow the stack
        bigger = np.empty((2 * frames.shape[0], FIELDS), np.int64)
        bigger[:depth] = frames[:depth]
        frames = bigger
    f = frames[depth]
    f[A], f[B], f[R], f[START], f[UPPER], f[BEST], f[SPLIT] = first, last, rk, start, upper, upper, -1
    f[OFFSET], f[COUNT], f[NEXT], f[PHASE], f[LEFT], f[LOWER] = top, count, 0, 0, 0, lower
    return PUSHED, depth + 1, top + count, frames, cands


@njit(cache=True)
def search(p, d, rank, by_rank, memory, frames, state, cands, quota, max_entries):
    """Run at most `quota` node expansions. state = [depth, top, returned, nodes, done, result].
    Returns (frames, cands) (they may grow); state[4] = 1 when finished, 2 when memory is full.

    Frame phases: 0 pick the next candidate and enter its left side; 1 waiting for the left
    side; 2 left result in `returned`; 3 left known, enter the right side; 4 waiting for the
    right side; 5 right result in `returned`. A finished frame bumps its parent from 1 to 2 or 4 to 5."""
    depth, top, returned, nodes = state[0], state[1], state[2], state[3]
    spent = 0
    while depth > 0 and spent < quota:
        if len(memory) > max_entries:
            state[4] = 2
            break
        here = depth - 1
        phase = frames[here, PHASE]
        if phase == 0:
            idx = frames[here, NEXT]
            if idx >= frames[here, COUNT] or cands[frames[here, OFFSET] + idx, C_BOUND] >= frames[here, BEST]:
                key = (frames[here, A], frames[here, B], frames[here, R], frames[here, START])
                if frames[here, SPLIT] >= 0:
                    _remember(memory, key, frames[here, BEST], 1, frames[here, SPLIT])
                    returned = frames[here, BEST]
                else:
                    _remember(memory, key, max(frames[here, UPPER], frames[here, LOWER]), 0, -1)
                    returned = NONE
                top = frames[here, OFFSET]
                depth -= 1
                if depth > 0:
                    frames[depth - 1, PHASE] += 1
                continue
            row = frames[here, OFFSET] + idx
            side_a, side_b, side_start = frames[here, A], cands[row, C_POS], frames[here, START]
            limit = frames[here, BEST] - cands[row, C_OWN] - cands[row, C_RIGHT]
            wait = 1
        elif phase == 2:
            frames[here, LEFT] = returned
            frames[here, PHASE] = 3
            continue
        else:
            row = frames[here, OFFSET] + frames[here, NEXT]
            if phase == 3 and frames[here, LEFT] != NONE:
                side_a, side_b, side_start = cands[row, C_POS] + 1, frames[here, B], cands[row, C_FINISH]
                limit = frames[here, BEST] - cands[row, C_OWN] - frames[here, LEFT]
                wait = 4
            else:  # phase 5, or a left side with nothing below its limit: next candidate
                if phase == 5 and returned != NONE:
                    frames[here, BEST] = frames[here, LEFT] + cands[row, C_OWN] + returned
                    frames[here, SPLIT] = cands[row, C_POS]
                frames[here, NEXT] += 1
                frames[here, PHASE] = 0
                continue
        frames[here, PHASE] = wait
        result, depth, top, frames, cands = _enter(p, d, rank, by_rank, memory, frames, depth, cands, top,
                                                   side_a, side_b, frames[here, R], side_start, limit)
        spent += 1
        if result == PUSHED:
            nodes += 1
        else:
            returned = result
            frames[here, PHASE] = wait + 1
    state[0], state[1], state[2], state[3] = depth, top, returned, nodes
    if depth == 0 and state[4] == 0:
        state[4] = 1
        state[5] = returned
    return frames, cands


@njit(cache=True)
def start(p, d, rank, by_rank, memory, frames, state, cands, upper):
    """Enter the whole job set; finishes at once when it is trivial or remembered."""
    n = len(p)
    result, depth, top, frames, cands = _enter(p, d, rank, by_rank, memory, frames, 0, cands, 0, 0, n - 1, n, 0,
                                               upper)
    state[:] = 0
    if result == PUSHED:
        state[0], state[1], state[3] = depth, top, 1
    else:
        state[4], state[5] = 1, result
    return frames, cands


@njit(cache=True)
def unfold(p, rank, memory, n):
    """The sequence (EDD positions) from the remembered splits of the whole set from time 0."""
    order = np.empty(n, np.int64)
    filled = 0
    stack_a = np.empty(2 * n + 2, np.int64)  # pending sets: at most two per job placed so far, plus one
    stack_b = np.empty(2 * n + 2, np.int64)
    stack_r = np.empty(2 * n + 2, np.int64)
    stack_t = np.empty(2 * n + 2, np.int64)
    height = 1
    stack_a[0], stack_b[0], stack_r[0], stack_t[0] = 0, n - 1, n, 0
    while height > 0:
        height -= 1
        a, b, r, t = stack_a[height], stack_b[height], stack_r[height], stack_t[height]
        first, last, longest, size = _describe(rank, a, b, r)
        if size == 0:
            continue
        if size == 1:
            order[filled] = first
            filled += 1
            continue
        rk = rank[longest]
        split = memory[(first, last, rk, t)][2]
        finish = t + p[longest]
        for i in range(first, split + 1):
            if rank[i] < rk:
                finish += p[i]
        # push right, the longest job, then left: the left side comes out first
        stack_a[height], stack_b[height], stack_r[height], stack_t[height] = split + 1, last, rk, finish
        height += 1
        began = finish - p[longest]
        stack_a[height], stack_b[height], stack_r[height], stack_t[height] = longest, longest, rk + 1, began
        height += 1
        stack_a[height], stack_b[height], stack_r[height], stack_t[height] = first, split, rk, t
        height += 1
    return order
