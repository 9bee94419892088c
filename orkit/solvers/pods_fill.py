"""How many pods a place step can place at most, from the cluster's total free capacity, and
whether it can reach its ceiling, from how full every node would have to be.

When the step's pods ask for more than the total free capacity, the pods left out must together
cover the excess in every resource at once. The fewest whole pods that do is a bound the pattern
LP only reaches late (it may leave out fractions of the largest pods): on 32 nodes x 256 pods at
util 1.05 it is 248-249 placed where the LP stood at 253-255 after its 0.4 s.

Placing every pod of the step leaves a total slack S per resource (free capacity less the step's
pods' requests), so every node must be filled to within S of its free capacity in every resource
at once. On a cluster sized to utilisation 1.0, S is a few bytes of memory: the node contents that
fill a node that exactly are rare, and often there are none, which proves the ceiling out of reach
(the pattern LP knows it too, but its column generation takes seconds to converge that far). The
contents are found by meet-in-the-middle: the sums of the two halves of the classes, sorted, and
joined on the tightest resource's window.

On identical nodes the ceiling is settled by search (`fill_to_ceiling`): placing `ceiling` pods
leaves out a set of the others whose requests cover the excess, and the rest must fill the nodes
within that set's slack. Such sets are few (2-300 on the grid's over-subscribed families), and
for each the bin-completion search either packs the rest (a plan) or shows it cannot (a proof).
"""

from __future__ import annotations

import numpy as np

from orkit.solvers.exact.bin_completion import FOUND, GAVE_UP, fill_within_slack
from orkit.solvers.pods_classes import PodClasses

COVER_COLUMNS = 2_000  # the excess of the DP's first resource is counted in at most this many steps
COVER_WORK = 50_000_000  # DP cells updated at most (pods x pods left out x columns; 32 x 256 pods: about 8M)
HALF_LIMIT = 200_000  # sums per half at most (up to 0.2 s where it gives up on 16 x 8 pods); beyond, no claim
LEFT_OUT_SETS = 100  # sets of pods left out searched at most; beyond, no claim
LEFT_OUT_WORK = 20_000  # steps of their enumeration at most (0.05 s); beyond, no claim


def most_placed_by_totals(k: PodClasses, classes: np.ndarray) -> int:
    """The most pods of `classes` (indices into k) that fit the total free capacity: all of them
    less the fewest whole pods whose requests cover the excess in every resource. Exact over the
    two resources with the largest relative excess (a DP on pods left out), and a bound for more."""
    size, demand = k.size[classes], k.demand[classes]
    excess = size @ demand - np.maximum(k.free, 0).sum(axis=0)
    total = int(size.sum())
    over = np.flatnonzero(excess > 0)
    if len(over) == 0:
        return total
    pods = np.repeat(demand, size, axis=0)
    fewest = max(_fewest_covering(pods[:, r], int(excess[r])) for r in over)  # each resource alone
    if len(over) == 1:
        return total - fewest
    a, b = over[np.argsort(-excess[over] / pods[:, over].sum(axis=0))[:2]]
    return total - max(fewest, _fewest_covering_both(pods[:, a], int(excess[a]), pods[:, b], int(excess[b])))


def _fewest_covering(requests: np.ndarray, excess: int) -> int:
    """The fewest pods whose requests sum to at least `excess` (the largest ones)."""
    return int(np.searchsorted(np.cumsum(np.sort(requests)[::-1]), excess)) + 1


def _fewest_covering_both(a: np.ndarray, excess_a: int, b: np.ndarray, excess_b: int) -> int:
    """The fewest pods covering both excesses: a DP over the pods of the most b-request per number
    of pods and a-request reached (a counted in steps of `unit`, rounded up, so never too few)."""
    order = np.argsort(-(a / excess_a + b / excess_b))  # greedily, the pods covering most of both
    most = int(np.argmax((np.cumsum(a[order]) >= excess_a) & (np.cumsum(b[order]) >= excess_b))) + 1
    unit = max(1, excess_a // COVER_COLUMNS)
    if len(a) * most * (excess_a // unit) > COVER_WORK:
        return 0  # no claim beyond each resource's own count
    steps, goal = -(-a // unit), -(-excess_a // unit)
    best = np.full((most + 1, goal + 1), -(2 ** 62), np.int64)  # [pods taken, a reached (capped)] -> most b
    best[0, 0] = 0
    for d, v in zip(np.minimum(steps, goal).tolist(), b.tolist()):
        before = best[:-1].copy()
        if d < goal:
            np.maximum(best[1:, d:goal], before[:, :goal - d] + v, out=best[1:, d:goal])
        np.maximum(best[1:, goal], before[:, goal - d:].max(axis=1) + v, out=best[1:, goal])
    return int(np.argmax(best[:, goal] >= excess_b))


def ceiling_out_of_reach(k: PodClasses, classes: np.ndarray, nodes: np.ndarray) -> bool:
    """True when no plan places every pod of `classes` (indices into k): some node cannot take a
    content filling it to within the total slack. False means no claim. `nodes` has one node of
    each kind (nodes with the same free capacity and count limits are checked once)."""
    free = np.maximum(k.free, 0)
    slack = free.sum(axis=0) - k.size[classes] @ k.demand[classes]
    if (slack < 0).any():
        return True
    for n in nodes:
        filled = _has_filling_content(k.demand[classes], k.count_limits[classes, n], free[n], free[n] - slack)
        if filled is None:
            return False
        if not filled:
            return True
    return False


def _has_filling_content(demand: np.ndarray, limits: np.ndarray, top: np.ndarray, low: np.ndarray) -> bool | None:
    """Whether some content x (0 <= x <= limits) has low <= x @ demand <= top in every resource;
    None when the halves are too big to decide."""
    present = np.flatnonzero(limits > 0)
    demand, limits = demand[present], limits[present]
    first, second = _halves(limits)
    a, b = _sums(demand[first], limits[first], top), _sums(demand[second], limits[second], top)
    if a is None or b is None:
        return None
    spread = np.maximum(top - np.maximum(low, 0), 0) / np.maximum(top, 1)
    r = int(np.argmin(np.where(demand.any(axis=0), spread, np.inf)))  # the tightest resource's window
    b = b[np.argsort(b[:, r], kind="stable")]
    start = np.searchsorted(b[:, r], low[r] - a[:, r], "left")
    stop = np.searchsorted(b[:, r], top[r] - a[:, r], "right")
    hits = stop - start
    if hits.sum() > HALF_LIMIT:
        return None
    rows = np.repeat(np.arange(len(a)), hits)
    partners = start[rows] + np.arange(len(rows)) - np.repeat(np.cumsum(hits) - hits, hits)
    total = a[rows] + b[partners]
    return bool(((total >= low) & (total <= top)).all(axis=1).any())


def _halves(limits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The items split so the two halves have about as many contents (product of limit + 1)."""
    weight = [0.0, 0.0]
    sides: list[list[int]] = [[], []]
    for i in np.argsort(-limits, kind="stable"):
        side = int(weight[1] < weight[0])
        sides[side].append(int(i))
        weight[side] += float(np.log1p(limits[i]))
    return np.array(sides[0], np.int64), np.array(sides[1], np.int64)


def _sums(demand: np.ndarray, limits: np.ndarray, top: np.ndarray) -> np.ndarray | None:
    """[content, resource] demand of every content of the items within `top`, or None past HALF_LIMIT."""
    sums = np.zeros((1, len(top)), np.int64)
    for d, limit in zip(demand, limits):
        sums = np.concatenate([sums + j * d for j in range(int(limit) + 1)])
        sums = sums[(sums <= top).all(axis=1)]
        if len(sums) > HALF_LIMIT:
            return None
    return sums


def fill_to_ceiling(k: PodClasses, classes: np.ndarray, ceiling: int,
                    node_limit: int) -> tuple[np.ndarray | None, bool, int]:
    """On nodes that are all alike (the same free capacity and count limits), whether `ceiling`
    pods of `classes` can be placed: ([class, node] counts of a plan placing them, with no pod of
    another class placed; or None), whether no plan does, and the search nodes used. Neither is no
    claim: the search passed `node_limit` nodes, there were too many sets to leave out, or the
    nodes differ."""
    free, limits = np.maximum(k.free, 0), k.count_limits[classes]
    if (free != free[0]).any() or (limits != limits[:, :1]).any():
        return None, False, 0
    size, demand = k.size[classes], k.demand[classes]
    excess = size @ demand - free.sum(axis=0)
    left_out = _left_out_sets(size, demand, int(size.sum()) - ceiling, excess)
    if left_out is None:
        return None, False, 0
    used = 0
    for out in left_out:
        outcome, contents, searched = fill_within_slack(size - out, limits[:, 0], demand, free[0], len(free),
                                                        out @ demand - excess, node_limit - used)
        used += searched
        if outcome == GAVE_UP:
            return None, False, used
        if outcome == FOUND:
            counts = np.zeros((k.n, len(free)), np.int64)
            counts[classes] = contents.T
            return counts, False, used
    return None, True, used


def _left_out_sets(size: np.ndarray, demand: np.ndarray, count: int, excess: np.ndarray) -> list[np.ndarray] | None:
    """Every choice of `count` pods (pods per class, within `size`) whose requests cover `excess`
    in every resource, or None when there are more than LEFT_OUT_SETS, finding them takes more than
    LEFT_OUT_WORK steps, or count < 0."""
    if count < 0:
        return None
    order = np.argsort(-(demand / np.maximum(demand.max(axis=0), 1)).sum(axis=1), kind="stable")
    largest_after = np.maximum.accumulate(demand[order][::-1], axis=0)[::-1]  # [position, resource]
    found: list[np.ndarray] = []
    taken = np.zeros(len(size), np.int64)
    work = [0]

    def extend(position: int, left: int, covered: np.ndarray) -> bool:  # False: too many sets or steps
        work[0] += 1
        if work[0] > LEFT_OUT_WORK:
            return False
        if left == 0:
            if (covered >= excess).all():
                found.append(taken.copy())
            return len(found) <= LEFT_OUT_SETS
        if position == len(order) or (covered + left * largest_after[position] < excess).any():
            return True
        c = order[position]
        for j in range(min(left, int(size[c])), -1, -1):
            taken[c] = j
            if not extend(position + 1, left - j, covered + j * demand[c]):
                return False
        taken[c] = 0
        return True

    return found if extend(0, count, np.zeros(demand.shape[1], np.int64)) else None
