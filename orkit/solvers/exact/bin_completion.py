"""Bin completion (Korf's bin-packing search, here over resource vectors) for one question: can
the given pods fill `bins` identical nodes completely, leaving at most a given total slack per
resource? A place step's ceiling asks it: placing that many pods leaves a known total slack, and
on clusters sized to utilisation 1.0 or more it is a few per cent of one node, so every node must
be nearly full in every resource at once.

The search fills one node at a time. The node always takes one pod of the largest class left
(some node must hold it, and the nodes are interchangeable), and is completed by every content of
the remaining pods that keeps its unused room within the slack still allowed; completions leaving
the least of that slack unused are tried first. States (pods left) already shown not to pack are
remembered. On the 8-node, 64-pod grid family at util 1.05, where column generation and CP-SAT
stayed at 61 placed for 30 s, it packs 62 in 0.02-0.08 s in 5 of 6 seeds.

Where the slack of a resource is narrow, as at util 1.0 with every pod placed, a completion is only
extended while the classes after it can still add a sum inside the window (a table of reachable
sums): 16-node, 128-pod clusters at util 1.0 are then refuted in 0.01-0.03 s, where the search
without the table gave up after 0.4 s. A large resource (memory in bytes) is tabled in coarse units,
each request rounded down, so the window is widened by a unit for every pod that may still come.
"""

from __future__ import annotations

import numpy as np
from numba import njit

FOUND, NONE, GAVE_UP = 1, 0, -1
FAILED_STATES = 1 << 14  # states remembered as not packing, at most (a hash table of twice as many slots)
TABLE_SIZE = 1 << 14  # sums of a narrow resource are tabled exactly up to this capacity (CPU in millicores),
# in coarser units beyond (memory in bytes): 8/64/1/1.05/9 is refuted in 0.005 s, where 1e8 nodes did not settle
# it. (A table of 2^16 entries costs 4x more to build; one of 2^12 loses refutations on 16/128/1/1.05/0)
ENTRIES_PER_NODE = 4  # table entries cost about a search node per four (600-800M entries/s, 60-250M nodes/s)
NARROW = 64  # a window narrower than 1/64 of the capacity is narrow
FAILED_BYTES = 1 << 24  # and at most this much memory for them (a 500-node cluster has thousands of classes)


@njit(cache=True, nogil=True)
def _completions(left: np.ndarray, most: np.ndarray, slack: np.ndarray, demand: np.ndarray, capacity: np.ndarray,
                 order: np.ndarray, largest: int, nodes: np.ndarray, node_limit: int) -> np.ndarray:
    """Every content of one node holding one pod of class `largest` (already taken out of `left`)
    and at most min(left, most) pods of each class, within `capacity`, with unused room at most
    `slack` in every resource. Stops (possibly short) once `nodes` passes `node_limit`."""
    n, d = demand.shape
    reach = np.zeros((n + 1, d), np.int64)  # the most the classes from order position q on can add
    exact = _narrow_resource(slack, capacity)
    pods_after = np.zeros(n + 1, np.int64)  # the most pods the classes from order position q on can add
    least_after = np.full(n + 1, capacity[exact] + 1 if exact >= 0 else 1, np.int64)  # and their least request
    for q in range(n - 1, -1, -1):
        c = order[q]
        pods_after[q] = pods_after[q + 1] + min(left[c], most[c])
        least_after[q] = least_after[q + 1]
        if exact >= 0 and min(left[c], most[c]) > 0 and demand[c, exact] > 0:
            least_after[q] = min(least_after[q], demand[c, exact])
        for r in range(d):
            reach[q, r] = reach[q + 1, r] + min(left[c], most[c]) * demand[c, r]
    sums_below = _reachable_sums(left, most, demand, capacity, order, largest, exact, nodes)
    found = np.zeros((64, n), np.int64)
    m = 0
    x = np.zeros(n, np.int64)  # pods of the class at each order position
    started = np.zeros(n, np.bool_)
    load = demand[largest].copy()
    low = capacity - slack
    q = 0
    while q >= 0 and nodes[0] <= node_limit:
        nodes[0] += 1
        if q == n:  # a whole content: every position decided, and (checked below) full enough
            if m == found.shape[0]:
                grown = np.zeros((2 * m, n), np.int64)
                grown[:m] = found
                found = grown
            for p in range(n):
                found[m, order[p]] = x[p]
            found[m, largest] += 1
            m += 1
            nodes[0] += n  # the copy costs about as much as that many search steps
            q -= 1
            continue
        c = order[q]
        if not started[q]:  # first visit: as many of the class as fit
            started[q] = True
            take = min(left[c], most[c] - (1 if c == largest else 0))
            for r in range(d):
                if demand[c, r] > 0:
                    take = min(take, (capacity[r] - load[r]) // demand[c, r])
            x[q] = take
            for r in range(d):
                load[r] += take * demand[c, r]
        elif x[q] > 0:  # back from the positions after: one pod of the class fewer
            x[q] -= 1
            for r in range(d):
                load[r] -= demand[c, r]
        else:
            started[q] = False
            q -= 1
            continue
        full_enough = True
        for r in range(d):
            if load[r] + reach[q + 1, r] < low[r]:
                full_enough = False
        if full_enough and exact >= 0:  # the positions after can add a sum within the narrow window
            unit, room = _unit(capacity[exact]), capacity[exact] - load[exact]
            top, bottom = room // unit, max(low[exact] - load[exact], 0) // unit
            if unit > 1:  # each pod's request, in units, is rounded down by less than one; so many pods may come
                bottom -= min(pods_after[q + 1], room // least_after[q + 1])
            full_enough = sums_below[q + 1, top] > (sums_below[q + 1, bottom - 1] if bottom > 0 else 0)
        if full_enough:
            q += 1
        else:  # fewer pods of this class only leave more room unused: back up
            for r in range(d):
                load[r] -= x[q] * demand[c, r]
            x[q] = 0
            started[q] = False
            q -= 1
    return found[:m]


@njit(cache=True, nogil=True)
def _narrow_resource(slack: np.ndarray, capacity: np.ndarray) -> int:
    """The resource whose slack is the smallest share of its capacity, when below 1/NARROW (node
    contents must then hit a narrow window of its sums); else -1."""
    best = -1
    for r in range(len(capacity)):
        if capacity[r] > 0 and slack[r] * NARROW < capacity[r] and \
                (best < 0 or slack[r] / capacity[r] < slack[best] / capacity[best]):
            best = r
    return best


@njit(cache=True, nogil=True)
def _unit(capacity: int) -> int:
    """The unit a resource's sums are tabled in: 1 up to TABLE_SIZE, so at most TABLE_SIZE + 1 entries."""
    return max(1, -(-(capacity + 1) // (TABLE_SIZE + 1)))


@njit(cache=True, nogil=True)
def _reachable_sums(left: np.ndarray, most: np.ndarray, demand: np.ndarray, capacity: np.ndarray,
                    order: np.ndarray, largest: int, r: int, nodes: np.ndarray) -> np.ndarray:
    """[q, s]: how many sums up to s of resource r (in `_unit`s, each request rounded down) the
    classes from order position q on can add (each within min(left, most), less the pod of
    `largest` already taken); empty when r < 0."""
    n = len(order)
    if r < 0:
        return np.zeros((0, 0), np.int32)
    unit = _unit(capacity[r])
    top = capacity[r] // unit
    below = np.zeros((n + 1, top + 1), np.int32)
    can = np.zeros(top + 1, np.bool_)
    can[0] = True
    below[n] = 1
    for q in range(n - 1, -1, -1):
        c = order[q]
        step = demand[c, r] // unit
        copies = min(left[c], most[c] - (1 if c == largest else 0))
        if step > 0 and copies > 0:
            for s in range(top, -1, -1):  # bounded: some 1..copies of the step lead to s from a reachable sum
                if not can[s]:
                    for j in range(1, copies + 1):
                        if s - j * step < 0:
                            break
                        if can[s - j * step]:
                            can[s] = True
                            break
            nodes[0] += (top + 1) * copies // ENTRIES_PER_NODE
        total = 0
        for s in range(top + 1):
            total += can[s]
            below[q, s] = total
    return below


@njit(cache=True, nogil=True)
def _slot(left: np.ndarray, seen: np.ndarray, table: np.ndarray) -> int:
    """The slot of `left` in the open-addressing table of states shown not to pack: where it is
    (table[slot] >= 0) or where it would go (-1)."""
    h = np.uint64(1469598103934665603)  # FNV-1a over the counts
    for v in left:
        h = (h ^ np.uint64(v + 1)) * np.uint64(1099511628211)
    mask = np.uint64(len(table) - 1)  # the table's length is a power of two
    slot = np.int64(h & mask)
    while table[slot] >= 0:
        same = True
        for c in range(len(left)):
            if seen[table[slot], c] != left[c]:
                same = False
                break
        if same:
            break
        slot = np.int64(np.uint64(slot + 1) & mask)
    return slot


@njit(cache=True, nogil=True)
def _fill(left: np.ndarray, most: np.ndarray, slack: np.ndarray, bins: int, demand: np.ndarray,
          capacity: np.ndarray, order: np.ndarray, nodes: np.ndarray, node_limit: int, contents: np.ndarray,
          seen: np.ndarray, table: np.ndarray, n_seen: np.ndarray) -> int:
    """FOUND (with each node's content in `contents`), NONE, or GAVE_UP after `node_limit` nodes."""
    n, d = demand.shape
    largest = -1
    for q in range(n):
        if left[order[q]] > 0:
            largest = order[q]
            break
    if largest < 0:  # every pod placed: the nodes left stay empty
        for r in range(d):
            if bins * capacity[r] > slack[r]:
                return NONE
        contents[:bins] = 0
        return FOUND
    if bins == 1:  # the last node takes the rest
        for c in range(n):
            if left[c] > most[c]:
                return NONE
        for r in range(d):
            load = 0
            for c in range(n):
                load += left[c] * demand[c, r]
            if load > capacity[r] or capacity[r] - load > slack[r]:
                return NONE
        contents[0] = left
        return FOUND
    slot = _slot(left, seen, table)
    if table[slot] >= 0:
        return NONE
    left[largest] -= 1
    options = _completions(left, most, slack, demand, capacity, order, largest, nodes, node_limit)
    left[largest] += 1
    if nodes[0] > node_limit:
        return GAVE_UP
    nodes[0] += len(options) * n  # ranking them costs about that many steps
    unused = np.empty((len(options), d), np.int64)  # [option, resource]
    share = np.zeros(len(options))
    for j in range(len(options)):
        for r in range(d):
            unused[j, r] = capacity[r]
            for c in range(n):
                unused[j, r] -= options[j, c] * demand[c, r]
            share[j] += unused[j, r] / max(slack[r], 1)
    for j in np.argsort(share):
        left -= options[j]
        outcome = _fill(left, most, slack - unused[j], bins - 1, demand, capacity, order, nodes, node_limit,
                        contents[1:], seen, table, n_seen)
        left += options[j]
        if outcome == FOUND:
            contents[0] = options[j]
        if outcome != NONE:
            return outcome
    if n_seen[0] < len(seen):
        slot = _slot(left, seen, table)  # the table changed in the search below this state
        seen[n_seen[0]] = left
        table[slot] = n_seen[0]
        n_seen[0] += 1
    return NONE


def fill_within_slack(counts: np.ndarray, most: np.ndarray, demand: np.ndarray, capacity: np.ndarray, bins: int,
                      slack: np.ndarray, node_limit: int) -> tuple[int, np.ndarray, int]:
    """Whether the pods (`counts` per class, at most `most` of a class on one node) fill `bins` nodes
    of `capacity` leaving at most `slack` unused per resource in all: (FOUND with the nodes'
    contents [node, class], NONE, or GAVE_UP after `node_limit` search nodes; the nodes searched)."""
    demand = np.ascontiguousarray(demand, np.int64)
    capacity = np.array(capacity, np.int64)
    order = np.argsort(-(demand / np.maximum(capacity, 1)).sum(axis=1), kind="stable").astype(np.int64)
    contents = np.zeros((bins, len(counts)), np.int64)
    states = min(FAILED_STATES, 1 << max(0, (FAILED_BYTES // (8 * max(len(counts), 1))).bit_length() - 1))
    seen = np.zeros((states, len(counts)), np.int64)
    nodes = np.zeros(1, np.int64)
    table = np.full(2 * states, -1, np.int64)
    outcome = _fill(np.array(counts, np.int64), np.array(most, np.int64), np.array(slack, np.int64), bins,
                    demand, capacity, order, nodes, node_limit, contents, seen, table, np.zeros(1, np.int64))
    return outcome, contents, int(nodes[0])
