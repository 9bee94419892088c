"""Pods grouped into classes of interchangeable pods, the form both exact backends solve.

Pods with the same requests, priority and admissible nodes are interchangeable: a model counts
how many of a class go to each node instead of naming the pod, which removes the symmetry between
replicas of one ReplicaSet. Running pods that must stay (protected ones, and those of tiers
already settled) are not in any class: their requests are a fixed load on their node.

Disruption of a class follows from the counts: on node n, min(count, running there) pods stay;
new slots are filled by pending pods first (free), then by running pods moved from elsewhere
(2 each); running pods neither staying nor moved are evicted (1 each).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from ortools.graph.python import linear_sum_assignment

from orkit.models.pods import Cluster


@dataclass
class PodClasses:
    members: list[np.ndarray]  # pod indices of each class
    demand: np.ndarray  # [class, resource]
    priority: np.ndarray  # [class]
    allowed: np.ndarray  # [class, node]: new placements admissible
    running: np.ndarray  # [class, node]: pods of the class running there now
    pending: np.ndarray  # [class]
    free: np.ndarray  # [node, resource]: capacity left after the fixed pods
    fixed: np.ndarray  # pod indices held where they run

    @cached_property
    def size(self) -> np.ndarray:
        return np.array([len(m) for m in self.members], dtype=np.int64)

    @property
    def n(self) -> int:
        return len(self.members)

    @cached_property
    def admissible(self) -> np.ndarray:
        """[class, node]: how many pods of the class may be there (running ones may stay anywhere)."""
        return np.where(self.allowed, self.size[:, None], self.running)

    @cached_property
    def count_limits(self) -> np.ndarray:
        """[class, node]: the most pods of the class that are admissible on the node and fit it."""
        free = np.maximum(self.free, 0)[None, :, :]  # [1, node, resource]
        need = self.demand[:, None, :]  # [class, 1, resource]
        fit = np.where(need > 0, free // np.maximum(need, 1), np.iinfo(np.int64).max).min(axis=2)
        return np.minimum(self.admissible, fit)

    @cached_property
    def count_bounds(self) -> dict[tuple[int, int], int]:
        """Upper bound on the pods of class c on node n, for every pair where some may go."""
        top = self.count_limits
        classes, nodes = np.nonzero(top > 0)
        return {(int(c), int(n)): int(top[c, n]) for c, n in zip(classes, nodes)}

    def fits(self, contents: np.ndarray) -> np.ndarray:
        """[content, node]: whether each node content (pods per class) fits the node's free
        capacity and is admissible there (which also keeps it within the class sizes)."""
        fits = ((contents @ self.demand)[:, None, :] <= self.free[None, :, :]).all(axis=2)
        for j, content in enumerate(contents):
            present = np.flatnonzero(content)
            fits[j] &= (content[present, None] <= self.admissible[present]).all(axis=0)
        return fits

    def counts(self, assignment: np.ndarray, n_nodes: int) -> np.ndarray:
        """[class, node] counts of an assignment (pods outside the classes are ignored)."""
        x = np.zeros((self.n, n_nodes), dtype=np.int64)
        for c, members in enumerate(self.members):
            placed = assignment[members]
            placed = placed[placed >= 0]
            np.add.at(x[c], placed, 1)
        return x

    def assignment(self, model: Cluster, x: np.ndarray) -> np.ndarray:
        """A per-pod assignment realising counts `x` with the least disruption."""
        result = np.full(model.n_pods, -1, dtype=np.int64)
        result[self.fixed] = model.current[self.fixed]
        for c, members in enumerate(self.members):
            now = model.current[members]
            slots: list[int] = []
            for node in np.flatnonzero(x[c]):
                here = members[now == node]
                stay = min(int(x[c, node]), len(here))
                result[here[:stay]] = node
                slots += [int(node)] * (int(x[c, node]) - stay)
            moved = [int(p) for p in members[now >= 0] if result[p] < 0]
            waiting = [int(p) for p in members[now < 0]] + moved  # pending pods take free slots first
            for pod, node in zip(waiting, slots):
                result[pod] = node
        return result


def group(model: Cluster, fixed_mask: np.ndarray) -> PodClasses:
    """Classes of the pods not in `fixed_mask` (a boolean per pod of running pods held in place)."""
    fixed = np.flatnonzero(fixed_mask)
    keep = np.where(fixed_mask, model.current, -1)
    free = model.capacity - model.load(keep)
    free_pods = np.flatnonzero(~fixed_mask)
    keys: dict[tuple, list[int]] = {}
    for p in free_pods:
        key = (model.demand[p].tobytes(), int(model.priority[p]), model.placeable[p].tobytes())
        keys.setdefault(key, []).append(int(p))
    members = [np.array(v, dtype=np.int64) for v in keys.values()]
    n_nodes = model.n_nodes
    running = np.zeros((len(members), n_nodes), dtype=np.int64)
    pending = np.zeros(len(members), dtype=np.int64)
    for c, m in enumerate(members):
        now = model.current[m]
        np.add.at(running[c], now[now >= 0], 1)
        pending[c] = int((now < 0).sum())
    first = [m[0] for m in members]
    return PodClasses(
        members=members,
        demand=model.demand[first].reshape(len(members), len(model.resources)),
        priority=model.priority[first],
        allowed=model.placeable[first].reshape(len(members), n_nodes),
        running=running,
        pending=pending,
        free=free,
        fixed=fixed,
    )


def least_disruptive_nodes(k: PodClasses, counts: np.ndarray, by_tier: bool = True) -> np.ndarray:
    """The same node contents (class counts per node) handed to the nodes where they keep the most
    running pods in place: an assignment problem over (content, node) pairs where the content fits
    and is admissible. With `by_tier` (the lexicographic objective) a pod kept in a higher tier
    outweighs every pod of the tiers below, so no tier's disruption grows for a lower tier's sake
    and the plan never gets worse (the identity is one of the assignments; placed pods per class do
    not change). Where those weights would overflow, every kept pod counts 1. Solvers return any
    of many symmetric packings; this picks the best."""
    n_nodes = counts.shape[1]
    if n_nodes < 2 or not k.running.any():
        return counts
    weight = np.ones(k.n, dtype=np.int64)
    if by_tier:
        levels = np.unique(k.priority, return_inverse=True)[1]  # 0 for the lowest tier in the classes
        base = int(k.running.sum()) + 1
        if (levels.max() + 2) * np.log2(base) + np.log2(n_nodes + 1) <= 60:  # the solver scales costs by n
            weight = base ** levels.astype(np.int64)
    contents = counts.T  # [content, class]
    fits = k.fits(contents)  # [content, node]
    keeps = np.zeros((n_nodes, n_nodes), dtype=np.int64)
    for j in range(n_nodes):
        present = np.flatnonzero(contents[j])
        keeps[j] = (np.minimum(contents[j, present, None], k.running[present]) * weight[present, None]).sum(axis=0)
    solver = linear_sum_assignment.SimpleLinearSumAssignment()
    left, right = np.nonzero(fits)
    solver.add_arcs_with_cost(left, right, -keeps[left, right])
    if solver.solve() != solver.OPTIMAL:
        return counts
    result = np.empty_like(counts)
    for j in range(n_nodes):
        result[:, solver.right_mate(j)] = contents[j]
    return result


def class_disruption(k: PodClasses, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(placed, disruption, moves) per class for counts, with the least-disruptive realisation."""
    placed = counts.sum(axis=1)
    stays = np.minimum(counts, k.running).sum(axis=1)
    moves = np.maximum(0, placed - stays - k.pending)
    return placed, k.running.sum(axis=1) - stays + moves, moves
